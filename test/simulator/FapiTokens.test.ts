/**
 * The simulator's tokens for FAPI-CIBA clients: access tokens bound to the client certificate
 * presented at `/auth/token` and checked by `/auth/introspection`, refresh tokens bound to their
 * client, `authorization_details` from the request to the token response, and the entropy of what it
 * mints.
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
const thumbprintOf = (certificate: string) =>
  Crypto.createHash("sha256").update(new Crypto.X509Certificate(certificate).raw).digest("base64url")

const ps256 = await Jose.generateKeyPair("PS256", { extractable: true })

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
const CIBA = "urn:openid:params:grant-type:ciba"
const DN_ONE = "CN=client-one.example.org, O=Client, L=Chiyoda-ku, ST=Tokyo, C=JP"

const clients: ReadonlyArray<AuthleteSimulator.SimulatedClient> = [
  {
    clientId: 5001,
    clientSecret: "never-used-5001",
    deliveryMode: "POLL",
    tokenAuthMethod: "PRIVATE_KEY_JWT",
    jwks: { keys: [{ ...(await Jose.exportJWK(ps256.publicKey)), kid: "ps" }] },
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
    clientId: 5006,
    clientSecret: "never-used-5006",
    deliveryMode: "POLL",
    tokenAuthMethod: "TLS_CLIENT_AUTH",
    tlsClientAuthSubjectDn: DN_ONE,
    tlsClientCertificateBoundAccessTokens: true
  }
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

/** A fresh PS256 client assertion of client 5001. */
const assertion = Effect.gen(function*() {
  const simulator = yield* AuthleteSimulator.AuthleteSimulator
  const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
  return yield* Effect.promise(() =>
    new Jose.SignJWT({ iss: "5001", sub: "5001", aud: simulator.issuer, exp: now + 300, jti: Crypto.randomUUID() })
      .setProtectedHeader({ alg: "PS256" })
      .sign(ps256.privateKey)
  )
})

const withAssertion = (extra: Record<string, string>) =>
  Effect.map(
    assertion,
    (jwt) => form({ client_id: "5001", client_assertion_type: JWT_BEARER, client_assertion: jwt, ...extra })
  )

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

