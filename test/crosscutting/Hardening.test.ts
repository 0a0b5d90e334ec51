/**
 * What an attacker (an OAuth client, a proxy, a network) can throw at the library, on loopback: each
 * case ends in a typed outcome, in bounded time and memory, keeping every secret and every minted
 * token. Each test names the item of the hardening issue it holds.
 */
import { FetchHttpClient, HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Effect, Either, Exit, Fiber, Layer, Option, Redacted, TestClock } from "effect"
import {
  AuthleteClient,
  AuthleteError,
  BackchannelAuthenticationCompleteRequest,
  BackchannelAuthenticationCompletion,
  ClientNotifier,
  HttpTransport
} from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { UndiciTransport } from "effect-authlete/undici"
import * as Zlib from "node:zlib"
import { requestedRetryDelayMillis } from "../../src/internal/http.js"
import { json, loopbackServer } from "../support/loopback.js"
import { observe } from "../support/observe.js"
import { readyTicket } from "../utils/ciba.js"

const TOKEN = "service-access-token-4f1c2a9d8e7b6a5c"
const NOTIFICATION_TOKEN = "client-notification-token-8d7c6b5a4f3e"
const MIB = 1_048_576
const POLL_OK = { resultCode: "A198001", resultMessage: "[A198001] ok", action: "NO_ACTION" }
const base = { ticket: "ticket-0123456789abcdef", result: "AUTHORIZED", subject: "user-1" } as const

const transports = {
  undici: UndiciTransport.layer,
  fetch: HttpTransport.layerFetch,
  "node:http": HttpTransport.layer.pipe(Layer.provide(NodeHttpClient.layer))
} as const

const client = (
  baseUrl: string,
  transport: Layer.Layer<HttpTransport.HttpTransport> = UndiciTransport.layer,
  extra: Partial<AuthleteClient.AuthleteClientOptionsV3> = {}
) =>
  AuthleteClient.layer({ baseUrl, serviceId: "715948317", accessToken: Redacted.make(TOKEN), ...extra }).pipe(
    Layer.provide(transport)
  )

const complete = (input: unknown) =>
  Effect.flatMap(
    AuthleteClient.AuthleteClient,
    (authlete) =>
      authlete.backchannelAuthenticationComplete(
        input as BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest
      )
  )

const validationOf = (input: unknown) =>
  Effect.flip(complete(input)).pipe(Effect.provide(AuthleteClient.layerTest(() => Effect.die("never sent"))))

describe("validation is linear and bounded", () => {
  it.effect(
    "100,000 unknown fields (about 1 MB) are refused with the first 100 issues and the count of the rest",
    () =>
      Effect.gen(function*() {
        const input: Record<string, unknown> = { ...base }
        for (let i = 0; i < 100_000; i++) input[`unknown_${i}`] = 1
        const error = yield* validationOf(input)
        assert.strictEqual(error._tag, "AuthleteValidationError")
        if (error._tag === "AuthleteValidationError") {
          assert.strictEqual(error.issues.length, 1, "all on the request object, grouped")
          assert.strictEqual(error.omitted, 100_000 - 100)
          assert.match(error.message, /100,000 problems/)
        }
      }),
    10_000
  )

  it.effect(
    "a 10,000,000-entry array is refused by its bound before any entry is looked at",
    () =>
      Effect.gen(function*() {
        const scopes = new Array<unknown>(10_000_000).fill(1)
        const error = yield* validationOf({ ...base, scopes })
        assert.strictEqual(error._tag, "AuthleteValidationError")
        if (error._tag === "AuthleteValidationError") {
          assert.deepStrictEqual(error.issues, [{ path: ["scopes"], message: "must have at most 1,000 entries" }])
        }
        const program = yield* Effect.flip(
          BackchannelAuthenticationCompletion.prepareCompleteRequest({ ...base, consentedClaims: scopes })
        )
        assert.deepStrictEqual(program.issues.map((issue) => issue.path), [["consentedClaims"]])
      }),
    10_000
  )

  it.scoped("the simulator refuses a 1 MB body of unknown fields with one 400", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const body: Record<string, unknown> = { ...base }
      for (let i = 0; i < 100_000; i++) body[`unknown_${i}`] = 1
      const http = yield* HttpClient.HttpClient
      const response = yield* http.execute(
        HttpClientRequest.post(`${simulator.baseUrl}/api/${simulator.serviceId}/backchannel/authentication/complete`)
          .pipe(
            HttpClientRequest.bearerToken(Redacted.value(simulator.accessToken)),
            HttpClientRequest.bodyUnsafeJson(body)
          )
      )
      assert.strictEqual(response.status, 400)
      const answer = (yield* response.json) as { resultCode: string; resultMessage: string }
      assert.strictEqual(answer.resultCode, "A198201")
      assert.match(answer.resultMessage, /and 99,900 more/)
    }).pipe(Effect.provide(Layer.mergeAll(AuthleteSimulator.layer(), FetchHttpClient.layer))), 10_000)
})

