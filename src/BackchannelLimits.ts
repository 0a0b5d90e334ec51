/**
 * The backchannel endpoint's limits against abuse: how many prompts a client and a user's hint may
 * cause over a window (past it, answered 429 before any Authlete call), how many requests may wait
 * for one user's decision at once, and how many wrong `user_code`s lock a user's requests out for a
 * while. Only requests whose client Authlete authenticated are counted: no one without a client's
 * credentials can spend that client's or a user's allowance.
 * The counting is `@effect/experimental`'s `RateLimiter` (fixed windows) over a `RateLimiterStore`:
 * `layerStoreMemory` keeps the counts in the process, bounded in keys; `effect-authlete/sql`'s
 * `SqlRateLimiterStore` keeps them in the database, so that several nodes hold one limit; any other
 * store of that interface (its Redis store, say) works too.
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { sha256 } from "./internal/digest.js"

/**
 * A limit over a window: at most `limit` in any `window` (a fixed window that each counted event
 * lengthens by `window / limit`, as `RateLimiter`'s `fixed-window` does; past the limit, refused
 * until the window ends).
 *
 * @since 0.1.0
 * @category models
 */
export interface Window {
  readonly limit: number
  readonly window: Duration.DurationInput
}

/**
 * The limits; each `false` turns that limit off.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackchannelLimitsOptions {
  /** Backchannel requests naming one client (Basic, `client_id` or the assertion's `iss`). Default 300 a minute. */
  readonly perClient?: Window | false | undefined
  /** Backchannel requests with one login hint (`login_hint`, `login_hint_token` or `id_token_hint`). Default 10 in 10 minutes. */
  readonly perUser?: Window | false | undefined
  /** Requests waiting for one user's decision at once. Default 5. */
  readonly pendingPerUser?: number | false | undefined
  /** Wrong `user_code`s of one user before their requests are refused until the window ends. Default 5 in 15 minutes. */
  readonly wrongUserCodes?: Window | false | undefined
}

/**
 * The limits in force (`false`: off).
 *
 * @since 0.1.0
 * @category models
 */
export interface BackchannelLimitsSettings {
  readonly perClient: Window | false
  readonly perUser: Window | false
  readonly pendingPerUser: number | false
  readonly wrongUserCodes: Window | false
}

/**
 * The defaults: 300 requests a minute per client, 10 in 10 minutes per login hint, 5 waiting per
 * user, 5 wrong user codes in 15 minutes.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: BackchannelLimitsSettings = {
  perClient: { limit: 300, window: "1 minute" },
  perUser: { limit: 10, window: "10 minutes" },
  pendingPerUser: 5,
  wrongUserCodes: { limit: 5, window: "15 minutes" }
}

/**
 * No limit at all (tests and benchmarks of other things; an application that limits elsewhere).
 *
 * @since 0.1.0
 * @category constants
 */
export const none: BackchannelLimitsSettings = {
  perClient: false,
  perUser: false,
  pendingPerUser: false,
  wrongUserCodes: false
}

/**
 * The store of the counts could not be read or written (the database is down, say). The endpoint
 * answers 500: a limit that cannot be checked does not let the request through.
 *
 * @since 0.1.0
 * @category errors
 */
export class BackchannelLimitsError extends Schema.TaggedError<BackchannelLimitsError>(
  "effect-authlete/BackchannelLimitsError"
)("BackchannelLimitsError", {
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `The limits' store failed to ${this.operation}: ${this.detail}`
  }
}

/**
 * Whether a backchannel request may go on: `Refused` names the limit it hit and when to try again.
 *
 * @since 0.1.0
 * @category models
 */
export type Admission =
  | { readonly _tag: "Admitted" }
  | { readonly _tag: "Refused"; readonly limit: "perClient" | "perUser"; readonly retryAfterSeconds: number }

/**
 * Who a backchannel request names, as it came (nothing is authenticated yet).
 *
 * @since 0.1.0
 * @category models
 */
