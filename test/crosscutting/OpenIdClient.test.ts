/**
 * The authorization server built from this library's programs and routes (the playground), driven
 * over HTTP by a real OpenID relying party, panva's openid-client, exactly as a client would: every
 * delivery mode, the decision's outcomes, the token endpoint's CIBA errors, and the backchannel
 * endpoint's refusals.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Playground } from "effect-authlete/playground"
import * as jose from "jose"
import { createHash } from "node:crypto"
import * as client from "openid-client"
import { loopbackServer, type Received } from "../support/loopback.js"

const CIBA = "urn:openid:params:grant-type:ciba"

const clientOf = (info: Playground.PlaygroundInfo, mode: "POLL" | "PING" | "PUSH") =>
  info.clients.find((c) => c.deliveryMode === mode)!

/** openid-client's configuration for one of the playground's clients (client_secret_basic). */
const configure = (info: Playground.PlaygroundInfo, mode: "POLL" | "PING" | "PUSH", secret?: string) => {
  const registered = clientOf(info, mode)
  return Effect.promise(() =>
    client.discovery(
      new URL(info.issuer),
      registered.clientId,
      { id_token_signed_response_alg: "ES256" },
      client.ClientSecretBasic(secret ?? registered.clientSecret),
      { execute: [client.allowInsecureRequests] }
    )
  )
}

/** The OAuth error an openid-client call ended with (`ResponseBodyError.error`), or "none". */
const errorOf = (promise: () => Promise<unknown>) =>
  Effect.promise(() =>
    promise().then(
      () => "none",
      (error: unknown) =>
        error instanceof client.ResponseBodyError
          ? error.error
          : error instanceof client.WWWAuthenticateChallengeError
          ? `${error.status} ${(error.cause as ReadonlyArray<{ scheme: string }>)[0]?.scheme ?? ""}`.trim()
          : String(error)
    )
  )

/** The user decides, through the conformance suite's automated approval endpoint. */
const approve = (info: Playground.PlaygroundInfo, authReqId: string, action: "allow" | "deny") =>
  Effect.promise(async () => {
    const url = info.automatedApprovalUrl.replace("{auth_req_id}", encodeURIComponent(authReqId)).replace(
      "{action}",
      action
    )
    const response = await fetch(url, { method: "POST", headers: { accept: "application/json" } })
    return response.status
  })

/** Verifies an ID token against the jwks_uri, as a relying party must for a pushed one. */
const verifyIdToken = (config: client.Configuration, idToken: string, audience: string) =>
  Effect.promise(async () => {
    const metadata = config.serverMetadata()
    const { payload } = await jose.jwtVerify(idToken, jose.createRemoteJWKSet(new URL(metadata.jwks_uri!)), {
      issuer: metadata.issuer,
      audience,
      algorithms: ["ES256"]
    })
    return payload
  })

const halfHash = (token: string) => createHash("sha256").update(token).digest().subarray(0, 16).toString("base64url")

