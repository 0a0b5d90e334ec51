/**
 * How much database a durable server fills per thousand CIBA flows before the upkeep prunes it, and
 * what pruning leaves: `npx tsx bench/database-size.ts [--flows N] [--database URL]`.
 *
 * One node (`ClusterNode`) on a fresh SQLite file in a temporary directory, or on the PostgreSQL
 * database `--database postgres://...` names (give it an empty one: it counts every table). N flows
 * (default 1,000), a third each POLL, PING and PUSH, a quarter denied, go through the library's own
 * backchannel endpoint and durable decisions against the in-process simulator, to completion. Then
 * every table's rows and bytes (SQLite's `dbstat`, PostgreSQL's `pg_total_relation_size`, indexes
 * included), per thousand flows; then the same after pruning what finished (as the upkeep does once
 * the retention has passed).
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { Duration, Effect, Layer, Redacted, Schedule } from "effect"
import { statSync } from "node:fs"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  AuthenticationDevice,
  BackchannelAuthenticationEndpoint,
  BackchannelChecks,
  BackchannelLimits,
  ClientNotifier,
  Decisions,
  UserClaims,
  UserIdentifier
} from "../src/index.js"
import { AuthleteSimulator } from "../src/simulator/index.js"
import {
  CibaCompletion,
  ClusterNode,
  DurableDecisions,
  NotificationVault,
  SecretBox,
  SqlPendingRequestStore
} from "../src/sql/index.js"
import { makeEnginePruner } from "../src/sql/internal/retention.js"

const argument = (name: string): string | undefined => {
  const index = process.argv.indexOf(`--${name}`)
  return index === -1 ? undefined : process.argv[index + 1]
}
const flows = Number(argument("flows") ?? 1_000)
const url = argument("database")
const directory = url === undefined ? mkdtempSync(join(tmpdir(), "effect-authlete-size-")) : undefined
const filename = directory === undefined ? undefined : join(directory, "node.db")

const clients = [
  { clientId: 1, clientSecret: "poll-secret", deliveryMode: "POLL" },
  {
    clientId: 2,
    clientSecret: "ping-secret",
    deliveryMode: "PING",
    clientNotificationEndpoint: "https://c.example/ping"
  },
  {
    clientId: 3,
    clientSecret: "push-secret",
    deliveryMode: "PUSH",
    clientNotificationEndpoint: "https://c.example/push"
  }
] as const

const node = filename === undefined
  ? ClusterNode.layerPg({ url: Redacted.make(url!), runnerAddress: { host: "127.0.0.1", port: 34_599 } })
  : ClusterNode.layerSqlite({ filename })

const Server = Layer.mergeAll(
  UserIdentifier.layerFromRecord({ "user-1": {} }),
  BackchannelChecks.layer(),
  BackchannelLimits.layerNone,
  AuthenticationDevice.layerNoop,
  // The upkeep, as a server runs it, but keeping everything until this script prunes.
  ClusterNode.layerSweeper({ retention: Duration.infinity })
).pipe(
  Layer.provideMerge(DurableDecisions.layer),
  Layer.provideMerge(Layer.mergeAll(ClientNotifier.layerTest(), UserClaims.layerFromRecord({ "user-1": {} }))),
  Layer.provideMerge(Layer.mergeAll(SqlPendingRequestStore.layer, NotificationVault.layer)),
  Layer.provideMerge(SecretBox.layer(SecretBox.generateKey())),
  Layer.provideMerge(node),
  Layer.provideMerge(AuthleteSimulator.layerClient({ authReqIdLifetime: 600, clients: [...clients] }))
)

/** One flow: the client's request, then the user's decision; the workflow carries it out. */
const flow = (i: number) =>
  Effect.gen(function*() {
    const client = clients[i % 3]!
    const token = client.deliveryMode === "POLL" ? "" : `&client_notification_token=nt-${crypto.randomUUID()}`
    // On a loaded machine a statement may time out (the database went slow); the client tries again.
    const answer = yield* BackchannelAuthenticationEndpoint.handleBackchannelAuthentication({
      parameters: `scope=openid&login_hint=user-1${token}`,
      clientId: String(client.clientId),
      clientSecret: client.clientSecret
    }).pipe(Effect.retry({ times: 5, schedule: Schedule.spaced("1 second") }))
    if (answer.status !== 200) return yield* Effect.dieMessage(`backchannel request refused: ${answer.body}`)
    const authReqId = (JSON.parse(answer.body) as { auth_req_id: string }).auth_req_id
    const decisions = yield* Decisions.Decisions
    yield* decisions.decide({ authReqId, decision: i % 4 === 3 ? "deny" : "allow" }).pipe(
      Effect.catchIf((error) => error._tag === "DecisionError" && error.reason === "AlreadyDecided", () => Effect.void),
      Effect.retry({ times: 5, schedule: Schedule.spaced("1 second") })
    )
  })

interface TableSize {
  readonly rows: number
  readonly bytes: number
}