describe("caps count decoded bytes", () => {
  const bomb = (encoding: "br" | "gzip") => {
    const plain = Buffer.from(JSON.stringify({ ...POLL_OK, resultMessage: "x".repeat(4 * MIB) }))
    return encoding === "br" ? Zlib.brotliCompressSync(plain) : Zlib.gzipSync(plain)
  }
  for (const [name, transport] of Object.entries(transports)) {
    for (const encoding of ["br", "gzip"] as const) {
      it.scoped(`${name}: a ${encoding} answer that decodes past the 1 MiB cap is refused`, () =>
        Effect.gen(function*() {
          const body = bomb(encoding)
          assert.isBelow(body.length, 64 * 1024)
          const server = yield* loopbackServer(() => (response) => {
            response.writeHead(200, { "content-type": "application/json", "content-encoding": encoding })
            response.end(body)
          })
          const error = yield* Effect.flip(complete(base).pipe(Effect.provide(client(server.url, transport))))
          assert.strictEqual(error._tag, "AuthleteResponseError")
          // node:http does not decode: it reads the compressed bytes, which are no JSON.
          if (name !== "node:http") assert.match(error.message, /larger than the 1048576-byte cap/)
        }))
    }
  }
})

describe("timers", () => {
  for (const timeout of [2 ** 31, "25 days", "abc", 0, -1, Number.POSITIVE_INFINITY]) {
    it.effect(`a timeout of ${String(timeout)} is a ConfigError for both services`, () =>
      Effect.gen(function*() {
        const authlete = yield* Effect.flip(
          Layer.build(client("https://us.authlete.com", UndiciTransport.layer, { timeout: timeout as never })).pipe(
            Effect.scoped
          )
        )
        assert.include(String(authlete), "timeout")
        const notifier = yield* Effect.flip(
          Layer.build(ClientNotifier.layer({ timeout: timeout as never }).pipe(Layer.provide(UndiciTransport.layer)))
            .pipe(Effect.scoped)
        )
        assert.include(String(notifier), "timeout")
      }))
  }
})

describe("the retry budget", () => {
  it.effect("four 29-second 503s end within 60 seconds in all, attempts included", () =>
    Effect.gen(function*() {
      let attempts = 0
      // A transport on Effect's clock, so that the minutes pass in TestClock time.
      const slow503: HttpTransport.HttpTransportService = {
        send: (request) =>
          Effect.gen(function*() {
            attempts++
            const wait = Math.min(29_000, request.timeoutMillis)
            yield* Clock.sleep(wait)
            if (wait < 29_000) {
              return yield* Effect.fail(new AuthleteError.AuthleteTransportError({ reason: "Timeout", detail: "late" }))
            }
            return { status: 503, headers: {}, body: "{}" }
          })
      }
      const layer = AuthleteClient.layer({
        baseUrl: "https://us.authlete.com",
        serviceId: "715948317",
        accessToken: Redacted.make(TOKEN),
        timeout: "30 seconds"
      }).pipe(Layer.provide(Layer.succeed(HttpTransport.HttpTransport, slow503)))
      const start = yield* TestClock.currentTimeMillis
      const fiber = yield* Effect.fork(Effect.either(complete(base).pipe(Effect.provide(layer))))
      for (let i = 0; i < 200 && fiber.unsafePoll() === null; i++) yield* TestClock.adjust("1 second")
      const outcome = yield* Fiber.join(fiber)
      const elapsed = (yield* TestClock.currentTimeMillis) - start
      assert.isTrue(Either.isLeft(outcome))
      assert.isAtMost(elapsed, 61_000, `the sequence took ${elapsed} ms`)
      assert.isAtLeast(attempts, 2)
    }))

  it("a Retry-After that RFC 9110 does not define is ignored", () => {
    const now = Date.parse("2026-11-26T12:00:00Z")
    for (const value of ["-1", "1.5", "soon", "1e3", "Thu, 26 Nov 2026 12:00:30"]) {
      assert.isUndefined(requestedRetryDelayMillis({ "retry-after": value }, now), value)
    }
    assert.strictEqual(requestedRetryDelayMillis({ "retry-after": "Thu, 26 Nov 2026 12:00:30 GMT" }, now), 30_000)
    assert.strictEqual(requestedRetryDelayMillis({ "retry-after": "Thursday, 26-Nov-26 12:00:30 GMT" }, now), 30_000)
  })
})

