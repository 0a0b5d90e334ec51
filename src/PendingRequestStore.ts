/**
 * The backchannel requests waiting for the user's decision, between the backchannel authentication
 * endpoint (which records them) and the device decision (which takes them out, once).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as PendingRequest from "./PendingRequest.js"

/**
 * What taking a request out for a decision found.
 *
 * @since 0.1.0
 * @category models
 */
export type TakeOutcome =
  | { readonly _tag: "Taken"; readonly request: PendingRequest.PendingRequest }
  | { readonly _tag: "Unknown" }
  | { readonly _tag: "Expired" }
  | { readonly _tag: "AlreadyDecided" }

/**
 * The store could not be read or written (a database error, say: `reason` `"Failed"`, the
 * default), or a bounded store already holds as many requests as it may (`"Full"`: the request is
 * refused; another may be accepted once some are decided or expire).
 *
 * @since 0.1.0
 * @category errors
 */
export class PendingRequestStoreError extends Schema.TaggedError<PendingRequestStoreError>(
  "effect-authlete/PendingRequestStoreError"
)("PendingRequestStoreError", {
  operation: Schema.String,
  detail: Schema.String,
  reason: Schema.optionalWith(Schema.Literal("Failed", "Full"), { default: () => "Failed" })
}) {
  override get message(): string {
    return this.reason === "Full"
      ? `The pending-request store refused to ${this.operation}: ${this.detail}`
      : `The pending-request store failed to ${this.operation}: ${this.detail}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PendingRequestStoreService {
  /** Records a request; a bounded store that is full refuses it (reason `"Full"`). */
  readonly add: (request: PendingRequest.PendingRequest) => Effect.Effect<void, PendingRequestStoreError>
  /**
   * Bounded stores: holds a place for one more request until the scope closes, or fails with reason
   * `"Full"`. The backchannel endpoint holds one from before Authlete issues the `auth_req_id`
   * until the request is added, so that a full store refuses the request through `/fail` (and
   * Authlete deletes the ticket) rather than after `/issue`. A store without a bound leaves it out.
   */
  readonly reserve?: ((nowMillis: number) => Effect.Effect<void, PendingRequestStoreError, Scope.Scope>) | undefined
  readonly get: (
    authReqId: string
  ) => Effect.Effect<Option.Option<PendingRequest.PendingRequest>, PendingRequestStoreError>
  /**
   * Takes a request out for a decision, once: a second take of the same `auth_req_id` is
   * `AlreadyDecided`, and one past `expiresAt` (or of a request failed as overdue) is `Expired`.
   */
  readonly take: (authReqId: string, nowMillis: number) => Effect.Effect<TakeOutcome, PendingRequestStoreError>
  /** The requests still waiting (not expired), oldest first; only one user's when `subject` is given. */
  readonly list: (
    nowMillis: number,
    subject?: string
  ) => Effect.Effect<ReadonlyArray<PendingRequest.PendingRequest>, PendingRequestStoreError>
  /** Takes out, once each, the requests whose decision deadline passed without a decision. */
  readonly takeOverdue: (
    deadlineOf: (request: PendingRequest.PendingRequest) => number,
    nowMillis: number
  ) => Effect.Effect<ReadonlyArray<PendingRequest.PendingRequest>, PendingRequestStoreError>
}

/** How long an id is remembered after its request left the store, to tell "decided" from "unknown". */
const REMEMBERED_MILLIS = 60 * 60 * 1000

/**
 * The options of the in-memory store.
 *
 * @since 0.1.0
 * @category models
 */
export interface PendingRequestStoreMemoryOptions {
  /**
   * The most requests it holds waiting for a decision (expired ones do not count); past it `add`
   * and `reserve` fail with reason `"Full"`. It also remembers what became of at most as many ids
   * that left it. Default 10,000.
   */
  readonly maxRequests?: number | undefined
}

const fullError = (operation: string, maxRequests: number) =>
  new PendingRequestStoreError({
    operation,
    detail: `it holds ${maxRequests} requests waiting for a decision, its limit`,
    reason: "Full"
  })

/**
 * An in-memory store: a map of at most `maxRequests` unexpired requests, and what became of the ids
 * that left it (for an hour past their expiry, the latest `maxRequests` of them). A `maxRequests`
 * that is not a whole number of at least 1 is a programming error: it throws a `RangeError` (in
 * `layerMemoryWith`, the layer dies).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (options: PendingRequestStoreMemoryOptions = {}): PendingRequestStoreService => {
  const maxRequests = options.maxRequests ?? 10_000
  if (!Number.isSafeInteger(maxRequests) || maxRequests < 1) {
    throw new RangeError("PendingRequestStore: maxRequests must be a whole number, at least 1")
  }
  const pending = new Map<string, PendingRequest.PendingRequest>()
  /** The ids of each user's requests, in the order they came: a user's requests without a scan of all. */
  const bySubject = new Map<string, Set<string>>()
  const put = (request: PendingRequest.PendingRequest) => {
    pending.set(request.authReqId, request)
    const ids = bySubject.get(request.subject)
    if (ids === undefined) bySubject.set(request.subject, new Set([request.authReqId]))
    else ids.add(request.authReqId)
  }
  const drop = (request: PendingRequest.PendingRequest) => {
    pending.delete(request.authReqId)
    const ids = bySubject.get(request.subject)
    ids?.delete(request.authReqId)
    if (ids?.size === 0) bySubject.delete(request.subject)
  }
  /** Places held by `reserve` for requests on their way to `add`. */
  let reserved = 0
  const release = Effect.sync(() => {
    reserved--
  })
  const gone = new Map<string, { readonly until: number; readonly outcome: "AlreadyDecided" | "Expired" }>()
  const remember = (request: PendingRequest.PendingRequest, outcome: "AlreadyDecided" | "Expired") => {
    gone.delete(request.authReqId)
    gone.set(request.authReqId, { until: request.expiresAt + REMEMBERED_MILLIS, outcome })
    // Oldest first: the map keeps insertion order.
    if (gone.size > maxRequests) gone.delete(gone.keys().next().value!)
  }
  const forget = (nowMillis: number) => {
    for (const [authReqId, { until }] of gone) if (until <= nowMillis) gone.delete(authReqId)
  }
  /** Whether `extra` more requests fit; expired ones are dropped first when it looks full. */
  const fits = (extra: number, nowMillis: number): boolean => {
    if (pending.size + extra <= maxRequests) return true
    for (const request of pending.values()) {
      if (request.expiresAt <= nowMillis) {
        drop(request)
        remember(request, "Expired")
      }
    }
    return pending.size + extra <= maxRequests
  }
  return {
    add: (request) =>
      Effect.flatMap(Clock.currentTimeMillis, (nowMillis) =>
        // Places held by `reserve` are not counted: the request being added holds one of them.
        pending.has(request.authReqId) || fits(1, nowMillis)
          ? Effect.sync(() => {
            const replaced = pending.get(request.authReqId)
            if (replaced !== undefined) drop(replaced)
            put(request)
          })
          : Effect.fail(fullError("add a request", maxRequests))),
    // The place is given back when the caller's scope closes. Registered on the scope itself, not
    // through `acquireRelease`, which would carry the fiber's refs over to the release at a cost of
    // microseconds a request; a counter needs none of them.
    reserve: (nowMillis) =>
      Effect.uninterruptible(Effect.flatMap(Effect.scope, (scope) => {
        if (!fits(reserved + 1, nowMillis)) return Effect.fail(fullError("hold a place for a request", maxRequests))
        reserved++
        return Scope.addFinalizer(scope, release)
      })),
    get: (authReqId) => Effect.sync(() => Option.fromNullable(pending.get(authReqId))),
    take: (authReqId, nowMillis) =>
      Effect.sync((): TakeOutcome => {
        forget(nowMillis)
        const request = pending.get(authReqId)
        if (request === undefined) return { _tag: gone.get(authReqId)?.outcome ?? "Unknown" }
        drop(request)
        if (request.expiresAt <= nowMillis) {
          remember(request, "Expired")
          return { _tag: "Expired" }
        }
        remember(request, "AlreadyDecided")
        return { _tag: "Taken", request }
      }),
    list: (nowMillis, subject) =>
      Effect.sync(() => {
        const requests = subject === undefined
          ? [...pending.values()]
          : [...bySubject.get(subject) ?? []].map((authReqId) => pending.get(authReqId)!)
        return requests.filter((request) => request.expiresAt > nowMillis)
      }),
    takeOverdue: (deadlineOf, nowMillis) =>
      Effect.sync(() => {
        const overdue: Array<PendingRequest.PendingRequest> = []
        for (const request of pending.values()) {
          if (deadlineOf(request) <= nowMillis) {
            drop(request)
            // Failed for want of a decision: a decision that comes later is too late.
            remember(request, "Expired")
            overdue.push(request)
          }
        }
        return overdue
      })
  }
}

/**
 * The tag of the store. `layerMemory` keeps requests in the process (tests, one node); the SQL
 * stores of `effect-authlete/sql` keep them across restarts and nodes.
 *
 * @since 0.1.0
 * @category tags
 */
export class PendingRequestStore extends Context.Tag("effect-authlete/PendingRequestStore")<
  PendingRequestStore,
  PendingRequestStoreService
>() {}

/**
 * The in-memory store with its options (`maxRequests`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemoryWith = (options: PendingRequestStoreMemoryOptions): Layer.Layer<PendingRequestStore> =>
  Layer.sync(PendingRequestStore, () => makeMemory(options))

/**
 * The in-memory store, holding at most 10,000 requests waiting for a decision.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<PendingRequestStore> = layerMemoryWith({})