/** Waits (in real time) for a notification at the loopback endpoint. */
const notified = (received: Array<Received>, count: number) =>
  Effect.promise(async () => {
    for (let i = 0; i < 500 && received.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    return received[count - 1]
  })

/** A playground (1-second interval) with loopback PING and PUSH endpoints that answer 204. */
const withPlayground = <A, E>(
  body: (
    info: Playground.PlaygroundInfo,
    endpoints: { ping: Array<Received>; push: Array<Received> }
  ) => Effect.Effect<A, E>,
  options: { readonly expiresIn?: number } = {}
) =>
  Effect.scoped(Effect.gen(function*() {
    const ping = yield* loopbackServer(() => ({ status: 204 }))
    const push = yield* loopbackServer(() => ({ status: 204 }))
    const context = yield* Layer.build(
      Playground.layer({ interval: 1, pingEndpoint: `${ping.url}/ping`, pushEndpoint: `${push.url}/push`, ...options })
    ).pipe(Effect.orDie)
    const info = yield* Effect.provide(Playground.Playground, context)
    return yield* body(info, { ping: ping.received, push: push.received })
  }))

describe("a CIBA authorization server on Authlete, driven by openid-client", () => {
  it.live("discovery names the CIBA endpoints, modes and grant", () =>
    withPlayground((info) =>
      Effect.gen(function*() {
        const config = yield* configure(info, "POLL")
        const metadata = config.serverMetadata()
        assert.strictEqual(metadata.issuer, info.issuer)
        assert.strictEqual(metadata.backchannel_authentication_endpoint, `${info.issuer}/backchannel`)
        assert.strictEqual(metadata.token_endpoint, `${info.issuer}/token`)
        assert.deepStrictEqual(metadata.backchannel_token_delivery_modes_supported, ["poll", "ping", "push"])
        assert.include(metadata.grant_types_supported ?? [], CIBA)
        assert.deepStrictEqual(metadata.id_token_signing_alg_values_supported, ["ES256"])
        assert.strictEqual(metadata.backchannel_user_code_parameter_supported, true)
      })
    ))

  it.live(
    "POLL, allowed: tokens whose ID token verifies against jwks_uri and holds the user's claims in their locale",
    () =>
      withPlayground((info) =>
        Effect.gen(function*() {
          const config = yield* configure(info, "POLL")
          const started = yield* Effect.promise(() =>
            client.initiateBackchannelAuthentication(config, {
              scope: "openid profile email",
              login_hint: "taro@example.com",
              binding_message: "W4SCT",
              claims_locales: "ja"
            })
          )
          assert.strictEqual(started.interval, 1)
          assert.strictEqual(yield* approve(info, started.auth_req_id, "allow"), 200)
          const tokens = yield* Effect.promise(() => client.pollBackchannelAuthenticationGrant(config, started))
          assert.isString(tokens.access_token)
          assert.isString(tokens.refresh_token)
          const claims = yield* verifyIdToken(config, tokens.id_token!, clientOf(info, "POLL").clientId)
          assert.strictEqual(claims.sub, "user-1")
          assert.strictEqual(claims.given_name, "太郎")
          assert.strictEqual(claims.family_name, "山田")
          assert.strictEqual(claims.email, "taro@example.com")
          assert.strictEqual(claims.at_hash, halfHash(tokens.access_token))
          assert.strictEqual(tokens.claims()?.sub, "user-1")
        })
      ),
    30_000
  )

  it.live("POLL, denied: access_denied", () =>
    withPlayground((info) =>
      Effect.gen(function*() {
        const config = yield* configure(info, "POLL")
        const started = yield* Effect.promise(() =>
          client.initiateBackchannelAuthentication(config, { scope: "openid", login_hint: "user-2" })
        )
        yield* approve(info, started.auth_req_id, "deny")
        assert.strictEqual(
          yield* errorOf(() => client.pollBackchannelAuthenticationGrant(config, started)),
          "access_denied"
        )
      })
    ), 30_000)

  it.live(
    "authorization_pending, then slow_down for polling faster than the interval",
    () =>
      withPlayground((info) =>
        Effect.gen(function*() {
          const config = yield* configure(info, "POLL")
          const started = yield* Effect.promise(() =>
            client.initiateBackchannelAuthentication(config, { scope: "openid", login_hint: "user-2" })
          )
          const ask = () => client.genericGrantRequest(config, CIBA, { auth_req_id: started.auth_req_id })
          assert.strictEqual(yield* errorOf(ask), "authorization_pending")
          assert.strictEqual(yield* errorOf(ask), "slow_down")
        })
      ),
    30_000
  )

  it.live(
    "expired_token once the auth_req_id expires undecided",
    () =>
      withPlayground((info) =>
        Effect.gen(function*() {
          const config = yield* configure(info, "POLL")
          const started = yield* Effect.promise(() =>
            client.initiateBackchannelAuthentication(config, { scope: "openid", login_hint: "user-2" })
          )
          yield* Effect.sleep("2500 millis")
          assert.strictEqual(
            yield* errorOf(() => client.genericGrantRequest(config, CIBA, { auth_req_id: started.auth_req_id })),
            "expired_token"
          )
          // Too late to decide, too.
          assert.strictEqual(yield* approve(info, started.auth_req_id, "allow"), 410)
        }), { expiresIn: 2 }),
    30_000
  )

  it.live(
    "an auth_req_id redeemed twice, or by another client, is invalid_grant",
    () =>
      withPlayground((info) =>
        Effect.gen(function*() {
          const config = yield* configure(info, "POLL")
          const started = yield* Effect.promise(() =>
            client.initiateBackchannelAuthentication(config, { scope: "openid", login_hint: "user-3" })
          )
          yield* approve(info, started.auth_req_id, "allow")
          const other = yield* configure(info, "PING")
          const byOther = () => client.genericGrantRequest(other, CIBA, { auth_req_id: started.auth_req_id })
          assert.strictEqual(yield* errorOf(byOther), "invalid_grant")
          yield* Effect.promise(() => client.genericGrantRequest(config, CIBA, { auth_req_id: started.auth_req_id }))
          const again = () => client.genericGrantRequest(config, CIBA, { auth_req_id: started.auth_req_id })
          assert.strictEqual(yield* errorOf(again), "invalid_grant")
        })
      ),
    30_000
  )

  it.live(
    "PING: the endpoint gets the auth_req_id with the client notification token, then the token request succeeds",
    () =>
      withPlayground((info, endpoints) =>
        Effect.gen(function*() {
          const config = yield* configure(info, "PING")
          const started = yield* Effect.promise(() =>
            client.initiateBackchannelAuthentication(config, {
              scope: "openid email",
              login_hint: "alice@example.com",
              client_notification_token: "ping-notification-token-0123456789"
            })
          )
          yield* approve(info, started.auth_req_id, "allow")
          const ping = yield* notified(endpoints.ping, 1)
          assert.strictEqual(ping?.headers.authorization, "Bearer ping-notification-token-0123456789")
          assert.deepStrictEqual(JSON.parse(ping!.body), { auth_req_id: started.auth_req_id })
          const tokens = yield* Effect.promise(() =>
            client.genericGrantRequest(config, CIBA, { auth_req_id: started.auth_req_id })
          )
          const claims = yield* verifyIdToken(config, tokens.id_token!, clientOf(info, "PING").clientId)
          assert.strictEqual(claims.email, "alice@example.com")
        })
      ),
    30_000
  )

  it.live(
    "PUSH: the endpoint gets the tokens, and the ID token binds auth_req_id, at_hash and rt_hash",
    () =>
      withPlayground((info, endpoints) =>
        Effect.gen(function*() {
          const config = yield* configure(info, "PUSH")
          const started = yield* Effect.promise(() =>
            client.initiateBackchannelAuthentication(config, {
              scope: "openid profile",
              login_hint: "user-1",
              client_notification_token: "push-notification-token-0123456789"
            })
          )
          yield* approve(info, started.auth_req_id, "allow")
          const push = yield* notified(endpoints.push, 1)
          assert.strictEqual(push?.headers.authorization, "Bearer push-notification-token-0123456789")
          const pushed = JSON.parse(push!.body) as Record<string, string>
          assert.strictEqual(pushed.auth_req_id, started.auth_req_id)
          const claims = yield* verifyIdToken(config, pushed.id_token!, clientOf(info, "PUSH").clientId)
          assert.strictEqual(claims["urn:openid:params:jwt:claim:auth_req_id"], started.auth_req_id)
          assert.strictEqual(claims.at_hash, halfHash(pushed.access_token!))
          assert.strictEqual(claims["urn:openid:params:jwt:claim:rt_hash"], halfHash(pushed.refresh_token!))
          assert.strictEqual(claims.name, "Taro Yamada")
        })
      ),
    30_000
  )

  it.live(
    "the backchannel endpoint's refusals: invalid_client, invalid_scope, invalid_request, unknown_user_id",
    () =>
      withPlayground((info) =>
        Effect.gen(function*() {
          const wrong = yield* configure(info, "POLL", "not-the-secret")
          assert.strictEqual(
            yield* errorOf(() =>
              client.initiateBackchannelAuthentication(wrong, { scope: "openid", login_hint: "user-1" })
            ),
            "401 basic"
          )
          const config = yield* configure(info, "POLL")
          const start = (parameters: Record<string, string>) =>
            errorOf(() => client.initiateBackchannelAuthentication(config, parameters))
          assert.strictEqual(yield* start({ scope: "profile", login_hint: "user-1" }), "invalid_scope")
          assert.strictEqual(
            yield* start({ scope: "openid", login_hint: "user-1", login_hint_token: "eyJhbGciOiJub25lIn0.e30." }),
            "invalid_request"
          )
          assert.strictEqual(yield* start({ scope: "openid", login_hint: "nobody@example.com" }), "unknown_user_id")
        })
      ),
    30_000
  )
})
