/**
 * `@effect/experimental`'s `RateLimiterStore` over `@effect/sql` (SQLite or PostgreSQL), so that
 * several nodes on one database hold one limit (the backchannel endpoint's limits per client, per
 * user and on wrong user codes). The semantics are those of `RateLimiter.layerStoreMemory`: a fixed
 * window is counted by one `INSERT … ON CONFLICT DO UPDATE`, a token bucket in a transaction that
 * locks its row. Rows past their time are deleted in the background.
 *
 * Two differences from the memory store, both on the strict side: times are whole milliseconds (a
 * window that its limit does not divide evenly is rounded up, a bucket's refill time too), and a
 * refused fixed-window count keeps the refused tokens until the window ends (with one token at a
 * time, as the backchannel limits count, the answers are the same).
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import type { MigrationError } from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { migrate, tables } from "./Migrations.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface SqlRateLimiterStoreOptions {
  /** How often the rows past their time are deleted. Default 1 minute. */
  readonly pruneInterval?: Duration.DurationInput | undefined
}

/**
 * The service of `RateLimiter.RateLimiterStore`.
 *
 * @since 0.1.0
 * @category models
 */
export type RateLimiterStoreService = Context.Tag.Service<RateLimiter.RateLimiterStore>

/**
 * How long a fixed window is kept after it ended: an expired window counts as none, but a node whose
 * clock is behind may still be counting in it.
 */
const WINDOW_GRACE_MILLIS = 60 * 1000

/**
 * How long a token bucket is kept after its last refill. When a bucket is full again depends on its
 * refill rate and limit, which the table does not hold: a bucket left alone for a day is taken to be
 * full (true of any window up to a day, for a bucket not overdrawn by more than its
 * limit), and deleted, so that it starts full next time.
 */
const BUCKET_IDLE_MILLIS = 24 * 60 * 60 * 1000

/** Rows deleted by one statement, so that a large backlog does not hold locks for long. */
const PRUNE_BATCH = 1000

interface Row {
  readonly count: number | string
  readonly expires_at: number | string
}

/** A database error as the rate limiter's, naming what failed (the statement and the key stay in `cause`). */
const storeFailed = (operation: string) => (cause: SqlError) =>
  new RateLimiter.RateLimitStoreError({ message: `SqlRateLimiterStore failed to ${operation}`, cause })

/**
 * Deletes, now, the fixed windows that ended more than a minute ago and the token buckets not
 * refilled for a day; how many rows. The layer runs it every `pruneInterval`; several nodes running
 * it at once is harmless.
 *
 * @since 0.1.0
 * @category maintenance
 */
export const prune: Effect.Effect<number, SqlError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const table = sql(tables.rateLimits)
  const now = yield* Clock.currentTimeMillis
  const windowsBefore = now - WINDOW_GRACE_MILLIS
  const bucketsBefore = now - BUCKET_IDLE_MILLIS
  let total = 0
  for (;;) {
    // The condition again outside the subquery: on PostgreSQL, a row counted again meanwhile (a new
    // window) is checked once more when its lock is released, and kept.
    const deleted = yield* sql<{ readonly key: string }>`DELETE FROM ${table}
      WHERE key IN (
        SELECT key FROM ${table}
        WHERE (key LIKE 'w:%' AND expires_at < ${windowsBefore}) OR (key LIKE 'b:%' AND expires_at < ${bucketsBefore})
        LIMIT ${PRUNE_BATCH}
      )
      AND ((key LIKE 'w:%' AND expires_at < ${windowsBefore}) OR (key LIKE 'b:%' AND expires_at < ${bucketsBefore}))
      RETURNING key`
    total += deleted.length
    if (deleted.length < PRUNE_BATCH) return total
  }
})

