import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Fiber, Layer, Redacted } from "effect"
import {
  AuthleteClient,
  BackchannelAuthenticationCompleteResponse,
  BackchannelAuthenticationCompletion,
  ClientNotifier,
  HttpTransport,
  UserClaims
} from "effect-authlete"
import { passNextSleep } from "./support/clock.js"
import { type Answer, json, loopbackServer, type Received } from "./support/loopback.js"

const TOKEN = "service-access-token-4f1c2a9d8e7b6a5c"
const NOTIFICATION_TOKEN = "client-notification-token-8d7c6b5a4f3e"
const TICKET = "Y1qeCf0A-JUz6caceaBfd2AaBYNZ-X-WGTP5Qv47cQI"
const base = { ticket: TICKET, result: "AUTHORIZED", subject: "user-1" } as const

const prepare = (input: unknown) =>
  Effect.runSync(Effect.either(BackchannelAuthenticationCompletion.prepareCompleteRequest(input)))

describe("prepareCompleteRequest", () => {
  it("merges claims given as objects and JSON texts, later sources winning", () => {
    const request = Either.getOrThrow(prepare({
      ...base,
      claims: [
        { given_name: "Taro", address: { country: "JP" } },
        "{\"address\":{\"locality\":\"Tokyo\"}}",
        undefined,
        {
          member_since: 2019
        }
      ]
    }))
    assert.deepStrictEqual(request.claims, {
      given_name: "Taro",
      address: { country: "JP", locality: "Tokyo" },
      member_since: 2019
    })
  })

  it("drops claims the user did not consent to, tagged or not", () => {
    const request = Either.getOrThrow(prepare({
      ...base,
      claims: { given_name: "Taro", "family_name#ja": "山田", email: "taro@example.com" },
      consentedClaims: ["given_name", "family_name"]
    }))
    assert.deepStrictEqual(request.claims, { given_name: "Taro", "family_name#ja": "山田" })
    assert.deepStrictEqual(request.consentedClaims, ["given_name", "family_name"])
  })

  it("leaves claims out when they merge to nothing", () => {
    const request = Either.getOrThrow(prepare({ ...base, claims: [{}, "{}"], jwtAtClaims: {} }))
    assert.isUndefined(request.claims)
    assert.isUndefined(request.jwtAtClaims)
    const consentedAway = Either.getOrThrow(prepare({ ...base, claims: { email: "x" }, consentedClaims: ["name"] }))
    assert.isUndefined(consentedAway.claims)
  })

  it("takes jwtAtClaims the same way and idtHeaderParams as an object or JSON text", () => {
    const request = Either.getOrThrow(prepare({
      ...base,
      jwtAtClaims: ["{\"tenant\":\"a\"}", { role: "admin" }],
      idtHeaderParams: "{\"kid\":\"key-1\"}"
    }))
    assert.deepStrictEqual(request.jwtAtClaims, { tenant: "a", role: "admin" })
    assert.deepStrictEqual(request.idtHeaderParams, { kid: "key-1" })
  })

  it("reports every problem at once, with paths into the sources", () => {
    const result = prepare({
      ticket: "",
      result: "AUTHORIZED",
      subject: "user-1",
      claims: [{ ok: 1 }, "[1,2]"],
      jwtAtClaims: "{oops",
      idtHeaderParams: 42,
      scopes: ["profile"]
    })
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) {
      assert.deepStrictEqual(result.left.issues.map((issue) => issue.path.join(".")).sort(), [
        "claims.1",
        "idtHeaderParams",
        "jwtAtClaims",
        "scopes",
        "ticket"
      ])
    }
  })

  it("refuses input that is not an object", () => {
    assert.isTrue(Either.isLeft(prepare(null)))
    assert.isTrue(Either.isLeft(prepare([base])))
  })
})

/** A fake Authlete on loopback that answers every `/complete` with `answer`. */
const fakeAuthlete = (answer: (received: Received, index: number) => Answer) =>
  Effect.map(loopbackServer(answer), (server) => ({
    ...server,
    layer: AuthleteClient.layer({ baseUrl: server.url, serviceId: "715948317", accessToken: Redacted.make(TOKEN) })
      .pipe(
        Layer.provide(HttpTransport.layerFetch)
      )
  }))

// The test endpoints are on loopback, which the notifier refuses unless told.
const notifier = (options = {}) =>
  ClientNotifier.layer({ allowLoopback: true, ...options }).pipe(Layer.orDie, Layer.provide(HttpTransport.layerFetch))