describe("certificate-bound access tokens", () => {
  const tokenRequest = (authReqId: string, clientCertificate?: string) =>
    post("/auth/token", {
      parameters: form({ client_id: "5002", grant_type: CIBA, auth_req_id: authReqId }),
      clientCertificate
    })

  it.scoped("bound to the certificate at /auth/token: introspection OK with it, refused with another or none", () =>
    Effect.gen(function*() {
      yield* startClock
      const { authReqId } = yield* decided(form({ client_id: "5002", ...FAPI_REQUEST }), CLIENT_ONE)
      const token = yield* tokenRequest(authReqId, CLIENT_ONE)
      assert.strictEqual(token.action, "OK", token.resultMessage)
      assert.isUndefined(token.jwtAccessToken, "JWT access tokens are off by default")

      const same = yield* post("/auth/introspection", { token: token.accessToken, clientCertificate: CLIENT_ONE })
      assert.strictEqual(same.action, "OK", same.resultMessage)
      assert.strictEqual(same.certificateThumbprint, thumbprintOf(CLIENT_ONE))
      assert.strictEqual(same.subject, "john")
      assert.strictEqual(same.clientId, 5002)
      assert.isTrue(same.usable)
      assert.strictEqual(same.responseContent, "Bearer error=\"invalid_request\"")
      for (const clientCertificate of [CLIENT_TWO, undefined]) {
        const refused = yield* post("/auth/introspection", { token: token.accessToken, clientCertificate })
        assert.strictEqual(refused.action, "UNAUTHORIZED")
        assert.include(refused.responseContent, "error=\"invalid_token\"")
        assert.isFalse(refused.usable)
      }
      const unknown = yield* post("/auth/introspection", { token: "no-such-token" })
      assert.strictEqual(unknown.action, "UNAUTHORIZED")
      const missing = yield* post("/auth/introspection", {})
      assert.strictEqual(missing.action, "BAD_REQUEST")
      const scopes = yield* post("/auth/introspection", {
        token: token.accessToken,
        clientCertificate: CLIENT_ONE,
        scopes: ["payments"]
      })
      assert.strictEqual(scopes.action, "FORBIDDEN")
      assert.include(scopes.responseContent, "insufficient_scope")
      yield* TestClock.adjust("3601 seconds")
      const expired = yield* post("/auth/introspection", { token: token.accessToken, clientCertificate: CLIENT_ONE })
      assert.strictEqual(expired.action, "UNAUTHORIZED")
    }).pipe(withSimulator()))

  it.scoped("tls_client_auth at /auth/token: no certificate is invalid_client, and the grant waits for a retry", () =>
    Effect.gen(function*() {
      yield* startClock
      const { authReqId } = yield* decided(form({ client_id: "5006", scope: "openid", login_hint: "john" }), CLIENT_ONE)
      const parameters = form({ client_id: "5006", grant_type: CIBA, auth_req_id: authReqId })
      const without = yield* post("/auth/token", { parameters })
      assert.strictEqual(without.action, "INVALID_CLIENT", "tls_client_auth itself needs the certificate")
      const retried = yield* post("/auth/token", { parameters, clientCertificate: CLIENT_ONE })
      assert.strictEqual(retried.action, "OK", retried.resultMessage)
    }).pipe(withSimulator()))

  it.scoped("private_key_jwt with bound tokens: no certificate is BAD_REQUEST invalid_request, then OK with one", () =>
    Effect.gen(function*() {
      yield* startClock
      const { authReqId } = yield* decided(yield* withAssertion(FAPI_REQUEST))
      const parameters = () => withAssertion({ grant_type: CIBA, auth_req_id: authReqId })
      const without = yield* post("/auth/token", { parameters: yield* parameters() })
      assert.strictEqual(without.action, "BAD_REQUEST")
      assert.strictEqual(without.resultCode, "A050315")
      assert.strictEqual(errorOf(without), "invalid_request")
      const withOne = yield* post("/auth/token", { parameters: yield* parameters(), clientCertificate: CLIENT_TWO })
      assert.strictEqual(withOne.action, "OK", withOne.resultMessage)
      const introspected = yield* post("/auth/introspection", {
        token: withOne.accessToken,
        clientCertificate: CLIENT_TWO
      })
      assert.strictEqual(introspected.certificateThumbprint, thumbprintOf(CLIENT_TWO))
    }).pipe(withSimulator({
      clients: clients.map((client) =>
        client.clientId === 5001 ? { ...client, tlsClientCertificateBoundAccessTokens: true } : client
      )
    })))

  it.scoped("accessTokenSignAlg: the JWT access token carries cnf.x5t#S256 and introspects like the token", () =>
    Effect.gen(function*() {
      yield* startClock
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const { authReqId } = yield* decided(form({ client_id: "5002", ...FAPI_REQUEST }), CLIENT_ONE)
      const token = yield* tokenRequest(authReqId, CLIENT_ONE)
      assert.isString(token.jwtAccessToken)
      assert.strictEqual(JSON.parse(token.responseContent).access_token, token.jwtAccessToken)
      const { payload, protectedHeader } = yield* Effect.promise(() =>
        Jose.jwtVerify(token.jwtAccessToken, Jose.createLocalJWKSet({ keys: [...simulator.jwks.keys] as never }), {
          currentDate: new Date(NOW * 1000)
        })
      )
      assert.strictEqual(protectedHeader.typ, "at+jwt")
      assert.deepStrictEqual(payload.cnf, { "x5t#S256": thumbprintOf(CLIENT_ONE) })
      assert.strictEqual(payload.client_id, "5002")
      const introspected = yield* post("/auth/introspection", {
        token: token.jwtAccessToken,
        clientCertificate: CLIENT_ONE
      })
      assert.strictEqual(introspected.action, "OK")
    }).pipe(withSimulator({ accessTokenSignAlg: "ES256" })))
})

