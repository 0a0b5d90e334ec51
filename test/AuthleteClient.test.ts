import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Config, ConfigProvider, Effect, Exit, Fiber, Layer, Logger, LogLevel, Redacted } from "effect"
import {
  AuthleteClient,
  type AuthleteError,
  BackchannelAuthenticationCompleteRequest,
  BackchannelAuthenticationCompleteResponse,
  HttpTransport
} from "effect-authlete"
import { UndiciTransport } from "effect-authlete/undici"
import { passNextSleep } from "./support/clock.js"
import { type Answer, closedPort, json, loopbackServer, type Received } from "./support/loopback.js"
import { observe } from "./support/observe.js"

const TOKEN = "service-access-token-4f1c2a9d8e7b6a5c"
const SECRET = "service-api-secret-9a8b7c6d5e4f3a2b"
const TICKET = "NFIHGx_btVrWmtAD093D-87JxvT4DAtuijEkLVHbS4Q"

const request = new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
  ticket: TICKET,
  result: "AUTHORIZED",
  subject: "john",
  claims: { given_name: "Taro" }
})

const POLL_OK = {
  resultCode: "A198001",
  resultMessage: "[A198001] Successfully updated the database (mode = poll, result = AUTHORIZED).",
  action: "NO_ACTION"
}

/** A timeout no test clock adjustment reaches, for tests that move the clock. */
const patient = { timeout: "1 hour" } as const

const transports = [
  { name: "UndiciTransport", layer: UndiciTransport.layer },
  { name: "HttpTransport over FetchHttpClient", layer: HttpTransport.layerFetch },
  {
    name: "HttpTransport over NodeHttpClient.layerUndici",
    layer: HttpTransport.layer.pipe(Layer.provide(NodeHttpClient.layerUndici))
  }
] as const

/** A v3 client against `baseUrl`, over the given transport. */
const v3 = (
  baseUrl: string,
  transport: Layer.Layer<HttpTransport.HttpTransport> = HttpTransport.layerFetch,
  extra: Partial<AuthleteClient.AuthleteClientOptionsV3> = {}
) =>
  AuthleteClient.layer({ baseUrl, serviceId: "715948317", accessToken: Redacted.make(TOKEN), ...extra }).pipe(
    Layer.provide(transport)
  )

const complete = (input: BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest = request) =>
  Effect.flatMap(AuthleteClient.AuthleteClient, (client) => client.backchannelAuthenticationComplete(input))

/** Runs one completion against a server that answers as given; returns the exit and what it received. */
const exchange = (
  answer: (received: Received, index: number) => Answer,
  extra: Partial<AuthleteClient.AuthleteClientOptionsV3> = {}
) =>
  Effect.gen(function*() {
    const server = yield* loopbackServer(answer)
    const exit = yield* Effect.exit(Effect.provide(complete(), v3(server.url, HttpTransport.layerFetch, extra)))
    return { exit, received: server.received }
  })

