/**
 * The simulator's FAPI-CIBA clients: client authentication by key (`private_key_jwt`) and by
 * certificate (`tls_client_auth`, `self_signed_tls_client_auth`), and the FAPI rules of the
 * backchannel endpoint. Tokens are `FapiTokens.test.ts`'s.
 */
import { FetchHttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Layer, TestClock } from "effect"
import { AuthleteSimulator } from "effect-authlete/simulator"
import * as Jose from "jose"
import * as Crypto from "node:crypto"
import { readFileSync } from "node:fs"
import { call } from "../utils/ciba.js"

type Json = Record<string, any>

const pem = (name: string) => readFileSync(new URL(`../fixtures/fapi/${name}.pem`, import.meta.url), "utf8")
const CLIENT_ONE = pem("client-one")
const CLIENT_TWO = pem("client-two")
const SELF_SIGNED = pem("self-signed")

const ps256 = await Jose.generateKeyPair("PS256", { extractable: true })
const es256 = await Jose.generateKeyPair("ES256", { extractable: true })
const unregistered = await Jose.generateKeyPair("ES256", { extractable: true })
const publicJwk = async (key: Jose.CryptoKey, kid: string) => ({ ...(await Jose.exportJWK(key)), kid })
// The same RSA key, usable for RS256: a refusal is then about the algorithm, not the key.
const rs256Private = await Jose.importJWK(await Jose.exportJWK(ps256.privateKey), "RS256")
const selfSignedJwk = {
  ...Crypto.createPublicKey(SELF_SIGNED).export({ format: "jwk" }),
  kid: "self-signed"
}

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
const CIBA = "urn:openid:params:grant-type:ciba"
const DN_ONE = "CN=client-one.example.org, O=Client, L=Chiyoda-ku, ST=Tokyo, C=JP"

const clients: ReadonlyArray<AuthleteSimulator.SimulatedClient> = [
  {
    clientId: 5001,
    clientIdAlias: "fapi-key",
    clientSecret: "never-used-5001",
    deliveryMode: "POLL",
    tokenAuthMethod: "PRIVATE_KEY_JWT",
    jwks: JSON.stringify({ keys: [await publicJwk(ps256.publicKey, "ps"), await publicJwk(es256.publicKey, "es")] }),
    fapi: true
  },
  {
    clientId: 5002,
    clientSecret: "never-used-5002",
    deliveryMode: "POLL",
    tokenAuthMethod: "TLS_CLIENT_AUTH",
    tlsClientAuthSubjectDn: DN_ONE,
    tlsClientCertificateBoundAccessTokens: true,
    fapi: true
  },
  {
    clientId: 5003,
    clientSecret: "never-used-5003",
    deliveryMode: "PING",
    tokenAuthMethod: "SELF_SIGNED_TLS_CLIENT_AUTH",
    jwks: { keys: [selfSignedJwk] },
    fapi: true
  },
  {
    clientId: 5004,
    clientSecret: "never-used-5004",
    deliveryMode: "PUSH",
    tokenAuthMethod: "TLS_CLIENT_AUTH",
    tlsClientAuthSubjectDn: DN_ONE,
    fapi: true
  },
  { clientId: 5005, clientSecret: "fapi-secret-5005", deliveryMode: "POLL", fapi: true },
  {
    clientId: 5006,
    clientSecret: "never-used-5006",
    deliveryMode: "POLL",
    tokenAuthMethod: "TLS_CLIENT_AUTH",
    // The same DN in other case and spacing: it still matches (values compare case-insensitively).
    tlsClientAuthSubjectDn: "cn=CLIENT-ONE.example.org,O=client,  L=chiyoda-ku,ST=tokyo,c=jp",
    tlsClientCertificateBoundAccessTokens: true
  },
  { clientId: 5007, clientSecret: "post-secret-5007", deliveryMode: "POLL", tokenAuthMethod: "CLIENT_SECRET_POST" }
]

