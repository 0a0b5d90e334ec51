/**
 * One node of the durable engine: `@effect/cluster`'s workflow engine over a SQL database, which
 * holds the engine's messages and results as well as this library's tables.
 *
 * - SQLite (`layerSqlite`): one process, one file, a single runner (no network). It survives
 *   restarts and crashes; it is not shared.
 * - PostgreSQL (`layerPg`): any number of nodes on one database are one engine. Each node is a
 *   runner that owns a share of the workflows (PostgreSQL advisory locks), finds the others through
 *   the database, and talks to them over TCP at its `runnerAddress`; when a node dies, the others
 *   take its share over.
 *
 * The timings default to a quick failover (a dead node's work moves within a few seconds: on
 * PostgreSQL every node marks a runner unhealthy within about a second once none of its connections
 * is left and it does not answer a ping; otherwise the engine's health check finds it, or its
 * heartbeat expires after twenty seconds; and durable timers fire within half a second of their
 * time) that stays steady on a loaded machine; every node of an engine must use the same
 * `shardsPerGroup`.
 *
 * @since 0.1.0
 */
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import { EntityAddress } from "@effect/cluster/EntityAddress"
import { EntityId } from "@effect/cluster/EntityId"
import { EntityType } from "@effect/cluster/EntityType"
import { MessageStorage } from "@effect/cluster/MessageStorage"
import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import { Runners } from "@effect/cluster/Runners"
import { Sharding } from "@effect/cluster/Sharding"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SingleRunner from "@effect/cluster/SingleRunner"
import * as Singleton from "@effect/cluster/Singleton"
import * as SqlMessageStorage from "@effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import type { SocketServerError } from "@effect/platform/SocketServer"
import { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import * as Clock from "effect/Clock"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { importPeer, MissingPeerError } from "../internal/peers.js"
import * as CibaCompletion from "./CibaCompletion.js"
import * as DurableDecisions from "./DurableDecisions.js"
import { makeEnginePruner } from "./internal/retention.js"

export {
  /**
   * The database driver a layer needs is not installed (`@effect/sql-pg` for PostgreSQL,
   * `@effect/sql-sqlite-node` and `better-sqlite3` for SQLite); `install` says what adds it.
   *
   * @since 0.1.0
   * @category errors
   */
  MissingPeerError
}

/**
 * What a node provides: the workflow engine, the cluster it belongs to (and its message storage), and
 * the SQL client (for the stores of this library, which live in the same database).
 *
 * @since 0.1.0
 * @category models
 */
export type ClusterNodeServices = WorkflowEngine | Sharding | MessageStorage | SqlClient

/**
 * Why a node could not start: the database (`SqlError`), the configuration, or the runner's socket.
 *
 * @since 0.1.0
 * @category models
 */
export type ClusterNodeError = SqlError | ConfigError.ConfigError | SocketServerError | MissingPeerError

/**
 * The timings a node uses unless told otherwise.
 *
 * @since 0.1.0
 * @category config
 */
export const defaultShardingConfig: Partial<ShardingConfig.ShardingConfig["Type"]> = {
  // Every node must use the same number. A shard is one lock a node takes, refreshes and releases, one
  // query at a time: @effect/cluster's 300 make a membership change take seconds, 30 suit a few dozen nodes.
  shardsPerGroup: 30,
  // Also the precision of durable timers: a due timer fires on the next poll.
  entityMessagePollInterval: Duration.millis(500),
  refreshAssignmentsInterval: Duration.seconds(1),
  runnerHealthCheckInterval: Duration.seconds(2),
  // Heartbeats and shard locks: each lock operation may take this long (lower fails on a loaded machine,
  // and a node whose lock operations time out lets go of all its shards). A node whose heartbeat is
  // older than the expiration is gone; the health check usually finds a dead node sooner.
  shardLockRefreshInterval: Duration.seconds(5),
  shardLockExpiration: Duration.seconds(20),
  // On SIGTERM, how long a node waits for the steps it is running before it lets go of them.
  entityTerminationTimeout: Duration.seconds(5)
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SqliteNodeOptions {
  readonly filename: string
  readonly shardingConfig?: Partial<ShardingConfig.ShardingConfig["Type"]> | undefined
}

/**
 * A single node on a SQLite file (created when missing, in WAL mode). SQLite's driver is loaded when
 * the layer is built, so an application on PostgreSQL needs none of SQLite's packages.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSqlite = (
  options: SqliteNodeOptions
): Layer.Layer<ClusterNodeServices, ClusterNodeError> =>
  ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(
      SingleRunner.layer({ shardingConfig: { ...defaultShardingConfig, ...options.shardingConfig } })
    ),
    Layer.provideMerge(Layer.unwrapEffect(
      importPeer(
        ["@effect/sql-sqlite-node", "better-sqlite3"],
        () => import("@effect/sql-sqlite-node/SqliteClient")
      ).pipe(Effect.map((SqliteClient) => SqliteClient.layer({ filename: options.filename })))
    ))
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface PgNodeOptions {
  readonly url: Redacted.Redacted<string>
  /** Where the other nodes reach this one: unique per node, and the same across its restarts. */
  readonly runnerAddress: { readonly host: string; readonly port: number }
  /** Where to listen, when it is not `runnerAddress` (behind NAT, or `0.0.0.0`). */
  readonly listenAddress?: { readonly host: string; readonly port: number } | undefined
  /** Default 10. */
  readonly maxConnections?: number | undefined
  readonly shardingConfig?: Partial<ShardingConfig.ShardingConfig["Type"]> | undefined
}

/**
 * The `application_name` of a node's connections to PostgreSQL: it names the node's runner address,
 * so that the other nodes see in `pg_stat_activity` whether that node's process still holds any.
 */
const APPLICATION_NAME_PREFIX = "effect-authlete "

const applicationNameOf = (address: { readonly host: string; readonly port: number }): string =>
  `${APPLICATION_NAME_PREFIX}${address.host}:${address.port}`

/** How often each node looks for runners whose process died. */
const DEAD_RUNNER_CHECK_MILLIS = 1_000

/**
 * Marks unhealthy, as soon as it is seen, a runner whose process died: one that PostgreSQL knows no
 * connection of any more (a killed process's connections end with it, and with them its shard locks)
 * and that does not answer a ping. @effect/cluster finds dead runners with its health check, a
 * singleton that pings each runner six times half a second apart every `runnerHealthCheckInterval`
 * (3 to 7 seconds after a death, more on a loaded machine), and which does not run at all while the
 * node that held it is the dead one: that node's shards, the health check's among them, then wait
 * for its restart or for its heartbeat to expire (`shardLockExpiration`, 20 seconds), and so do the
 * durable timers due on them. Every node runs this check, so it does not depend on which one died;
 * the engine's own health check and a restarted node's registration mark the runner healthy again.
 * A live node always has connections (its shard locks keep one), and one that lost all of them but
 * answers the ping is left alone.
 */
const deadRunnerDetector = (self: { readonly host: string; readonly port: number }) =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const sql = yield* SqlClient
    const runners = yield* Runners
    const selfAddress = `${self.host}:${self.port}`
    // PostgreSQL keeps the first 63 bytes of an application_name.
    const withoutConnection = (address: string) =>
      sql`NOT EXISTS (
        SELECT 1 FROM pg_stat_activity a WHERE a.application_name = left(${APPLICATION_NAME_PREFIX} || ${address}, 63)
      )`
    const check = Effect.gen(function*() {
      const candidates = yield* sql<{ address: string }>`
        SELECT r.address FROM cluster_runners r
        WHERE r.healthy AND r.address <> ${selfAddress}
        AND EXISTS (SELECT 1 FROM cluster_runners s WHERE s.address = ${selfAddress} AND s.healthy)
        AND NOT EXISTS (
          SELECT 1 FROM pg_stat_activity a WHERE a.application_name = left(${APPLICATION_NAME_PREFIX} || r.address, 63)
        )`
      for (const { address } of candidates) {
        const colon = address.lastIndexOf(":")
        const alive = yield* runners.ping(RunnerAddress.make(address.slice(0, colon), Number(address.slice(colon + 1))))
          .pipe(Effect.timeout("2 seconds"), Effect.isSuccess)
        if (alive) continue
        // Not if it came back meanwhile: a restarted node connects before it registers.
        const marked = yield* sql<{ address: string }>`
          UPDATE cluster_runners SET healthy = FALSE
          WHERE address = ${address} AND healthy AND ${withoutConnection(address)}
          RETURNING address`
        if (marked.length > 0) {
          yield* Effect.logInfo("A runner died: its shards move to the others").pipe(
            Effect.annotateLogs({ runner: address })
          )
        }
      }
    })
    yield* check.pipe(
      Effect.catchAllCause((cause) => Effect.logDebug("Could not look for dead runners", cause)),
      Effect.repeat(Schedule.spaced(Duration.millis(DEAD_RUNNER_CHECK_MILLIS))),
      Effect.forkScoped
    )
  }))

