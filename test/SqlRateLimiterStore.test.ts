/**
 * The rate limiter's store over SQLite, in a temporary file: `RateLimiter` over it refuses past the
 * limit until the window ends; two nodes on one database share the counts; a scripted run answers as
 * `@effect/experimental`'s memory store does; buckets with more tokens asked than they hold; the rows
 * past their time deleted in the background, the others kept; the migration run twice.
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Layer, TestClock } from "effect"
import { Migrations, SqlRateLimiterStore } from "effect-authlete/sql"
import { join } from "node:path"
import { tempDirectory } from "./support/tempDirectory.js"

/** One node: the store (with its own connection) and its `SqlClient`. */
const StoreOn = (filename: string, options: SqlRateLimiterStore.SqlRateLimiterStoreOptions = {}) =>
  SqlRateLimiterStore.layerWith(options).pipe(Layer.provideMerge(SqliteClient.layer({ filename })))

/** A database file of its own, removed with the test's scope. */
const databaseFile = Effect.map(
  tempDirectory("effect-authlete-rate-limits-"),
  (directory) => join(directory, "limits.db")
)

const keys = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ readonly key: string }>`SELECT key FROM ${sql(Migrations.tables.rateLimits)} ORDER BY key`
  return rows.map((row) => row.key)
})

/** Waits (real time, up to a second) for the background fiber to have done what `check` looks for. */
const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, what: string) =>
  Effect.gen(function*() {
    for (let attempt = 0; attempt < 200; attempt++) {
      if (yield* check) return
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
    }
    assert.fail(`timed out waiting until ${what}`)
  })

const millis = (duration: Duration.Duration) => Duration.toMillis(duration)

type Step =
  | { readonly _tag: "window"; readonly key: string; readonly tokens: number; readonly limit: number | undefined }
  | {
    readonly _tag: "bucket"
    readonly key: string
    readonly tokens: number
    readonly limit: number
    readonly allowOverflow: boolean
  }
  | { readonly _tag: "adjust"; readonly millis: number }

const REFILL = Duration.millis(1000)
const window = (key: string, tokens: number, limit?: number): Step => ({ _tag: "window", key, tokens, limit })
const bucket = (key: string, tokens: number, limit: number, allowOverflow = false): Step => ({
  _tag: "bucket",
  key,
  tokens,
  limit,
  allowOverflow
})
const adjust = (millis: number): Step => ({ _tag: "adjust", millis })

/** Runs the steps against the store in context: what each call answered. */
const run = (steps: ReadonlyArray<Step>) =>
  Effect.gen(function*() {
    const store = yield* RateLimiter.RateLimiterStore
    const answers: Array<unknown> = []
    for (const step of steps) {
      if (step._tag === "adjust") {
        yield* TestClock.adjust(step.millis)
      } else if (step._tag === "window") {
        answers.push(yield* store.fixedWindow({ ...step, refillRate: REFILL }))
      } else {
        answers.push(yield* store.tokenBucket({ ...step, refillRate: REFILL }))
      }
    }
    return answers
  })

