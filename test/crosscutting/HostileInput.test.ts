/**
 * Generated input, valid and hostile, through the completion program with recording test layers:
 * valid input is sent exactly once as given, invalid input fails with AuthleteValidationError and
 * sends nothing, and no input makes the program die.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, FastCheck as fc, Layer, ManagedRuntime, Schema } from "effect"
import {
  AuthleteClient,
  BackchannelAuthenticationCompleteRequest,
  BackchannelAuthenticationCompleteResponse,
  BackchannelAuthenticationCompletion,
  Claims,
  ClientNotifier
} from "effect-authlete"
import { invalidInput, validRequest } from "../support/hostile.js"

const RUNS = 10_000

// One runtime for all runs (a layer per run would cost more than the program); each run compares
// the recorder before and after.
const runtime = ManagedRuntime.make(Layer.mergeAll(
  AuthleteClient.layerTest(() =>
    Effect.succeed(
      new BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse({ action: "NO_ACTION" })
    )
  ),
  ClientNotifier.layerTest()
))
afterAll(() => runtime.dispose())

const sentRequests = Effect.flatMap(AuthleteClient.AuthleteClientRecorder, (recorder) => recorder.requests)

/** Runs the program and returns its exit and what it sent. */
const run = <A, E>(program: Effect.Effect<A, E, AuthleteClient.AuthleteClient | ClientNotifier.ClientNotifier>) =>
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

const encode = Schema.encodeSync(BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest)

/** The wire JSON a valid input should produce: consent applied, empty claims left out. */
const expectedWire = (request: BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest) => {
  const consented = request.consentedClaims === undefined || request.claims === undefined
    ? request.claims
    : Claims.filterConsentedClaims(request.claims, request.consentedClaims)
  const nonEmpty = (claims: object | undefined) => {
    const kept = claims === undefined ? undefined : withoutNulls(claims) as Record<string, unknown>
    return kept === undefined || Object.keys(kept).length === 0 ? undefined : kept
  }
  const claims = nonEmpty(consented)
  const jwtAtClaims = nonEmpty(request.jwtAtClaims)
  const { claims: _claims, jwtAtClaims: _jwt, ...rest } = request
  return JSON.parse(JSON.stringify(encode(
    new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
      ...rest,
      ...(claims === undefined ? {} : { claims }),
      ...(jwtAtClaims === undefined ? {} : { jwtAtClaims })
    })
  )))
}

describe("hostile and random input", () => {
  it.prop(
    "valid input is sent exactly once and encodes to what was given",
    [validRequest],
    ([request]) => {
      const { exit, sent } = run(BackchannelAuthenticationCompletion.completeBackchannelAuthentication({ ...request }))
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
      const { exit, sent } = run(BackchannelAuthenticationCompletion.completeBackchannelAuthentication(input as any))
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
      const prepared = Effect.runSyncExit(BackchannelAuthenticationCompletion.prepareCompleteRequest(input))
      const { exit } = run(BackchannelAuthenticationCompletion.completeBackchannelAuthentication(input as any))
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
