/**
 * The compiled codecs (src/internal/codec.ts) agree with `effect/Schema` on every API of
 * `AuthleteApis`: the same values accepted with the same results, the same values refused, and the
 * refusals naming the same fields. Valid input comes from the schemas' own arbitraries; invalid input
 * is valid input with one field replaced by anything JSON can hold, a required field removed, or an
 * unknown field added (and, for `/complete`, the hostile values of test/support/hostile.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import {
  AuthleteApi,
  AuthleteError,
  BackchannelAuthenticationCompleteRequest,
  BackchannelAuthenticationCompleteResponse,
  Property
} from "effect-authlete"
import * as Api from "../src/internal/api.js"
import * as Codec from "../src/internal/codec.js"
import * as Models from "../src/internal/models.js"
import { invalidInput } from "./support/hostile.js"

const RUNS = 1_000
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

/** The fields a refusal names, as `a.b[0]` paths. */
const pathsOfRefusal = (refusal: Codec.Refusal) =>
  new Set(AuthleteError.AuthleteValidationError.fromRefusal(refusal).issues.map((issue) => JSON.stringify(issue.path)))
const pathsOfParseError = (error: Parameters<typeof AuthleteError.AuthleteValidationError.fromParseError>[0]) =>
  new Set(AuthleteError.AuthleteValidationError.fromParseError(error).issues.map((issue) => JSON.stringify(issue.path)))

/** Valid input with one field replaced, removed, or an unknown one added. */
const perturbed = (valid: fc.Arbitrary<Record<string, unknown>>, fields: ReadonlyArray<string>) =>
  fc.tuple(
    valid,
    fc.constantFrom(...fields, "somethingNew"),
    fc.oneof(
      fc.jsonValue(),
      fc.constant(null),
      fc.constant(undefined),
      fc.array(fc.record({ key: fc.jsonValue(), value: fc.jsonValue() }), { maxLength: 3 })
    ),
    fc.boolean()
  ).map(([input, field, value, remove]) => {
    if (remove) {
      const { [field]: _, ...rest } = input
      return rest
    }
    // defineProperty, so that even `__proto__` would become an own field rather than a prototype.
    return Object.defineProperty({ ...input }, field, { value, enumerable: true, writable: true, configurable: true })
  })

/** Both accept with the same result, or both refuse naming the same fields. */
const agree = <A>(
  compiled: Either.Either<A, Codec.Refusal>,
  reference: Either.Either<A, Parameters<typeof AuthleteError.AuthleteValidationError.fromParseError>[0]>,
  compare: (value: A) => unknown
) => {
  if (Either.isRight(reference)) {
    assert.isTrue(
      Either.isRight(compiled),
      `compiled refused what the schema accepts: ${
        Either.isLeft(compiled) ? AuthleteError.AuthleteValidationError.fromRefusal(compiled.left).rules : ""
      }`
    )
    assert.deepStrictEqual(asJson(compare(Either.getOrThrow(compiled))), asJson(compare(reference.right)))
  } else {
    assert.isTrue(Either.isLeft(compiled), "compiled accepted what the schema refuses")
    if (Either.isLeft(compiled)) {
      assert.deepStrictEqual([...pathsOfRefusal(compiled.left)].sort(), [...pathsOfParseError(reference.left)].sort())
    }
  }
}