describe("malformed options and header values fail typed", () => {
  const built = (options: Partial<AuthleteClient.AuthleteClientOptionsV3>) =>
    Layer.build(client("https://us.authlete.com", UndiciTransport.layer, options)).pipe(Effect.scoped, Effect.exit)

  it.effect("a service id with a lone surrogate, and a token with CR/LF, are ConfigErrors", () =>
    Effect.gen(function*() {
      for (
        const options of [
          { serviceId: "7159\uD800" },
          { accessToken: Redacted.make("token\r\nX-Injected: 1") },
          { accessToken: Redacted.make("") }
        ]
      ) {
        const exit = yield* built(options)
        assert.isTrue(Exit.isFailure(exit) && !Cause.isDie(exit.cause), JSON.stringify(options))
      }
    }))

  for (const [name, transport] of Object.entries(transports)) {
    it.scoped(`${name}: a client notification token with CR/LF fails as InvalidToken, sent never and not retried`, () =>
      Effect.gen(function*() {
        const endpoint = yield* loopbackServer(() => ({ status: 204 }))
        const error = yield* Effect.flip(
          Effect.flatMap(ClientNotifier.ClientNotifier, (notifier) =>
            notifier.notify({
              endpoint: `${endpoint.url}/cb`,
              token: Redacted.make("token\r\nX-Injected: 1"),
              body: "{}"
            })).pipe(
              Effect.provide(ClientNotifier.layer({ allowLoopback: true }).pipe(Layer.orDie, Layer.provide(transport)))
            )
        )
        assert.strictEqual(error.reason, "InvalidToken")
        assert.strictEqual(endpoint.received.length, 0)
      }))
  }
})

