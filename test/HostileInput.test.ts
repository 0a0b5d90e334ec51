/**
 * Generated input, valid and hostile, through the completion program with recording test layers:
 * valid input is sent exactly once as given, invalid input fails with AuthleteValidationError and
 * sends nothing, and no input makes the program die.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Arbitrary, Cause, Effect, Exit, FastCheck as fc, Layer, ManagedRuntime, Schema } from "effect"
import {
  AuthleteClient,
  AuthleteClientRecorder,
  BackchannelAuthenticationCompleteRequest,
  BackchannelAuthenticationCompleteResponse,
  ClientNotifier,
  completeBackchannelAuthentication,
  filterConsentedClaims,
  prepareCompleteRequest
} from "effect-authlete"

const RUNS = 10_000

// One runtime for all runs (a layer per run would cost more than the program); each run compares
// the recorder before and after.
const runtime = ManagedRuntime.make(Layer.mergeAll(
  AuthleteClient.layerTest(() =>
    Effect.succeed(new BackchannelAuthenticationCompleteResponse({ action: "NO_ACTION" }))
  ),
  ClientNotifier.layerTest()
))
afterAll(() => runtime.dispose())

const sentRequests = Effect.flatMap(AuthleteClientRecorder, (recorder) => recorder.requests)

/** Runs the program and returns its exit and what it sent. */
const run = <A, E>(program: Effect.Effect<A, E, AuthleteClient | ClientNotifier>) =>
  runtime.runSync(Effect.gen(function*() {
    const before = (yield* sentRequests).length
    const exit = yield* Effect.exit(program)
    const sent = (yield* sentRequests).slice(before)
    return { exit, sent }
  }))

/** Null-valued keys removed at every depth: a `null` claim means "no value" (RFC 7396). */
const withoutNulls = (value: unknown): unknown =>
  Array.isArray(value)
    ? value
    : typeof value === "object" && value !== null
    ? Object.fromEntries(
      Object.entries(value).filter(([, inner]) => inner !== null).map(([key, inner]) => [key, withoutNulls(inner)])
    )
    : value

const encode = Schema.encodeSync(BackchannelAuthenticationCompleteRequest)

/** Valid requests as a program holds them (claims as objects). */
const validRequest = Arbitrary.make(BackchannelAuthenticationCompleteRequest)

/** The wire JSON a valid input should produce: consent applied, empty claims left out. */
const expectedWire = (request: BackchannelAuthenticationCompleteRequest) => {
  const consented = request.consentedClaims === undefined || request.claims === undefined
    ? request.claims
    : filterConsentedClaims(request.claims, request.consentedClaims)
  const nonEmpty = (claims: object | undefined) => {
    const kept = claims === undefined ? undefined : withoutNulls(claims) as Record<string, unknown>
    return kept === undefined || Object.keys(kept).length === 0 ? undefined : kept
  }
  const claims = nonEmpty(consented)
  const jwtAtClaims = nonEmpty(request.jwtAtClaims)
  const { claims: _claims, jwtAtClaims: _jwt, ...rest } = request
  return JSON.parse(JSON.stringify(encode(
    new BackchannelAuthenticationCompleteRequest({
      ...rest,
      ...(claims === undefined ? {} : { claims }),
      ...(jwtAtClaims === undefined ? {} : { jwtAtClaims })
    })
  )))
}

/** A claims object nested `depth` levels deep. */
const deep = (depth: number): Record<string, unknown> => {
  let node: Record<string, unknown> = { leaf: true }
  for (let i = 0; i < depth; i++) node = { nested: node }
  return node
}

const huge = "x".repeat(100_000)

