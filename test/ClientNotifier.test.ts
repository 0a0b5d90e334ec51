import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Redacted } from "effect"
import { ClientNotifier, HttpTransport } from "effect-authlete"
import { UndiciTransport } from "effect-authlete/undici"
import { passNextSleep } from "./support/clock.js"
import { type Answer, closedPort, loopbackServer, type Received } from "./support/loopback.js"

const NOTIFICATION_TOKEN = "client-notification-token-8d7c6b5a4f3e"
const BODY = "{\"auth_req_id\":\"_mzc-ZQdAhSPuMxTlO-MC_oqaOqYCrdNQ39PVxisaiE\"}"

// The test endpoints are on loopback, which the notifier refuses unless told.
const notifierLayer = (
  options: ClientNotifier.ClientNotifierOptions = {},
  transport: Layer.Layer<HttpTransport.HttpTransport> = HttpTransport.layerFetch
) => ClientNotifier.layer({ allowLoopback: true, ...options }).pipe(Layer.orDie, Layer.provide(transport))

const notify = (endpoint: string) =>
  Effect.flatMap(
    ClientNotifier.ClientNotifier,
    (notifier) => notifier.notify({ endpoint, token: Redacted.make(NOTIFICATION_TOKEN), body: BODY })
  )

/** Notifies an endpoint that answers as given; returns the outcome and what the endpoint received. */
const deliver = (
  answer: (received: Received, index: number) => Answer,
  options: ClientNotifier.ClientNotifierOptions = {}
) =>
  Effect.gen(function*() {
    const endpoint = yield* loopbackServer(answer)
    const outcome = yield* Effect.either(Effect.provide(notify(`${endpoint.url}/cb`), notifierLayer(options)))
    return { outcome, received: endpoint.received }
  })

const patient = { timeout: "1 hour" } as const