describe("SqlRateLimiterStore", () => {
  it.scoped("RateLimiter over it: three in a minute pass, the fourth is refused until the window ends", () =>
    Effect.gen(function*() {
      const filename = yield* databaseFile
      yield* Effect.gen(function*() {
        const limiter = yield* RateLimiter.RateLimiter
        const consume = limiter.consume({
          algorithm: "fixed-window",
          onExceeded: "fail",
          key: "client-1",
          limit: 3,
          window: "1 minute"
        })
        for (const remaining of [2, 1, 0]) assert.strictEqual((yield* consume).remaining, remaining)

        const refused = yield* Effect.flip(consume)
        assert.strictEqual(refused.reason, "Exceeded")
        assert.instanceOf(refused, RateLimiter.RateLimitExceeded)
        assert.strictEqual(millis((refused as RateLimiter.RateLimitExceeded).retryAfter), 60_000)

        yield* TestClock.adjust("30 seconds")
        const stillRefused = yield* Effect.flip(consume)
        assert.strictEqual(millis((stillRefused as RateLimiter.RateLimitExceeded).retryAfter), 30_000)

        // Another key has a window of its own.
        const other = yield* limiter.consume({ onExceeded: "fail", key: "client-2", limit: 3, window: "1 minute" })
        assert.strictEqual(other.remaining, 2)

        yield* TestClock.adjust("30 seconds")
        const again = yield* consume
        assert.strictEqual(again.remaining, 2)
        assert.strictEqual(millis(again.resetAfter), 20_000)
      }).pipe(Effect.provide(RateLimiter.layer.pipe(Layer.provide(StoreOn(filename)))))
    }))

  it.scoped("two nodes on one database share the counts", () =>
    Effect.gen(function*() {
      const filename = yield* databaseFile
      const nodeA = Context.get(yield* Layer.build(StoreOn(filename)), RateLimiter.RateLimiterStore)
      const nodeB = Context.get(yield* Layer.build(StoreOn(filename)), RateLimiter.RateLimiterStore)
      const take = (store: typeof nodeA) =>
        store.fixedWindow({ key: "user-1", tokens: 1, refillRate: Duration.seconds(20), limit: 3 })

      assert.deepStrictEqual(yield* take(nodeA), [1, 20_000])
      assert.deepStrictEqual(yield* take(nodeA), [2, 40_000])
      assert.deepStrictEqual(yield* take(nodeB), [3, 60_000])
      const [refusedCount, ttl] = yield* take(nodeB)
      assert.isAbove(refusedCount, 3)
      assert.strictEqual(ttl, 60_000)
      assert.isAbove((yield* take(nodeA))[0], 3)

      const takeTwo = (store: typeof nodeA) =>
        store.tokenBucket({
          key: "user-1",
          tokens: 2,
          limit: 3,
          refillRate: Duration.seconds(20),
          allowOverflow: false
        })
      assert.strictEqual(yield* takeTwo(nodeA), 1)
      assert.strictEqual(yield* takeTwo(nodeB), -1)
      yield* TestClock.adjust("20 seconds")
      assert.strictEqual(yield* takeTwo(nodeB), 0)
      assert.strictEqual(yield* takeTwo(nodeA), -2)
    }))

  it.scoped("answers a scripted run as the memory store does", () =>
    Effect.gen(function*() {
      const filename = yield* databaseFile
      const script: ReadonlyArray<Step> = [
        // A fixed window with a limit: peeked at (0 tokens), filled, refused, then over. (Past a
        // refusal, this store's counts run higher: see the next test but one.)
        window("a", 1, 3),
        window("a", 1, 3),
        adjust(500),
        window("a", 0, 3),
        window("a", 1, 3),
        window("a", 1, 3),
        adjust(2_500),
        window("a", 0, 3),
        window("a", 2, 3),
        adjust(1_000),
        window("a", 1, 3),
        // Without a limit (RateLimiter's "delay"): every call counts.
        window("b", 2),
        window("b", 2),
        adjust(1_500),
        window("b", 3),
        adjust(10_000),
        window("b", 1),
        // More tokens than the limit: refused, and the window is over at once.
        window("c", 5, 3),
        window("c", 1, 3),
        // A bucket: emptied, refused, refilled one token a second (capped at the limit).
        bucket("x", 1, 3),
        bucket("x", 1, 3),
        bucket("x", 1, 3),
        bucket("x", 1, 3),
        adjust(1_500),
        bucket("x", 1, 3),
        adjust(600),
        bucket("x", 2, 3),
        adjust(10_000),
        bucket("x", 3, 3),
        bucket("x", 1, 3),
        // Overflowing (RateLimiter's "delay"): the debt is kept and paid back by refills.
        bucket("y", 2, 3, true),
        bucket("y", 2, 3, true),
        bucket("y", 2, 3, true),
        adjust(2_000),
        bucket("y", 1, 3, true),
        adjust(3_999),
        bucket("y", 0, 3, true),
        adjust(1),
        bucket("y", 0, 3, true)
      ]
      const memory = yield* run(script).pipe(Effect.provide(RateLimiter.layerStoreMemory))
      const sql = yield* run(script).pipe(Effect.provide(StoreOn(filename)))
      assert.deepStrictEqual(sql, memory)
      // And what they answered, so that a change to both is seen too.
      assert.deepStrictEqual(memory.slice(0, 8), [
        [1, 1_000],
        [2, 2_000],
        [2, 1_500],
        [3, 2_500],
        [4, 2_500],
        [0, 0],
        [2, 2_000],
        [3, 2_000]
      ])
      assert.deepStrictEqual(memory.slice(-8), [0, -1, 1, -1, -3, -2, 1, 2])
    }))

  it.scoped("buckets asked for more tokens than they hold: refused and kept, or overdrawn", () =>
    Effect.gen(function*() {
      const filename = yield* databaseFile
      yield* Effect.gen(function*() {
        const store = yield* RateLimiter.RateLimiterStore
        const take = (key: string, tokens: number, allowOverflow: boolean) =>
          store.tokenBucket({ key, tokens, limit: 3, refillRate: REFILL, allowOverflow })

        // Without overflow, a refusal takes nothing.
        assert.strictEqual(yield* take("strict", 5, false), -2)
        assert.strictEqual(yield* take("strict", 4, false), -1)
        assert.strictEqual(yield* take("strict", 3, false), 0)
        assert.strictEqual(yield* take("strict", 1, false), -1)
        yield* TestClock.adjust(1_000)
        assert.strictEqual(yield* take("strict", 1, false), 0)

        // With overflow, the bucket goes below zero and refills from there, up to the limit only.
        assert.strictEqual(yield* take("loose", 5, true), -2)
        assert.strictEqual(yield* take("loose", 1, true), -3)
        yield* TestClock.adjust(4_000)
        assert.strictEqual(yield* take("loose", 0, true), 1)
        yield* TestClock.adjust(60_000)
        assert.strictEqual(yield* take("loose", 0, true), 3)

        // A fixed window asked for more than its limit: refused, and the next call starts afresh.
        assert.deepStrictEqual(
          yield* store.fixedWindow({ key: "w", tokens: 5, refillRate: REFILL, limit: 3 }),
          [5, 0]
        )
        assert.deepStrictEqual(
          yield* store.fixedWindow({ key: "w", tokens: 3, refillRate: REFILL, limit: 3 }),
          [3, 3_000]
        )
      }).pipe(Effect.provide(StoreOn(filename)))
    }))

  it.scoped("a refused fixed-window count keeps the refused tokens until the window ends (stricter than memory)", () =>
    Effect.gen(function*() {
      const filename = yield* databaseFile
      yield* Effect.gen(function*() {
        const store = yield* RateLimiter.RateLimiterStore
        const take = (tokens: number) => store.fixedWindow({ key: "k", tokens, refillRate: REFILL, limit: 3 })
        assert.deepStrictEqual(yield* take(2), [2, 2_000])
        assert.deepStrictEqual(yield* take(2), [4, 2_000])
        // The memory store would take this one ([3, 3000]): here the refused 2 still count.
        assert.deepStrictEqual(yield* take(1), [5, 2_000])
        yield* TestClock.adjust(2_000)
        assert.deepStrictEqual(yield* take(1), [1, 1_000])
      }).pipe(Effect.provide(StoreOn(filename)))
    }))

  it.scoped("deletes the rows past their time every pruneInterval, and keeps the others", () =>
    Effect.gen(function*() {
      const filename = yield* databaseFile
      yield* Effect.gen(function*() {
        const store = yield* RateLimiter.RateLimiterStore
        const fixed = (key: string, refillMillis: number) =>
          store.fixedWindow({ key, tokens: 1, refillRate: Duration.millis(refillMillis), limit: 3 })
        const take = (key: string) =>
          store.tokenBucket({ key, tokens: 1, limit: 3, refillRate: REFILL, allowOverflow: false })

        yield* fixed("ended", 1_000) // ends at 1 s
        yield* fixed("just-ended", 570_000) // ends at 9.5 min, less than the minute's grace before the round
        yield* fixed("live", 2 * 60 * 60 * 1000) // ends at 2 h
        yield* take("idle") // last refill at 0
        assert.deepStrictEqual(yield* keys, ["b:idle", "w:ended", "w:just-ended", "w:live"])

        yield* TestClock.adjust("10 minutes")
        yield* eventually(Effect.map(keys, (keys) => !keys.includes("w:ended")), "the ended window is deleted")
        assert.deepStrictEqual(yield* keys, ["b:idle", "w:just-ended", "w:live"])

        yield* TestClock.adjust("2 hours")
        yield* take("busy") // last refill at 2 h 10 min
        yield* TestClock.adjust("23 hours")
        yield* eventually(Effect.map(keys, (keys) => !keys.includes("b:idle")), "the idle bucket is deleted")
        assert.deepStrictEqual(yield* keys, ["b:busy"])
        // A deleted bucket starts full again.
        assert.strictEqual(yield* take("idle"), 2)
      }).pipe(Effect.provide(StoreOn(filename, { pruneInterval: "10 minutes" })))
    }))

  it.scoped("a failed prune round is tried again at the next one; prune deletes in batches", () =>
    Effect.gen(function*() {
      const filename = yield* databaseFile
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const table = Migrations.tables.rateLimits
        const rows = Array.from({ length: 2_500 }, (_, i) => ({ key: `w:${i}`, count: 1, expires_at: 0 }))
        yield* sql`INSERT INTO ${sql(table)} ${sql.insert(rows)}`
        // Every delete fails while this trigger is there.
        yield* sql`CREATE TRIGGER effect_authlete_rate_limits_stuck BEFORE DELETE ON ${sql(table)}
          BEGIN SELECT RAISE(ABORT, 'stuck'); END`
        yield* TestClock.adjust("2 minutes")
        assert.strictEqual((yield* keys).length, 2_500)
        yield* sql`DROP TRIGGER effect_authlete_rate_limits_stuck`
        yield* TestClock.adjust("1 minute")
        yield* eventually(Effect.map(keys, (keys) => keys.length === 0), "the next round deletes the rows")

        yield* sql`INSERT INTO ${sql(table)} ${sql.insert(rows)}`
        assert.strictEqual(yield* SqlRateLimiterStore.prune, 2_500)
        assert.deepStrictEqual(yield* keys, [])
      }).pipe(Effect.provide(StoreOn(filename, { pruneInterval: "1 minute" })))
    }))

  it.scoped("the migration runs once: the layer built twice on one file keeps the counts", () =>
    Effect.gen(function*() {
      const filename = yield* databaseFile
      const take = Effect.flatMap(
        RateLimiter.RateLimiterStore,
        (store) => store.fixedWindow({ key: "k", tokens: 1, refillRate: REFILL, limit: 3 })
      )
      assert.deepStrictEqual(yield* Effect.provide(take, StoreOn(filename)), [1, 1_000])
      yield* Effect.gen(function*() {
        assert.deepStrictEqual(yield* take, [2, 2_000])
        const sql = yield* SqlClient.SqlClient
        const recorded = yield* sql<{ readonly migration_id: number }>`SELECT migration_id FROM ${
          sql(Migrations.tables.migrations)
        } ORDER BY migration_id`
        assert.deepStrictEqual(recorded.map((row) => row.migration_id), [1, 2, 3])
        assert.deepStrictEqual(yield* Migrations.migrate, [])
      }).pipe(Effect.provide(StoreOn(filename)))
    }))
})
