/**
 * The compiled codecs of the hot path agree with the schemas they stand in for: whatever they
 * accept, the schema accepts with the same result, and they accept every valid value (else they
 * would be no faster).
 */
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, Equal, FastCheck as fc, Schema } from "effect"
import {
  BackchannelAuthenticationCompleteRequest,
  BackchannelAuthenticationCompleteResponse,
  Pair,
  Property,
  strictParseOptions
} from "effect-authlete"
import { ASK_SCHEMA, compiledDecode, compiledEncode, instanceOf } from "../src/internal/codecs.js"
import { invalidInput, validRequest } from "./support/hostile.js"

const schemaEncode = Schema.encodeUnknownEither(BackchannelAuthenticationCompleteRequest)
const schemaDecode = Schema.decodeUnknownEither(BackchannelAuthenticationCompleteResponse)
const encodeResponse = Schema.encodeSync(BackchannelAuthenticationCompleteResponse)
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

const RUNS = 5_000

describe("compiled request encoding", () => {
  it.prop("accepts every valid request and encodes it as the schema does", [validRequest], ([request]) => {
    const fast = compiledEncode(request)
    assert.notStrictEqual(fast, ASK_SCHEMA)
    assert.deepStrictEqual(asJson(fast), asJson(Either.getOrThrow(schemaEncode(request, strictParseOptions))))
    // The same from a plain object, as callers may pass one.
    assert.deepStrictEqual(asJson(compiledEncode({ ...request })), asJson(fast))
  }, { fastCheck: { numRuns: RUNS } })

  it.prop("accepts nothing the schema refuses", [invalidInput], ([input]) => {
    const fast = compiledEncode(input)
    if (fast === ASK_SCHEMA) return
    const reference = schemaEncode(input, strictParseOptions)
    assert.isTrue(Either.isRight(reference), `compiled accepted what the schema refuses: ${JSON.stringify(fast)}`)
    assert.deepStrictEqual(asJson(fast), asJson(Either.getOrThrow(reference)))
  }, { fastCheck: { numRuns: RUNS } })

  it("keeps the schema's field order and takes Property instances", () => {
    const request = new BackchannelAuthenticationCompleteRequest({
      idTokenAudType: null,
      subject: "john",
      result: "AUTHORIZED",
      ticket: "t",
      properties: [new Property({ key: "k", value: "v" })]
    })
    const fast = compiledEncode(request)
    assert.deepStrictEqual(JSON.stringify(fast), JSON.stringify(Either.getOrThrow(schemaEncode(request))))
    assert.deepStrictEqual(Object.keys(fast as object), ["ticket", "result", "subject", "properties", "idTokenAudType"])
  })
})

/** Parsed JSON of a valid response, and the same with one field replaced by anything. */
const validResponseJson = Arbitrary.make(BackchannelAuthenticationCompleteResponse).map((response) =>
  asJson(encodeResponse(response)) as Record<string, unknown>
)
const fields = Object.keys(BackchannelAuthenticationCompleteResponse.fields)
const perturbedResponseJson = fc.tuple(
  validResponseJson,
  fc.constantFrom(...fields, "somethingNew"),
  fc.oneof(fc.jsonValue(), fc.constant(null), fc.array(fc.record({ key: fc.jsonValue(), value: fc.jsonValue() })))
).map(([json, field, value]) => ({ ...json, [field]: value }))

describe("compiled response decoding", () => {
  it.prop("decodes every valid response as the schema does", [validResponseJson], ([json]) => {
    const fast = compiledDecode(json)
    assert.notStrictEqual(fast, ASK_SCHEMA)
    const reference = Either.getOrThrow(schemaDecode(json))
    assert.instanceOf(fast, BackchannelAuthenticationCompleteResponse)
    assert.deepStrictEqual(
      asJson(encodeResponse(fast as BackchannelAuthenticationCompleteResponse)),
      asJson(encodeResponse(reference))
    )
  }, { fastCheck: { numRuns: RUNS } })

  it.prop("accepts nothing the schema refuses, and agrees on what both accept", [perturbedResponseJson], ([json]) => {
    const fast = compiledDecode(json)
    if (fast === ASK_SCHEMA) return
    const reference = schemaDecode(json)
    assert.isTrue(Either.isRight(reference), `compiled accepted what the schema refuses: ${JSON.stringify(json)}`)
    assert.deepStrictEqual(
      asJson(encodeResponse(fast)),
      asJson(encodeResponse(Either.getOrThrow(reference)))
    )
  }, { fastCheck: { numRuns: RUNS } })

  it("reads null as absent and ignores unknown fields, as the schema does", () => {
    const json = { action: "NO_ACTION", resources: null, serviceAttributes: [{ key: "k", value: null }], extra: 1 }
    const fast = compiledDecode(json)
    if (fast === ASK_SCHEMA) return assert.fail("the compiled decoder refused a valid response")
    assert.isUndefined(fast.resources)
    assert.deepStrictEqual(asJson(fast.serviceAttributes), [{ key: "k" }])
    assert.deepStrictEqual(asJson(encodeResponse(fast)), asJson(encodeResponse(Either.getOrThrow(schemaDecode(json)))))
  })
})

describe("instanceOf", () => {
  it("builds what the class constructor builds without validation", () => {
    const props = { action: "NO_ACTION", clientId: 1, serviceAttributes: [instanceOf(Pair, { key: "k" })] }
    const built = instanceOf(BackchannelAuthenticationCompleteResponse, props)
    const constructed = new BackchannelAuthenticationCompleteResponse(props, true)
    assert.strictEqual(Object.getPrototypeOf(built), Object.getPrototypeOf(constructed))
    assert.deepStrictEqual(Reflect.ownKeys(built), Reflect.ownKeys(constructed))
    assert.isTrue(Equal.equals(built, constructed))
    assert.instanceOf(built, BackchannelAuthenticationCompleteResponse)
    assert.strictEqual(String(built), String(constructed))
    assert.deepStrictEqual(
      encodeResponse(built),
      encodeResponse(
        new BackchannelAuthenticationCompleteResponse({
          action: "NO_ACTION",
          clientId: 1,
          serviceAttributes: [new Pair({ key: "k" })]
        })
      )
    )
  })
})