describe("AuthleteClient", () => {
  describe("what Authlete receives", () => {
    for (const transport of transports) {
      it.scoped(`v3 over ${transport.name}: POST to the service path with a bearer token and the wire JSON`, () =>
        Effect.gen(function*() {
          const server = yield* loopbackServer(() => json(200, POLL_OK))
          const response = yield* Effect.provide(complete(), v3(server.url, transport.layer))
          assert.instanceOf(
            response,
            BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse
          )
          assert.strictEqual(response.action, "NO_ACTION")
          assert.strictEqual(server.received.length, 1)
          const [received] = server.received
          assert.strictEqual(received.method, "POST")
          assert.strictEqual(received.url, "/api/715948317/backchannel/authentication/complete")
          assert.strictEqual(received.headers.authorization, `Bearer ${TOKEN}`)
          assert.match(received.headers["content-type"] ?? "", /^application\/json/)
          assert.strictEqual(received.headers.accept, "application/json")
          assert.isUndefined(received.headers.traceparent)
          assert.isUndefined(received.headers.b3)
          assert.deepStrictEqual(JSON.parse(received.body), {
            ticket: TICKET,
            result: "AUTHORIZED",
            subject: "john",
            claims: "{\"given_name\":\"Taro\"}"
          })
        }))
    }

    it.scoped("v2: POST without the service id, with HTTP Basic", () =>
      Effect.gen(function*() {
        const server = yield* loopbackServer(() => json(200, POLL_OK))
        const layer = AuthleteClient.layer({
          apiVersion: "V2",
          baseUrl: `${server.url}/`,
          apiKey: "21653835348762",
          apiSecret: Redacted.make(SECRET)
        }).pipe(Layer.provide(HttpTransport.layerFetch))
        yield* Effect.provide(complete(), layer)
        const [received] = server.received
        assert.strictEqual(received.url, "/api/backchannel/authentication/complete")
        assert.strictEqual(
          received.headers.authorization,
          `Basic ${Buffer.from(`21653835348762:${SECRET}`).toString("base64")}`
        )
      }))

    it.scoped("keeps a service id with / or .. inside its path segment", () =>
      Effect.gen(function*() {
        const server = yield* loopbackServer(() => json(200, POLL_OK))
        yield* Effect.provide(complete(), v3(server.url, HttpTransport.layerFetch, { serviceId: "../../admin/x" }))
        assert.strictEqual(server.received[0].url, "/api/..%2F..%2Fadmin%2Fx/backchannel/authentication/complete")
        const refused = yield* Effect.exit(
          Effect.provide(complete(), v3(server.url, HttpTransport.layerFetch, { serviceId: ".." }))
        )
        assert.isTrue(Exit.isFailure(refused))
        assert.strictEqual(server.received.length, 1)
      }))

    it.scoped("accepts a plain object and refuses one that breaks a rule, sending nothing", () =>
      Effect.gen(function*() {
        const server = yield* loopbackServer(() => json(200, POLL_OK))
        const layer = v3(server.url)
        const plain = { ticket: TICKET, result: "ACCESS_DENIED", subject: "john" } as const
        const ok = yield* Effect.provide(
          complete(plain as BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest),
          layer
        )
        assert.strictEqual(ok.action, "NO_ACTION")
        const bad = { ticket: "", result: "AUTHORIZED", subject: "john", errorDescription: "\"" }
        const error = yield* Effect.flip(
          Effect.provide(
            complete(bad as BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest),
            layer
          )
        )
        assert.strictEqual(error._tag, "AuthleteValidationError")
        assert.match(error.message, /ticket: must not be empty/)
        assert.match(error.message, /errorDescription/)
        assert.strictEqual(server.received.length, 1)
      }))
  })

  describe("how answers become results and errors", () => {
    for (
      const [status, resultCode] of [[400, "A001201"], [401, "A001202"], [403, "A001215"], [500, "A001101"]] as const
    ) {
      it.scoped(`${status} with a result body is AuthleteApiError with its code and message`, () =>
        Effect.gen(function*() {
          const body = { resultCode, resultMessage: `[${resultCode}] something happened.` }
          const { exit, received } = yield* exchange(() => json(status, body))
          const error = yield* Effect.flip(exit)
          assert.strictEqual(error._tag, "AuthleteApiError")
          if (error._tag !== "AuthleteApiError") return
          assert.strictEqual(error.status, status)
          assert.strictEqual(error.resultCode, resultCode)
          assert.strictEqual(error.resultMessage, body.resultMessage)
          assert.deepStrictEqual(JSON.parse(error.body), body)
          assert.include(error.message, resultCode)
          assert.strictEqual(received.length, 1, "not retried")
        }))
    }

    it.scoped("502 with an HTML page keeps the status and the text", () =>
      Effect.gen(function*() {
        const html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
        const { exit, received } = yield* exchange(() => ({
          status: 502,
          headers: { "content-type": "text/html" },
          body: html
        }))
        const error = yield* Effect.flip(exit)
        assert.strictEqual(error._tag, "AuthleteApiError")
        if (error._tag !== "AuthleteApiError") return
        assert.strictEqual(error.status, 502)
        assert.strictEqual(error.body, html)
        assert.isUndefined(error.resultCode)
        assert.strictEqual(received.length, 1, "502 is not retried")
      }))

    it.scoped("200 with broken JSON is AuthleteResponseError", () =>
      Effect.gen(function*() {
        const { exit } = yield* exchange(() => ({ status: 200, body: "{\"action\": \"NO_AC" }))
        const error = yield* Effect.flip(exit)
        assert.strictEqual(error._tag, "AuthleteResponseError")
        if (error._tag === "AuthleteResponseError") {
          assert.strictEqual(error.status, 200)
          assert.match(error.message, /not JSON/)
        }
      }))

    it.scoped("200 with wrong types is AuthleteResponseError naming the field, without the tokens", () =>
      Effect.gen(function*() {
        const { exit } = yield* exchange(() =>
          json(200, { action: "NOTIFICATION", clientId: "not-a-number", accessToken: "minted-access-token-123456" })
        )
        const error = yield* Effect.flip(exit)
        assert.strictEqual(error._tag, "AuthleteResponseError")
        if (error._tag === "AuthleteResponseError") {
          assert.match(error.message, /clientId/)
          assert.notInclude(error.body, "minted-access-token-123456")
          assert.notInclude(error.message, "minted-access-token-123456")
        }
      }))

    it.scoped("an answer larger than the cap is refused without being read", () =>
      Effect.gen(function*() {
        const { exit } = yield* exchange(() => json(200, { ...POLL_OK, padding: "x".repeat(4096) }), {
          maxResponseBytes: 1024
        })
        const error = yield* Effect.flip(exit)
        assert.strictEqual(error._tag, "AuthleteResponseError")
        assert.match(error.message, /larger than the 1024-byte cap/)
      }))
  })

  describe("redirects", () => {
    for (const transport of transports) {
      for (const status of [301, 307]) {
        it.scoped(`${status} over ${transport.name} is not followed and the target sees nothing`, () =>
          Effect.gen(function*() {
            const target = yield* loopbackServer(() => json(200, POLL_OK))
            const origin = yield* loopbackServer(() => ({
              status,
              headers: { location: `${target.url}/api/715948317/backchannel/authentication/complete` }
            }))
            const error = yield* Effect.flip(Effect.provide(complete(), v3(origin.url, transport.layer)))
            assert.strictEqual(error._tag, "AuthleteApiError")
            if (error._tag === "AuthleteApiError") assert.strictEqual(error.status, status)
            assert.strictEqual(target.received.length, 0)
            assert.strictEqual(origin.received.length, 1)
          }))
      }
    }
  })

  describe("retries", () => {
    it.scoped("retries a 429 after the Retry-After it was given", () =>
      Effect.gen(function*() {
        const server = yield* loopbackServer((_, index) =>
          index === 0 ? json(429, { resultCode: "A001XXX" }, { "retry-after": "7" }) : json(200, POLL_OK)
        )
        const fiber = yield* Effect.fork(Effect.provide(complete(), v3(server.url, HttpTransport.layerFetch, patient)))
        const waited = yield* passNextSleep(60_000)
        assert.strictEqual(waited, 7_000)
        const response = yield* Fiber.join(fiber)
        assert.strictEqual(response.action, "NO_ACTION")
        assert.strictEqual(server.received.length, 2)
      }))

    it.scoped("retries 503 with backoff, at most 3 times", () =>
      Effect.gen(function*() {
        const server = yield* loopbackServer(() => ({ status: 503, body: "busy" }))
        const fiber = yield* Effect.fork(Effect.provide(complete(), v3(server.url, HttpTransport.layerFetch, patient)))
        const waits = [yield* passNextSleep(5_000), yield* passNextSleep(5_000), yield* passNextSleep(5_000)]
        const error = yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(error._tag, "AuthleteApiError")
        assert.strictEqual(server.received.length, 4)
        assert.isTrue(waits[0] >= 400 && waits[0] <= 600, `first backoff ${waits[0]}`)
        assert.isTrue(waits[1] > waits[0], "backoff grows")
      }))

    it.scoped("does not wait past the 60-second budget", () =>
      Effect.gen(function*() {
        const server = yield* loopbackServer(() => json(429, {}, { "retry-after": "120" }))
        const error = yield* Effect.flip(Effect.provide(complete(), v3(server.url)))
        assert.strictEqual(error._tag, "AuthleteApiError")
        if (error._tag === "AuthleteApiError") assert.strictEqual(error.retryAfterMillis, 120_000)
        assert.strictEqual(server.received.length, 1)
      }))

    for (const status of [500, 502, 504]) {
      it.scoped(`does not retry ${status}`, () =>
        Effect.gen(function*() {
          const { exit, received } = yield* exchange(() => json(status, { resultCode: "A001101" }))
          assert.isTrue(Exit.isFailure(exit))
          assert.strictEqual(received.length, 1)
        }))
    }

    it.live("does not retry a timeout, which becomes AuthleteTransportError Timeout", () =>
      Effect.scoped(Effect.gen(function*() {
        const server = yield* loopbackServer(() => () => {
          // Never answers.
        })
        // Attempts are counted where the client makes them: every retry is made before the call fails.
        let attempts = 0
        const counting = Layer.effect(
          HttpTransport.HttpTransport,
          Effect.map(HttpTransport.HttpTransport, (transport) => ({
            send: (request: HttpTransport.HttpTransportRequest) =>
              Effect.suspend(() => (attempts++, transport.send(request)))
          }))
        ).pipe(Layer.provide(HttpTransport.layerFetch))
        const error = yield* Effect.flip(
          Effect.provide(complete(), v3(server.url, counting, { timeout: "300 millis" }))
        )
        assert.strictEqual(error._tag, "AuthleteTransportError")
        if (error._tag === "AuthleteTransportError") assert.strictEqual(error.reason, "Timeout")
        assert.strictEqual(attempts, 1)
        assert.strictEqual(server.received.length, 1)
      })))

    it.scoped("retries a refused connection, reason Connect", () =>
      Effect.gen(function*() {
        const url = yield* closedPort()
        const fiber = yield* Effect.fork(Effect.provide(complete(), v3(url, HttpTransport.layerFetch, patient)))
        for (let i = 0; i < 3; i++) yield* passNextSleep(5_000)
        const error = yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(error._tag, "AuthleteTransportError")
        if (error._tag === "AuthleteTransportError") assert.strictEqual(error.reason, "Connect")
      }))

    it.scoped("retry: \"none\" turns retries off; a policy can widen them", () =>
      Effect.gen(function*() {
        const none = yield* exchange(() => json(503, {}), { retry: "none" })
        assert.strictEqual(none.received.length, 1)
        const widened = yield* exchange(
          (_, index) => index === 0 ? json(500, { resultCode: "A001101" }) : json(200, POLL_OK),
          {
            ...patient,
            retry: {
              while: (error: AuthleteError.AuthleteError) =>
                AuthleteClient.isSafeToRetry(error) || (error._tag === "AuthleteApiError" && error.status === 500),
              schedule: AuthleteClient.defaultRetrySchedule
            }
          }
        ).pipe(Effect.fork, Effect.tap(() => passNextSleep(5_000)), Effect.flatMap(Fiber.join))
        assert.isTrue(Exit.isSuccess(widened.exit))
        assert.strictEqual(widened.received.length, 2)
      }))
  })

  describe("layers", () => {
    it.effect("refuses http: for a host that is not loopback when the layer is built", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Layer.build(v3("http://us.authlete.com")).pipe(Effect.scoped))
        assert.strictEqual(error._op, "InvalidData")
        assert.match(String(error), /baseUrl must use https/)
        for (const ok of ["https://us.authlete.com", "http://localhost:8080", "http://127.0.0.2", "http://[::1]:80"]) {
          const exit = yield* Effect.exit(Layer.build(v3(ok)).pipe(Effect.scoped))
          assert.isTrue(Exit.isSuccess(exit), ok)
        }
      }))

    it.scoped("layerConfig reads the AUTHLETE_* names", () =>
      Effect.gen(function*() {
        const server = yield* loopbackServer(() => json(200, POLL_OK))
        const provider = ConfigProvider.fromMap(
          new Map([
            ["AUTHLETE_BASE_URL", server.url],
            ["AUTHLETE_SERVICE_APIKEY", "715948317"],
            ["AUTHLETE_SERVICE_ACCESSTOKEN", TOKEN]
          ])
        )
        const layer = AuthleteClient.layerConfig().pipe(
          Layer.provide(HttpTransport.layerFetch),
          Layer.provide(Layer.setConfigProvider(provider))
        )
        yield* Effect.provide(complete(), layer)
        assert.strictEqual(server.received[0].url, "/api/715948317/backchannel/authentication/complete")
        assert.strictEqual(server.received[0].headers.authorization, `Bearer ${TOKEN}`)
      }))

    it.scoped("layerConfig reads v2 settings", () =>
      Effect.gen(function*() {
        const server = yield* loopbackServer(() => json(200, POLL_OK))
        const provider = ConfigProvider.fromMap(
          new Map([
            ["AUTHLETE_API_VERSION", "V2"],
            ["AUTHLETE_BASE_URL", server.url],
            ["AUTHLETE_SERVICE_APIKEY", "21653835348762"],
            ["AUTHLETE_SERVICE_APISECRET", SECRET]
          ])
        )
        yield* Effect.provide(
          complete(),
          AuthleteClient.layerConfig().pipe(
            Layer.provide(HttpTransport.layerFetch),
            Layer.provide(Layer.setConfigProvider(provider))
          )
        )
        assert.strictEqual(server.received[0].url, "/api/backchannel/authentication/complete")
        assert.match(server.received[0].headers.authorization ?? "", /^Basic /)
      }))

    it.effect("layerConfig fails with a ConfigError naming a missing variable", () =>
      Effect.gen(function*() {
        const provider = ConfigProvider.fromMap(new Map([["AUTHLETE_BASE_URL", "https://us.authlete.com"]]))
        const error = yield* Effect.flip(
          Layer.build(
            AuthleteClient.layerConfig().pipe(
              Layer.provide(HttpTransport.layerFetch),
              Layer.provide(Layer.setConfigProvider(provider))
            )
          ).pipe(Effect.scoped)
        )
        assert.include(String(error), "AUTHLETE_SERVICE_APIKEY")
      }))

    it.effect("layerTest answers from the handler and records what it accepted", () =>
      Effect.gen(function*() {
        const response = yield* complete()
        assert.strictEqual(response.action, "NO_ACTION")
        const invalid = yield* Effect.flip(
          complete(
            {
              ...request,
              subject: ""
            } as BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest
          )
        )
        assert.strictEqual(invalid._tag, "AuthleteValidationError")
        const all = yield* Effect.flatMap(AuthleteClient.AuthleteClientRecorder, (recorder) => recorder.requests)
        const recorded = all.filter((sent) => sent.method === "backchannelAuthenticationComplete")
        assert.strictEqual(all.length, 1)
        assert.strictEqual(recorded[0].request.ticket, TICKET)
        assert.deepStrictEqual(recorded[0].request.claims, { given_name: "Taro" })
        assert.deepStrictEqual((recorded[0].body as { claims: string }).claims, "{\"given_name\":\"Taro\"}")
      }).pipe(
        Effect.provide(
          AuthleteClient.layerTest(() =>
            Effect.succeed(
              new BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse({
                action: "NO_ACTION"
              })
            )
          )
        )
      ))
  })

  describe("secrets", () => {
    it.scoped("the token, secret and ticket appear in no error message and no log line", () =>
      Effect.gen(function*() {
        const logs: Array<string> = []
        const logger = Logger.make(({ message }) => logs.push(JSON.stringify(message)))
        const echo = (received: Received) =>
          json(401, {
            resultCode: "A001202",
            resultMessage: `[A001202] Bad token ${TOKEN} for ticket ${TICKET}, header ${received.headers.authorization}`
          })
        const { exit } = yield* exchange(echo).pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
        const error = yield* Effect.flip(exit)
        for (const text of [error.message, String(error), JSON.stringify(error), ...logs]) {
          assert.notInclude(text, TOKEN)
          assert.notInclude(text, TICKET)
        }
        const v2 = yield* Effect.gen(function*() {
          const server = yield* loopbackServer(() =>
            json(500, { resultCode: "A001101", resultMessage: `secret ${SECRET}` })
          )
          return yield* Effect.flip(
            Effect.provide(
              complete(),
              AuthleteClient.layer({
                apiVersion: "V2",
                baseUrl: server.url,
                apiKey: "k",
                apiSecret: Redacted.make(SECRET)
              }).pipe(Layer.provide(HttpTransport.layerFetch))
            )
          )
        })
        assert.notInclude(String(v2), SECRET)
        assert.notInclude(JSON.stringify(v2), SECRET)
      }))
  })
})