for (const [name, api] of Object.entries(AuthleteApi.AuthleteApis) as Array<[string, AuthleteApi.AuthleteApi]>) {
  const codecs = Api.codecsOf(api)
  const request = api.request as Schema.Schema<any, any>
  const response = api.response as Schema.Schema<any, any>
  const encodeRequest = Schema.encodeUnknownEither(request)
  const decodeRequest = Schema.decodeUnknownEither(request)
  const decodeResponse = Schema.decodeUnknownEither(response)
  const encodeResponse = Schema.encodeSync(response)
  const requestFields = Object.keys((api.request as unknown as { fields: object }).fields)
  const responseFields = Object.keys((api.response as unknown as { fields: object }).fields)
  const validRequest = Arbitrary.make(request) as fc.Arbitrary<Record<string, unknown>>
  const validWire = validRequest.map((value) => asJson(Schema.encodeSync(request)(value)) as Record<string, unknown>)
  const validResponse = (Arbitrary.make(response) as fc.Arbitrary<unknown>).map((value) =>
    asJson(encodeResponse(value)) as Record<string, unknown>
  )
  const wireOf = (value: unknown) => asJson(Schema.encodeSync(request)(value))

  describe(`${name}: compiled codecs agree with the schemas`, () => {
    it.prop(
      "encodes every valid request as the schema does, from an instance or a plain object",
      [validRequest],
      ([value]) => {
        const compiled = codecs.encodeRequest(value)
        assert.isTrue(Either.isRight(compiled))
        assert.deepStrictEqual(
          asJson(Either.getOrThrow(compiled)),
          asJson(Either.getOrThrow(encodeRequest(value, BackchannelAuthenticationCompleteRequest.strictParseOptions)))
        )
        assert.deepStrictEqual(
          asJson(Either.getOrThrow(codecs.encodeRequest({ ...value }))),
          asJson(Either.getOrThrow(compiled))
        )
      },
      { fastCheck: { numRuns: RUNS } }
    )

    it.prop(
      "encodes a request the library built and checked, unchecked the second time, to the same wire",
      [validRequest],
      ([value]) => {
        const checked = Either.getOrThrow(codecs.encodeRequest(value))
        const built = Object.assign(Object.create(Object.getPrototypeOf(value) as object), value) as object
        Models.checkedByLibrary.add(built)
        assert.deepStrictEqual(asJson(Either.getOrThrow(codecs.encodeRequest(built))), asJson(checked))
      },
      { fastCheck: { numRuns: RUNS } }
    )

    it.prop("refuses, when encoding, what the schema refuses, naming the same fields", [
      perturbed(validRequest.map((v) => ({ ...v })), requestFields)
    ], ([input]) => {
      agree(
        codecs.encodeRequest(input),
        encodeRequest(input, BackchannelAuthenticationCompleteRequest.strictParseOptions),
        (value) => value
      )
    }, { fastCheck: { numRuns: RUNS } })

    it.prop("decodes wire requests as the schema does, valid or not", [
      fc.oneof(validWire, perturbed(validWire, requestFields))
    ], ([input]) => {
      agree(
        codecs.decodeRequest(input),
        decodeRequest(input, BackchannelAuthenticationCompleteRequest.strictParseOptions),
        wireOf
      )
    }, { fastCheck: { numRuns: RUNS } })

    it.prop("decodes responses as the schema does, valid or not", [
      fc.oneof(validResponse, perturbed(validResponse, responseFields))
    ], ([input]) => {
      agree(codecs.decodeResponse(input), decodeResponse(input, { errors: "all" }), (value) => encodeResponse(value))
    }, { fastCheck: { numRuns: RUNS } })
  })
}

describe("compiled codecs of /complete", () => {
  const codecs = Api.codecsOf(AuthleteApi.AuthleteApis.backchannelAuthenticationComplete)
  const encode = Schema.encodeUnknownEither(
    BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest
  )

  it.prop("refuse the hostile inputs the schema refuses", [invalidInput], ([input]) => {
    agree(
      codecs.encodeRequest(input),
      encode(input, BackchannelAuthenticationCompleteRequest.strictParseOptions),
      (value) => value
    )
  }, { fastCheck: { numRuns: RUNS } })

  it("keep the schema's field order and take Property instances", () => {
    const request = new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
      idTokenAudType: null,
      subject: "john",
      result: "AUTHORIZED",
      ticket: "t",
      properties: [new Property.Property({ key: "k", value: "v" })]
    })
    const fast = Either.getOrThrow(codecs.encodeRequest(request))
    assert.deepStrictEqual(JSON.stringify(fast), JSON.stringify(Either.getOrThrow(encode(request))))
    // `idTokenAudType: null` means the service's setting: it is left off the wire.
    assert.deepStrictEqual(Object.keys(fast), ["ticket", "result", "subject", "properties"])
  })

  it("decode null as absent and ignore unknown fields, as the schema does", () => {
    const json = { action: "NO_ACTION", resources: null, serviceAttributes: [{ key: "k", value: null }], extra: 1 }
    const fast = Either.getOrThrow(codecs.decodeResponse(json))
    assert.instanceOf(fast, BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse)
    assert.isUndefined(fast.resources)
    assert.deepStrictEqual(asJson(fast.serviceAttributes), [{ key: "k" }])
  })
})