/** The PostgreSQL advisory lock under which a node creates the engine's tables (a fixed key of ours). */
const ENGINE_TABLES_LOCK = 0x65_61_75_74

/**
 * Creates the engine's tables under a PostgreSQL advisory lock, before the node's own storage is
 * built. @effect/cluster creates them as its layers are built, with statements that race when nodes
 * start together on an empty database (two `CREATE TABLE IF NOT EXISTS` collide in PostgreSQL's
 * catalog, and its migrations table is created without `IF NOT EXISTS`); the loser dies. Building
 * the engine's own storage once under the lock creates every table with the engine's own statements,
 * so the node's statements that follow find them and do nothing. A failure is tried again (a node of
 * an older version may race without the lock).
 */
const engineTables = (
  shardingConfig: Partial<ShardingConfig.ShardingConfig["Type"]>
): Layer.Layer<never, never, SqlClient> =>
  Layer.effectDiscard(
    Effect.scoped(Effect.gen(function*() {
      const connection = yield* (yield* SqlClient).reserve
      yield* Effect.acquireRelease(
        connection.executeRaw("SELECT pg_advisory_lock($1)", [ENGINE_TABLES_LOCK]),
        // Released before the connection goes back to the pool: a session's lock outlives a transaction.
        () => Effect.ignore(connection.executeRaw("SELECT pg_advisory_unlock($1)", [ENGINE_TABLES_LOCK]))
      )
      yield* Effect.scoped(Layer.build(
        Layer.merge(SqlMessageStorage.layer, SqlRunnerStorage.layer).pipe(
          Layer.provide(ShardingConfig.layer(shardingConfig))
        )
      ))
    })).pipe(
      Effect.sandbox,
      Effect.retry({ times: 10, schedule: Schedule.spaced("250 millis") }),
      Effect.catchAll((cause) => Effect.logWarning("Could not create the engine's tables first", cause))
    )
  )