/** Values that break a rule of the field they are put in. */
const hostileValues: Record<string, ReadonlyArray<unknown>> = {
  ticket: ["", 42, null, huge, ["t"], { toString: "t" }],
  result: ["DENIED", "authorized", "", 1, null],
  subject: ["", "x".repeat(101), "山田", "tab\t", 7, huge],
  sub: ["", 3, null, huge],
  authTime: [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "1", Number.MAX_SAFE_INTEGER + 2, null],
  acr: ["", false, null],
  claims: [
    "[1]",
    "null",
    "{oops",
    42,
    [1, 2],
    [{ ok: 1 }, "not json"],
    JSON.parse("{\"__proto__\":{\"polluted\":true}}"),
    "{\"__proto__\":{\"polluted\":true}}",
    { constructor: { prototype: { polluted: true } } },
    { prototype: 1 },
    deep(40),
    { big: 10n },
    { fn: () => 1 },
    { when: new Date(0) },
    `{"a":"${"x".repeat(1_100_000)}"}`
  ],
  properties: [
    [{ key: "", value: "v" }],
    [{ key: "k", value: 1 }],
    [{ key: "k", value: "v", hidden: "yes" }],
    [{
      key: "k",
      value: "x".repeat(70_000)
    }],
    "k=v",
    [null]
  ],
  scopes: [["profile"], ["openid", "two words"], ["openid", ""], "openid", [1]],
  idtHeaderParams: ["[]", "null", 1, [{}], JSON.parse("{\"__proto__\":{}}")],
  errorDescription: ["say \"no\"", "back\\slash", "line\nbreak", "é", 5, huge],
  errorUri: ["relative/path", "https://example.com/a b", "https://example.com/\"", 5, ""],
  consentedClaims: [[""], "given_name", [1], [null]],
  jwtAtClaims: ["[]", 7, deep(40), JSON.parse("{\"constructor\":1}")],
  accessToken: ["short", `${"a".repeat(32)} b`, 32, huge + "\n"],
  accessTokenDuration: [-5, 0.5, "60", Number.NaN],
  refreshTokenDuration: [-5, 0.5, "60", Number.POSITIVE_INFINITY],
  idTokenAudType: ["both", "", 1, ["array"]]
}

/** A valid input with one field made hostile, a required field removed, or an unknown field added. */
const invalidInput = fc.tuple(validRequest, fc.nat()).chain(([request, pick]) => {
  const input: Record<string, unknown> = { ...request }
  const fields = Object.keys(hostileValues)
  const field = fields[pick % fields.length]
  return fc.oneof(
    fc.constantFrom(...hostileValues[field]).map((value) => ({ ...input, [field]: value })),
    fc.constantFrom("ticket", "result", "subject").map((required) => {
      const { [required]: _, ...rest } = input
      return rest
    }),
    // defineProperty, so that even `__proto__` becomes an own field rather than a prototype.
    fc.constantFrom("subjct", "tiket", "claim", "__proto__").map((unknown) =>
      Object.defineProperty({ ...input }, unknown, { value: 1, enumerable: true })
    )
  )
})

describe("hostile and random input", () => {
  it.prop(
    "valid input is sent exactly once and encodes to what was given",
    [validRequest],
    ([request]) => {
      const { exit, sent } = run(completeBackchannelAuthentication({ ...request }))
      assert.isTrue(Exit.isSuccess(exit) && exit.value._tag === "NoAction")
      assert.strictEqual(sent.length, 1)
      assert.deepStrictEqual(JSON.parse(JSON.stringify(sent[0].body)), expectedWire(request))
    },
    { fastCheck: { numRuns: RUNS } }
  )

  it.prop(
    "invalid input fails with AuthleteValidationError and sends nothing",
    [invalidInput],
    ([input]) => {
      const { exit, sent } = run(completeBackchannelAuthentication(input as any))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        assert.isFalse(Cause.isDie(exit.cause), Cause.pretty(exit.cause))
        const error = Cause.squash(exit.cause) as { _tag: string; issues: ReadonlyArray<unknown> }
        assert.strictEqual(error._tag, "AuthleteValidationError")
        assert.isAbove(error.issues.length, 0)
      }
      assert.strictEqual(sent.length, 0)
    },
    { fastCheck: { numRuns: RUNS } }
  )

  it.prop(
    "no input at all makes the program die",
    [fc.oneof(fc.anything({ withBigInt: true, withDate: true, withMap: true, withNullPrototype: true }), fc.object())],
    ([input]) => {
      const prepared = Effect.runSyncExit(prepareCompleteRequest(input))
      const { exit } = run(completeBackchannelAuthentication(input as any))
      const outcomes: ReadonlyArray<Exit.Exit<unknown, unknown>> = [prepared, exit]
      for (const outcome of outcomes) {
        if (Exit.isFailure(outcome)) {
          assert.isFalse(Cause.isDie(outcome.cause), Cause.pretty(outcome.cause))
          assert.strictEqual((Cause.squash(outcome.cause) as { _tag: string })._tag, "AuthleteValidationError")
        }
      }
    },
    { fastCheck: { numRuns: RUNS } }
  )

  it("no prototype was polluted along the way", () => {
    assert.isUndefined(({} as Record<string, unknown>).polluted)
    assert.isUndefined((Object.prototype as Record<string, unknown>).polluted)
  })
})
