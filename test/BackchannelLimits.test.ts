/**
 * The backchannel endpoint's abuse limits: the settings and their checks, the bounded in-memory
 * store (the same answers as `@effect/experimental`'s, at most `maxKeys` keys), the counting (per
 * client, per login hint, wrong user codes; no login hint kept as it came), and end to end through
 * the endpoint against the simulator: 429 with `Retry-After` before any Authlete call, the pending
 * requests per user refused through `/fail`, and the user code lockout refusing even the right code.
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Layer, TestClock } from "effect"
import {
  BackchannelAuthenticationEndpoint,
  BackchannelChecks,
  BackchannelLimits,
  PendingRequestStore
} from "effect-authlete"
import { authleteSaw, backchannelServer } from "./support/backchannelServer.js"

describe("BackchannelLimits.settingsOf", () => {
  it("gives the defaults, yours over them, and false for a limit turned off", () => {
    assert.deepStrictEqual(BackchannelLimits.settingsOf(), BackchannelLimits.defaults)
    const settings = BackchannelLimits.settingsOf({ perClient: false, pendingPerUser: 2 })
    assert.isFalse(settings.perClient)
    assert.strictEqual(settings.pendingPerUser, 2)
    assert.deepStrictEqual(settings.perUser, BackchannelLimits.defaults.perUser)
  })

  it("throws a RangeError naming the option for a limit or window that is not one", () => {
    assert.throws(
      () => BackchannelLimits.settingsOf({ perClient: { limit: 0, window: "1 minute" } }),
      /perClient\.limit/
    )
    assert.throws(() => BackchannelLimits.settingsOf({ perUser: { limit: 1.5, window: "1 minute" } }), /perUser\.limit/)
    assert.throws(
      () => BackchannelLimits.settingsOf({ wrongUserCodes: { limit: 1, window: 0 } }),
      /wrongUserCodes\.window/
    )
    assert.throws(() => BackchannelLimits.settingsOf({ pendingPerUser: 0 }), /pendingPerUser/)
  })
})

/** The answers of a store to a script of calls with the clock moving between them. */
const script = Effect.gen(function*() {
  const store = yield* RateLimiter.RateLimiterStore
  const answers: Array<unknown> = []
  const window = (key: string, tokens: number, limit?: number) =>
    store.fixedWindow({ key, tokens, refillRate: Duration.seconds(10), limit })
  const bucket = (key: string, tokens: number, allowOverflow: boolean) =>
    store.tokenBucket({ key, tokens, limit: 3, refillRate: Duration.seconds(10), allowOverflow })
  for (const step of [0, 0, 0, 0, 5_000, 0, 30_000, 0]) {
    yield* TestClock.adjust(step)
    answers.push(yield* window("a", 1, 3), yield* window("b", 2), yield* window("c", 4, 3))
    answers.push(yield* bucket("d", 1, false), yield* bucket("e", 2, true), yield* bucket("f", 5, false))
  }
  return answers
})

describe("BackchannelLimits.layerStoreMemory", () => {
  it.effect("answers as @effect/experimental's memory store does", () =>
    Effect.gen(function*() {
      const ours = yield* Effect.provide(script, BackchannelLimits.layerStoreMemory())
      const theirs = yield* Effect.provide(script, RateLimiter.layerStoreMemory)
      assert.deepStrictEqual(ours, theirs)
      assert.isAbove(ours.length, 0)
    }))

  it.effect("holds at most maxKeys keys, forgetting the least recently counted", () =>
    Effect.gen(function*() {
      const store = yield* RateLimiter.RateLimiterStore
      const count = (key: string) =>
        Effect.map(store.fixedWindow({ key, tokens: 1, refillRate: Duration.minutes(1), limit: 10 }), ([n]) => n)
      assert.strictEqual(yield* count("a"), 1)
      assert.strictEqual(yield* count("b"), 1)
      assert.strictEqual(yield* count("a"), 2) // a is now the most recent
      assert.strictEqual(yield* count("c"), 1) // b forgotten
      assert.strictEqual(yield* count("a"), 3)
      assert.strictEqual(yield* count("b"), 1) // starts over; c forgotten
      assert.strictEqual(yield* count("c"), 1)
    }).pipe(Effect.provide(BackchannelLimits.layerStoreMemory({ maxKeys: 2 }))))
})