describe("no SSRF through the notifier", () => {
  const forbidden = [
    "https://169.254.169.254/latest/meta-data",
    "https://2852039166/latest",
    "https://[::ffff:169.254.169.254]/x",
    "https://10.0.0.8/cb",
    "https://172.16.5.4/cb",
    "https://192.168.1.1/cb",
    "https://[fc00::1]/cb",
    "https://[fe80::1]/cb",
    "https://0.0.0.0/cb",
    "https://127.0.0.1/cb",
    "https://[::1]/cb",
    "https://localhost/cb",
    "http://127.0.0.1:9/cb",
    // RFC 6890's other blocks that are not globally reachable, and IPv4 carried in IPv6.
    "https://100.64.0.1/cb",
    "https://192.0.0.1/cb",
    "https://192.0.2.1/cb",
    "https://198.51.100.7/cb",
    "https://203.0.113.9/cb",
    "https://224.0.0.1/cb",
    "https://255.255.255.255/cb",
    "https://[64:ff9b::a9fe:a9fe]/x",
    "https://[::ffff:203.0.113.9]/cb",
    "https://[2001:db8::1]/cb",
    "https://[2001::1]/cb",
    "https://[100::1]/cb",
    "https://[ff02::1]/cb"
  ]
  const notify = (
    endpoint: string,
    options: ClientNotifier.ClientNotifierOptions,
    transport: Layer.Layer<HttpTransport.HttpTransport>
  ) =>
    Effect.flatMap(
      ClientNotifier.ClientNotifier,
      (notifier) => notifier.notify({ endpoint, token: Redacted.make(NOTIFICATION_TOKEN), body: "{}" })
    ).pipe(
      Effect.provide(ClientNotifier.layer({ retry: "none", ...options }).pipe(Layer.orDie, Layer.provide(transport)))
    )

  for (const [name, transport] of Object.entries(transports)) {
    it.effect(`${name}: loopback, link-local, private and metadata addresses are refused by default`, () =>
      Effect.gen(function*() {
        for (const endpoint of forbidden) {
          const error = yield* Effect.flip(notify(endpoint, {}, transport))
          assert.strictEqual(error.reason, "ForbiddenAddress", endpoint)
          assert.notInclude(error.message, NOTIFICATION_TOKEN)
        }
      }))

    it.scoped(`${name}: a DNS name that resolves to loopback is refused; loopback is allowed when asked`, () =>
      Effect.gen(function*() {
        const endpoint = yield* loopbackServer(() => ({ status: 204 }))
        const port = new URL(endpoint.url).port
        // `localhost` is judged by what it resolves to, as any DNS name is.
        const viaDns = yield* Effect.flip(
          notify(`http://localhost:${port}/cb`, { allowPrivateNetworks: true }, transport)
        )
        assert.strictEqual(viaDns.reason, "ForbiddenAddress")
        assert.strictEqual(endpoint.received.length, 0)
        const allowed = yield* notify(`${endpoint.url}/cb`, { allowLoopback: true }, transport)
        assert.strictEqual(allowed.status, 204)
      }))
  }

  it.effect("a name whose lookup fails is refused alike on every transport, and nothing is sent", () =>
    Effect.gen(function*() {
      // The portable transport over a client that records what reaches it: the proof that nothing left.
      const sent: Array<string> = []
      const recording = HttpClient.make((request) =>
        Effect.sync(() => {
          sent.push(request.url)
          return HttpClientResponse.fromWeb(request, new Response(null, { status: 204 }))
        })
      )
      const portable = HttpTransport.layer.pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, recording)))
      // `.invalid` never resolves (RFC 2606).
      const endpoint = "https://notify.example.invalid/cb"
      const refused = [
        yield* Effect.flip(notify(endpoint, {}, UndiciTransport.layer)),
        yield* Effect.flip(notify(endpoint, { allowLoopback: true, allowPrivateNetworks: true }, portable)),
        yield* Effect.flip(notify(endpoint, {}, portable))
      ]
      assert.deepStrictEqual(sent, [])
      for (const error of refused) {
        assert.strictEqual(error.reason, refused[0]!.reason, error.message)
        assert.notInclude(error.message, NOTIFICATION_TOKEN)
      }
    }))
})