/** Authlete's NOTIFICATION answer pointing at `endpoint`. */
const notification = (endpoint: string, deliveryMode: "PING" | "PUSH", responseContent: string) =>
  json(200, {
    resultCode: "A198001",
    resultMessage: `[A198001] ok (mode = ${deliveryMode.toLowerCase()}, result = AUTHORIZED).`,
    action: "NOTIFICATION",
    deliveryMode,
    clientNotificationEndpoint: endpoint,
    clientNotificationToken: NOTIFICATION_TOKEN,
    responseContent,
    authReqId: "abc"
  })

describe("completeBackchannelAuthentication", () => {
  it.scoped("POLL: NoAction, and no notification is sent", () =>
    Effect.gen(function*() {
      const client = yield* loopbackServer(() => ({ status: 204 }))
      const authlete = yield* fakeAuthlete(() =>
        json(200, { resultCode: "A198001", action: "NO_ACTION", deliveryMode: "POLL" })
      )
      const outcome = yield* BackchannelAuthenticationCompletion.completeBackchannelAuthentication({
        ...base,
        claims: { given_name: "Taro" }
      }).pipe(
        Effect.provide(Layer.merge(authlete.layer, notifier()))
      )
      assert.strictEqual(outcome._tag, "NoAction")
      assert.strictEqual(outcome.response.action, "NO_ACTION")
      assert.strictEqual(client.received.length, 0)
      assert.deepStrictEqual(JSON.parse(authlete.received[0].body).claims, "{\"given_name\":\"Taro\"}")
    }))

  for (const mode of ["PING", "PUSH"] as const) {
    it.scoped(`${mode}: the client endpoint receives responseContent with the token; Notified with its status`, () =>
      Effect.gen(function*() {
        const client = yield* loopbackServer(() => ({ status: 204 }))
        const content = mode === "PING"
          ? "{\"auth_req_id\":\"abc\"}"
          : "{\"auth_req_id\":\"abc\",\"access_token\":\"at-1\",\"token_type\":\"Bearer\",\"id_token\":\"a.b.c\"}"
        const authlete = yield* fakeAuthlete(() => notification(`${client.url}/cb`, mode, content))
        const outcome = yield* BackchannelAuthenticationCompletion.completeBackchannelAuthentication(base).pipe(
          Effect.provide(Layer.merge(authlete.layer, notifier()))
        )
        assert.strictEqual(outcome._tag, "Notified")
        if (outcome._tag === "Notified") assert.strictEqual(outcome.status, 204)
        assert.strictEqual(client.received.length, 1)
        const [received] = client.received
        assert.strictEqual(received.method, "POST")
        assert.strictEqual(received.url, "/cb")
        assert.strictEqual(received.headers.authorization, `Bearer ${NOTIFICATION_TOKEN}`)
        assert.strictEqual(received.headers["content-type"], "application/json")
        assert.strictEqual(received.body, content)
      }))
  }

  it.scoped("SERVER_ERROR fails with AuthleteServerError and notifies nobody", () =>
    Effect.gen(function*() {
      const client = yield* loopbackServer(() => ({ status: 204 }))
      const authlete = yield* fakeAuthlete(() =>
        json(200, {
          resultCode: "A199301",
          resultMessage: "[A199301] The ticket is invalid.",
          action: "SERVER_ERROR",
          clientNotificationEndpoint: `${client.url}/cb`
        })
      )
      const error = yield* Effect.flip(
        BackchannelAuthenticationCompletion.completeBackchannelAuthentication(base).pipe(
          Effect.provide(Layer.merge(authlete.layer, notifier()))
        )
      )
      assert.strictEqual(error._tag, "AuthleteServerError")
      if (error._tag === "AuthleteServerError") assert.strictEqual(error.resultCode, "A199301")
      assert.strictEqual(client.received.length, 0)
    }))

  it.scoped("an unknown action fails with CompletionResponseError naming it", () =>
    Effect.gen(function*() {
      const authlete = yield* fakeAuthlete(() => json(200, { action: "PLEASE_WAIT" }))
      const error = yield* Effect.flip(
        BackchannelAuthenticationCompletion.completeBackchannelAuthentication(base).pipe(
          Effect.provide(Layer.merge(authlete.layer, notifier()))
        )
      )
      assert.strictEqual(error._tag, "CompletionResponseError")
      assert.include(error.message, "PLEASE_WAIT")
    }))

  it.scoped("NOTIFICATION without an endpoint fails with CompletionResponseError naming what is missing", () =>
    Effect.gen(function*() {
      const authlete = yield* fakeAuthlete(() => json(200, { action: "NOTIFICATION", responseContent: "{}" }))
      const error = yield* Effect.flip(
        BackchannelAuthenticationCompletion.completeBackchannelAuthentication(base).pipe(
          Effect.provide(Layer.merge(authlete.layer, notifier()))
        )
      )
      assert.strictEqual(error._tag, "CompletionResponseError")
      assert.include(error.message, "clientNotificationEndpoint")
      assert.include(error.message, "clientNotificationToken")
    }))

  it.scoped("a client endpoint answering 302 is a Redirect error; its target receives nothing", () =>
    Effect.gen(function*() {
      const target = yield* loopbackServer(() => ({ status: 204 }))
      const client = yield* loopbackServer(() => ({ status: 302, headers: { location: `${target.url}/cb` } }))
      const authlete = yield* fakeAuthlete(() => notification(`${client.url}/cb`, "PING", "{\"auth_req_id\":\"abc\"}"))
      const error = yield* Effect.flip(
        BackchannelAuthenticationCompletion.completeBackchannelAuthentication(base).pipe(
          Effect.provide(Layer.merge(authlete.layer, notifier()))
        )
      )
      assert.strictEqual(error._tag, "UndeliveredNotificationError")
      if (error._tag === "UndeliveredNotificationError") assert.strictEqual(error.cause.reason, "Redirect")
      assert.strictEqual(target.received.length, 0)
      assert.strictEqual(authlete.received.length, 1)
    }))

  it.scoped("a client endpoint answering 500 then 204 is retried and Notified", () =>
    Effect.gen(function*() {
      const client = yield* loopbackServer((_, index) => ({ status: index === 0 ? 500 : 204 }))
      const authlete = yield* fakeAuthlete(() => notification(`${client.url}/cb`, "PING", "{\"auth_req_id\":\"abc\"}"))
      const fiber = yield* Effect.fork(
        BackchannelAuthenticationCompletion.completeBackchannelAuthentication(base).pipe(
          Effect.provide(Layer.merge(authlete.layer, notifier({ timeout: "1 hour" })))
        )
      )
      yield* passNextSleep(5_000)
      const outcome = yield* Fiber.join(fiber)
      assert.strictEqual(outcome._tag, "Notified")
      assert.strictEqual(client.received.length, 2)
      assert.strictEqual(authlete.received.length, 1, "Authlete is told once")
    }))

  it.scoped("invalid input sends nothing to Authlete", () =>
    Effect.gen(function*() {
      const authlete = yield* fakeAuthlete(() => json(200, { action: "NO_ACTION" }))
      const error = yield* Effect.flip(
        BackchannelAuthenticationCompletion.completeBackchannelAuthentication({ ...base, subject: "", claims: "[]" })
          .pipe(
            Effect.provide(Layer.merge(authlete.layer, notifier()))
          )
      )
      assert.strictEqual(error._tag, "AuthleteValidationError")
      if (error._tag === "AuthleteValidationError") {
        assert.deepStrictEqual(error.issues.map((issue) => issue.path.join(".")).sort(), ["claims", "subject"])
      }
      assert.strictEqual(authlete.received.length, 0)
    }))

  it.effect("with collectClaims and the test layers, as a user's own test would", () =>
    Effect.gen(function*() {
      const claims = yield* UserClaims.collectClaims({
        subject: "user-1",
        claimNames: ["given_name", "family_name", "email"],
        claimsLocales: ["ja"]
      })
      const outcome = yield* BackchannelAuthenticationCompletion.completeBackchannelAuthentication({
        ...base,
        claims: [claims, { member_since: 2019 }],
        consentedClaims: ["given_name", "family_name", "member_since"]
      })
      assert.strictEqual(outcome._tag, "NoAction")
      const [sent] = (yield* Effect.flatMap(AuthleteClient.AuthleteClientRecorder, (recorder) => recorder.requests))
        .filter((recorded) => recorded.method === "backchannelAuthenticationComplete")
      assert.deepStrictEqual(sent.request.claims, { given_name: "Taro", family_name: "山田", member_since: 2019 })
    }).pipe(
      Effect.provide(Layer.mergeAll(
        AuthleteClient.layerTest(() =>
          Effect.succeed(
            new BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse({
              action: "NO_ACTION"
            })
          )
        ),
        ClientNotifier.layerTest(),
        UserClaims.layerFromRecord({
          "user-1": { given_name: "Taro", "family_name#ja": "山田", family_name: "Yamada", email: "taro@example.com" }
        })
      ))
    ))
})