/** A memory store that also tells which keys it was asked for. */
const recordingStore = (keys: Array<string>) =>
  Layer.effect(
    RateLimiter.RateLimiterStore,
    Effect.map(RateLimiter.RateLimiterStore, (store) => ({
      fixedWindow: (options: Parameters<typeof store.fixedWindow>[0]) => {
        keys.push(options.key)
        return store.fixedWindow(options)
      },
      tokenBucket: store.tokenBucket
    }))
  ).pipe(Layer.provide(BackchannelLimits.layerStoreMemory()))

describe("BackchannelLimits.make", () => {
  const limitsWith = (options: BackchannelLimits.BackchannelLimitsOptions, keys: Array<string> = []) =>
    BackchannelLimits.layer(options).pipe(Layer.provide(recordingStore(keys)))

  it.effect("refuses a client past its window with the seconds until it ends, and admits it after", () =>
    Effect.gen(function*() {
      const limits = yield* BackchannelLimits.BackchannelLimits
      const refused = { _tag: "Refused", limit: "perClient", retryAfterSeconds: 60 } as const
      for (let i = 0; i < 3; i++) {
        assert.deepStrictEqual(yield* limits.check({ clientId: "1001" }), { _tag: "Admitted" })
        assert.deepStrictEqual(yield* limits.count({ clientId: "1001", hint: `user-${i}` }), { _tag: "Admitted" })
      }
      assert.deepStrictEqual(yield* limits.check({ clientId: "1001", hint: "user-9" }), refused)
      assert.deepStrictEqual(yield* limits.count({ clientId: "1001", hint: "user-9" }), refused)
      // Another client is counted apart.
      assert.deepStrictEqual(yield* limits.count({ clientId: "1002", hint: "user-9" }), { _tag: "Admitted" })
      yield* TestClock.adjust("40 seconds")
      assert.deepStrictEqual(yield* limits.check({ clientId: "1001" }), { ...refused, retryAfterSeconds: 20 })
      yield* TestClock.adjust("20 seconds")
      assert.deepStrictEqual(yield* limits.count({ clientId: "1001" }), { _tag: "Admitted" })
    }).pipe(Effect.provide(limitsWith({ perClient: { limit: 3, window: "1 minute" }, perUser: false }))))

  it.effect("check counts nothing", () =>
    Effect.gen(function*() {
      const limits = yield* BackchannelLimits.BackchannelLimits
      for (let i = 0; i < 10; i++) {
        assert.deepStrictEqual(yield* limits.check({ clientId: "1001", hint: "taro" }), { _tag: "Admitted" })
      }
      assert.deepStrictEqual(yield* limits.count({ clientId: "1001", hint: "taro" }), { _tag: "Admitted" })
      assert.strictEqual((yield* limits.check({ clientId: "1001", hint: "taro" }))._tag, "Refused")
    }).pipe(Effect.provide(limitsWith({ perClient: { limit: 1, window: "1 minute" } }))))

  it.effect("refuses a login hint past its window whatever client names it, and keeps no hint as it came", () =>
    Effect.gen(function*() {
      const keys: Array<string> = []
      const limits = yield* Effect.provide(
        BackchannelLimits.BackchannelLimits,
        limitsWith({ perUser: { limit: 2, window: "10 minutes" } }, keys)
      )
      assert.strictEqual((yield* limits.count({ clientId: "1", hint: "taro@example.com" }))._tag, "Admitted")
      assert.strictEqual((yield* limits.count({ clientId: "2", hint: "taro@example.com" }))._tag, "Admitted")
      const refused = yield* limits.count({ clientId: "3", hint: "taro@example.com" })
      assert.deepStrictEqual(refused, { _tag: "Refused", limit: "perUser", retryAfterSeconds: 600 })
      assert.strictEqual((yield* limits.count({ clientId: "3", hint: "alice@example.com" }))._tag, "Admitted")
      assert.isAbove(keys.length, 0)
      for (const key of keys) {
        assert.notInclude(key, "taro")
        assert.notInclude(key, "alice")
        assert.isAtMost(key.length, 80)
      }
    }))

  it.effect("locks a user out after the wrong user codes allowed, until the window ends", () =>
    Effect.gen(function*() {
      const limits = yield* BackchannelLimits.BackchannelLimits
      for (let i = 0; i < 3; i++) {
        assert.isFalse(yield* limits.isUserCodeLocked("user-1"))
        yield* limits.wrongUserCode("user-1")
      }
      assert.isTrue(yield* limits.isUserCodeLocked("user-1"))
      assert.isTrue(yield* limits.isUserCodeLocked("user-1")) // looking counts nothing, and does not unlock
      assert.isFalse(yield* limits.isUserCodeLocked("user-2"))
      yield* TestClock.adjust("15 minutes")
      assert.isFalse(yield* limits.isUserCodeLocked("user-1"))
    }).pipe(Effect.provide(limitsWith({ wrongUserCodes: { limit: 3, window: "15 minutes" } }))))

  it.effect("none admits everything and never locks", () =>
    Effect.gen(function*() {
      const limits = yield* BackchannelLimits.BackchannelLimits
      for (let i = 0; i < 500; i++) {
        assert.strictEqual((yield* limits.count({ clientId: "1", hint: "h" }))._tag, "Admitted")
        yield* limits.wrongUserCode("user-1")
      }
      assert.isFalse(yield* limits.isUserCodeLocked("user-1"))
      assert.isFalse(limits.settings.pendingPerUser)
    }).pipe(Effect.provide(BackchannelLimits.layerNone)))

  it.effect("a store that fails is a BackchannelLimitsError, never an admission", () =>
    Effect.gen(function*() {
      const limits = yield* BackchannelLimits.BackchannelLimits
      const error = yield* Effect.flip(limits.check({ clientId: "1" }))
      assert.strictEqual(error._tag, "BackchannelLimitsError")
      assert.include(error.message, "count a backchannel request")
      assert.strictEqual((yield* Effect.flip(limits.isUserCodeLocked("user-1")))._tag, "BackchannelLimitsError")
    }).pipe(Effect.provide(
      BackchannelLimits.layer().pipe(Layer.provide(Layer.succeed(
        RateLimiter.RateLimiterStore,
        {
          fixedWindow: () => Effect.fail(new RateLimiter.RateLimitStoreError({ message: "the database is down" })),
          tokenBucket: () => Effect.fail(new RateLimiter.RateLimitStoreError({ message: "the database is down" }))
        }
      )))
    )))
})

