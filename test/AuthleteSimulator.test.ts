import { FetchHttpClient } from "@effect/platform"
import { assert, describe, it, layer } from "@effect/vitest"
import { Clock, Effect, Layer, Redacted, TestClock } from "effect"
import { AuthleteClient, BackchannelAuthentication, BackchannelAuthenticationCompleteRequest } from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import * as Crypto from "node:crypto"
import { authenticate, baseParameters, call, complete, fail, issue, readyTicket } from "./utils/ciba.js"

const Simulator = Layer.mergeAll(AuthleteSimulator.layer(), FetchHttpClient.layer)

/** Verifies a compact ES256 JWS with the simulator's JWK Set and returns its header and claims. */
const verifyIdToken = (simulator: AuthleteSimulator.AuthleteSimulatorService, jws: string) => {
  const [header, payload, signature] = jws.split(".") as [string, string, string]
  const decodedHeader = JSON.parse(Buffer.from(header, "base64url").toString("utf8"))
  const jwk = simulator.jwks.keys.find((key) => key.kid === decodedHeader.kid)
  assert.isDefined(jwk, "the ID token's kid is in the JWK Set")
  const valid = Crypto.verify(
    "sha256",
    Buffer.from(`${header}.${payload}`),
    { key: Crypto.createPublicKey({ key: { ...jwk } as Crypto.JsonWebKey, format: "jwk" }), dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url")
  )
  assert.isTrue(valid, "the ID token's signature verifies")
  return {
    header: decodedHeader as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>
  }
}

const halfHash = (token: string) =>
  Crypto.createHash("sha256").update(token, "ascii").digest().subarray(0, 16).toString("base64url")

const json = (text: string | undefined): Record<string, unknown> => {
  assert.isString(text, "responseContent is present")
  return JSON.parse(text!)
}

describe("AuthleteSimulator with the test's clock", () => {
  const withSimulator = Effect.provide(
    Layer.mergeAll(
      AuthleteSimulator.layer({ authReqIdLifetime: 60, ticketLifetime: 30, completeServerErrorStatus: 500 }),
      FetchHttpClient.layer
    )
  )

  it.scoped("expires an auth_req_id: SERVER_ERROR in POLL, NOTIFICATION in PING and PUSH", () =>
    Effect.gen(function*() {
      const poll = yield* readyTicket("POLL")
      const ping = yield* readyTicket("PING")
      const push = yield* readyTicket("PUSH")
      const fresh = yield* readyTicket("POLL", { requested_expiry: "600" })
      yield* TestClock.adjust("61 seconds")

      const polled = yield* complete({ ticket: poll.ticket, result: "AUTHORIZED", subject: "john" })
      assert.strictEqual(polled.status, 500, "the configured status for SERVER_ERROR")
      assert.strictEqual(polled.response.action, "SERVER_ERROR")
      assert.strictEqual(polled.response.resultCode, "A198204")

      const pinged = yield* complete({ ticket: ping.ticket, result: "AUTHORIZED", subject: "john" })
      assert.strictEqual(pinged.response.action, "NOTIFICATION")
      assert.strictEqual(pinged.response.resultCode, "A198204")
      assert.deepStrictEqual(json(pinged.response.responseContent), { auth_req_id: ping.authReqId })

      const pushed = yield* complete({ ticket: push.ticket, result: "AUTHORIZED", subject: "john" })
      assert.strictEqual(pushed.response.action, "NOTIFICATION")
      // An error found after the ticket's record: "error":"server_error" (javadoc of the response).
      assert.strictEqual(json(pushed.response.responseContent).error, "server_error")
      assert.strictEqual(json(pushed.response.responseContent).auth_req_id, push.authReqId)
      assert.isUndefined(pushed.response.idToken)

      const stillValid = yield* complete({ ticket: fresh.ticket, result: "AUTHORIZED", subject: "john" })
      assert.strictEqual(stillValid.response.action, "NO_ACTION", "requested_expiry outlives the default")
    }).pipe(withSimulator))

  it.scoped("expires a ticket that was never issued", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const client = yield* simulator.clientFor("POLL")
      const identification = yield* authenticate(client, baseParameters(client))
      yield* TestClock.adjust("29 seconds")
      const other = yield* authenticate(client, baseParameters(client))
      yield* TestClock.adjust("2 seconds")
      const expired = yield* issue(identification.ticket!)
      assert.strictEqual(expired.action, "INVALID_TICKET")
      assert.strictEqual(expired.resultCode, "A183203")
      const valid = yield* issue(other.ticket!)
      assert.strictEqual(valid.action, "OK")
    }).pipe(withSimulator))

  it.scoped("dates ID tokens by the Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("1000 seconds")
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const { ticket } = yield* readyTicket("PUSH")
      const { response } = yield* complete({ ticket, result: "AUTHORIZED", subject: "john" })
      const { claims } = verifyIdToken(simulator, response.idToken!)
      assert.strictEqual(claims.iat, 1000)
      assert.strictEqual(claims.exp, 1000 + 3600)
    }).pipe(withSimulator))
})