describe("refresh tokens, ID tokens, authorization_details, entropy", () => {
  it.scoped("a refresh token serves its own client only, and is rotated", () =>
    Effect.gen(function*() {
      yield* startClock
      const { authReqId } = yield* decided(form({ client_id: "5002", ...FAPI_REQUEST }), CLIENT_ONE)
      const token = yield* post("/auth/token", {
        parameters: form({ client_id: "5002", grant_type: CIBA, auth_req_id: authReqId }),
        clientCertificate: CLIENT_ONE
      })
      const refresh = (clientId: string, refreshToken: string) =>
        post("/auth/token", {
          parameters: form({ client_id: clientId, grant_type: "refresh_token", refresh_token: refreshToken }),
          clientCertificate: CLIENT_ONE
        })
      const stolen = yield* refresh("5006", token.refreshToken)
      assert.strictEqual(stolen.action, "BAD_REQUEST")
      assert.strictEqual(errorOf(stolen), "invalid_grant")
      const refreshed = yield* refresh("5002", token.refreshToken)
      assert.strictEqual(refreshed.action, "OK", refreshed.resultMessage)
      assert.notStrictEqual(refreshed.refreshToken, token.refreshToken)
      assert.strictEqual(refreshed.subject, "john")
      const again = yield* refresh("5002", token.refreshToken)
      assert.strictEqual(errorOf(again), "invalid_grant", "the old refresh token was rotated out")
    }).pipe(withSimulator()))

  it.scoped("authorization_details: Authlete's shape at /backchannel/authentication, /complete; in the token", () =>
    Effect.gen(function*() {
      yield* startClock
      const details = [{
        type: "payment_initiation",
        actions: ["initiate"],
        datatypes: ["account"],
        locations: ["https://bank.example/payments"],
        instructedAmount: { currency: "EUR", amount: "123.50" }
      }]
      const parameters = yield* withAssertion({
        ...FAPI_REQUEST,
        authorization_details: JSON.stringify(details)
      })
      const { completed, identified } = yield* decided(parameters)
      const authlete = {
        elements: [{
          type: "payment_initiation",
          locations: ["https://bank.example/payments"],
          actions: ["initiate"],
          dataTypes: ["account"],
          otherFields: JSON.stringify({ instructedAmount: { currency: "EUR", amount: "123.50" } })
        }]
      }
      assert.deepStrictEqual(identified.authorizationDetails, authlete)
      assert.deepStrictEqual(completed.authorizationDetails, authlete)
      const token = yield* post("/auth/token", {
        parameters: yield* withAssertion({ grant_type: CIBA, auth_req_id: completed.authReqId })
      })
      assert.strictEqual(token.action, "OK", token.resultMessage)
      assert.deepStrictEqual(JSON.parse(token.responseContent).authorization_details, details)
      assert.deepStrictEqual(token.authorizationDetails, authlete)

      const broken = yield* post("/backchannel/authentication", {
        parameters: yield* withAssertion({ ...FAPI_REQUEST, authorization_details: "[{\"actions\":[]}]" })
      })
      assert.strictEqual(broken.action, "BAD_REQUEST")
      assert.strictEqual(errorOf(broken), "invalid_authorization_details")
    }).pipe(withSimulator()))

  it.scoped("ticket, auth_req_id, access and refresh tokens carry at least 128 random bits", () =>
    Effect.gen(function*() {
      yield* startClock
      const { authReqId, identified } = yield* decided(form({ client_id: "5002", ...FAPI_REQUEST }), CLIENT_ONE)
      const token = yield* post("/auth/token", {
        parameters: form({ client_id: "5002", grant_type: CIBA, auth_req_id: authReqId }),
        clientCertificate: CLIENT_ONE
      })
      for (const value of [identified.ticket, authReqId, token.accessToken, token.refreshToken]) {
        assert.match(value, /^[A-Za-z0-9_-]+$/)
        assert.isAtLeast(Buffer.from(value, "base64url").length, 16, value)
      }
    }).pipe(withSimulator()))

  it.scoped("the ID token: ES256 with the JWK Set's kid, and the acr /complete reports for the requested acr_values", () =>
    Effect.gen(function*() {
      yield* startClock
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const identified = yield* post("/backchannel/authentication", {
        parameters: form({ client_id: "5002", acr_values: "urn:acr:sca urn:acr:pwd", ...FAPI_REQUEST }),
        clientCertificate: CLIENT_ONE
      })
      assert.deepStrictEqual(identified.acrs, ["urn:acr:sca", "urn:acr:pwd"])
      const { authReqId } = yield* post("/backchannel/authentication/issue", { ticket: identified.ticket })
      yield* post("/backchannel/authentication/complete", {
        ticket: identified.ticket,
        result: "AUTHORIZED",
        subject: "john",
        acr: identified.acrs[0]
      })
      const token = yield* post("/auth/token", {
        parameters: form({ client_id: "5002", grant_type: CIBA, auth_req_id: authReqId }),
        clientCertificate: CLIENT_ONE
      })
      const { payload, protectedHeader } = yield* Effect.promise(() =>
        Jose.jwtVerify(token.idToken, Jose.createLocalJWKSet({ keys: [...simulator.jwks.keys] as never }), {
          algorithms: ["PS256", "ES256"],
          currentDate: new Date(NOW * 1000)
        })
      )
      assert.strictEqual(protectedHeader.alg, "ES256")
      assert.strictEqual(protectedHeader.kid, simulator.jwks.keys[0]!.kid)
      assert.strictEqual(payload.acr, "urn:acr:sca")
      assert.strictEqual(payload.aud, "5002")
    }).pipe(withSimulator()))
})
