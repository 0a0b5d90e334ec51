/**
 * Signed backchannel authentication requests at the simulator (CIBA Core 7.1.1, FAPI-CIBA ID1
 * 5.2.2): the parameters come from the verified request object, and each broken one is
 * `BAD_REQUEST` `invalid_request`.
 */
import { FetchHttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { AuthleteSimulator } from "effect-authlete/simulator"
import * as Jose from "jose"
import * as Crypto from "node:crypto"
import { call } from "../utils/ciba.js"

type Json = Record<string, any>

const es256 = await Jose.generateKeyPair("ES256", { extractable: true })
const ps256 = await Jose.generateKeyPair("PS256", { extractable: true })
const otherClientKey = await Jose.generateKeyPair("ES256", { extractable: true })
const rs256Private = await Jose.importJWK(await Jose.exportJWK(ps256.privateKey), "RS256")
const jwksOf = async (...keys: ReadonlyArray<Jose.CryptoKey>) => ({
  keys: await Promise.all(keys.map(async (key, i) => ({ ...(await Jose.exportJWK(key)), kid: `k${i}` })))
})

const clients: ReadonlyArray<AuthleteSimulator.SimulatedClient> = [
  {
    clientId: 6001,
    clientSecret: "secret-6001",
    deliveryMode: "POLL",
    requestObjectRequired: true,
    jwks: await jwksOf(es256.publicKey, ps256.publicKey)
  },
  { clientId: 6002, clientSecret: "secret-6002", deliveryMode: "POLL", jwks: await jwksOf(otherClientKey.publicKey) },
  { clientId: 6003, clientSecret: "secret-6003", deliveryMode: "POLL", bcRequestSignAlg: "ES256" }
]

const withSimulator = Effect.provide(Layer.mergeAll(AuthleteSimulator.layer({ clients }), FetchHttpClient.layer))

const NOW = Date.parse("2026-01-01T00:00:00Z") / 1000
const startClock = TestClock.setTime(NOW * 1000)

/** What the outer form says; a verified request object's parameters replace it. */
const OUTER = { scope: "openid", login_hint: "outer-user", binding_message: "OUTER", requested_expiry: "600" }

const backchannel = (clientId: number, parameters: Record<string, string>) =>
  Effect.map(
    call("/backchannel/authentication", {
      parameters: new URLSearchParams(parameters).toString(),
      clientId: String(clientId),
      clientSecret: `secret-${clientId}`
    }),
    (answer) => answer.json as Json
  )

/** A request object of client 6001, claims overridable (`undefined` removes one). */
const requestObject = (
  claims: Json = {},
  { alg = "ES256", key = es256.privateKey as Jose.KeyInput } = {}
) =>
  Effect.gen(function*() {
    const simulator = yield* AuthleteSimulator.AuthleteSimulator
    const payload = Object.fromEntries(
      Object.entries({
        iss: "6001",
        aud: simulator.issuer,
        iat: NOW,
        nbf: NOW,
        exp: NOW + 300,
        jti: Crypto.randomUUID(),
        scope: "openid email",
        login_hint: "inner-user",
        binding_message: "INNER",
        ...claims
      }).filter(([, value]) => value !== undefined)
    )
    return alg === "none"
      ? new Jose.UnsecuredJWT(payload).encode()
      : yield* Effect.promise(() => new Jose.SignJWT(payload).setProtectedHeader({ alg }).sign(key))
  })

describe("signed authentication requests", () => {
  it.scoped("a good one is accepted and its parameters are the request's, the outer form's ignored", () =>
    Effect.gen(function*() {
      yield* startClock
      const details = [{ type: "account_information", actions: ["read"] }]
      for (const options of [{}, { alg: "PS256", key: ps256.privateKey }]) {
        const request = yield* requestObject({
          acr_values: "urn:acr:mfa",
          requested_expiry: 120,
          user_code: "1234",
          authorization_details: details
        }, options)
        const answer = yield* backchannel(6001, { ...OUTER, request })
        assert.strictEqual(answer.action, "USER_IDENTIFICATION", answer.resultMessage)
        assert.strictEqual(answer.hint, "inner-user")
        assert.strictEqual(answer.bindingMessage, "INNER")
        assert.strictEqual(answer.requestedExpiry, 120)
        assert.strictEqual(answer.userCode, "1234")
        assert.deepStrictEqual(answer.acrs, ["urn:acr:mfa"])
        assert.deepStrictEqual(answer.scopes.map((scope: Json) => scope.name), ["openid", "email"])
        assert.deepStrictEqual(answer.authorizationDetails, {
          elements: [{ type: "account_information", actions: ["read"] }]
        })
      }
      // Without a binding message inside, the outer one does not count either.
      const inner = yield* requestObject({ binding_message: undefined, requested_expiry: "90" })
      const answer = yield* backchannel(6001, { ...OUTER, request: inner })
      assert.isUndefined(answer.bindingMessage)
      assert.strictEqual(answer.requestedExpiry, 90, "a JSON string is taken too")
    }).pipe(withSimulator))

  it.scoped("each broken request object is BAD_REQUEST invalid_request", () =>
    Effect.gen(function*() {
      yield* startClock
      const cases: ReadonlyArray<readonly [string, Effect.Effect<string, never, any>, string]> = [
        ["no aud", requestObject({ aud: undefined }), "\"aud\""],
        ["wrong aud", requestObject({ aud: "https://elsewhere.example" }), "\"aud\""],
        ["wrong iss", requestObject({ iss: "6002" }), "\"iss\""],
        ["no iss", requestObject({ iss: undefined }), "\"iss\""],
        ["no exp", requestObject({ exp: undefined }), "\"exp\""],
        ["expired", requestObject({ iat: NOW - 600, nbf: NOW - 600, exp: NOW - 1 }), "expired"],
        ["no iat", requestObject({ iat: undefined }), "\"iat\""],
        ["no nbf", requestObject({ nbf: undefined }), "\"nbf\""],
        ["nbf in the future", requestObject({ nbf: NOW + 600, exp: NOW + 900 }), "\"nbf\""],
        ["exp 70 minutes after nbf", requestObject({ exp: NOW + 70 * 60 }), "60 minutes"],
        ["no jti", requestObject({ jti: undefined }), "\"jti\""],
        ["alg none", requestObject({}, { alg: "none" }), "'none'"],
        ["RS256", requestObject({}, { alg: "RS256", key: rs256Private }), "'RS256'"],
        ["another client's key", requestObject({}, { key: otherClientKey.privateKey }), "signature"],
        ["a scope of the wrong type", requestObject({ scope: ["openid"] }), "'scope'"],
        ["not a JWS", Effect.succeed("not-a-jws"), "JWS"]
      ]
      for (const [name, make, reason] of cases) {
        const answer = yield* backchannel(6001, { ...OUTER, request: yield* make })
        assert.strictEqual(answer.action, "BAD_REQUEST", name)
        assert.strictEqual(answer.resultCode, "A179314", name)
        assert.strictEqual(JSON.parse(answer.responseContent).error, "invalid_request", name)
        assert.include(answer.resultMessage, reason, name)
        assert.isUndefined(answer.ticket, name)
      }
    }).pipe(withSimulator))

  it.scoped("unsigned requests: refused for a client that must sign, accepted from one that need not", () =>
    Effect.gen(function*() {
      yield* startClock
      for (const clientId of [6001, 6003]) {
        const refused = yield* backchannel(clientId, OUTER)
        assert.strictEqual(refused.action, "BAD_REQUEST", String(clientId))
        assert.strictEqual(refused.resultCode, "A179313", String(clientId))
        assert.strictEqual(JSON.parse(refused.responseContent).error, "invalid_request")
      }
      const accepted = yield* backchannel(6002, OUTER)
      assert.strictEqual(accepted.action, "USER_IDENTIFICATION", accepted.resultMessage)
      assert.strictEqual(accepted.hint, "outer-user")
    }).pipe(withSimulator))

  it.scoped("request_uri is refused, and a client without keys cannot send a request object", () =>
    Effect.gen(function*() {
      yield* startClock
      const byReference = yield* backchannel(6002, { ...OUTER, request_uri: "https://client.example/ro" })
      assert.strictEqual(byReference.action, "BAD_REQUEST")
      assert.strictEqual(byReference.resultCode, "A179311")
      const keyless = yield* backchannel(6003, { ...OUTER, request: yield* requestObject({ iss: "6003" }) })
      assert.strictEqual(keyless.action, "BAD_REQUEST")
      assert.include(keyless.resultMessage, "JWK Set")
    }).pipe(withSimulator))
})