describe("AuthleteSimulator fault injection", () => {
  const withSimulator = Effect.provide(Layer.mergeAll(AuthleteSimulator.layer(), FetchHttpClient.layer))

  it.scoped("failNext answers the next n requests unprocessed, then recovers", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const { ticket } = yield* readyTicket("PUSH")
      yield* simulator.failNext(2, 503, "<html>Service Unavailable</html>")
      const body = { ticket, result: "AUTHORIZED", subject: "john" }
      for (let i = 0; i < 2; i++) {
        const answer = yield* call("/backchannel/authentication/complete", body)
        assert.strictEqual(answer.status, 503)
        assert.strictEqual(answer.text, "<html>Service Unavailable</html>")
      }
      const { response } = yield* complete(body)
      assert.strictEqual(response.action, "NOTIFICATION", "the failed attempts did not use the ticket")
      assert.isString(response.idToken)

      yield* simulator.failNext(1, 500)
      const generic = yield* call("/backchannel/authentication/issue", { ticket: "t" })
      assert.strictEqual(generic.status, 500)
      assert.deepStrictEqual(generic.json, { resultCode: "A001101", resultMessage: "[A001101] Authlete Server error." })
    }).pipe(withSimulator))

  it.scoped("rateLimitNext answers 429 with Retry-After", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      yield* simulator.rateLimitNext(1, 7)
      const limited = yield* call("/backchannel/authentication/issue", { ticket: "t" })
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.headers["retry-after"], "7")
      const next = yield* call("/backchannel/authentication/issue", { ticket: "t" })
      assert.strictEqual(next.status, 200)
    }).pipe(withSimulator))

  it.scoped("reset clears queued faults", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      yield* simulator.failNext(5, 502)
      yield* simulator.rateLimitNext(5, 1)
      yield* simulator.reset
      const answer = yield* call("/backchannel/authentication/issue", { ticket: "t" })
      assert.strictEqual(answer.status, 200)
    }).pipe(withSimulator))

  it.live("delay adds latency to every answer until reset", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      yield* simulator.delay("500 millis")
      const started = Date.now()
      const slow = yield* call("/backchannel/authentication/issue", { ticket: "t" })
      assert.strictEqual(slow.status, 200)
      assert.isAtLeast(Date.now() - started, 490)
      yield* simulator.reset
      const quick = Date.now()
      yield* call("/backchannel/authentication/issue", { ticket: "t" })
      assert.isBelow(Date.now() - quick, 490)
    }).pipe(Effect.scoped, withSimulator))
})

describe("AuthleteSimulator.layerClient", () => {
  it.scoped("gives an AuthleteClient that completes against the simulator", () =>
    Effect.gen(function*() {
      const { ticket } = yield* readyTicket("POLL")
      const client = yield* AuthleteClient.AuthleteClient
      const response = yield* client.backchannelAuthenticationComplete(
        new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
          ticket,
          result: "AUTHORIZED",
          subject: "john"
        })
      )
      assert.strictEqual(response.action, "NO_ACTION")
      assert.strictEqual(response.resultCode, "A198001")
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const requests = yield* simulator.requests
      assert.deepStrictEqual(requests[requests.length - 1]?.body, { ticket, result: "AUTHORIZED", subject: "john" })
    }).pipe(Effect.provide(Layer.mergeAll(AuthleteSimulator.layerClient(), FetchHttpClient.layer))))
})