/**
 * A node of an engine shared by every node on the same PostgreSQL database. PostgreSQL's driver is
 * loaded when the layer is built, so an application on SQLite needs none of its packages.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPg = (options: PgNodeOptions): Layer.Layer<ClusterNodeServices, ClusterNodeError> =>
  ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(deadRunnerDetector(options.runnerAddress)),
    Layer.provideMerge(
      NodeClusterSocket.layer({
        storage: "sql",
        shardingConfig: {
          ...defaultShardingConfig,
          runnerAddress: Option.some(RunnerAddress.make(options.runnerAddress.host, options.runnerAddress.port)),
          runnerListenAddress: options.listenAddress === undefined
            ? Option.none()
            : Option.some(RunnerAddress.make(options.listenAddress.host, options.listenAddress.port)),
          ...options.shardingConfig
        }
      }).pipe(Layer.provide(engineTables({ ...defaultShardingConfig, ...options.shardingConfig })))
    ),
    Layer.provideMerge(Layer.unwrapEffect(
      importPeer(["@effect/sql-pg"], () => import("@effect/sql-pg/PgClient")).pipe(
        Effect.map((PgClient) =>
          PgClient.layer({
            url: options.url,
            maxConnections: options.maxConnections ?? 10,
            applicationName: applicationNameOf(options.runnerAddress)
          })
        )
      )
    ))
  )

/**
 * Whether a database URL names PostgreSQL (`postgres://` or `postgresql://`); anything else is a
 * SQLite file (a path, or `sqlite:` / `file:` followed by one).
 *
 * @since 0.1.0
 * @category models
 */
export const isPostgresUrl = (url: string): boolean => /^postgres(?:ql)?:\/\//i.test(url)

/**
 * The SQLite file a database URL that is not PostgreSQL's names.
 *
 * @since 0.1.0
 * @category models
 */
export const sqliteFilename = (url: string): string => url.replace(/^(?:sqlite|file):(?:\/\/)?/i, "")

/**
 * Makes the messages of stalled workflows readable again. @effect/cluster 0.60 marks a message as
 * read when a node takes it from storage; if that node dies (or lets the shard go) before it replies,
 * the message is read again only when a node acquires the shard, which can happen before the read it
 * races with, or after ten minutes. For a CIBA request that is minutes too late.
 */
