/**
 * The pending-request store over `@effect/sql` (SQLite or PostgreSQL): `PendingRequestStore` for the
 * endpoints, and what the durable engine needs besides. Every change of state is one conditional
 * `UPDATE`, so a request is taken once however many nodes race for it. The decision is recorded with
 * the request when it is taken: a node that dies between taking a request and signalling its
 * workflow loses nothing, since the workflow finds the decision there at its deadline.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { DECISION_MARGIN_MILLIS, decisionDeadline } from "../DeviceDecision.js"
import * as PendingRequest from "../PendingRequest.js"
import * as PendingRequestStore from "../PendingRequestStore.js"
import { BATCH_ROWS } from "./internal/retention.js"
import { migrate, tables } from "./Migrations.js"

/**
 * The user's decision as it is recorded (with the request, and in the workflow's history): what the
 * completion sends to Authlete, fixed once so that a replay sends the same.
 *
 * @since 0.1.0
 * @category models
 */
export class RecordedDecision extends Schema.Class<RecordedDecision>("effect-authlete/RecordedDecision")({
  decision: Schema.Literal("allow", "deny"),
  /** Seconds since the epoch. */
  authTime: Schema.Number,
  acr: Schema.optional(Schema.String),
  consentedClaims: Schema.optional(Schema.Array(Schema.String)),
  claims: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}) {}

/**
 * How a request stood at its decision deadline: decided in time (its recorded decision), or not.
 *
 * @since 0.1.0
 * @category models
 */
export type DeadlineOutcome =
  | { readonly _tag: "Decided"; readonly decision: RecordedDecision }
  | { readonly _tag: "Undecided" }

/**
 * @since 0.1.0
 * @category models
 */
export interface SqlPendingRequestStoreService extends PendingRequestStore.PendingRequestStoreService {
  /** `take`, recording the decision with the request. */
  readonly takeForDecision: (
    authReqId: string,
    nowMillis: number,
    decision: RecordedDecision
  ) => Effect.Effect<PendingRequestStore.TakeOutcome, PendingRequestStore.PendingRequestStoreError>
  /** A decided request and the decision recorded with it. */
  readonly decided: (
    authReqId: string
  ) => Effect.Effect<
    Option.Option<{ readonly request: PendingRequest.PendingRequest; readonly decision: RecordedDecision }>,
    PendingRequestStore.PendingRequestStoreError
  >
  /** At the decision deadline: a request still waiting is failed (`Undecided`); a decided one keeps its decision. */
  readonly settleAtDeadline: (
    authReqId: string,
    nowMillis: number
  ) => Effect.Effect<DeadlineOutcome, PendingRequestStore.PendingRequestStoreError>
  /** The request's workflow is started. */
  readonly markStarted: (authReqId: string) => Effect.Effect<void, PendingRequestStore.PendingRequestStoreError>
  /** The request's workflow was sent its decision. */
  readonly markSignalled: (authReqId: string) => Effect.Effect<void, PendingRequestStore.PendingRequestStoreError>
  /** Requests decided before `beforeMillis` whose workflow was never marked as sent the decision. */
  readonly unsignalled: (
    beforeMillis: number
  ) => Effect.Effect<
    ReadonlyArray<{ readonly request: PendingRequest.PendingRequest; readonly decision: RecordedDecision }>,
    PendingRequestStore.PendingRequestStoreError
  >
  /** The request's workflow finished (its last step ran), now: the retention counts from then. */
  readonly markFinished: (authReqId: string) => Effect.Effect<void, PendingRequestStore.PendingRequestStoreError>
  /**
   * Workflows that should have moved on and did not finish: decided or failed more than
   * `graceMillis` ago, or still waiting `overdueMillis` (default `graceMillis`) past their decision
   * deadline.
   */
  readonly stalled: (
    nowMillis: number,
    graceMillis: number,
    overdueMillis?: number
  ) => Effect.Effect<ReadonlyArray<PendingRequest.PendingRequest>, PendingRequestStore.PendingRequestStoreError>
  /** Requests still waiting whose workflow was never marked started, recorded before `beforeMillis`. */
  readonly unstarted: (
    beforeMillis: number
  ) => Effect.Effect<ReadonlyArray<PendingRequest.PendingRequest>, PendingRequestStore.PendingRequestStoreError>
  /**
   * Counts one attempt at `/complete` for the request, before it is made, and returns the count:
   * more than 1 means an earlier attempt may have reached Authlete.
   */
  readonly countCompletionAttempt: (
    authReqId: string
  ) => Effect.Effect<number, PendingRequestStore.PendingRequestStoreError>
  /**
   * Forgets requests an hour past their expiry (until then, a late decision is told why it is
   * refused) whose workflow did not finish, or that had none; a finished one waits for `prune`. At
   * most `BATCH_ROWS` (1,000) a call; how many.
   */
  readonly purge: (nowMillis: number) => Effect.Effect<number, PendingRequestStore.PendingRequestStoreError>
  /** Deletes requests whose workflow finished before `beforeMillis`, at most 1,000 a call; how many. */
  readonly prune: (beforeMillis: number) => Effect.Effect<number, PendingRequestStore.PendingRequestStoreError>
}