// Last on purpose: @effect/vitest 0.30's `layer(...)` rebinds the shared `it.effect`/`it.scoped` to its own
// runtime, so tests declared after it would share its TestClock and services.
layer(Simulator)("AuthleteSimulator", (it) => {
  describe("/backchannel/authentication", () => {
    it.effect("identifies the user's request and echoes what the client sent", () =>
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const client = yield* simulator.clientFor("PING")
        const response = yield* authenticate(client, {
          scope: "openid profile email custom:read",
          login_hint: "alice@example.com",
          binding_message: "W4SCT",
          user_code: "1234",
          requested_expiry: "120",
          acr_values: "urn:acr:pwd urn:acr:mfa",
          client_notification_token: "8d67dc78-7faa-4d41-aabd-67707b374255"
        })
        assert.instanceOf(response, BackchannelAuthentication.BackchannelAuthenticationResponse)
        assert.strictEqual(response.action, "USER_IDENTIFICATION")
        assert.strictEqual(response.resultCode, "A179001")
        assert.strictEqual(
          response.resultMessage,
          "[A179001] The backchannel authentication request was processed successfully."
        )
        assert.match(response.ticket ?? "", /^[A-Za-z0-9_-]{43}$/)
        assert.strictEqual(response.hintType, "LOGIN_HINT")
        assert.strictEqual(response.hint, "alice@example.com")
        assert.deepStrictEqual(response.scopes?.map((scope) => [scope.name, scope.defaultEntry]), [
          ["openid", false],
          ["profile", false],
          ["email", false],
          ["custom:read", false]
        ])
        assert.deepStrictEqual(response.claimNames, [
          "name",
          "family_name",
          "given_name",
          "middle_name",
          "nickname",
          "preferred_username",
          "profile",
          "picture",
          "website",
          "gender",
          "birthdate",
          "zoneinfo",
          "locale",
          "updated_at",
          "email",
          "email_verified"
        ])
        assert.deepStrictEqual(response.acrs, ["urn:acr:pwd", "urn:acr:mfa"])
        assert.strictEqual(response.bindingMessage, "W4SCT")
        assert.strictEqual(response.userCode, "1234")
        assert.isFalse(response.userCodeRequired)
        assert.strictEqual(response.requestedExpiry, 120)
        assert.strictEqual(response.deliveryMode, "PING")
        assert.strictEqual(response.clientNotificationToken, "8d67dc78-7faa-4d41-aabd-67707b374255")
        assert.strictEqual(response.clientId, client.clientId)
        assert.strictEqual(response.clientName, client.clientName)
        assert.isFalse(response.clientIdAliasUsed)
        assert.strictEqual(response.clientAuthMethod, "CLIENT_SECRET_BASIC")
      }))

    it.effect("expands address and phone, and accepts credentials and an alias in the form body", () =>
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const client = yield* simulator.clientFor("POLL")
        const response = yield* authenticate(
          { ...client, clientId: client.clientId },
          { scope: "openid address phone", login_hint_token: "eyJhbGciOiJub25lIn0.e30." },
          "form"
        )
        assert.strictEqual(response.action, "USER_IDENTIFICATION")
        assert.deepStrictEqual(response.claimNames, ["address", "phone_number", "phone_number_verified"])
        assert.strictEqual(response.hintType, "LOGIN_HINT_TOKEN")
        assert.strictEqual(response.clientAuthMethod, "CLIENT_SECRET_POST")
        assert.strictEqual(response.requestedExpiry, 0)

        const parameters = new URLSearchParams({
          scope: "openid",
          login_hint: "john",
          client_id: client.clientIdAlias!,
          client_secret: client.clientSecret
        })
        const viaAlias = yield* Effect.flatMap(
          call("/backchannel/authentication", { parameters: parameters.toString() }),
          (answer) => Effect.succeed(answer.json as Record<string, unknown>)
        )
        assert.strictEqual(viaAlias.action, "USER_IDENTIFICATION")
        assert.strictEqual(viaAlias.clientIdAliasUsed, true)
        assert.strictEqual(viaAlias.clientIdAlias, client.clientIdAlias)
      }))

    it.effect("answers UNAUTHORIZED with invalid_client for a wrong secret or an unknown client", () =>
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const client = yield* simulator.clientFor("POLL")
        for (
          const impostor of [
            { ...client, clientSecret: `${client.clientSecret}x` },
            { ...client, clientId: 999_999 }
          ]
        ) {
          const response = yield* authenticate(impostor, baseParameters(client))
          assert.strictEqual(response.action, "UNAUTHORIZED")
          assert.strictEqual(response.resultCode, "A179301")
          assert.isUndefined(response.ticket)
          const content = json(response.responseContent)
          assert.strictEqual(content.error, "invalid_client")
          assert.strictEqual(content.error_description, response.resultMessage)
          assert.strictEqual(content.error_uri, "https://docs.authlete.com/#A179301")
        }
        const anonymous = yield* authenticate(client, baseParameters(client), "none")
        assert.strictEqual(anonymous.action, "UNAUTHORIZED")
      }))

    it.effect("answers BAD_REQUEST for requests CIBA forbids", () =>
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const poll = yield* simulator.clientFor("POLL")
        const push = yield* simulator.clientFor("PUSH")
        const cases = [
          {
            client: poll,
            parameters: { scope: "email profile", login_hint: "john" },
            code: "A179303",
            error: "invalid_scope"
          },
          { client: poll, parameters: { login_hint: "john" }, code: "A179302", error: "invalid_request" },
          { client: poll, parameters: { scope: "openid" }, code: "A179304", error: "invalid_request" },
          {
            client: poll,
            parameters: { scope: "openid", login_hint: "john", login_hint_token: "x.y.z" },
            code: "A179305",
            error: "invalid_request"
          },
          {
            client: poll,
            parameters: { scope: "openid", id_token_hint: "not.a.jwt" },
            code: "A179306",
            error: "invalid_request"
          },
          {
            client: push,
            parameters: { scope: "openid", login_hint: "john" },
            code: "A179307",
            error: "invalid_request"
          },
          {
            client: poll,
            parameters: { scope: "openid", login_hint: "john", requested_expiry: "-5" },
            code: "A179308",
            error: "invalid_request"
          }
        ]
        for (const { client, code, error, parameters } of cases) {
          const response = yield* authenticate(client, parameters)
          assert.strictEqual(response.action, "BAD_REQUEST", JSON.stringify(parameters))
          assert.strictEqual(response.resultCode, code, JSON.stringify(parameters))
          assert.strictEqual(json(response.responseContent).error, error)
        }
      }))

    it.effect("accepts an ID token it issued as id_token_hint and reports its sub", () =>
      Effect.gen(function*() {
        const { ticket } = yield* readyTicket("PUSH")
        const { response } = yield* complete({ ticket, result: "AUTHORIZED", subject: "user-7", sub: "pairwise-7" })
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const poll = yield* simulator.clientFor("POLL")
        const hinted = yield* authenticate(poll, { scope: "openid", id_token_hint: response.idToken! })
        assert.strictEqual(hinted.action, "USER_IDENTIFICATION")
        assert.strictEqual(hinted.hintType, "ID_TOKEN_HINT")
        assert.strictEqual(hinted.sub, "pairwise-7")
      }))
  })

  describe("/backchannel/authentication/issue", () => {
    it.effect("issues an auth_req_id with Authlete's result and responseContent", () =>
      Effect.gen(function*() {
        const { authReqId, issued } = yield* readyTicket("POLL")
        assert.strictEqual(issued.resultCode, "A183001")
        assert.strictEqual(issued.resultMessage, "[A183001] An auth_req_id was issued successfully.")
        assert.strictEqual(issued.expiresIn, 600)
        assert.strictEqual(issued.interval, 5)
        assert.deepStrictEqual(json(issued.responseContent), { auth_req_id: authReqId, expires_in: 600, interval: 5 })
      }))

    it.effect("honours requested_expiry", () =>
      Effect.gen(function*() {
        const { issued } = yield* readyTicket("POLL", { requested_expiry: "90" })
        assert.strictEqual(issued.expiresIn, 90)
      }))

    it.effect("answers INVALID_TICKET for an unknown ticket or a second issue", () =>
      Effect.gen(function*() {
        const unknown = yield* issue("no-such-ticket")
        assert.strictEqual(unknown.action, "INVALID_TICKET")
        assert.strictEqual(unknown.resultCode, "A183202")
        const { ticket } = yield* readyTicket("POLL")
        const again = yield* issue(ticket)
        assert.strictEqual(again.action, "INVALID_TICKET")
        assert.strictEqual(again.resultCode, "A183204")
      }))
  })

  describe("/backchannel/authentication/fail", () => {
    it.effect("maps each reason to an action and a CIBA error, and deletes the ticket", () =>
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const client = yield* simulator.clientFor("POLL")
        const cases = [
          { reason: "ACCESS_DENIED", action: "FORBIDDEN", error: "access_denied" },
          { reason: "UNKNOWN_USER_ID", action: "BAD_REQUEST", error: "unknown_user_id" },
          { reason: "MISSING_USER_CODE", action: "BAD_REQUEST", error: "missing_user_code" },
          { reason: "SERVER_ERROR", action: "INTERNAL_SERVER_ERROR", error: "server_error" }
        ]
        for (const { action, error, reason } of cases) {
          const identification = yield* authenticate(client, baseParameters(client))
          const response = yield* fail({ ticket: identification.ticket, reason })
          assert.strictEqual(response.action, action)
          assert.strictEqual(response.resultCode, "A185001")
          assert.deepStrictEqual(json(response.responseContent), { error })
          const afterwards = yield* issue(identification.ticket!)
          assert.strictEqual(afterwards.action, "INVALID_TICKET", "the ticket was deleted")
        }
      }))

    it.effect("passes errorDescription and errorUri through", () =>
      Effect.gen(function*() {
        const response = yield* fail({
          ticket: "whatever",
          reason: "UNKNOWN_USER_ID",
          errorDescription: "No such user.",
          errorUri: "https://as.example.com/errors/unknown-user"
        })
        assert.deepStrictEqual(json(response.responseContent), {
          error: "unknown_user_id",
          error_description: "No such user.",
          error_uri: "https://as.example.com/errors/unknown-user"
        })
      }))
  })

  describe("/backchannel/authentication/complete: mode x result", () => {
    it.effect("POLL answers NO_ACTION for every result", () =>
      Effect.gen(function*() {
        for (const result of ["AUTHORIZED", "ACCESS_DENIED", "TRANSACTION_FAILED"] as const) {
          const { authReqId, client, ticket } = yield* readyTicket("POLL")
          const { response, status } = yield* complete({ ticket, result, subject: "john" })
          assert.strictEqual(status, 200)
          assert.strictEqual(response.action, "NO_ACTION")
          assert.strictEqual(response.resultCode, "A198001")
          assert.strictEqual(
            response.resultMessage,
            "[A198001] Successfully updated the database so that the token endpoint can generate tokens " +
              `(mode = poll, result = ${result}).`
          )
          assert.isUndefined(response.responseContent)
          assert.strictEqual(response.authReqId, authReqId)
          assert.strictEqual(response.deliveryMode, "POLL")
          assert.strictEqual(response.clientId, client.clientId)
          assert.isUndefined(response.accessToken)
        }
      }))

    it.effect("PING answers NOTIFICATION with only the auth_req_id for every result", () =>
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const ping = yield* simulator.clientFor("PING")
        yield* simulator.setClientNotificationEndpoint(ping.clientId, "https://client.example.com/ciba")
        for (const result of ["AUTHORIZED", "ACCESS_DENIED", "TRANSACTION_FAILED"] as const) {
          const { authReqId, ticket } = yield* readyTicket("PING")
          const { response } = yield* complete({ ticket, result, subject: "john", errorDescription: "ignored" })
          assert.strictEqual(response.action, "NOTIFICATION")
          assert.strictEqual(response.resultCode, "A198001")
          assert.include(response.resultMessage ?? "", `(mode = ping, result = ${result})`)
          assert.deepStrictEqual(json(response.responseContent), { auth_req_id: authReqId })
          assert.strictEqual(response.clientNotificationEndpoint, "https://client.example.com/ciba")
          assert.strictEqual(response.clientNotificationToken, "notification-token-123")
          assert.strictEqual(response.deliveryMode, "PING")
          assert.isUndefined(response.idToken)
        }
        yield* simulator.setClientNotificationEndpoint(ping.clientId, undefined)
      }))

    it.effect("PUSH AUTHORIZED mints tokens and a signed ID token", () =>
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const { authReqId, client, ticket } = yield* readyTicket("PUSH")
        const chosenToken = "caller-chosen-access-token-0123456789abcdef"
        const { response } = yield* complete({
          ticket,
          result: "AUTHORIZED",
          subject: "john",
          authTime: 1_700_000_000,
          acr: "urn:acr:mfa",
          claims: JSON.stringify({ given_name: "Taro", "family_name#ja": "山田", iss: "forged" }),
          idtHeaderParams: JSON.stringify({ jku: "https://as.example.com/jwks" }),
          accessToken: chosenToken,
          accessTokenDuration: 120,
          idTokenAudType: "array"
        })
        assert.strictEqual(response.action, "NOTIFICATION")
        assert.strictEqual(response.resultCode, "A198001")
        assert.include(response.resultMessage ?? "", "(mode = push, result = AUTHORIZED)")
        assert.strictEqual(response.accessToken, chosenToken)
        assert.match(response.refreshToken ?? "", /^[A-Za-z0-9_-]{43}$/)
        assert.strictEqual(response.accessTokenDuration, 120)
        assert.strictEqual(response.refreshTokenDuration, 86400)
        assert.strictEqual(response.idTokenDuration, 3600)

        const content = json(response.responseContent)
        assert.deepStrictEqual(content, {
          auth_req_id: authReqId,
          access_token: chosenToken,
          token_type: "Bearer",
          refresh_token: response.refreshToken,
          expires_in: 120,
          id_token: response.idToken
        })

        const { claims, header } = verifyIdToken(simulator, response.idToken!)
        assert.strictEqual(header.alg, "ES256")
        assert.strictEqual(header.jku, "https://as.example.com/jwks")
        const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        assert.deepStrictEqual(claims, {
          given_name: "Taro",
          "family_name#ja": "山田",
          iss: simulator.issuer,
          sub: "john",
          aud: [String(client.clientId)],
          exp: now + 3600,
          iat: now,
          auth_time: 1_700_000_000,
          acr: "urn:acr:mfa",
          "urn:openid:params:jwt:claim:auth_req_id": authReqId,
          at_hash: halfHash(chosenToken),
          "urn:openid:params:jwt:claim:rt_hash": halfHash(response.refreshToken!)
        })
      }))

    it.effect("PUSH AUTHORIZED uses sub over subject and the service's aud shape", () =>
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const { client, ticket } = yield* readyTicket("PUSH")
        const { response } = yield* complete({ ticket, result: "AUTHORIZED", subject: "john", sub: "pairwise-1" })
        const { claims } = verifyIdToken(simulator, response.idToken!)
        assert.strictEqual(claims.sub, "pairwise-1")
        assert.strictEqual(claims.aud, String(client.clientId))
        assert.notProperty(claims, "auth_time")
        assert.notProperty(claims, "acr")
        assert.match(response.accessToken ?? "", /^[A-Za-z0-9_-]{43}$/)
        assert.strictEqual(response.accessTokenDuration, 3600)
      }))

    it.effect("PUSH ACCESS_DENIED and TRANSACTION_FAILED notify the error", () =>
      Effect.gen(function*() {
        const cases = [
          { result: "ACCESS_DENIED", error: "access_denied" },
          { result: "TRANSACTION_FAILED", error: "expired_token" }
        ] as const
        for (const { error, result } of cases) {
          const { authReqId, ticket } = yield* readyTicket("PUSH")
          const { response } = yield* complete({
            ticket,
            result,
            subject: "john",
            errorDescription: "The user declined.",
            errorUri: "https://as.example.com/errors/declined"
          })
          assert.strictEqual(response.action, "NOTIFICATION")
          assert.strictEqual(response.resultCode, "A198001")
          assert.include(response.resultMessage ?? "", `(mode = push, result = ${result})`)
          assert.deepStrictEqual(json(response.responseContent), {
            error,
            error_description: "The user declined.",
            error_uri: "https://as.example.com/errors/declined",
            auth_req_id: authReqId
          })
          assert.isUndefined(response.accessToken)
          assert.isUndefined(response.idToken)
        }
        const { authReqId, ticket } = yield* readyTicket("PUSH")
        const { response } = yield* complete({ ticket, result: "ACCESS_DENIED", subject: "john" })
        assert.deepStrictEqual(json(response.responseContent), { error: "access_denied", auth_req_id: authReqId })
      }))
  })

  describe("/backchannel/authentication/complete: refusals", () => {
    it.effect("refuses a ticket the second time", () =>
      Effect.gen(function*() {
        const { ticket } = yield* readyTicket("PUSH")
        const first = yield* complete({ ticket, result: "AUTHORIZED", subject: "john" })
        assert.strictEqual(first.response.action, "NOTIFICATION")
        const second = yield* complete({ ticket, result: "AUTHORIZED", subject: "john" })
        assert.strictEqual(second.status, 200)
        assert.strictEqual(second.response.action, "SERVER_ERROR")
        assert.strictEqual(second.response.resultCode, "A198202")
        assert.isUndefined(second.response.accessToken)
      }))

    it.effect("refuses an unknown ticket", () =>
      Effect.gen(function*() {
        const { response } = yield* complete({ ticket: "no-such-ticket", result: "AUTHORIZED", subject: "john" })
        assert.strictEqual(response.action, "SERVER_ERROR")
        assert.strictEqual(response.resultCode, "A198202")
      }))

    it.effect("refuses a ticket before /issue, which still works afterwards", () =>
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const client = yield* simulator.clientFor("POLL")
        const identification = yield* authenticate(client, baseParameters(client))
        const early = yield* complete({ ticket: identification.ticket, result: "AUTHORIZED", subject: "john" })
        assert.strictEqual(early.response.action, "SERVER_ERROR")
        assert.strictEqual(early.response.resultCode, "A198203")
        yield* issue(identification.ticket!)
        const later = yield* complete({ ticket: identification.ticket, result: "AUTHORIZED", subject: "john" })
        assert.strictEqual(later.response.action, "NO_ACTION")
      }))

    it.effect("answers a body that breaks the request schema with 400 and every problem, values left out", () =>
      Effect.gen(function*() {
        const answer = yield* call("/backchannel/authentication/complete", {
          ticket: "t",
          result: "DENIED",
          subject: "secret-subject-\u0000",
          accessToken: "short-secret",
          typo: 1
        })
        assert.strictEqual(answer.status, 400)
        const body = answer.json as { resultCode: string; resultMessage: string }
        assert.strictEqual(body.resultCode, "A198201")
        assert.include(body.resultMessage, "result: must be one of AUTHORIZED, ACCESS_DENIED, TRANSACTION_FAILED")
        assert.include(body.resultMessage, "subject: ")
        assert.include(body.resultMessage, "accessToken: must be at least 32 characters")
        assert.include(body.resultMessage, "unknown field `typo`")
        assert.notInclude(answer.text, "short-secret")
        assert.notInclude(answer.text, "secret-subject")
      }))
  })

  describe("HTTP surface", () => {
    it.effect("refuses a missing Authorization header with Authlete's 401", () =>
      Effect.gen(function*() {
        const answer = yield* call("/backchannel/authentication/issue", { ticket: "t" }, { authorization: null })
        assert.strictEqual(answer.status, 401)
        assert.deepStrictEqual(answer.json, {
          resultCode: "A001202",
          resultMessage: "[A001202] Authorization header is missing."
        })
      }))

    it.effect("refuses a wrong token with 401 and another service's path with 403", () =>
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        for (const authorization of ["Bearer wrong-token", `Basic ${Redacted.value(simulator.accessToken)}`]) {
          const answer = yield* call("/backchannel/authentication/issue", { ticket: "t" }, { authorization })
          assert.strictEqual(answer.status, 401)
          assert.strictEqual((answer.json as { resultCode: string }).resultCode, "A001203")
        }
        const elsewhere = yield* call("/backchannel/authentication/issue", { ticket: "t" }, { serviceId: "42" })
        assert.strictEqual(elsewhere.status, 403)
        assert.strictEqual((elsewhere.json as { resultCode: string }).resultCode, "A001204")
      }))

    it.effect("answers a body that is not a JSON object with 400", () =>
      Effect.gen(function*() {
        for (const rawBody of ["{not json", "[1,2]", ""]) {
          const answer = yield* call("/backchannel/authentication/complete", undefined, { rawBody })
          assert.strictEqual(answer.status, 400, rawBody)
          assert.strictEqual((answer.json as { resultCode: string }).resultCode, "A001205")
        }
      }))

    it.effect("answers 404 for an unknown path or method", () =>
      Effect.gen(function*() {
        const unknown = yield* call("/backchannel/authentication/cancel", {})
        assert.strictEqual(unknown.status, 404)
        const get = yield* call("/backchannel/authentication/issue", undefined, { method: "GET" })
        assert.strictEqual(get.status, 404)
      }))

    it.effect("records requests without the Authorization value", () =>
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const before = (yield* simulator.requests).length
        yield* call("/backchannel/authentication/issue", { ticket: "recorded-ticket" })
        const requests = yield* simulator.requests
        assert.strictEqual(requests.length, before + 1)
        const last = requests[requests.length - 1]!
        assert.strictEqual(last.method, "POST")
        assert.strictEqual(last.path, `/api/${simulator.serviceId}/backchannel/authentication/issue`)
        assert.deepStrictEqual(last.body, { ticket: "recorded-ticket" })
        assert.strictEqual(last.headers["authorization"], "<redacted>")
        assert.notInclude(JSON.stringify(requests), Redacted.value(simulator.accessToken))
      }))
  })
})

