/**
 * The backchannel requests waiting for the user's decision, between the backchannel authentication
 * endpoint (which records them) and the device decision (which takes them out, once).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
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
 * The store could not be read or written (a database error, say).
 *
 * @since 0.1.0
 * @category errors
 */
export class PendingRequestStoreError extends Schema.TaggedError<PendingRequestStoreError>(
  "effect-authlete/PendingRequestStoreError"
)("PendingRequestStoreError", {
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `The pending-request store failed to ${this.operation}: ${this.detail}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PendingRequestStoreService {
  readonly add: (request: PendingRequest.PendingRequest) => Effect.Effect<void, PendingRequestStoreError>
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

/** An in-memory store: a map, and what became of the ids that left it (for an hour past their expiry). */
export const makeMemory = (): PendingRequestStoreService => {
  const pending = new Map<string, PendingRequest.PendingRequest>()
  const gone = new Map<string, { readonly until: number; readonly outcome: "AlreadyDecided" | "Expired" }>()
  const remember = (request: PendingRequest.PendingRequest, outcome: "AlreadyDecided" | "Expired") =>
    gone.set(request.authReqId, { until: request.expiresAt + REMEMBERED_MILLIS, outcome })
  const forget = (nowMillis: number) => {
    for (const [authReqId, { until }] of gone) if (until <= nowMillis) gone.delete(authReqId)
  }
  return {
    add: (request) =>
      Effect.sync(() => {
        pending.set(request.authReqId, request)
      }),
    get: (authReqId) => Effect.sync(() => Option.fromNullable(pending.get(authReqId))),
    take: (authReqId, nowMillis) =>
      Effect.sync((): TakeOutcome => {
        forget(nowMillis)
        const request = pending.get(authReqId)
        if (request === undefined) return { _tag: gone.get(authReqId)?.outcome ?? "Unknown" }
        pending.delete(authReqId)
        if (request.expiresAt <= nowMillis) {
          remember(request, "Expired")
          return { _tag: "Expired" }
        }
        remember(request, "AlreadyDecided")
        return { _tag: "Taken", request }
      }),
    list: (nowMillis, subject) =>
      Effect.sync(() =>
        [...pending.values()].filter((request) =>
          request.expiresAt > nowMillis && (subject === undefined || request.subject === subject)
        )
      ),
    takeOverdue: (deadlineOf, nowMillis) =>
      Effect.sync(() => {
        const overdue: Array<PendingRequest.PendingRequest> = []
        for (const request of pending.values()) {
          if (deadlineOf(request) <= nowMillis) {
            pending.delete(request.authReqId)
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
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<PendingRequestStore> = Layer.sync(PendingRequestStore, makeMemory)