describe("input is read once", () => {
  const sentBody = (input: unknown) =>
    Effect.gen(function*() {
      const server = yield* loopbackServer(() => json(200, POLL_OK))
      const exit = yield* Effect.exit(complete(input).pipe(Effect.provide(client(server.url))))
      return { exit, bodies: server.received.map((received) => JSON.parse(received.body) as Record<string, unknown>) }
    })

  it.scoped("a getter that changes its value between reads sends what was checked", () =>
    Effect.gen(function*() {
      let reads = 0
      const input = {
        ticket: "ticket-0123456789abcdef",
        subject: "user-1",
        get result() {
          return reads++ === 0 ? "AUTHORIZED" : "PWNED"
        }
      }
      const { bodies, exit } = yield* sentBody(input)
      assert.isTrue(Exit.isSuccess(exit))
      assert.strictEqual(bodies[0]?.result, "AUTHORIZED")
      assert.strictEqual(reads, 1)
    }))

  it.scoped("a request changed after it was built is checked again when sent: nothing invalid leaves", () =>
    Effect.gen(function*() {
      const request = new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
        ...base,
        claims: { given_name: "Taro" }
      })
      Object.assign(request, { subject: "user-1\r\nX: 1" })
      Object.assign(request.claims!, { ["__proto__"]: 1 })
      const { bodies, exit } = yield* sentBody(request)
      assert.deepStrictEqual(bodies, [])
      assert.isTrue(
        Exit.isFailure(exit) &&
          Cause.failureOption(exit.cause).pipe(Option.getOrThrow)._tag === "AuthleteValidationError"
      )
    }))

  it.scoped("a Proxy cannot swap the subject for one with CR/LF after the check", () =>
    Effect.gen(function*() {
      let reads = 0
      const input = new Proxy({ ...base }, {
        get: (target, key) => key === "subject" && reads++ > 0 ? "user-1\r\nX: 1" : Reflect.get(target, key)
      })
      const { bodies } = yield* sentBody(input)
      for (const body of bodies) assert.strictEqual(body.subject, "user-1")
    }))

  it.scoped("an array's own toJSON cannot smuggle keys or size past the claims rules", () =>
    Effect.gen(function*() {
      const sneaky = Object.assign(["a"], {
        toJSON: () => ({ ["__proto__"]: { polluted: true }, big: "x".repeat(3 * MIB) })
      })
      const { bodies, exit } = yield* sentBody({ ...base, claims: { list: sneaky } })
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(JSON.parse(bodies[0]!.claims as string), { list: ["a"] })
    }))

  it.effect("throwing getters and Proxy traps are validation errors, not defects", () =>
    Effect.gen(function*() {
      const throwing = [
        {
          ...base,
          get subject(): string {
            throw new Error("boom")
          }
        },
        new Proxy({ ...base }, {
          ownKeys: () => {
            throw new Error("boom")
          }
        }),
        {
          ...base,
          claims: {
            get name(): string {
              throw new Error("boom")
            }
          }
        }
      ]
      for (const input of throwing) {
        const error = yield* validationOf(input)
        assert.strictEqual(error._tag, "AuthleteValidationError")
        const program = yield* Effect.exit(BackchannelAuthenticationCompletion.prepareCompleteRequest(input))
        assert.isTrue(Exit.isFailure(program) && !Cause.isDie(program.cause))
      }
    }))

  // Each a fresh value: a `Proxy` whose reflective traps throw, or a revoked one (on which even
  // `Array.isArray` and `Object.getPrototypeOf` throw), wherever the input holds a value.
  const unreadable = () => {
    const revoked = () => {
      const { proxy, revoke } = Proxy.revocable({}, {})
      revoke()
      return proxy
    }
    const boom = () => {
      throw new Error("boom")
    }
    const noPrototype = (target: object = {}) => new Proxy(target, { getPrototypeOf: boom })
    return [
      { input: noPrototype({ ...base }), path: [] },
      { input: revoked(), path: [] },
      { input: { ...base, claims: noPrototype() }, path: ["claims"] },
      { input: { ...base, claims: revoked() }, path: ["claims"] },
      { input: { ...base, claims: { address: noPrototype() } }, path: ["claims", "address"] },
      { input: { ...base, claims: { list: [revoked()] } }, path: ["claims", "list", 0] },
      { input: { ...base, claims: [{ a: 1 }, noPrototype()] }, path: ["claims", 1] },
      { input: { ...base, claims: new Proxy([{ a: 1 }], { get: boom }) }, path: ["claims"] },
      { input: { ...base, jwtAtClaims: revoked() }, path: ["jwtAtClaims"] },
      { input: { ...base, idtHeaderParams: noPrototype() }, path: ["idtHeaderParams"] },
      { input: { ...base, idtHeaderParams: revoked() }, path: ["idtHeaderParams"] },
      { input: { ...base, consentedClaims: revoked(), claims: { a: 1 } }, path: ["consentedClaims"] },
      { input: { ...base, consentedClaims: new Proxy(["a"], { get: boom }) }, path: ["consentedClaims"] }
    ]
  }

  it.effect("Proxies whose getPrototypeOf traps throw, and revoked Proxies, are validation errors naming the field", () =>
    Effect.gen(function*() {
      const never = AuthleteClient.layerTest(() => Effect.die("never sent"))
      const notifier = ClientNotifier.layerTest()
      for (const { input, path } of unreadable()) {
        const label = JSON.stringify(path)
        const prepared = yield* Effect.exit(BackchannelAuthenticationCompletion.prepareCompleteRequest(input))
        assert.isTrue(Exit.isFailure(prepared) && !Cause.isDie(prepared.cause), label)
        const error = yield* Effect.flip(BackchannelAuthenticationCompletion.prepareCompleteRequest(input))
        assert.strictEqual(error._tag, "AuthleteValidationError", label)
        assert.deepStrictEqual(error.issues.map((issue) => issue.path), [path], label)
        assert.match(error.issues[0]!.message, /could not be read/, label)
        const completed = yield* Effect.exit(
          BackchannelAuthenticationCompletion.completeBackchannelAuthentication(
            input as BackchannelAuthenticationCompletion.CompleteBackchannelAuthenticationInput
          ).pipe(Effect.provide(Layer.merge(never, notifier)))
        )
        assert.isTrue(
          Exit.isFailure(completed) &&
            Cause.failureOption(completed.cause).pipe(Option.getOrThrow)._tag === "AuthleteValidationError",
          label
        )
      }
    }))
})