describe("AuthleteSimulator's record of requests", () => {
  const pathsSince = (before: number) =>
    Effect.map(
      Effect.flatMap(AuthleteSimulator.AuthleteSimulator, (simulator) => simulator.requests),
      (requests) => requests.slice(before).map((request) => request.path.replace(/^\/api\/\d+/, ""))
    )

  it.scoped("records a request only once its caller and, where the API authenticates one, its client did", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const client = yield* simulator.clientFor("POLL")
      const before = (yield* simulator.requests).length
      const parameters = new URLSearchParams(baseParameters(client)).toString()
      const large = `${parameters}&binding_message=${"x".repeat(100_000)}`

      const wrongToken = yield* call("/backchannel/authentication/issue", { ticket: "t" }, {
        authorization: "Bearer x"
      })
      assert.strictEqual(wrongToken.status, 401)
      const wrongSecret = yield* call("/backchannel/authentication", {
        parameters: large,
        clientId: String(client.clientId),
        clientSecret: "wrong"
      })
      assert.strictEqual((wrongSecret.json as { action?: string }).action, "UNAUTHORIZED")
      const wrongSecretInForm = yield* call("/auth/token", {
        parameters: `grant_type=urn:openid:params:grant-type:ciba&auth_req_id=a&client_id=${client.clientId}` +
          `&client_secret=wrong&padding=${"x".repeat(100_000)}`
      })
      assert.strictEqual((wrongSecretInForm.json as { action?: string }).action, "INVALID_CLIENT")
      const noClient = yield* call("/backchannel/authentication", { parameters: large })
      assert.strictEqual((noClient.json as { action?: string }).action, "UNAUTHORIZED")
      const undecodable = yield* call("/backchannel/authentication", { parameters: 42 })
      assert.strictEqual(undecodable.status, 400)
      const notJson = yield* call("/auth/token", undefined, { rawBody: "x".repeat(100_000) })
      assert.strictEqual(notJson.status, 400)
      assert.deepStrictEqual(yield* pathsSince(before), [], "nothing refused was recorded")

      yield* authenticate(client, baseParameters(client))
      const token = yield* call("/auth/token", {
        parameters: "grant_type=urn:openid:params:grant-type:ciba&auth_req_id=unknown",
        clientId: String(client.clientId),
        clientSecret: client.clientSecret
      })
      assert.strictEqual((token.json as { action?: string }).action, "BAD_REQUEST")
      yield* call("/backchannel/authentication/issue", { ticket: "no-client-here" })
      assert.deepStrictEqual(yield* pathsSince(before), [
        "/backchannel/authentication",
        "/auth/token",
        "/backchannel/authentication/issue"
      ])
    }).pipe(Effect.provide(Simulator)))

  it.scoped("keeps the latest requests within maxRecordedBytes, and one too large alone without its body", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      for (let i = 0; i < 5; i++) {
        yield* call("/backchannel/authentication/issue", { ticket: `${i}${"t".repeat(5_000)}` })
      }
      const kept = yield* simulator.requests
      assert.deepStrictEqual(kept.map((request) => (request.body as { ticket: string }).ticket[0]), ["2", "3", "4"])
      yield* call("/backchannel/authentication/issue", { ticket: "t".repeat(30_000) })
      const withLarge = yield* simulator.requests
      assert.strictEqual(withLarge.length, 4, "a request without its body is small")
      assert.isUndefined(withLarge.at(-1)!.body)
      assert.strictEqual(withLarge.at(-1)!.path, `/api/${simulator.serviceId}/backchannel/authentication/issue`)
    }).pipe(
      Effect.provide(Layer.mergeAll(AuthleteSimulator.layer({ maxRecordedBytes: 17_000 }), FetchHttpClient.layer))
    ))

  it.scoped("refuses a maxRecordedBytes that is not a whole number of at least 1", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(AuthleteSimulator.layer({ maxRecordedBytes: 0 })))
      assert.isTrue(exit._tag === "Failure")
      assert.include(String(exit._tag === "Failure" ? exit.cause : ""), "maxRecordedBytes must be a whole number")
    }))
})