const withSimulator = (options: AuthleteSimulator.AuthleteSimulatorOptions = {}) =>
  Effect.provide(Layer.mergeAll(AuthleteSimulator.layer({ clients, ...options }), FetchHttpClient.layer))

/** 2026-01-01: the simulator reads the test's clock, so expiry is decided here. */
const NOW = Date.parse("2026-01-01T00:00:00Z") / 1000
const startClock = TestClock.setTime(NOW * 1000)

const form = (parameters: Record<string, string>) => new URLSearchParams(parameters).toString()
const post = (path: string, body: Json) => Effect.map(call(path, body), (answer) => answer.json as Json)
const errorOf = (answer: Json): string => JSON.parse(answer.responseContent).error

const FAPI_REQUEST = { scope: "openid", login_hint: "john", binding_message: "W4SCT" }

/** A client assertion of client 5001, claims overridable (`undefined` removes one). */
const assertion = (
  claims: Json = {},
  { alg = "PS256", key = ps256.privateKey as Jose.KeyInput } = {}
) =>
  Effect.gen(function*() {
    const simulator = yield* AuthleteSimulator.AuthleteSimulator
    const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const payload = Object.fromEntries(
      Object.entries({
        iss: "5001",
        sub: "5001",
        aud: simulator.issuer,
        exp: now + 300,
        iat: now,
        jti: Crypto.randomUUID(),
        ...claims
      }).filter(([, value]) => value !== undefined)
    )
    return alg === "none"
      ? new Jose.UnsecuredJWT(payload).encode()
      : yield* Effect.promise(() => new Jose.SignJWT(payload).setProtectedHeader({ alg }).sign(key))
  })

const withAssertion = (jwt: string, extra: Record<string, string> = FAPI_REQUEST) =>
  form({ client_id: "5001", client_assertion_type: JWT_BEARER, client_assertion: jwt, ...extra })

/** `/backchannel/authentication`, `/issue`, `/complete` AUTHORIZED: an auth_req_id for the token endpoint. */
const decided = (parameters: string, clientCertificate?: string) =>
  Effect.gen(function*() {
    const identified = yield* post("/backchannel/authentication", { parameters, clientCertificate })
    assert.strictEqual(identified.action, "USER_IDENTIFICATION", identified.resultMessage)
    const issued = yield* post("/backchannel/authentication/issue", { ticket: identified.ticket })
    const completed = yield* post("/backchannel/authentication/complete", {
      ticket: identified.ticket,
      result: "AUTHORIZED",
      subject: "john"
    })
    assert.strictEqual(completed.action, "NO_ACTION", completed.resultMessage)
    return { identified, issued, completed, authReqId: issued.authReqId as string }
  })