/** How long an id is remembered after its request expired, as in the memory store. */
const REMEMBERED_MILLIS = 60 * 60 * 1000

const encodeRequest = Schema.encodeSync(Schema.parseJson(PendingRequest.PendingRequest))
const decodeRequest = Schema.decodeUnknown(Schema.parseJson(PendingRequest.PendingRequest))
const encodeDecision = Schema.encodeSync(Schema.parseJson(RecordedDecision))
const decodeDecision = Schema.decodeUnknown(Schema.parseJson(RecordedDecision))

/** A database error in words, without the statement's parameters. */
const describe = (error: SqlError): string => {
  const cause = error.cause
  const detail = cause instanceof Error ? cause.message : undefined
  return detail === undefined || detail === error.message ? error.message : `${error.message}: ${detail}`
}

const failWith = (operation: string) => (error: SqlError | { readonly message: string; readonly _tag: string }) =>
  new PendingRequestStore.PendingRequestStoreError({
    operation,
    detail: error._tag === "SqlError" ? describe(error as SqlError) : error.message
  })

type State = "pending" | "decided" | "expired"

const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const table = sql(tables.pendingRequests)

  const requestOf = (row: { readonly request: string }, operation: string) =>
    Effect.mapError(decodeRequest(row.request), failWith(operation))

  const stateOf = (authReqId: string) =>
    Effect.map(
      sql<{ readonly state: State; readonly expires_at: number | string }>`SELECT state, expires_at FROM ${table}
        WHERE auth_req_id = ${authReqId}`,
      (rows) => Option.fromNullable(rows[0])
    )

  /** Why a request could not be taken, once the conditional update took nothing. */
  const refusal = (authReqId: string, nowMillis: number) =>
    Effect.gen(function*() {
      const row = yield* stateOf(authReqId)
      if (Option.isNone(row)) return { _tag: "Unknown" } as const
      if (row.value.state === "decided") return { _tag: "AlreadyDecided" } as const
      // Waiting but past its expiry: it can no longer be decided.
      if (row.value.state === "pending") {
        yield* sql`UPDATE ${table} SET state = 'expired', settled_at = ${nowMillis}
          WHERE auth_req_id = ${authReqId} AND state = 'pending'`
      }
      return { _tag: "Expired" } as const
    })

  const takeWith = (authReqId: string, nowMillis: number, decision: string | null, operation: string) =>
    Effect.gen(function*() {
      const taken = yield* sql<
        { readonly request: string }
      >`UPDATE ${table} SET state = 'decided', decision = ${decision}, settled_at = ${nowMillis}
        WHERE auth_req_id = ${authReqId} AND state = 'pending' AND expires_at > ${nowMillis}
        RETURNING request`
      if (taken[0] === undefined) return yield* refusal(authReqId, nowMillis)
      return { _tag: "Taken", request: yield* requestOf(taken[0], operation) } as const
    }).pipe(Effect.mapError(failWith(operation)))

  const service: SqlPendingRequestStoreService = {
    add: (request) =>
      sql`INSERT INTO ${table} ${
        sql.insert({
          auth_req_id: request.authReqId,
          subject: request.subject,
          request: encodeRequest(request),
          state: "pending",
          created_at: request.createdAt,
          expires_at: request.expiresAt
        })
      } ON CONFLICT (auth_req_id) DO NOTHING`.pipe(Effect.asVoid, Effect.mapError(failWith("add a request"))),

    get: (authReqId) =>
      sql<{ readonly request: string }>`SELECT request FROM ${table}
        WHERE auth_req_id = ${authReqId} AND state = 'pending'`.pipe(
        Effect.mapError(failWith("read a request")),
        Effect.flatMap((rows) =>
          rows[0] === undefined
            ? Effect.succeedNone
            : Effect.asSome(requestOf(rows[0], "read a request"))
        )
      ),

    take: (authReqId, nowMillis) => takeWith(authReqId, nowMillis, null, "take a request"),

    takeForDecision: (authReqId, nowMillis, decision) =>
      takeWith(authReqId, nowMillis, encodeDecision(decision), "take a request for its decision"),

    decided: (authReqId) =>
      sql<{ readonly request: string; readonly decision: string | null }>`SELECT request, decision FROM ${table}
        WHERE auth_req_id = ${authReqId} AND state = 'decided'`.pipe(
        Effect.mapError(failWith("read a decision")),
        Effect.flatMap((rows) => {
          const row = rows[0]
          if (row === undefined || row.decision === null) return Effect.succeedNone
          return Effect.asSome(Effect.all({
            request: requestOf(row, "read a decision"),
            decision: Effect.mapError(decodeDecision(row.decision), failWith("read a decision"))
          }))
        })
      ),

    settleAtDeadline: (authReqId, nowMillis) =>
      Effect.gen(function*() {
        const failed = yield* sql`UPDATE ${table} SET state = 'expired', settled_at = ${nowMillis}
          WHERE auth_req_id = ${authReqId} AND state = 'pending' RETURNING auth_req_id`
        if (failed.length > 0) return { _tag: "Undecided" } as const
        const decided = yield* service.decided(authReqId)
        return Option.match(decided, {
          onNone: (): DeadlineOutcome => ({ _tag: "Undecided" }),
          onSome: ({ decision }): DeadlineOutcome => ({ _tag: "Decided", decision })
        })
      }).pipe(Effect.mapError(failWith("settle a request at its deadline"))),

    list: (nowMillis, subject) =>
      (subject === undefined
        ? sql<{ readonly request: string }>`SELECT request FROM ${table}
            WHERE state = 'pending' AND expires_at > ${nowMillis} ORDER BY created_at`
        : sql<{ readonly request: string }>`SELECT request FROM ${table}
            WHERE state = 'pending' AND expires_at > ${nowMillis} AND subject = ${subject} ORDER BY created_at`).pipe(
          Effect.mapError(failWith("list the requests")),
          Effect.flatMap((rows) => Effect.forEach(rows, (row) => requestOf(row, "list the requests")))
        ),

    takeOverdue: (deadlineOf, nowMillis) =>
      Effect.gen(function*() {
        const rows = yield* sql<{ readonly request: string }>`SELECT request FROM ${table}
          WHERE state = 'pending' ORDER BY created_at`
        const waiting = yield* Effect.forEach(rows, (row) => requestOf(row, "take the overdue requests"))
        const overdue = waiting.filter((request) => deadlineOf(request) <= nowMillis)
        // Each one is taken by whoever updates it first: another node running this at once takes the others.
        const taken = yield* Effect.forEach(overdue, (request) =>
          Effect.map(
            sql`UPDATE ${table} SET state = 'expired', settled_at = ${nowMillis}
              WHERE auth_req_id = ${request.authReqId} AND state = 'pending' RETURNING auth_req_id`,
            (updated) => updated.length > 0 ? [request] : []
          ))
        return taken.flat()
      }).pipe(Effect.mapError(failWith("take the overdue requests"))),

    markStarted: (authReqId) =>
      sql`UPDATE ${table} SET workflow_started = 1 WHERE auth_req_id = ${authReqId}`.pipe(
        Effect.asVoid,
        Effect.mapError(failWith("mark a workflow started"))
      ),

    markSignalled: (authReqId) =>
      sql`UPDATE ${table} SET signalled = 1 WHERE auth_req_id = ${authReqId}`.pipe(
        Effect.asVoid,
        Effect.mapError(failWith("mark a decision sent"))
      ),

    unsignalled: (beforeMillis) =>
      sql<{ readonly request: string; readonly decision: string }>`SELECT request, decision FROM ${table}
        WHERE state = 'decided' AND signalled = 0 AND decision IS NOT NULL AND settled_at < ${beforeMillis}`.pipe(
        Effect.mapError(failWith("list the decisions not sent")),
        Effect.flatMap((rows) =>
          Effect.forEach(rows, (row) =>
            Effect.all({
              request: requestOf(row, "list the decisions not sent"),
              decision: Effect.mapError(decodeDecision(row.decision), failWith("list the decisions not sent"))
            }))
        )
      ),

    markFinished: (authReqId) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        // A replayed last step keeps the first time.
        sql`UPDATE ${table} SET finished = 1, finished_at = COALESCE(finished_at, ${now})
          WHERE auth_req_id = ${authReqId}`).pipe(
          Effect.asVoid,
          Effect.mapError(failWith("mark a workflow finished"))
        ),

    stalled: (nowMillis, graceMillis, overdueMillis = graceMillis) =>
      sql<{ readonly request: string; readonly state: State }>`SELECT request, state FROM ${table}
        WHERE finished = 0 AND (
          (state <> 'pending' AND settled_at < ${nowMillis - graceMillis})
          OR (state = 'pending' AND expires_at < ${nowMillis + DECISION_MARGIN_MILLIS})
        )`.pipe(
        Effect.mapError(failWith("list the stalled workflows")),
        Effect.flatMap((rows) =>
          Effect.forEach(rows, (row) =>
            Effect.map(requestOf(row, "list the stalled workflows"), (request) =>
              // A waiting request is late once its decision deadline (at most DECISION_MARGIN_MILLIS
              // before its expiry, hence the query's bound) is `overdueMillis` behind.
              row.state !== "pending" || decisionDeadline(request) + overdueMillis < nowMillis ? [request] : []))
        ),
        Effect.map((requests) => requests.flat())
      ),

    unstarted: (beforeMillis) =>
      sql<{ readonly request: string }>`SELECT request FROM ${table}
        WHERE state = 'pending' AND workflow_started = 0 AND created_at < ${beforeMillis}`.pipe(
        Effect.mapError(failWith("list the requests without a workflow")),
        Effect.flatMap((rows) => Effect.forEach(rows, (row) => requestOf(row, "list the requests without a workflow")))
      ),

    countCompletionAttempt: (authReqId) =>
      sql<{ readonly complete_attempts: number | string }>`UPDATE ${table}
        SET complete_attempts = complete_attempts + 1
        WHERE auth_req_id = ${authReqId} RETURNING complete_attempts`.pipe(
        Effect.map((rows) => Number(rows[0]?.complete_attempts ?? 1)),
        Effect.mapError(failWith("count an attempt at /complete"))
      ),

    // The outer conditions as well as the batch's: a row changed meanwhile is judged again (PostgreSQL).
    purge: (nowMillis) =>
      sql<{ readonly auth_req_id: string }>`DELETE FROM ${table}
        WHERE finished = 0 AND expires_at < ${nowMillis - REMEMBERED_MILLIS} AND auth_req_id IN (
          SELECT auth_req_id FROM ${table}
          WHERE finished = 0 AND expires_at < ${nowMillis - REMEMBERED_MILLIS} LIMIT ${BATCH_ROWS}
        ) RETURNING auth_req_id`.pipe(
        Effect.map((rows) => rows.length),
        Effect.mapError(failWith("forget old requests"))
      ),

    prune: (beforeMillis) =>
      sql<
        { readonly auth_req_id: string }
      >`DELETE FROM ${table} WHERE finished_at < ${beforeMillis} AND auth_req_id IN (
          SELECT auth_req_id FROM ${table} WHERE finished_at < ${beforeMillis} LIMIT ${BATCH_ROWS}
        ) RETURNING auth_req_id`.pipe(
        Effect.map((rows) => rows.length),
        Effect.mapError(failWith("delete finished requests"))
      )
  }
  return service
})

/**
 * The tag of the SQL store's full service. Its layer provides `PendingRequestStore` as well.
 *
 * @since 0.1.0
 * @category tags
 */
export class SqlPendingRequestStore extends Context.Tag("effect-authlete/SqlPendingRequestStore")<
  SqlPendingRequestStore,
  SqlPendingRequestStoreService
>() {}

/**
 * Runs the migrations, then serves both tags over the application's `SqlClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  SqlPendingRequestStore | PendingRequestStore.PendingRequestStore,
  PendingRequestStore.PendingRequestStoreError,
  SqlClient.SqlClient
> = Layer.effectContext(
  Effect.gen(function*() {
    yield* Effect.mapError(
      migrate,
      (error) =>
        new PendingRequestStore.PendingRequestStoreError({ operation: "migrate its tables", detail: error.message })
    )
    const service = yield* make
    return Context.make(SqlPendingRequestStore, service).pipe(
      Context.add(PendingRequestStore.PendingRequestStore, service)
    )
  })
)
