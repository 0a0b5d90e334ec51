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
 * The timings default to a quick failover (a dead node's work moves within about ten seconds, and
 * durable timers fire within half a second of their time); every node of an engine must use the same
 * `shardsPerGroup`.
 *
 * @since 0.1.0
 */
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import type { Sharding } from "@effect/cluster/Sharding"
import type * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SingleRunner from "@effect/cluster/SingleRunner"
import * as Singleton from "@effect/cluster/Singleton"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import type { SocketServerError } from "@effect/platform/SocketServer"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import { Duration, Effect, Layer, Option, type Redacted, Schedule } from "effect"
import type { ConfigError } from "effect"
import * as DurableDecisions from "./DurableDecisions.js"
import type { NotificationVault } from "./NotificationVault.js"
import type { SqlPendingRequestStore } from "./SqlPendingRequestStore.js"

/**
 * What a node provides: the workflow engine, the cluster it belongs to, and the SQL client (for the
 * stores of this library, which live in the same database).
 *
 * @since 0.1.0
 * @category models
 */
export type ClusterNodeServices = WorkflowEngine | Sharding | SqlClient

/**
 * Why a node could not start: the database (`SqlError`), the configuration, or the runner's socket.
 *
 * @since 0.1.0
 * @category models
 */
export type ClusterNodeError = SqlError | ConfigError.ConfigError | SocketServerError

/**
 * The timings a node uses unless told otherwise.
 *
 * @since 0.1.0
 * @category config
 */
export const defaultShardingConfig: Partial<ShardingConfig.ShardingConfig["Type"]> = {
  // Also the precision of durable timers: a due timer fires on the next poll.
  entityMessagePollInterval: Duration.millis(500),
  refreshAssignmentsInterval: Duration.seconds(1),
  runnerHealthCheckInterval: Duration.seconds(2),
  // A node whose heartbeat is older than the expiration is gone; its shards move.
  shardLockRefreshInterval: Duration.seconds(2),
  shardLockExpiration: Duration.seconds(8),
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
 * A single node on a SQLite file (created when missing, in WAL mode).
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
    Layer.provideMerge(SqliteClient.layer({ filename: options.filename }))
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
 * A node of an engine shared by every node on the same PostgreSQL database.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPg = (options: PgNodeOptions): Layer.Layer<ClusterNodeServices, ClusterNodeError> =>
  ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(NodeClusterSocket.layer({
      storage: "sql",
      shardingConfig: {
        ...defaultShardingConfig,
        runnerAddress: Option.some(RunnerAddress.make(options.runnerAddress.host, options.runnerAddress.port)),
        runnerListenAddress: options.listenAddress === undefined
          ? Option.none()
          : Option.some(RunnerAddress.make(options.listenAddress.host, options.listenAddress.port)),
        ...options.shardingConfig
      }
    })),
    Layer.provideMerge(PgClient.layer({
      url: options.url,
      maxConnections: options.maxConnections ?? 10,
      applicationName: "effect-authlete"
    }))
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
 * Runs `DurableDecisions.sweep` every `interval` (default 5 seconds) on one node of the cluster at a
 * time (a cluster singleton: when its node dies, another takes it).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSweeper = (
  interval: Duration.DurationInput = "5 seconds"
): Layer.Layer<never, never, Sharding | WorkflowEngine | SqlPendingRequestStore | NotificationVault> =>
  Singleton.make(
    "effect-authlete/DurableDecisions/sweep",
    DurableDecisions.sweep.pipe(
      Effect.catchAll((error) => Effect.logWarning(`The durable decisions' upkeep failed: ${error.message}`)),
      Effect.repeat(Schedule.spaced(interval)),
      Effect.asVoid
    )
  )