export interface Requester {
  readonly clientId?: string | undefined
  readonly hint?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface BackchannelLimitsService {
  readonly settings: BackchannelLimitsSettings
  /** Whether the client or the hint is already past its limit (it counts nothing): before Authlete is asked. */
  readonly check: (requester: Requester) => Effect.Effect<Admission, BackchannelLimitsError>
  /** Counts one request of the client and of the hint, once Authlete authenticated the client; `Refused` past a limit. */
  readonly count: (requester: Requester) => Effect.Effect<Admission, BackchannelLimitsError>
  /** Whether the user's requests are refused for wrong user codes (it counts nothing). */
  readonly isUserCodeLocked: (subject: string) => Effect.Effect<boolean, BackchannelLimitsError>
  /** Counts a wrong user code of the user. */
  readonly wrongUserCode: (subject: string) => Effect.Effect<void, BackchannelLimitsError>
}

/**
 * The tag of the limits.
 *
 * @since 0.1.0
 * @category tags
 */
export class BackchannelLimits extends Context.Tag("effect-authlete/BackchannelLimits")<
  BackchannelLimits,
  BackchannelLimitsService
>() {}

const checkWindow = (name: string, window: Window | false): Window | false => {
  if (window === false) return false
  if (!Number.isSafeInteger(window.limit) || window.limit < 1) {
    throw new RangeError(`BackchannelLimits: ${name}.limit must be a whole number of at least 1`)
  }
  const millis = Duration.toMillis(Duration.decode(window.window))
  if (!(millis >= 1 && Number.isFinite(millis))) {
    throw new RangeError(`BackchannelLimits: ${name}.window must be a finite duration of at least 1 ms`)
  }
  return window
}

/**
 * The defaults with yours over them; a limit that is not a whole number of at least 1, or a window
 * that is not a finite duration, throws a `RangeError`, once, here.
 *
 * @since 0.1.0
 * @category constructors
 */
export const settingsOf = (options: BackchannelLimitsOptions = {}): BackchannelLimitsSettings => {
  const pendingPerUser = options.pendingPerUser ?? defaults.pendingPerUser
  if (pendingPerUser !== false && (!Number.isSafeInteger(pendingPerUser) || pendingPerUser < 1)) {
    throw new RangeError("BackchannelLimits: pendingPerUser must be a whole number of at least 1")
  }
  return {
    perClient: checkWindow("perClient", options.perClient ?? defaults.perClient),
    perUser: checkWindow("perUser", options.perUser ?? defaults.perUser),
    pendingPerUser,
    wrongUserCodes: checkWindow("wrongUserCodes", options.wrongUserCodes ?? defaults.wrongUserCodes)
  }
}

/**
 * The store's key for a value: its SHA-256, so that a key is short whatever the value's length and
 * no login hint (an e-mail address, a phone number) is kept as it came.
 */
const keyOf = (kind: string, value: string): Effect.Effect<string> =>
  Effect.map(sha256(value), (digest) => `effect-authlete:${kind}:${digest}`)

const storeFailed = (operation: string) => (error: RateLimiter.RateLimiterError) =>
  new BackchannelLimitsError({ operation, detail: error.message })

/**
 * The limits over the `RateLimiterStore` in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: BackchannelLimitsOptions = {}
): Effect.Effect<BackchannelLimitsService, never, RateLimiter.RateLimiterStore> =>
  Effect.gen(function*() {
    const settings = settingsOf(options)
    const store = yield* RateLimiter.RateLimiterStore
    const limiter = yield* RateLimiter.make
    const refillRateOf = (window: Window) => Duration.unsafeDivide(Duration.decode(window.window), window.limit)
    /** The count of `key` as it stands (nothing taken): the seconds to wait when it reached the limit. */
    const peek = (key: string, window: Window, operation: string) =>
      store.fixedWindow({ key, tokens: 0, refillRate: refillRateOf(window), limit: window.limit }).pipe(
        Effect.map(([count, ttl]) => count >= window.limit ? Math.max(1, Math.ceil(ttl / 1000)) : undefined),
        Effect.mapError(storeFailed(operation))
      )
    /** One more event of `key` against `window`: the seconds to wait when past the limit. */
    const consume = (key: string, window: Window, operation: string) =>
      limiter.consume({ algorithm: "fixed-window", onExceeded: "fail", key, ...window }).pipe(
        Effect.as(undefined),
        Effect.catchTags({
          RateLimiterError: (error) =>
            error.reason === "Exceeded"
              ? Effect.succeed(Math.max(1, Math.ceil(Duration.toSeconds(error.retryAfter))))
              : Effect.fail(storeFailed(operation)(error))
        })
      )
    const against = (
      how: (key: string, window: Window, operation: string) => Effect.Effect<number | undefined, BackchannelLimitsError>
    ) =>
    (
      limit: "perClient" | "perUser",
      window: Window | false,
      value: string | undefined
    ): Effect.Effect<Admission | undefined, BackchannelLimitsError> =>
      window === false || value === undefined
        ? Effect.succeed(undefined)
        : keyOf(limit, value).pipe(
          Effect.flatMap((key) => how(key, window, "count a backchannel request")),
          Effect.map((retryAfterSeconds) =>
            retryAfterSeconds === undefined ? undefined : { _tag: "Refused", limit, retryAfterSeconds } as const
          )
        )
    const admitted: Admission = { _tag: "Admitted" }
    const { perClient, perUser, wrongUserCodes } = settings
    /** The client's limit first: a request it refuses does not count against the user. */
    const both = (how: ReturnType<typeof against>) => (requester: Requester) =>
      Effect.flatMap(
        how("perClient", perClient, requester.clientId),
        (refused) =>
          refused !== undefined
            ? Effect.succeed(refused)
            : Effect.map(how("perUser", perUser, requester.hint), (refused) => refused ?? admitted)
      )
    return {
      settings,
      check: both(against(peek)),
      count: both(against(consume)),
      isUserCodeLocked: (subject) =>
        wrongUserCodes === false
          ? Effect.succeed(false)
          : keyOf("wrongUserCodes", subject).pipe(
            // Nothing taken: the count as it stands, which reaches the limit once the user is locked out.
            Effect.flatMap((key) => peek(key, wrongUserCodes, "read the wrong user codes")),
            Effect.map((retryAfterSeconds) => retryAfterSeconds !== undefined)
          ),
      wrongUserCode: (subject) =>
        wrongUserCodes === false
          ? Effect.void
          : keyOf("wrongUserCodes", subject).pipe(
            Effect.flatMap((key) => consume(key, wrongUserCodes, "count a wrong user code")),
            Effect.asVoid
          )
    }
  })

