/**
 * Retention: the upkeep deletes what finished longer ago than the retention, in batches that keep
 * every statement short (no long transaction, no table lock, indexed predicates). The stores delete
 * their own rows (`SqlPendingRequestStore.prune`, `NotificationVault.forgetEndpoints`); this module
 * deletes the rows `@effect/cluster`'s SQL message storage keeps of finished workflows.
 *
 * The engine's tables have no index by workflow, so the pruner walks `cluster_messages` in the order
 * of its primary key, a snowflake that starts with the time the message was made: the rows older
 * than the retention come first, read a batch at a time from where the last batch stopped. A batch's
 * messages of one of our workflows are deleted, with their replies, when the workflow's `run`
 * message (found by its unique `message_id`) has a final reply that is itself older than the
 * retention, or when the run is gone (deleted by an earlier batch). Everything else is left: running
 * or suspended workflows, other workflows, other entities.
 */
import { make as makeMachineId } from "@effect/cluster/MachineId"
import * as Snowflake from "@effect/cluster/Snowflake"
import { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"

/** The most rows one statement deletes (or reads, when it walks the engine's messages). */
export const BATCH_ROWS = 1_000

/** The most batches a table gets in one round of pruning. */
export const BATCHES_PER_ROUND = 10

/** What a round of pruning did: rows deleted, and whether it stopped with more to delete (go on soon). */
export interface Pruned {
  readonly deleted: number
  readonly backlog: boolean
}

/** The durable clock's entity: one per workflow execution, its id the execution's. */
const CLOCK_TYPE = "Workflow/-/DurableClock"

const DIGITS = /^\d+$/

interface MessageRow {
  readonly id: string
  readonly entity_type: string
  readonly entity_id: string
  /** A clock message's payload, which names its workflow. */
  readonly clock: string | null
}

interface RunRow {
  readonly entity_id: string
  readonly reply_id: string | null
  readonly payload: string | null
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The workflow a clock message wakes. */
const clockWorkflow = (payload: string | null): unknown =>
  payload === null ? undefined : (parse(payload) as { readonly workflowName?: unknown } | undefined)?.workflowName

/** Whether a run's final reply says the workflow completed (not suspended, not failed). */
const completed = (payload: string): boolean => {
  const exit = parse(payload) as { readonly _tag?: unknown; readonly value?: { readonly _tag?: unknown } } | undefined
  return exit?._tag === "Success" && exit.value?._tag === "Complete"
}

/**
 * The engine's pruner for the workflow `workflowName`, with its place in the walk (a new one, or one
 * on another node, starts from the oldest message again).
 */
export const makeEnginePruner = (
  workflowName: string,
  options?: { readonly batchRows?: number | undefined; readonly batches?: number | undefined }
) =>
  Effect.gen(function*() {
    // The engine's tables, named as @effect/cluster names them (its default prefix).
    const sql = (yield* SqlClient).withoutTransforms()
    const messages = sql("cluster_messages")
    const replies = sql("cluster_replies")
    const workflowType = `Workflow/${workflowName}`
    const batchRows = options?.batchRows ?? BATCH_ROWS
    const batches = options?.batches ?? BATCHES_PER_ROUND
    // Snowflakes are 64-bit: they travel as decimal text (a JavaScript number would round them) and
    // are written into statements only after they are checked to be digits.
    let cursor = "0"

    const scan = (cutoff: string) =>
      sql<MessageRow>`SELECT CAST(id AS TEXT) AS id, entity_type, entity_id,
          CASE WHEN entity_type = ${CLOCK_TYPE} THEN payload END AS clock
        FROM ${messages}
        WHERE id > ${sql.literal(cursor)} AND id < ${sql.literal(cutoff)}
        ORDER BY id LIMIT ${sql.literal(String(batchRows))}`

    /** Of these executions, those whose run is there and did not complete before `cutoff`. */
    const unfinished = (executionIds: ReadonlyArray<string>, cutoff: bigint) =>
      Effect.map(
        sql<RunRow>`SELECT m.entity_id, CAST(r.id AS TEXT) AS reply_id, r.payload
          FROM ${messages} m LEFT JOIN ${replies} r ON r.request_id = m.id AND r.kind = 0
          WHERE m.message_id IN ${sql.in(executionIds.map((id) => `${workflowType}/${id}/run/`))}`,
        (runs) =>
          new Set(
            runs.filter((run) =>
              run.reply_id === null || run.payload === null || !DIGITS.test(run.reply_id) ||
              BigInt(run.reply_id) >= cutoff || !completed(run.payload)
            ).map((run) => run.entity_id)
          )
      )

    /** Deletes the batch's messages of finished workflows, with their replies; how many messages. */
    const deleteFinished = (rows: ReadonlyArray<MessageRow>, cutoff: bigint) =>
      Effect.gen(function*() {
        const ours = rows.filter((row) =>
          DIGITS.test(row.id) &&
          (row.entity_type === workflowType ||
            (row.entity_type === CLOCK_TYPE && clockWorkflow(row.clock) === workflowName))
        )
        if (ours.length === 0) return 0
        const running = yield* unfinished([...new Set(ours.map((row) => row.entity_id))], cutoff)
        const ids = ours.filter((row) => !running.has(row.entity_id)).map((row) => row.id)
        if (ids.length === 0) return 0
        const list = sql.literal(ids.join(","))
        // Together: a run left without its reply would look unfinished for ever.
        yield* sql`DELETE FROM ${replies} WHERE request_id IN (${list})`.pipe(
          Effect.zipRight(sql`DELETE FROM ${messages} WHERE id IN (${list})`),
          sql.withTransaction
        )
        return ids.length
      })

    /**
     * Deletes the engine's rows of the workflows that finished before `beforeMillis`, at most
     * `batches` batches of `batchRows` messages (and their replies).
     */
    const prune = (beforeMillis: number): Effect.Effect<Pruned, SqlError> =>
      Effect.gen(function*() {
        const timestamp = Math.floor(beforeMillis)
        const cutoff = Snowflake.make({ timestamp, machineId: makeMachineId(0), sequence: 0 })
        if (cutoff <= 0n) return { deleted: 0, backlog: false }
        let deleted = 0
        for (let batch = 0; batch < batches; batch++) {
          const rows = yield* scan(String(cutoff))
          const last = rows.at(-1)
          if (last !== undefined && DIGITS.test(last.id)) cursor = last.id
          deleted += yield* deleteFinished(rows, cutoff)
          if (rows.length < batchRows) {
            // The walk reached the cutoff: the next one starts again from the oldest message left.
            cursor = "0"
            return { deleted, backlog: false }
          }
        }
        return { deleted, backlog: deleted > 0 }
      })

    return { prune } as const
  })