describe("AuthleteClient tracing", () => {
  it.scoped("one span per call, with status, action, result code and attempts, and no trace headers", () =>
    Effect.gen(function*() {
      const server = yield* loopbackServer((_, index) =>
        index === 0 ? json(503, {}, { "retry-after": "1" }) : json(200, POLL_OK)
      )
      const fiber = yield* Effect.fork(
        observe(Effect.provide(complete(), v3(server.url, HttpTransport.layerFetch, patient)))
      )
      yield* passNextSleep(5_000)
      const { exit, observed } = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isSuccess(exit))
      const spans = observed.spans.filter((span) => span.name === "AuthleteClient.backchannelAuthenticationComplete")
      assert.strictEqual(spans.length, 1)
      const attributes = Object.fromEntries(spans[0].attributes)
      assert.strictEqual(attributes["http.response.status_code"], 200)
      assert.strictEqual(attributes["authlete.action"], "NO_ACTION")
      assert.strictEqual(attributes["authlete.result_code"], "A198001")
      assert.strictEqual(attributes["authlete.attempts"], 2)
      assert.strictEqual(attributes["url.path"], "/api/715948317/backchannel/authentication/complete")
      for (const text of observed.texts()) {
        assert.notInclude(text, TOKEN)
        assert.notInclude(text, TICKET)
      }
      for (const received of server.received) {
        assert.isUndefined(received.headers.traceparent)
        assert.isUndefined(received.headers.b3)
      }
    }))
})