/**
 * Runs the migrations, then serves the store over the `SqlClient` in context, deleting the rows past
 * their time every `pruneInterval` for as long as the scope is open (a failed round is logged as a
 * warning and tried again next time).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: SqlRateLimiterStoreOptions = {}
): Effect.Effect<RateLimiterStoreService, SqlError | MigrationError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    yield* migrate
    const sql = yield* SqlClient.SqlClient
    const table = sql(tables.rateLimits)
    const pruneInterval = Duration.decode(options.pruneInterval ?? "1 minute")

    const pruneRound = prune.pipe(
      Effect.tap((deleted) =>
        deleted > 0 ? Effect.logDebug(`SqlRateLimiterStore: deleted ${deleted} rows past their time`) : Effect.void
      ),
      Effect.catchAllCause((cause) =>
        Effect.logWarning("SqlRateLimiterStore: could not delete the rows past their time; trying again later", cause)
      )
    )
    yield* Effect.sleep(pruneInterval).pipe(Effect.zipRight(pruneRound), Effect.forever, Effect.forkScoped)

    const fixedWindow: RateLimiterStoreService["fixedWindow"] = (options) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const key = `w:${options.key}`
        const tokens = options.tokens
        // The columns hold whole milliseconds: a refill rate with a fraction lengthens by a little more.
        const lengthen = Math.ceil(Duration.toMillis(options.refillRate) * tokens)
        // As in the memory store, a limit of 0 is no limit.
        const limit = options.limit ? options.limit : undefined
        // A new window that the tokens alone put past the limit is over at once (the memory store's is empty).
        const fresh = limit !== undefined && tokens > limit ? now : now + lengthen
        const insert = sql.insert({ key, count: tokens, expires_at: fresh })
        // The existing row, by the table's name: a window that ended starts again; past the limit, the
        // count is kept with the refused tokens (so that the answer is above the limit) and the window
        // is not lengthened.
        const rows = yield* Effect.mapError(
          limit === undefined
            ? sql<Row>`INSERT INTO ${table} ${insert}
            ON CONFLICT (key) DO UPDATE SET
              count = CASE WHEN ${table}.expires_at <= ${now} THEN ${tokens} ELSE ${table}.count + ${tokens} END,
              expires_at = CASE WHEN ${table}.expires_at <= ${now} THEN ${fresh}
                ELSE ${table}.expires_at + ${lengthen} END
            RETURNING count, expires_at`
            : sql<Row>`INSERT INTO ${table} ${insert}
            ON CONFLICT (key) DO UPDATE SET
              count = CASE WHEN ${table}.expires_at <= ${now} THEN ${tokens} ELSE ${table}.count + ${tokens} END,
              expires_at = CASE WHEN ${table}.expires_at <= ${now} THEN ${fresh}
                WHEN ${table}.count + ${tokens} > ${limit} THEN ${table}.expires_at
                ELSE ${table}.expires_at + ${lengthen} END
            RETURNING count, expires_at`,
          storeFailed("count against a fixed window")
        )
        const row = rows[0]
        if (row === undefined) {
          return yield* new RateLimiter.RateLimitStoreError({
            message: "SqlRateLimiterStore failed to count against a fixed window: the database returned no row"
          })
        }
        // pg returns BIGINT as text.
        return [Number(row.count), Number(row.expires_at) - now] as const
      })

    const tokenBucket: RateLimiterStoreService["tokenBucket"] = (options) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const key = `b:${options.key}`
        const refillMillis = Duration.toMillis(options.refillRate)
        return yield* sql.withTransaction(Effect.gen(function*() {
          // A new bucket starts full.
          yield* sql`INSERT INTO ${table} ${
            sql.insert({ key, count: options.limit, expires_at: now })
          } ON CONFLICT (key) DO NOTHING`
          // PostgreSQL: the row is locked until the transaction ends, so that nodes take turns with it.
          // SQLite: the insert took the database's write lock for the transaction already.
          const rows = yield* sql.onDialectOrElse({
            pg: () => sql<Row>`SELECT count, expires_at FROM ${table} WHERE key = ${key} FOR UPDATE`,
            orElse: () => sql<Row>`SELECT count, expires_at FROM ${table} WHERE key = ${key}`
          })
          // Gone only if pruned since the insert (PostgreSQL): a new, full bucket.
          const before = rows[0] === undefined
            ? undefined
            : { count: Number(rows[0].count), lastRefill: Number(rows[0].expires_at) }
          let count = before?.count ?? options.limit
          let lastRefill = before?.lastRefill ?? now
          const refills = Math.floor((now - lastRefill) / refillMillis)
          if (refills > 0) {
            count = Math.min(options.limit, count + refills)
            // Whole milliseconds, rounded up: never after `now`.
            lastRefill = Math.ceil(lastRefill + refills * refillMillis)
          }
          const left = count - options.tokens
          if (options.allowOverflow || left >= 0) count = left
          if (before === undefined || before.count !== count || before.lastRefill !== lastRefill) {
            yield* sql`INSERT INTO ${table} ${sql.insert({ key, count, expires_at: lastRefill })}
              ON CONFLICT (key) DO UPDATE SET count = ${count}, expires_at = ${lastRefill}`
          }
          return left
        }))
      }).pipe(Effect.mapError(storeFailed("take from a token bucket")))

    return RateLimiter.RateLimiterStore.of({ fixedWindow, tokenBucket })
  })

/**
 * `RateLimiter.RateLimiterStore` over the application's `SqlClient`, with the options given.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: SqlRateLimiterStoreOptions
): Layer.Layer<RateLimiter.RateLimiterStore, SqlError | MigrationError, SqlClient.SqlClient> =>
  Layer.scoped(RateLimiter.RateLimiterStore, make(options))

/**
 * `RateLimiter.RateLimiterStore` over the application's `SqlClient`: runs the migrations, and deletes
 * the rows past their time every minute.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<RateLimiter.RateLimiterStore, SqlError | MigrationError, SqlClient.SqlClient> =
  layerWith({})
