/**
 * `effect-authlete/sql`: a CIBA authorization server that survives restarts and runs on several
 * nodes. The pending-request store over `@effect/sql` (SQLite or PostgreSQL), secrets sealed with
 * AES-256-GCM, and `Decisions` carried out by a durable `@effect/workflow` on `@effect/cluster`.
 *
 * @since 0.1.0
 */
export * as CibaCompletion from "./CibaCompletion.js"
export * as ClusterNode from "./ClusterNode.js"
export * as ClusterReadiness from "./ClusterReadiness.js"
export * as DurableDecisions from "./DurableDecisions.js"
export * as Migrations from "./Migrations.js"
export * as NotificationVault from "./NotificationVault.js"
export * as SecretBox from "./SecretBox.js"
export * as SqlPendingRequestStore from "./SqlPendingRequestStore.js"
export * as SqlRateLimiterStore from "./SqlRateLimiterStore.js"