describe("client authentication", () => {
  it.scoped("private_key_jwt: PS256 and ES256 assertions, aud the issuer or the endpoint, the alias as iss", () =>
    Effect.gen(function*() {
      yield* startClock
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const service = yield* simulator.service
      const accepted = [
        yield* assertion(),
        yield* assertion({}, { alg: "ES256", key: es256.privateKey }),
        yield* assertion({ aud: service.backchannelAuthenticationEndpoint }),
        yield* assertion({ aud: [service.tokenEndpoint, "https://elsewhere.example"] }),
        yield* assertion({ iss: "fapi-key", sub: "fapi-key" })
      ]
      for (const jwt of accepted) {
        const answer = yield* post("/backchannel/authentication", { parameters: withAssertion(jwt) })
        assert.strictEqual(answer.action, "USER_IDENTIFICATION", answer.resultMessage)
        assert.strictEqual(answer.clientAuthMethod, "PRIVATE_KEY_JWT")
        assert.strictEqual(answer.clientId, 5001)
      }
      // Without client_id: the assertion's sub names the client (RFC 7523 3).
      const bare = form({ client_assertion_type: JWT_BEARER, client_assertion: yield* assertion(), ...FAPI_REQUEST })
      assert.strictEqual(
        (yield* post("/backchannel/authentication", { parameters: bare })).action,
        "USER_IDENTIFICATION"
      )

      const { authReqId } = yield* decided(withAssertion(yield* assertion()))
      const token = yield* post("/auth/token", {
        parameters: withAssertion(yield* assertion({ aud: service.tokenEndpoint }), {
          grant_type: CIBA,
          auth_req_id: authReqId
        })
      })
      assert.strictEqual(token.action, "OK", token.resultMessage)
      assert.strictEqual(token.clientAuthMethod, "PRIVATE_KEY_JWT")
    }).pipe(withSimulator()))

  it.scoped("private_key_jwt refusals: invalid_client for each broken assertion", () =>
    Effect.gen(function*() {
      yield* startClock
      const replayed = yield* assertion()
      const first = yield* post("/backchannel/authentication", { parameters: withAssertion(replayed) })
      assert.strictEqual(first.action, "USER_IDENTIFICATION", first.resultMessage)
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        ["wrong key", withAssertion(yield* assertion({}, { alg: "ES256", key: unregistered.privateKey })), "signature"],
        ["wrong aud", withAssertion(yield* assertion({ aud: "https://elsewhere.example" })), "\"aud\""],
        ["replayed jti", withAssertion(replayed), "used before"],
        ["expired", withAssertion(yield* assertion({ exp: NOW - 1, iat: NOW - 600 })), "expired"],
        ["no exp", withAssertion(yield* assertion({ exp: undefined })), "\"exp\""],
        ["no jti", withAssertion(yield* assertion({ jti: undefined })), "\"jti\""],
        ["sub not iss", withAssertion(yield* assertion({ sub: "5002" })), "'sub'"],
        ["RS256", withAssertion(yield* assertion({}, { alg: "RS256", key: rs256Private })), "'RS256'"],
        ["none", withAssertion(yield* assertion({}, { alg: "none" })), "'none'"],
        ["missing assertion", form({ client_id: "5001", ...FAPI_REQUEST }), "'client_assertion'"],
        [
          "wrong assertion type",
          form({
            client_id: "5001",
            client_assertion_type: "jwt",
            client_assertion: yield* assertion(),
            ...FAPI_REQUEST
          }),
          "client_assertion_type"
        ],
        ["a secret instead", form({ client_id: "5001", client_secret: "never-used-5001", ...FAPI_REQUEST }), "secret"]
      ]
      for (const [name, parameters, reason] of cases) {
        const answer = yield* post("/backchannel/authentication", { parameters })
        assert.strictEqual(answer.action, "UNAUTHORIZED", name)
        assert.strictEqual(answer.resultCode, "A179301", name)
        assert.strictEqual(errorOf(answer), "invalid_client", name)
        assert.include(answer.resultMessage, reason, name)
        assert.isUndefined(answer.ticket, name)
      }
      // At the token endpoint the same failure is INVALID_CLIENT.
      const token = yield* post("/auth/token", {
        parameters: withAssertion(replayed, { grant_type: CIBA, auth_req_id: "whatever" })
      })
      assert.strictEqual(token.action, "INVALID_CLIENT")
      assert.strictEqual(errorOf(token), "invalid_client")
    }).pipe(withSimulator()))

  it.scoped("tls_client_auth: the registered subject DN, compared without regard to case or spacing", () =>
    Effect.gen(function*() {
      for (const clientId of ["5002", "5006"]) {
        const accepted = yield* post("/backchannel/authentication", {
          parameters: form({ client_id: clientId, ...FAPI_REQUEST }),
          clientCertificate: CLIENT_ONE
        })
        assert.strictEqual(accepted.action, "USER_IDENTIFICATION", accepted.resultMessage)
        assert.strictEqual(accepted.clientAuthMethod, "TLS_CLIENT_AUTH")
      }
      const refusals = [
        [CLIENT_TWO, "subject"],
        [SELF_SIGNED, "subject"],
        [undefined, "certificate"],
        ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "certificate"]
      ] as const
      for (const [clientCertificate, reason] of refusals) {
        const answer = yield* post("/backchannel/authentication", {
          parameters: form({ client_id: "5002", ...FAPI_REQUEST }),
          clientCertificate
        })
        assert.strictEqual(answer.action, "UNAUTHORIZED", reason)
        assert.strictEqual(errorOf(answer), "invalid_client")
        assert.include(answer.resultMessage, reason)
      }
    }).pipe(withSimulator()))

  it.scoped("self_signed_tls_client_auth: a certificate whose key is in the client's JWK Set", () =>
    Effect.gen(function*() {
      const parameters = form({ client_id: "5003", client_notification_token: "n-5003", ...FAPI_REQUEST })
      const accepted = yield* post("/backchannel/authentication", { parameters, clientCertificate: SELF_SIGNED })
      assert.strictEqual(accepted.action, "USER_IDENTIFICATION", accepted.resultMessage)
      assert.strictEqual(accepted.clientAuthMethod, "SELF_SIGNED_TLS_CLIENT_AUTH")
      const other = yield* post("/backchannel/authentication", { parameters, clientCertificate: CLIENT_ONE })
      assert.strictEqual(other.action, "UNAUTHORIZED")
      assert.strictEqual(errorOf(other), "invalid_client")
      assert.include(other.resultMessage, "JWK Set")
    }).pipe(withSimulator()))

  it.scoped("a registered secret method is the only one: CLIENT_SECRET_POST refuses Basic", () =>
    Effect.gen(function*() {
      const parameters = form({ scope: "openid", login_hint: "john" })
      const basic = yield* post("/backchannel/authentication", {
        parameters,
        clientId: "5007",
        clientSecret: "post-secret-5007"
      })
      assert.strictEqual(basic.action, "UNAUTHORIZED")
      assert.include(basic.resultMessage, "CLIENT_SECRET_BASIC")
      const inForm = yield* post("/backchannel/authentication", {
        parameters: form({ client_id: "5007", client_secret: "post-secret-5007", scope: "openid", login_hint: "john" })
      })
      assert.strictEqual(inForm.action, "USER_IDENTIFICATION", inForm.resultMessage)
    }).pipe(withSimulator()))
})