/** Every table's rows and bytes (its indexes included), and the database's bytes. */
const measure = Effect.gen(function*() {
  const sql = yield* SqlClient
  const tables: Record<string, TableSize> = {}
  if (filename === undefined) {
    const sizes = yield* sql<{ name: string; bytes: string }>`SELECT relname AS name,
      pg_total_relation_size(relid)::text AS bytes FROM pg_stat_user_tables ORDER BY relname`
    for (const { bytes, name } of sizes) {
      const [row] = yield* sql.unsafe<{ n: string }>(`SELECT COUNT(*)::text AS n FROM "${name}"`)
      tables[name] = { rows: Number(row!.n), bytes: Number(bytes) }
    }
    const [database] = yield* sql<{ bytes: string }>`SELECT pg_database_size(current_database())::text AS bytes`
    return { tables, database: Number(database!.bytes) }
  }
  yield* sql`PRAGMA wal_checkpoint(TRUNCATE)`
  const names = yield* sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
  const indexes = yield* sql<{ name: string; tbl_name: string }>`SELECT name, tbl_name FROM sqlite_master
    WHERE type = 'index'`
  const pages = yield* sql<{ name: string; bytes: number }>`SELECT name, SUM(pgsize) AS bytes FROM dbstat
    GROUP BY name`
  for (const { name } of names) {
    const [row] = yield* sql.unsafe<{ n: number }>(`SELECT COUNT(*) AS n FROM "${name}"`)
    const own = [name, ...indexes.filter((index) => index.tbl_name === name).map((index) => index.name)]
    const bytes = pages.filter((page) => own.includes(page.name)).reduce((sum, page) => sum + page.bytes, 0)
    tables[name] = { rows: Number(row!.n), bytes }
  }
  return { tables, database: statSync(filename).size }
})

type Size = Effect.Effect.Success<typeof measure>

/** Each table's rows and bytes, and what the flows added to them, per thousand flows. */
const print = (title: string, size: Size, empty: Size) => {
  const format = (n: number) => Math.round(n).toLocaleString("en-US")
  const per = (n: number, floor: number) => format(((n - floor) * 1_000) / flows)
  console.log(`\n${title}\n`)
  console.log("| table | rows | bytes | rows added per 1,000 flows | bytes added per 1,000 flows |")
  console.log("|---|---:|---:|---:|---:|")
  for (const [name, { bytes, rows }] of Object.entries(size.tables)) {
    const floor = empty.tables[name] ?? { rows: 0, bytes: 0 }
    console.log(
      `| ${name} | ${format(rows)} | ${format(bytes)} | ${per(rows, floor.rows)} | ${per(bytes, floor.bytes)} |`
    )
  }
  console.log(`| (database) | | ${format(size.database)} | | ${per(size.database, empty.database)} |`)
}

const shards = ClusterNode.defaultShardingConfig.shardsPerGroup!

const program = Effect.gen(function*() {
  const sql = yield* SqlClient
  // The node's own rows first: on SQLite, the shards' locks once it holds them all (PostgreSQL's are
  // advisory locks); on both, the runner's row.
  const ready = sql.onDialectOrElse({
    pg: () => sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM cluster_runners`,
    orElse: () => sql<{ n: number | string }>`SELECT COUNT(*) - ${shards} + 1 AS n FROM cluster_locks`
  })
  while (Number((yield* ready)[0]!.n) < 1) yield* Effect.sleep("100 millis")
  const empty = yield* measure
  const started = Date.now()
  yield* Effect.forEach(Array.from({ length: flows }, (_, i) => i), flow, { concurrency: 4, discard: true })
  // Every decided request's workflow finishes (one left by a failed attempt waits for its deadline).
  const unfinished = sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM effect_authlete_pending_requests
    WHERE finished = 0 AND state = 'decided'`.pipe(Effect.map((rows) => Number(rows[0]!.n)))
  while ((yield* unfinished) > 0) yield* Effect.sleep("200 millis")
  console.log(
    `${flows} flows on ${filename === undefined ? "PostgreSQL" : "SQLite"} in ${(Date.now() - started) / 1000} s`
  )
  print("Before pruning", yield* measure, empty)

  // What the upkeep does once the retention has passed, until nothing is left to delete.
  const upkeep = yield* DurableDecisions.Upkeep
  const engine = yield* makeEnginePruner(CibaCompletion.CibaCompletion.name)
  const pruning = Date.now()
  const before = Date.now() + 1
  let statements = 0
  for (;;) {
    const ours = yield* upkeep.prune(before)
    const theirs = yield* engine.prune(before)
    statements += 1
    if (ours.deleted + theirs.deleted === 0 && !ours.backlog && !theirs.backlog) break
  }
  console.log(`\npruned in ${(Date.now() - pruning) / 1000} s (${statements} rounds)`)
  print("After pruning (the database reuses the pages it freed; its files do not shrink)", yield* measure, empty)
})

Effect.runPromise(
  program.pipe(
    Effect.provide(Server),
    Effect.timeout(Duration.minutes(30)),
    Effect.ensuring(Effect.sync(() => directory !== undefined && rmSync(directory, { recursive: true, force: true })))
  )
).then(() => process.exit(0), (error: unknown) => {
  console.error(error)
  process.exit(1)
})