describe("AuthleteClient.layerConfig", () => {
  const build = (config: Parameters<typeof AuthleteClient.layerConfig>[0], entries: Record<string, string>) =>
    Layer.build(
      AuthleteClient.layerConfig(config).pipe(
        Layer.provide(HttpTransport.layerFetch),
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries)))))
      )
    ).pipe(Effect.scoped, Effect.exit)

  it.effect("Config.nested reads one tenant's variables", () =>
    Effect.gen(function*() {
      const exit = yield* build(Config.nested(AuthleteClient.environmentConfig, "TENANT_A"), {
        "TENANT_A.AUTHLETE_BASE_URL": "https://jp.authlete.com",
        "TENANT_A.AUTHLETE_SERVICE_APIKEY": "715948317",
        "TENANT_A.AUTHLETE_SERVICE_ACCESSTOKEN": "token-0123456789abcdef"
      })
      assert.isTrue(Exit.isSuccess(exit))
      const missing = yield* build(Config.nested(AuthleteClient.environmentConfig, "TENANT_B"), {
        "TENANT_A.AUTHLETE_BASE_URL": "https://jp.authlete.com"
      })
      assert.include(String(Exit.isFailure(missing) && missing.cause), "TENANT_B.AUTHLETE_BASE_URL")
    }))

  it.effect("every check's error names the variable, and an empty secret is refused when the layer is built", () =>
    Effect.gen(function*() {
      const http = yield* build(undefined, {
        AUTHLETE_BASE_URL: "http://authlete.example.com",
        AUTHLETE_SERVICE_APIKEY: "715948317",
        AUTHLETE_SERVICE_ACCESSTOKEN: "token-0123456789abcdef"
      })
      assert.match(String(Exit.isFailure(http) && http.cause), /AUTHLETE_BASE_URL.*must use https:/)
      const empty = yield* build(undefined, {
        AUTHLETE_BASE_URL: "https://us.authlete.com",
        AUTHLETE_SERVICE_APIKEY: "715948317",
        AUTHLETE_SERVICE_ACCESSTOKEN: ""
      })
      assert.match(
        String(Exit.isFailure(empty) && empty.cause),
        /AUTHLETE_SERVICE_ACCESSTOKEN.*must be the service access token, not empty/
      )
      const v2 = yield* build(undefined, {
        AUTHLETE_API_VERSION: "V2",
        AUTHLETE_BASE_URL: "https://api.authlete.com",
        AUTHLETE_SERVICE_APIKEY: "21653835348762",
        AUTHLETE_SERVICE_APISECRET: ""
      })
      assert.include(String(Exit.isFailure(v2) && v2.cause), "AUTHLETE_SERVICE_APISECRET")
    }))

  it.effect("a record of configs is checked field by field, each error naming its own variable", () =>
    Effect.gen(function*() {
      const exit = yield* build({
        baseUrl: Config.string("MY_AUTHLETE_URL"),
        serviceId: Config.string("MY_SERVICE"),
        accessToken: Config.redacted("MY_TOKEN")
      }, { MY_AUTHLETE_URL: "not a url", MY_SERVICE: "715948317", MY_TOKEN: "token-0123456789abcdef" })
      assert.include(String(Exit.isFailure(exit) && exit.cause), "MY_AUTHLETE_URL")
    }))
})