describe("at most 1 MiB of JSON means bytes on the wire", () => {
  it.effect("control characters that escape to 7 bytes each on the wire count as 7", () =>
    Effect.gen(function*() {
      // 200,000 characters, 1.4 MB once escaped in the JSON text and again in the body.
      const error = yield* validationOf({ ...base, claims: { note: "\u0001".repeat(200_000) } })
      assert.strictEqual(error._tag, "AuthleteValidationError")
      assert.match(error.message, /claims: must be at most 1,048,576 bytes as JSON text in the request body/)
    }))
})

describe("secrets stay home", () => {
  it.scoped("PUSH: neither span exits nor logs hold the minted tokens or the notification token", () =>
    Effect.gen(function*() {
      const endpoint = yield* loopbackServer(() => ({ status: 204 }))
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const push = yield* simulator.clientFor("PUSH")
      yield* simulator.setClientNotificationEndpoint(push.clientId, `${endpoint.url}/cb`)
      const { ticket } = yield* readyTicket("PUSH", { client_notification_token: NOTIFICATION_TOKEN })
      const { exit, observed } = yield* observe(
        BackchannelAuthenticationCompletion.completeBackchannelAuthentication({ ...base, ticket })
      )
      assert.isTrue(Exit.isSuccess(exit))
      const pushed = JSON.parse(endpoint.received[0]!.body) as Record<string, string>
      const secrets = [NOTIFICATION_TOKEN, pushed.access_token!, pushed.refresh_token!, pushed.id_token!, ticket]
      assert.isAbove(observed.spans.length, 1)
      for (const text of observed.texts()) {
        for (const secret of secrets) assert.notInclude(text, secret, text.slice(0, 120))
      }
    }).pipe(Effect.provide(Layer.mergeAll(
      AuthleteSimulator.layerClient(),
      ClientNotifier.layer({ allowLoopback: true }).pipe(Layer.orDie, Layer.provide(UndiciTransport.layer)),
      FetchHttpClient.layer
    ))))

  it.scoped("a 2xx that is not JSON keeps no body; echoed credentials are scrubbed, bare base64 and result codes too", () =>
    Effect.gen(function*() {
      const minted = "minted-access-token-0123456789"
      const broken = yield* loopbackServer(() => ({ status: 200, body: `{"accessToken":"${minted}"` }))
      const notJson = yield* Effect.flip(complete(base).pipe(Effect.provide(client(broken.url))))
      assert.strictEqual(notJson._tag, "AuthleteResponseError")
      assert.notInclude(JSON.stringify(notJson), minted)

      const secret = "service-api-secret-9a8b7c6d5e4f3a2b"
      const basic = Buffer.from(`21653835348762:${secret}`).toString("base64")
      const echo = yield* loopbackServer(() =>
        json(401, { resultCode: `A001202 ${basic}`, resultMessage: `bad ${basic} ${secret}` })
      )
      const v2 = yield* Effect.flip(
        complete(base).pipe(Effect.provide(
          AuthleteClient.layer({
            apiVersion: "V2",
            baseUrl: echo.url,
            apiKey: "21653835348762",
            apiSecret: Redacted.make(secret)
          }).pipe(Layer.provide(UndiciTransport.layer))
        ))
      )
      for (const text of [v2.message, String(v2), JSON.stringify(v2)]) {
        assert.notInclude(text, basic)
        assert.notInclude(text, secret)
      }
      const v3echo = yield* loopbackServer(() => json(403, { resultCode: TOKEN, resultMessage: "no" }))
      const v3 = yield* Effect.flip(complete(base).pipe(Effect.provide(client(v3echo.url))))
      assert.notInclude(JSON.stringify(v3), TOKEN)
      assert.notInclude(v3.message, TOKEN)
    }))
})