const nudge = (executionIds: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sharding = yield* Sharding
    const storage = yield* MessageStorage
    const entityTypes = [`Workflow/${CibaCompletion.CibaCompletion.name}`, "Workflow/-/DurableClock"]
    for (const executionId of executionIds) {
      const entityId = EntityId.make(executionId)
      const shardId = sharding.getShardId(entityId, "default")
      for (const entityType of entityTypes) {
        yield* storage.resetAddress(new EntityAddress({ entityType: EntityType.make(entityType), entityId, shardId }))
      }
    }
    if (executionIds.length > 0) yield* sharding.pollStorage
  })

/**
 * How long the rows of a finished workflow are kept unless told otherwise: 7 days.
 *
 * @since 0.1.0
 * @category config
 */
export const defaultRetention: Duration.Duration = Duration.days(7)

/**
 * @since 0.1.0
 * @category models
 */
export interface SweeperOptions {
  /** How often the upkeep runs. Default 2 seconds. */
  readonly interval?: Duration.DurationInput | undefined
  /**
   * How long after a workflow finished its rows are kept: the engine's history of it, its request
   * with the decision. Default `defaultRetention` (7 days); `Duration.infinity` keeps everything.
   */
  readonly retention?: Duration.DurationInput | undefined
}

const isSweeperOptions = (input: SweeperOptions | Duration.DurationInput): input is SweeperOptions =>
  typeof input === "object" && !Array.isArray(input) && !Duration.isDuration(input)

/** The most time between two rounds of pruning (less when the retention is shorter). */
const PRUNE_EVERY_MILLIS = 60_000

/**
 * Runs the durable decisions' upkeep (`DurableDecisions.Upkeep`) every `interval` (default 2
 * seconds) on one node of the cluster at a time (a cluster singleton: when its node dies, another
 * takes it), and revives stalled workflows: resumes those that are suspended and makes the
 * messages of the others readable again, each at most every five seconds.
 *
 * It also deletes what finished longer ago than `retention` (default 7 days): the engine's
 * messages and replies of those workflows (`cluster_messages`, `cluster_replies`, their durable
 * clocks included), their requests, and the notification endpoints no notification refreshed
 * since. It prunes once a minute (or once per retention, if shorter), in statements of at most
 * 1,000 rows and at most ten of them per table, sooner again while a backlog remains. Sealed
 * secrets never wait for it: they go once delivered or expired. A workflow that never finishes
 * keeps its rows.
 *
 * The argument is the options, or (as before them) the interval alone.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSweeper = (
  options: SweeperOptions | Duration.DurationInput = {}
): Layer.Layer<never, never, Sharding | MessageStorage | SqlClient | DurableDecisions.Upkeep> => {
  const { interval = "2 seconds", retention = defaultRetention } = isSweeperOptions(options)
    ? options
    : { interval: options }
  const retentionMillis = Duration.toMillis(retention)
  const pruneEvery = Math.min(PRUNE_EVERY_MILLIS, retentionMillis)
  return Singleton.make(
    "effect-authlete/DurableDecisions/sweep",
    Effect.gen(function*() {
      const upkeep = yield* DurableDecisions.Upkeep
      const engine = yield* makeEnginePruner(CibaCompletion.CibaCompletion.name)
      const nudged = new Map<string, number>()
      const round = Effect.gen(function*() {
        yield* upkeep.sweep
        const now = yield* Clock.currentTimeMillis
        for (const [executionId, at] of nudged) if (at < now - 60_000) nudged.delete(executionId)
        const due = (yield* upkeep.stalled).filter((executionId) => (nudged.get(executionId) ?? 0) < now - 5_000)
        for (const executionId of due) nudged.set(executionId, now)
        yield* upkeep.revive(due)
        yield* nudge(due)
      })
      let pruneAt = 0
      const prune = Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        if (!Number.isFinite(retentionMillis) || now < pruneAt) return
        pruneAt = now + pruneEvery
        const before = now - retentionMillis
        const ours = yield* upkeep.prune(before)
        const theirs = yield* engine.prune(before)
        if (ours.backlog || theirs.backlog) pruneAt = now
        if (ours.deleted + theirs.deleted > 0) {
          yield* Effect.logDebug("Deleted what finished before the retention").pipe(
            Effect.annotateLogs({ storeRows: ours.deleted, engineMessages: theirs.deleted })
          )
        }
      })
      yield* round.pipe(
        Effect.catchAll((error) => Effect.logWarning(`The durable decisions' upkeep failed: ${error.message}`)),
        Effect.zipRight(prune.pipe(
          Effect.catchAll((error) =>
            Effect.logWarning(`Deleting what finished before the retention failed: ${error.message}`)
          )
        )),
        Effect.repeat(Schedule.spaced(interval))
      )
    })
  )
}
