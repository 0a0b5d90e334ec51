import { assert, describe, expectTypeOf, it } from "@effect/vitest"
import { Arbitrary, Effect, Either, Schema } from "effect"
import {
  AuthleteError,
  BackchannelAuthenticationCompleteRequest,
  BackchannelAuthenticationCompleteResult,
  Property
} from "effect-authlete"

const base = { ticket: "NFIHGx_btVrWmtAD093D-87JxvT4DAtuijEkLVHbS4Q", result: "AUTHORIZED", subject: "john" }

const validate = (input: unknown) =>
  Effect.runSync(Effect.either(BackchannelAuthenticationCompleteRequest.validateCompleteRequest(input)))

/** The issues of a rejection, as `path: message` lines. */
const rejection = (input: unknown): ReadonlyArray<string> => {
  const result = validate(input)
  if (Either.isRight(result)) return assert.fail(`expected a rejection of ${JSON.stringify(input)}`)
  assert.instanceOf(result.left, AuthleteError.AuthleteValidationError)
  return result.left.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`)
}

const accepts = (input: Record<string, unknown>) => {
  const result = validate({ ...base, ...input })
  if (Either.isLeft(result)) assert.fail(result.left.message)
}

/** Asserts that changing `field` to `value` is rejected with a message at `path` that matches `rule`. */
const rejects = (input: Record<string, unknown>, path: string, rule: RegExp) => {
  const issues = rejection({ ...base, ...input })
  const hit = issues.find((line) => line.startsWith(`${path}: `))
  assert.isDefined(hit, `no issue at ${path} in ${JSON.stringify(issues)}`)
  assert.match(hit!, rule)
}

describe("BackchannelAuthenticationCompleteRequest", () => {
  it("accepts Authlete's documented example", () => accepts({}))

  describe("rule 1: ticket, subject and result", () => {
    it("requires each of them", () => {
      assert.deepStrictEqual(rejection({}), ["ticket: is required", "result: is required", "subject: is required"])
    })
    it("rejects an empty ticket and an empty subject", () => {
      rejects({ ticket: "" }, "ticket", /must not be empty/)
      rejects({ subject: "" }, "subject", /must not be empty/)
    })
    it("limits subject to 100 characters of printable ASCII", () => {
      accepts({ subject: "u".repeat(100) })
      accepts({ subject: "user 1@example.com" })
      rejects({ subject: "u".repeat(101) }, "subject", /at most 100 characters of printable ASCII/)
      rejects({ subject: "山田" }, "subject", /printable ASCII/)
      rejects({ subject: "tab\there" }, "subject", /printable ASCII/)
    })
    it("takes result from the three literals only", () => {
      for (const result of BackchannelAuthenticationCompleteResult.BackchannelAuthenticationCompleteResult.literals) {
        accepts({ result })
      }
      rejects({ result: "DENIED" }, "result", /must be one of AUTHORIZED, ACCESS_DENIED, TRANSACTION_FAILED/)
    })
    it("rejects a value of the wrong type", () => {
      rejects({ ticket: 42 }, "ticket", /must be a string/)
    })
  })

  describe("rule 2: sub and acr", () => {
    it("accepts them when not empty and rejects them empty", () => {
      accepts({ sub: "pairwise-1", acr: "urn:mace:incommon:iap:silver" })
      rejects({ sub: "" }, "sub", /must not be empty/)
      rejects({ acr: "" }, "acr", /must not be empty/)
    })
  })

  describe("rule 3: authTime and the durations", () => {
    for (const field of ["authTime", "accessTokenDuration", "refreshTokenDuration"]) {
      it(`${field} is a whole number from 0 to MAX_SAFE_INTEGER`, () => {
        accepts({ [field]: 0 })
        accepts({ [field]: 1_700_000_000 })
        accepts({ [field]: Number.MAX_SAFE_INTEGER })
        rejects({ [field]: -1 }, field, /whole number from 0/)
        rejects({ [field]: 1.5 }, field, /whole number from 0/)
        rejects({ [field]: Number.MAX_SAFE_INTEGER + 2 }, field, /whole number from 0/)
        rejects({ [field]: "60" }, field, /must be a number/)
      })
    }
  })

  describe("rule 4: claims, jwtAtClaims and idtHeaderParams", () => {
    for (const field of ["claims", "jwtAtClaims", "idtHeaderParams"]) {
      it(`${field} is JSON text of an object on the wire and an object in the program`, () => {
        const request = Effect.runSync(
          BackchannelAuthenticationCompleteRequest.validateCompleteRequest({
            ...base,
            [field]: "{\"given_name\":\"Taro\"}"
          })
        )
        assert.deepStrictEqual((request as any)[field], { given_name: "Taro" })
        rejects({ [field]: "[1,2]" }, field, /must be a JSON object/)
        rejects({ [field]: "null" }, field, /must be a JSON object/)
        rejects({ [field]: "42" }, field, /must be a JSON object/)
        rejects({ [field]: "{nope" }, field, /does not parse as JSON/)
        rejects({ [field]: { given_name: "Taro" } }, field, /must be a string/)
      })
    }
    it("never repeats the rejected JSON text in the message", () => {
      const issues = rejection({ ...base, claims: "{\"secret_claim\": oops}" })
      assert.notMatch(issues.join(" "), /secret_claim/)
    })
    it("rejects prototype keys and too deep nesting", () => {
      rejects({ claims: "{\"__proto__\":{\"admin\":true}}" }, "claims.__proto__", /prototype key/)
      rejects({ claims: "{\"a\":{\"constructor\":1}}" }, "claims.a.constructor", /prototype key/)
      const deep = "{\"a\":".repeat(40) + "1" + "}".repeat(40)
      assert.match(rejection({ ...base, claims: deep }).join(" "), /nest at most 32 levels/)
      assert.isUndefined(({} as any).admin)
    })
  })

  describe("rule 5: properties", () => {
    it("checks each property's key, value and hidden", () => {
      accepts({
        properties: [{ key: "example_parameter", value: "example_value" }, { key: "k", value: "", hidden: true }]
      })
      rejects({ properties: [{ key: "", value: "v" }] }, "properties.0.key", /must not be empty/)
      rejects({ properties: [{ key: "k", value: 1 }] }, "properties.0.value", /must be a string/)
      rejects({ properties: [{ key: "k", value: "v", hidden: "yes" }] }, "properties.0.hidden", /must be a boolean/)
    })
    it("refuses a set too large for Authlete's 65,535-byte store, saying the size", () => {
      accepts({ properties: [{ key: "k", value: "x".repeat(48_000) }] })
      rejects(
        { properties: [{ key: "k", value: "x".repeat(50_000) }] },
        "properties",
        /take 66,\d{3} bytes .*the limit is 65,535/
      )
    })
    it("bounds the stored size from above", () => {
      // [["k","v","false"]] is 19 bytes of JSON, 32 once padded to AES blocks, 48 with the IV: 64 in base64.
      assert.strictEqual(Property.storedPropertiesSize([{ key: "k", value: "v" }]), 64)
      assert.isAbove(
        Property.storedPropertiesSize([{ key: "k", value: "<<<" }]),
        Property.storedPropertiesSize([{ key: "k", value: "aaa" }])
      )
    })
  })

  describe("rule 6: scopes", () => {
    it("takes valid scope tokens that include openid", () => {
      accepts({ scopes: ["openid", "profile", "payment:read"] })
      rejects({ scopes: ["profile"] }, "scopes", /must include "openid"/)
      rejects({ scopes: ["openid", "two words"] }, "scopes.1", /OAuth scope token/)
      rejects({ scopes: ["openid", ""] }, "scopes.1", /must not be empty/)
      rejects({ scopes: ["openid", "quote\""] }, "scopes.1", /OAuth scope token/)
    })
  })

  describe("rule 7: errorDescription", () => {
    it("takes only %x20-21 / %x23-5B / %x5D-7E", () => {
      accepts({ result: "ACCESS_DENIED", errorDescription: "The user said no." })
      rejects({ errorDescription: "say \"no\"" }, "errorDescription", /other than '"' and '\\'/)
      rejects({ errorDescription: "back\\slash" }, "errorDescription", /other than/)
      rejects({ errorDescription: "line\nbreak" }, "errorDescription", /other than/)
    })
  })

  describe("rule 8: errorUri", () => {
    it("is an absolute URI of the allowed characters", () => {
      accepts({ errorUri: "https://example.com/errors/denied" })
      rejects({ errorUri: "/relative/path" }, "errorUri", /absolute URI/)
      rejects({ errorUri: "https://example.com/a b" }, "errorUri", /characters RFC 6749 allows/)
    })
  })

  describe("rule 9: consentedClaims", () => {
    it("holds non-empty strings", () => {
      accepts({ consentedClaims: ["given_name", "family_name#ja"] })
      rejects({ consentedClaims: ["given_name", ""] }, "consentedClaims.1", /must not be empty/)
    })
  })

  describe("rule 10: accessToken", () => {
    it("is at least 32 characters without whitespace", () => {
      accepts({ accessToken: "a".repeat(32) })
      rejects({ accessToken: "a".repeat(31) }, "accessToken", /at least 32 characters/)
      rejects({ accessToken: `${"a".repeat(32)} b` }, "accessToken", /whitespace/)
    })
    it("never shows the token in the message", () => {
      const token = "tok en-that-is-long-enough-to-pass-the-length-rule"
      assert.notInclude(rejection({ ...base, accessToken: token }).join(" "), token)
    })
  })

  describe("rule 11: idTokenAudType", () => {
    it("is array, string or null", () => {
      accepts({ idTokenAudType: "array" })
      accepts({ idTokenAudType: "string" })
      accepts({ idTokenAudType: null })
      rejects({ idTokenAudType: "both" }, "idTokenAudType", /"array", "string" or null/)
    })

    it("is \"array\" or \"string\" on the wire, in the Encoded type too; null in the program is left off", () => {
      type Json = BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequestJson
      expectTypeOf<Json["idTokenAudType"]>().toEqualTypeOf<"array" | "string" | undefined>()
      expectTypeOf<Json>().toEqualTypeOf<
        typeof BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest.Encoded
      >()
      // The program's side keeps null: the service's setting.
      expectTypeOf<
        BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest["idTokenAudType"]
      >()
        .toEqualTypeOf<"array" | "string" | null | undefined>()
      // @ts-expect-error null is never sent, so the wire type has none.
      const wire: Json = { ...base, result: "AUTHORIZED", idTokenAudType: null }
      // What is decoded and sent is as before: null read (and built) as absent, left off the wire.
      const encode = Schema.encodeSync(
        BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest
      )
      const decoded = Effect.runSync(BackchannelAuthenticationCompleteRequest.validateCompleteRequest(wire))
      assert.isFalse("idTokenAudType" in decoded)
      assert.isFalse("idTokenAudType" in encode(decoded))
      const built = new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
        ...base,
        result: "AUTHORIZED",
        idTokenAudType: null
      })
      assert.deepStrictEqual(Object.keys(encode(built)), ["ticket", "result", "subject"])
      const array = encode(
        new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
          ...base,
          result: "AUTHORIZED",
          idTokenAudType: "array"
        })
      )
      expectTypeOf(array.idTokenAudType).toEqualTypeOf<"array" | "string" | undefined>()
      assert.strictEqual(array.idTokenAudType, "array")
      const decodedUnknown = Schema.decodeUnknownSync(
        BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest
      )({ ...base, idTokenAudType: null })
      assert.isFalse("idTokenAudType" in decodedUnknown)
    })
  })

  describe("rule 12: unknown fields", () => {
    it("rejects a misspelt field by name, at any depth", () => {
      assert.deepStrictEqual(rejection({ ...base, subjct: "john" }), [": unknown field `subjct`"])
      rejects({ properties: [{ key: "k", value: "v", hiden: true }] }, "properties.0", /unknown field `hiden`/)
    })
  })

  it("reports every problem at once", () => {
    const issues = rejection({
      ticket: "",
      result: "MAYBE",
      subject: "x".repeat(101),
      scopes: ["profile"],
      errorDescription: "\"",
      accessToken: "short",
      extra: 1
    })
    assert.deepStrictEqual(issues.map((line) => line.slice(0, line.indexOf(":"))), [
      "",
      "ticket",
      "result",
      "subject",
      "scopes",
      "errorDescription",
      "accessToken"
    ])
  })

  it("names the field and the rule in the error message", () => {
    const result = validate({ ...base, ticket: "" })
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) {
      assert.match(result.left.message, /ticket: must not be empty/)
      assert.strictEqual(result.left._tag, "AuthleteValidationError")
    }
  })

  it("is built from objects in the program", () => {
    const request = new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
      ticket: "t",
      result: "AUTHORIZED",
      subject: "john",
      claims: { given_name: "Taro" },
      properties: [new Property.Property({ key: "k", value: "v", hidden: true })]
    })
    const wire = Schema.encodeSync(BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest)(
      request
    )
    assert.deepStrictEqual(wire, {
      ticket: "t",
      result: "AUTHORIZED",
      subject: "john",
      claims: "{\"given_name\":\"Taro\"}",
      properties: [{ key: "k", value: "v", hidden: true }]
    })
    assert.throws(() =>
      new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
        ticket: "",
        result: "AUTHORIZED",
        subject: "j"
      })
    )
  })

  it.prop(
    "decoding then encoding wire input gives back the same JSON",
    [Arbitrary.make(BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest)],
    ([generated]) => {
      const wire = JSON.parse(
        JSON.stringify(
          Schema.encodeSync(BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest)(
            generated
          )
        )
      )
      const decoded = Effect.runSync(BackchannelAuthenticationCompleteRequest.validateCompleteRequest(wire))
      const again = JSON.parse(
        JSON.stringify(
          Schema.encodeSync(BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest)(decoded)
        )
      )
      assert.deepStrictEqual(again, wire)
    },
    { fastCheck: { numRuns: 300 } }
  )
})