describe("nothing minted is lost", () => {
  it.scoped("PUSH with a failing endpoint: the error keeps the notification (tokens redacted) to deliver later", () =>
    Effect.gen(function*() {
      let up = false
      const endpoint = yield* loopbackServer(() => ({ status: up ? 204 : 503 }))
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const push = yield* simulator.clientFor("PUSH")
      yield* simulator.setClientNotificationEndpoint(push.clientId, `${endpoint.url}/cb`)
      const { ticket } = yield* readyTicket("PUSH", { client_notification_token: NOTIFICATION_TOKEN })
      const error = yield* Effect.flip(
        BackchannelAuthenticationCompletion.completeBackchannelAuthentication({ ...base, ticket })
      )
      assert.strictEqual(error._tag, "UndeliveredNotificationError")
      if (error._tag !== "UndeliveredNotificationError") return
      const notification = Redacted.value(error.notification)
      const tokens = JSON.parse(notification.body) as Record<string, string>
      assert.isString(tokens.access_token)
      for (const text of [error.message, String(error), JSON.stringify(error)]) {
        assert.notInclude(text, tokens.access_token!)
        assert.notInclude(text, NOTIFICATION_TOKEN)
      }
      // The application delivers it again once the endpoint is back.
      up = true
      const notifier = yield* ClientNotifier.ClientNotifier
      const delivered = yield* notifier.notify(notification)
      assert.strictEqual(delivered.status, 204)
      assert.strictEqual(endpoint.received.at(-1)?.body, notification.body)
      assert.strictEqual(endpoint.received.at(-1)?.headers.authorization, `Bearer ${NOTIFICATION_TOKEN}`)
    }).pipe(Effect.provide(Layer.mergeAll(
      AuthleteSimulator.layerClient(),
      ClientNotifier.layer({ allowLoopback: true, retry: "none" }).pipe(
        Layer.orDie,
        Layer.provide(UndiciTransport.layer)
      ),
      FetchHttpClient.layer
    ))))
})

describe("the simulator", () => {
  it.scoped(
    "an unauthenticated or oversized body is not buffered or recorded; requests keeps only the latest",
    () =>
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const http = yield* HttpClient.HttpClient
        const url = `${simulator.baseUrl}/api/${simulator.serviceId}/backchannel/authentication/complete`
        const huge = "x".repeat(8 * MIB)
        const unauthenticated = yield* http.execute(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyText(huge)))
        assert.strictEqual(unauthenticated.status, 401)
        const oversized = yield* http.execute(
          HttpClientRequest.post(url).pipe(
            HttpClientRequest.bearerToken(Redacted.value(simulator.accessToken)),
            HttpClientRequest.bodyText(huge)
          )
        )
        assert.strictEqual(oversized.status, 413)
        for (let i = 0; i < 5; i++) {
          yield* http.execute(
            HttpClientRequest.post(url).pipe(
              HttpClientRequest.bearerToken(Redacted.value(simulator.accessToken)),
              HttpClientRequest.bodyUnsafeJson({ ...base, ticket: `ticket-${i}` })
            )
          )
        }
        const requests = yield* simulator.requests
        assert.strictEqual(requests.length, 3)
        assert.deepStrictEqual(requests.map((request) => (request.body as { ticket?: string } | undefined)?.ticket), [
          "ticket-2",
          "ticket-3",
          "ticket-4"
        ])
        assert.isFalse(JSON.stringify(requests).includes(huge.slice(0, 1000)))
      }).pipe(Effect.provide(Layer.mergeAll(
        AuthleteSimulator.layer({ maxRecordedRequests: 3, maxBodyBytes: 2 * MIB }),
        FetchHttpClient.layer
      ))),
    20_000
  )
})