describe("FAPI-CIBA rules at the backchannel endpoint", () => {
  it.scoped("binding_message required, PUSH refused, secrets refused", () =>
    Effect.gen(function*() {
      const unbound = yield* post("/backchannel/authentication", {
        parameters: form({ client_id: "5002", scope: "openid", login_hint: "john" }),
        clientCertificate: CLIENT_ONE
      })
      assert.strictEqual(unbound.action, "BAD_REQUEST")
      assert.strictEqual(unbound.resultCode, "A179315")
      assert.strictEqual(errorOf(unbound), "invalid_request")

      const push = yield* post("/backchannel/authentication", {
        parameters: form({ client_id: "5004", client_notification_token: "n", ...FAPI_REQUEST }),
        clientCertificate: CLIENT_ONE
      })
      assert.strictEqual(push.action, "BAD_REQUEST")
      assert.strictEqual(push.resultCode, "A179316")
      assert.strictEqual(errorOf(push), "unauthorized_client")

      const secret = yield* post("/backchannel/authentication", {
        parameters: form(FAPI_REQUEST),
        clientId: "5005",
        clientSecret: "fapi-secret-5005"
      })
      assert.strictEqual(secret.action, "UNAUTHORIZED")
      assert.strictEqual(errorOf(secret), "invalid_client")
    }).pipe(withSimulator()))

  it.scoped("backchannelBindingMessageRequiredInFapi: false leaves binding_message optional", () =>
    Effect.gen(function*() {
      const answer = yield* post("/backchannel/authentication", {
        parameters: form({ client_id: "5002", scope: "openid", login_hint: "john" }),
        clientCertificate: CLIENT_ONE
      })
      assert.strictEqual(answer.action, "USER_IDENTIFICATION", answer.resultMessage)
    }).pipe(withSimulator({ backchannelBindingMessageRequiredInFapi: false })))
})
