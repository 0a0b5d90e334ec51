/**
 * The tables of `effect-authlete/sql`, created and upgraded by `@effect/sql`'s migrator in the same
 * SQL (SQLite or PostgreSQL) on every start. Several nodes starting together on one PostgreSQL
 * take turns (the migrator locks its table); a node that lost the race to create the migrations
 * table tries again.
 *
 * @since 0.1.0
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/**
 * The table names, all prefixed `effect_authlete_`.
 *
 * @since 0.1.0
 * @category tables
 */
export const tables = {
  migrations: "effect_authlete_migrations",
  /** The pending-request store: one row per `auth_req_id`, with its state and the recorded decision. */
  pendingRequests: "effect_authlete_pending_requests",
  /** Secrets kept until delivered or expired, encrypted (`SecretBox`): notification tokens, notifications. */
  sealedSecrets: "effect_authlete_sealed_secrets",
  /** The last notification endpoint Authlete reported for each client. */
  clientEndpoints: "effect_authlete_client_endpoints",
  /** The rate limiter's counters (`SqlRateLimiterStore`): one row per fixed window or token bucket. */
  rateLimits: "effect_authlete_rate_limits"
} as const

const createTables = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // Times are milliseconds since the epoch; flags are 0 or 1 (the same in SQLite and PostgreSQL).
  yield* sql`CREATE TABLE ${sql(tables.pendingRequests)} (
    auth_req_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    decision TEXT,
    settled_at BIGINT,
    signalled INTEGER NOT NULL DEFAULT 0,
    finished INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    workflow_started INTEGER NOT NULL DEFAULT 0,
    complete_attempts INTEGER NOT NULL DEFAULT 0
  )`
  yield* sql`CREATE INDEX effect_authlete_pending_requests_state ON ${sql(tables.pendingRequests)} (state, expires_at)`
  yield* sql`CREATE INDEX effect_authlete_pending_requests_subject ON ${sql(tables.pendingRequests)} (subject)`
  yield* sql`CREATE TABLE ${sql(tables.sealedSecrets)} (
    auth_req_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    sealed TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (auth_req_id, kind)
  )`
  yield* sql`CREATE INDEX effect_authlete_sealed_secrets_expires ON ${sql(tables.sealedSecrets)} (expires_at)`
  yield* sql`CREATE TABLE ${sql(tables.clientEndpoints)} (
    client_id BIGINT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    updated_at BIGINT NOT NULL
  )`
})

const createRateLimits = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // Fixed windows (keys `w:…`): the tokens taken and when the window ends. Token buckets (keys
  // `b:…`): the tokens left and the last refill. Times are milliseconds since the epoch.
  yield* sql`CREATE TABLE ${sql(tables.rateLimits)} (
    key TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  )`
  yield* sql`CREATE INDEX effect_authlete_rate_limits_expires ON ${sql(tables.rateLimits)} (expires_at)`
})

const addRetention = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // When a request's workflow finished: its rows are kept for the retention from then (`ClusterNode.layerSweeper`).
  yield* sql`ALTER TABLE ${sql(tables.pendingRequests)} ADD COLUMN finished_at BIGINT`
  // Finished before this column existed: a workflow ends by its request's expiry, near enough.
  yield* sql`UPDATE ${sql(tables.pendingRequests)} SET finished_at = expires_at WHERE finished = 1`
  // What the upkeep deletes, in batches: finished requests by age, unfinished ones past their expiry,
  // endpoints no notification refreshed.
  yield* sql`CREATE INDEX effect_authlete_pending_requests_finished ON ${sql(tables.pendingRequests)} (finished_at)`
  yield* sql`CREATE INDEX effect_authlete_pending_requests_unfinished ON ${
    sql(tables.pendingRequests)
  } (finished, expires_at)`
  yield* sql`CREATE INDEX effect_authlete_client_endpoints_updated ON ${sql(tables.clientEndpoints)} (updated_at)`
})

const run = Migrator.make({})({
  loader: Migrator.fromRecord({
    "1_create_tables": createTables,
    "2_create_rate_limits": createRateLimits,
    "3_add_retention": addRetention
  }),
  table: tables.migrations
})

/**
 * Creates or upgrades the tables; the ids of the migrations it ran.
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrate: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  Migrator.MigrationError | SqlError,
  SqlClient.SqlClient
> = run.pipe(
  // Two nodes creating the migrations table at once: one of them fails, and finds it there next time.
  Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 5 })
)