// ---------------------------------------------------------------- end to end

const POLL = { clientId: 1, clientSecret: "poll-secret", deliveryMode: "POLL" } as const
const CODES = { clientId: 2, clientSecret: "codes-secret", deliveryMode: "POLL", userCodeRequired: true } as const

const ServerWith = (limits: BackchannelLimits.BackchannelLimitsOptions) =>
  backchannelServer({
    clients: [POLL, CODES],
    checks: BackchannelChecks.layer({ isUserCodeValid: (_, code) => Effect.succeed(code === "1111") }),
    limits: BackchannelLimits.layerMemory(limits)
  })

const backchannel = (client: { clientId: number; clientSecret: string }, extra: Record<string, string> = {}) =>
  BackchannelAuthenticationEndpoint.handleBackchannelAuthentication({
    parameters: new URLSearchParams({ scope: "openid", login_hint: "taro@example.com", ...extra }).toString(),
    clientId: String(client.clientId),
    clientSecret: client.clientSecret
  })

const errorOf = (answer: { readonly body: string }) => (JSON.parse(answer.body) as { error: string }).error

describe("the backchannel endpoint with the limits", () => {
  it.scoped("answers 429 slow_down with Retry-After past a rate limit, before Authlete is asked anything", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 2; i++) assert.strictEqual((yield* backchannel(POLL)).status, 200)
      const before = yield* authleteSaw
      const refused = yield* backchannel(POLL)
      assert.strictEqual(refused.status, 429)
      assert.strictEqual(errorOf(refused), "slow_down")
      assert.strictEqual(refused.headers["retry-after"], "60")
      assert.include(refused.body, "this client")
      assert.strictEqual((yield* authleteSaw).calls, before.calls)
      // The same client without a hint of the same user: still the client's limit.
      assert.strictEqual((yield* backchannel(POLL, { login_hint: "alice@example.com" })).status, 429)
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* backchannel(POLL)).status, 200)
    }).pipe(Effect.provide(ServerWith({ perClient: { limit: 2, window: "1 minute" }, perUser: false }))))

  it.scoped("counts only requests whose client Authlete authenticated: a flood without credentials spends nothing", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 6; i++) {
        const answer = yield* backchannel({ clientId: POLL.clientId, clientSecret: "wrong" })
        assert.strictEqual(answer.status, 401)
      }
      assert.strictEqual((yield* backchannel(POLL)).status, 200)
      assert.strictEqual((yield* backchannel(POLL)).status, 200)
      assert.strictEqual((yield* backchannel(POLL)).status, 429)
    }).pipe(
      Effect.provide(
        ServerWith({ perClient: { limit: 2, window: "1 minute" }, perUser: { limit: 2, window: "1 minute" } })
      )
    ))

  it.scoped("holds the limit for requests at once: those counted past it are failed at Authlete and answered 429", () =>
    Effect.gen(function*() {
      const answers = yield* Effect.all(Array.from({ length: 6 }, () => backchannel(POLL)), {
        concurrency: "unbounded"
      })
      const statuses = answers.map((answer) => answer.status).sort()
      assert.deepStrictEqual(statuses, [200, 200, 429, 429, 429, 429])
      const saw = yield* authleteSaw
      assert.strictEqual(saw.issued, 2)
      // Whoever was counted past the limit had its ticket deleted at Authlete.
      assert.isTrue(saw.failed.every((reason) => reason === "ACCESS_DENIED"))
    }).pipe(Effect.provide(ServerWith({ perUser: { limit: 2, window: "1 minute" }, pendingPerUser: false }))))

  it.scoped("refuses a request past the pending requests of a user through /fail ACCESS_DENIED: 403, no /issue", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 2; i++) assert.strictEqual((yield* backchannel(POLL)).status, 200)
      const refused = yield* backchannel(POLL)
      assert.strictEqual(refused.status, 403)
      assert.strictEqual(errorOf(refused), "access_denied")
      assert.include(refused.body, "2 requests waiting")
      const saw = yield* authleteSaw
      assert.deepStrictEqual(saw.failed, ["ACCESS_DENIED"])
      assert.strictEqual(saw.issued, 2)
      const store = yield* PendingRequestStore.PendingRequestStore
      const now = yield* Clock.currentTimeMillis
      const waiting = yield* store.list(now, "user-1")
      assert.strictEqual(waiting.length, 2)
      // Once one is decided (taken out), there is room again.
      yield* store.take(waiting[0]!.authReqId, now)
      assert.strictEqual((yield* backchannel(POLL)).status, 200)
    }).pipe(Effect.provide(ServerWith({ pendingPerUser: 2 }))))

  it.scoped("after the wrong user codes allowed, refuses even the right code with invalid_user_code, for the window", () =>
    Effect.gen(function*() {
      for (const code of ["0000", "0001", "0002"]) {
        const answer = yield* backchannel(CODES, { user_code: code })
        assert.strictEqual(errorOf(answer), "invalid_user_code")
      }
      const locked = yield* backchannel(CODES, { user_code: "1111" })
      assert.strictEqual(locked.status, 400)
      assert.strictEqual(errorOf(locked), "invalid_user_code")
      assert.deepStrictEqual((yield* authleteSaw).failed, Array(4).fill("INVALID_USER_CODE"))
      assert.strictEqual((yield* authleteSaw).issued, 0)
      yield* TestClock.adjust("15 minutes")
      assert.strictEqual((yield* backchannel(CODES, { user_code: "1111" })).status, 200)
    }).pipe(Effect.provide(ServerWith({ wrongUserCodes: { limit: 3, window: "15 minutes" }, perUser: false }))))

  it.scoped("the defaults let a user's ordinary requests through and stop the sixth waiting one", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 5; i++) assert.strictEqual((yield* backchannel(POLL)).status, 200)
      assert.strictEqual((yield* backchannel(POLL)).status, 403)
    }).pipe(Effect.provide(ServerWith({}))))
})
