/**
 * Whether a node holds its share of the cluster: the readiness check a load balancer asks before
 * it sends a node work (`HealthRoutes.healthRouter`'s `checks`). A node that has just joined, or
 * that lost its shard locks to a slow database, carries out no workflow of the shards it lacks.
 *
 * @since 0.1.0
 */
import * as ShardId from "@effect/cluster/ShardId"
import { Sharding } from "@effect/cluster/Sharding"
import { SqlClient } from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as ClusterNode from "./ClusterNode.js"

/**
 * The node does not hold its share: `held` of the `shards`, with `nodes` alive.
 *
 * @since 0.1.0
 * @category errors
 */
export class ClusterShareError extends Schema.TaggedError<ClusterShareError>(
  "effect-authlete/sql/ClusterShareError"
)("ClusterShareError", {
  held: Schema.Number,
  shards: Schema.Number,
  nodes: Schema.Number
}) {
  override get message(): string {
    return this.nodes === 0
      ? "The node has stopped taking part in the cluster"
      : `The node holds ${this.held} of ${this.shards} shards, with ${this.nodes} nodes alive`
  }
}

/**
 * Succeeds with the shards the node holds when it holds at least half of an even share of them
 * (all of them alone on SQLite); fails with `ClusterShareError` while it is shut down or short of
 * that. The nodes alive are read from @effect/cluster's runners table on PostgreSQL.
 *
 * @since 0.1.0
 * @category checks
 */
export const holdsShare = (options: {
  readonly shardsPerGroup?: number | undefined
  readonly tablePrefix?: string | undefined
} = {}): Effect.Effect<number, ClusterShareError, Sharding | SqlClient> =>
  Effect.gen(function*() {
    const sharding = yield* Sharding
    const shards = options.shardsPerGroup ?? ClusterNode.defaultShardingConfig.shardsPerGroup ?? 300
    if (yield* sharding.isShutdown) return yield* new ClusterShareError({ held: 0, shards, nodes: 0 })
    let held = 0
    for (let id = 1; id <= shards; id++) if (sharding.hasShardId(ShardId.make("default", id))) held++
    const sql = yield* SqlClient
    const runners = sql(`${options.tablePrefix ?? "cluster"}_runners`)
    // The nodes alive now: healthy, with a heartbeat newer than a shard lock's expiry.
    const nodes = yield* sql.onDialectOrElse({
      pg: () =>
        sql<{ readonly nodes: number }>`SELECT count(*)::int AS nodes FROM ${runners}
          WHERE healthy AND last_heartbeat > NOW() - INTERVAL '20 seconds'`.pipe(
          Effect.map((rows) => Math.max(1, rows[0]?.nodes ?? 1)),
          Effect.orElseSucceed(() => 1)
        ),
      orElse: () => Effect.succeed(1)
    })
    if (held * 2 < Math.floor(shards / nodes)) return yield* new ClusterShareError({ held, shards, nodes })
    return held
  })