describe("ClientNotifier", () => {
  for (
    const [name, transport] of [
      ["fetch", HttpTransport.layerFetch],
      ["platform undici", HttpTransport.layer.pipe(Layer.provide(NodeHttpClient.layerUndici))],
      ["UndiciTransport", UndiciTransport.layer]
    ] as const
  ) {
    it.scoped(`over ${name}: POSTs the body unchanged with the bearer token and JSON content type; 204 is delivered`, () =>
      Effect.gen(function*() {
        const endpoint = yield* loopbackServer(() => ({ status: 204 }))
        const delivered = yield* Effect.provide(notify(`${endpoint.url}/cb`), notifierLayer({}, transport))
        assert.strictEqual(delivered.status, 204)
        const [received] = endpoint.received
        assert.strictEqual(received.method, "POST")
        assert.strictEqual(received.url, "/cb")
        assert.strictEqual(received.headers.authorization, `Bearer ${NOTIFICATION_TOKEN}`)
        assert.strictEqual(received.headers["content-type"], "application/json")
        assert.strictEqual(received.body, BODY)
        assert.isUndefined(received.headers.traceparent)
      }))
  }

  it.scoped("accepts 200 and ignores its body", () =>
    Effect.gen(function*() {
      const { outcome } = yield* deliver(() => ({ status: 200, body: "{\"thanks\":true}" }))
      assert.deepStrictEqual(outcome._tag === "Right" && outcome.right, { status: 200 })
    }))

  it.scoped("a 302 is a Redirect error and its target never receives anything", () =>
    Effect.gen(function*() {
      const target = yield* loopbackServer(() => ({ status: 204 }))
      const { outcome, received } = yield* deliver(() => ({ status: 302, headers: { location: `${target.url}/cb` } }))
      assert.strictEqual(outcome._tag, "Left")
      if (outcome._tag === "Left") {
        assert.strictEqual(outcome.left.reason, "Redirect")
        assert.strictEqual(outcome.left.status, 302)
      }
      assert.strictEqual(received.length, 1)
      assert.strictEqual(target.received.length, 0)
    }))

  it.scoped("a 400 is a Status error and is not retried", () =>
    Effect.gen(function*() {
      const { outcome, received } = yield* deliver(() => ({ status: 400 }))
      assert.strictEqual(outcome._tag === "Left" && outcome.left.reason, "Status")
      assert.strictEqual(outcome._tag === "Left" && outcome.left.status, 400)
      assert.strictEqual(received.length, 1)
    }))

  it.scoped("500 then 204: retried with the same body", () =>
    Effect.gen(function*() {
      const endpoint = yield* loopbackServer((_, index) => ({ status: index === 0 ? 500 : 204 }))
      const fiber = yield* Effect.fork(Effect.provide(notify(`${endpoint.url}/cb`), notifierLayer(patient)))
      yield* passNextSleep(5_000)
      const delivered = yield* Fiber.join(fiber)
      assert.strictEqual(delivered.status, 204)
      assert.strictEqual(endpoint.received.length, 2)
      assert.deepStrictEqual(endpoint.received.map((r) => r.body), [BODY, BODY])
    }))

  it.scoped("500 three times: two retries, then a Status error", () =>
    Effect.gen(function*() {
      const endpoint = yield* loopbackServer(() => ({ status: 500 }))
      const fiber = yield* Effect.fork(Effect.provide(notify(`${endpoint.url}/cb`), notifierLayer(patient)))
      yield* passNextSleep(5_000)
      yield* passNextSleep(5_000)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error.reason, "Status")
      assert.strictEqual(endpoint.received.length, 3)
    }))

  it.scoped("a refused connection is a Transport error, retried twice", () =>
    Effect.gen(function*() {
      const url = yield* closedPort()
      const fiber = yield* Effect.fork(Effect.provide(notify(`${url}/cb`), notifierLayer(patient)))
      yield* passNextSleep(5_000)
      yield* passNextSleep(5_000)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error.reason, "Transport")
      assert.notInclude(error.message, NOTIFICATION_TOKEN)
    }))

  it.live("a slow endpoint is a Timeout error", () =>
    Effect.scoped(Effect.gen(function*() {
      const { outcome, received } = yield* deliver(() => () => {
        // Never answers.
      }, { timeout: "200 millis" })
      assert.strictEqual(outcome._tag === "Left" && outcome.left.reason, "Timeout")
      assert.strictEqual(received.length, 1, "a timeout is not retried")
    })))

  it.effect("refuses plain http: for a host that is not loopback, and a URL that is not one", () =>
    Effect.gen(function*() {
      const http = yield* Effect.flip(notify("http://client.example.com/cb"))
      assert.strictEqual(http.reason, "InvalidEndpoint")
      const garbage = yield* Effect.flip(notify("not a url"))
      assert.strictEqual(garbage.reason, "InvalidEndpoint")
    }).pipe(Effect.provide(notifierLayer())))

  it.scoped("errors show the endpoint without its query and never the token", () =>
    Effect.gen(function*() {
      const endpoint = yield* loopbackServer(() => ({ status: 403 }))
      const error = yield* Effect.flip(
        Effect.provide(notify(`${endpoint.url}/cb?key=do-not-show-me`), notifierLayer())
      )
      assert.strictEqual(error.endpoint, `${endpoint.url}/cb`)
      for (const text of [error.message, String(error), JSON.stringify(error)]) {
        assert.notInclude(text, NOTIFICATION_TOKEN)
        assert.notInclude(text, "do-not-show-me")
      }
    }))

  it.effect("layerTest records notifications instead of sending them", () =>
    Effect.gen(function*() {
      const delivered = yield* notify("https://client.example.com/cb")
      assert.strictEqual(delivered.status, 204)
      const recorded = yield* Effect.flatMap(
        ClientNotifier.ClientNotifierRecorder,
        (recorder) => recorder.notifications
      )
      assert.strictEqual(recorded.length, 1)
      assert.strictEqual(recorded[0].endpoint, "https://client.example.com/cb")
      assert.strictEqual(recorded[0].body, BODY)
      assert.strictEqual(Redacted.value(recorded[0].token), NOTIFICATION_TOKEN)
    }).pipe(Effect.provide(ClientNotifier.layerTest())))
})