/**
 * The limits (the defaults with yours over them) over the `RateLimiterStore` you provide.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: BackchannelLimitsOptions = {}
): Layer.Layer<BackchannelLimits, never, RateLimiter.RateLimiterStore> => Layer.effect(BackchannelLimits, make(options))

/**
 * How many keys the in-memory store holds at most.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreMemoryOptions {
  /** Default 100,000 (about 15 MB). Past it, the least recently counted key is forgotten. */
  readonly maxKeys?: number | undefined
}

interface Counter {
  count: number
  /** Fixed windows: when the window ends. Token buckets: the last refill. */
  at: number
}

/**
 * A `RateLimiterStore` in the process with the semantics of `@effect/experimental`'s memory store,
 * bounded: at most `maxKeys` keys, the least recently counted forgotten first (an attacker who
 * names many clients or hints costs memory only up to the bound).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreMemory = (options: StoreMemoryOptions = {}): Layer.Layer<RateLimiter.RateLimiterStore> =>
  Layer.sync(RateLimiter.RateLimiterStore, () => {
    const maxKeys = options.maxKeys ?? 100_000
    // A Map iterates in insertion order: deleting and setting a key again makes it the newest.
    const windows = new Map<string, Counter>()
    const buckets = new Map<string, Counter>()
    const touch = (counters: Map<string, Counter>, key: string, counter: Counter) => {
      counters.delete(key)
      counters.set(key, counter)
      if (windows.size + buckets.size > maxKeys) {
        const oldest = counters.keys().next().value
        if (oldest !== undefined) counters.delete(oldest)
      }
      return counter
    }
    return RateLimiter.RateLimiterStore.of({
      fixedWindow: ({ key, limit, refillRate, tokens }) =>
        Effect.clockWith((clock) =>
          Effect.sync(() => {
            const now = clock.unsafeCurrentTimeMillis()
            const found = windows.get(key)
            const counter = touch(windows, key, found === undefined || found.at <= now ? { count: 0, at: now } : found)
            if (limit !== undefined && counter.count + tokens > limit) {
              return [counter.count + tokens, counter.at - now] as const
            }
            counter.count += tokens
            counter.at += Duration.toMillis(refillRate) * tokens
            return [counter.count, counter.at - now] as const
          })
        ),
      tokenBucket: ({ allowOverflow, key, limit, refillRate, tokens }) =>
        Effect.clockWith((clock) =>
          Effect.sync(() => {
            const now = clock.unsafeCurrentTimeMillis()
            const refillMillis = Duration.toMillis(refillRate)
            const bucket = touch(buckets, key, buckets.get(key) ?? { count: limit, at: now })
            const refills = Math.floor((now - bucket.at) / refillMillis)
            if (refills > 0) {
              bucket.count = Math.min(limit, bucket.count + refills)
              bucket.at += refills * refillMillis
            }
            const left = bucket.count - tokens
            if (allowOverflow || left >= 0) bucket.count = left
            return left
          })
        )
    })
  })

/**
 * The limits with their counts in the process (one node; `effect-authlete/sql`'s
 * `SqlRateLimiterStore` for several).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (
  options: BackchannelLimitsOptions & StoreMemoryOptions = {}
): Layer.Layer<BackchannelLimits> => layer(options).pipe(Layer.provide(layerStoreMemory(options)))

/**
 * No limits (`none`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNone: Layer.Layer<BackchannelLimits> = layerMemory(none)
