/**
 * Retention on the SQLite cluster runner: once finished workflows are older than the retention, the
 * upkeep (`ClusterNode.layerSweeper`) deletes every row they left, in the engine's tables and in the
 * stores, and every table of the database is back to the row count it had before they ran. A
 * workflow still waiting for its decision keeps all of its rows, and completes when decided. The
 * engine's pruner walks the messages a batch at a time: a workflow cut across batches goes whole.
 * The stores delete at most 1,000 rows a statement, and only what finished (or expired unfinished).
 */
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, TestClock } from "effect"
import {
  AuthenticationDevice,
  BackchannelAuthenticationEndpoint,
  BackchannelChecks,
  BackchannelLimits,
  ClientNotifier,
  Decisions,
  PendingRequest,
  PendingRequestStore,
  UserClaims,
  UserIdentifier
} from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import {
  CibaCompletion,
  ClusterNode,
  DurableDecisions,
  NotificationVault,
  SecretBox,
  SqlPendingRequestStore
} from "effect-authlete/sql"
import { join } from "node:path"
import { makeEnginePruner } from "../src/sql/internal/retention.js"
import { tempDirectory } from "./support/tempDirectory.js"

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

const Server = (filename: string, sweeper: ClusterNode.SweeperOptions | undefined) => {
  const Node = Layer.mergeAll(SqlPendingRequestStore.layer, NotificationVault.layer).pipe(
    Layer.provideMerge(SecretBox.layer(SecretBox.generateKey())),
    Layer.provideMerge(ClusterNode.layerSqlite({ filename }))
  )
  const Durable = DurableDecisions.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(ClientNotifier.layerTest(), UserClaims.layerFromRecord({ "user-1": {} }))),
    Layer.provideMerge(Node),
    // Requests live two minutes: the one left undecided waits through the whole test.
    Layer.provideMerge(AuthleteSimulator.layerClient({ authReqIdLifetime: 120, clients: [...clients] }))
  )
  return Layer.mergeAll(
    UserIdentifier.layerFromRecord({ "user-1": {} }),
    BackchannelChecks.layer(),
    BackchannelLimits.layerNone,
    AuthenticationDevice.layerNoop,
    sweeper === undefined ? Layer.empty : ClusterNode.layerSweeper(sweeper)
  ).pipe(Layer.provideMerge(Durable))
}

/** Polls `condition` every 100 ms until it holds, for at most `millis`. */
const until = <E, R>(condition: Effect.Effect<boolean, E, R>, millis = 30_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + millis
    while (!(yield* condition)) {
      if (Date.now() > deadline) return false
      yield* Effect.sleep("100 millis")
    }
    return true
  })

/** The row count of every table in the database. */
const counts = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const tables = yield* sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
  const entries = yield* Effect.forEach(tables, ({ name }) =>
    Effect.map(
      sql.unsafe<{ n: number }>(`SELECT COUNT(*) AS n FROM "${name}"`),
      (rows) => [name, Number(rows[0]!.n)] as const
    ))
  return Object.fromEntries(entries) as Record<string, number>
})

/** The node's floor: once it holds its shards (their locks are rows too), what every table counts. */
const floor = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const shards = ClusterNode.defaultShardingConfig.shardsPerGroup!
  const held = sql<{ n: number }>`SELECT COUNT(*) AS n FROM cluster_locks`.pipe(
    Effect.map((rows) => Number(rows[0]!.n) === shards)
  )
  assert.isTrue(yield* until(held), "the node never held its shards")
  return yield* counts
})

/** A request of client 1 (POLL), 2 (PING) or 3 (PUSH) whose workflow waits, suspended, for its decision. */
const waiting = (clientId: 1 | 2 | 3) =>
  Effect.gen(function*() {
    const client = clients[clientId - 1]!
    const token = clientId === 1 ? "" : `&client_notification_token=nt-${crypto.randomUUID()}`
    const answer = yield* BackchannelAuthenticationEndpoint.handleBackchannelAuthentication({
      parameters: `scope=openid&login_hint=user-1${token}`,
      clientId: String(clientId),
      clientSecret: client.clientSecret
    })
    assert.strictEqual(answer.status, 200, answer.body)
    const authReqId = (JSON.parse(answer.body) as { auth_req_id: string }).auth_req_id
    const request = Option.getOrThrow(
      yield* Effect.flatMap(PendingRequestStore.PendingRequestStore, (store) => store.get(authReqId))
    )
    const executionId = yield* CibaCompletion.CibaCompletion.executionId(request)
    const suspended = Effect.map(CibaCompletion.CibaCompletion.poll(executionId), (r) => r?._tag === "Suspended")
    assert.isTrue(yield* until(suspended), "the workflow never suspended")
    return { authReqId, executionId }
  })

/** Decides a waiting request, and waits for its workflow to complete. */
const decided = (flow: { readonly authReqId: string; readonly executionId: string }, decision: "allow" | "deny") =>
  Effect.gen(function*() {
    yield* Effect.flatMap(Decisions.Decisions, (decisions) => decisions.decide({ authReqId: flow.authReqId, decision }))
    const complete = Effect.map(CibaCompletion.CibaCompletion.poll(flow.executionId), (r) => r?._tag === "Complete")
    assert.isTrue(yield* until(complete), "the workflow never completed")
  })

/** Every row a request and its workflow hold, by table. */
const rowsOf = (flow: { readonly authReqId: string; readonly executionId: string }) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const messages = (yield* sql<{ id: string }>`SELECT CAST(id AS TEXT) AS id FROM cluster_messages
      WHERE entity_id = ${flow.executionId} ORDER BY id`).map((row) => row.id)
    const replies = (yield* sql<{ id: string }>`SELECT CAST(r.id AS TEXT) AS id FROM cluster_replies r
      JOIN cluster_messages m ON m.id = r.request_id WHERE m.entity_id = ${flow.executionId} ORDER BY r.id`)
      .map((row) => row.id)
    const requests = yield* sql`SELECT * FROM effect_authlete_pending_requests WHERE auth_req_id = ${flow.authReqId}`
    const secrets = yield* sql`SELECT * FROM effect_authlete_sealed_secrets WHERE auth_req_id = ${flow.authReqId}`
    return {
      cluster_messages: messages,
      cluster_replies: replies,
      effect_authlete_pending_requests: requests,
      effect_authlete_sealed_secrets: secrets
    }
  })

/** `base` with the rows of `rows` added to their tables' counts. */
const plus = (base: Record<string, number>, rows: Record<string, ReadonlyArray<unknown>>) =>
  Object.fromEntries(Object.entries(base).map(([table, n]) => [table, n + (rows[table]?.length ?? 0)]))

const sameCounts = (expected: Record<string, number>) =>
  Effect.map(counts, (actual) => JSON.stringify(actual) === JSON.stringify(expected))

const request = (authReqId: string) =>
  new PendingRequest.PendingRequest({
    authReqId,
    ticket: `ticket-${authReqId}`,
    subject: "user-1",
    clientId: 1,
    scopes: ["openid"],
    claimNames: [],
    claimsLocales: [],
    acrValues: [],
    userCodeRequired: false,
    createdAt: 1_000_000,
    expiresAt: 1_060_000
  })

const Stores = Layer.mergeAll(SqlPendingRequestStore.layer, NotificationVault.layer).pipe(
  Layer.provideMerge(
    Layer.mergeAll(SqliteClient.layer({ filename: ":memory:" }), SecretBox.layer(SecretBox.generateKey()))
  )
)

describe("retention", () => {
  it.scoped("the stores delete what finished before the retention, and unfinished requests long expired, in batches", () =>
    Effect.gen(function*() {
      const store = yield* SqlPendingRequestStore.SqlPendingRequestStore
      const vault = yield* NotificationVault.NotificationVault
      for (const id of ["finished", "waiting", "stuck"]) yield* store.add(request(id))
      yield* TestClock.setTime(1_100_000)
      yield* store.markFinished("finished")
      // A replayed last step keeps the first time.
      yield* TestClock.setTime(1_200_000)
      yield* store.markFinished("finished")
      assert.strictEqual(yield* store.prune(1_100_000), 0)
      // An hour past their expiry the unfinished are forgotten; the finished one waits for its retention.
      assert.strictEqual(yield* store.purge(1_060_000 + 3_600_001), 2)
      assert.isTrue(Option.isSome(yield* store.get("finished")))
      assert.strictEqual(yield* store.prune(1_100_001), 1)
      assert.strictEqual(yield* store.purge(9_999_999), 0)

      const many = Array.from({ length: 1_005 }, (_, i) => `r${i}`)
      for (const id of many) yield* store.add(request(id)).pipe(Effect.zipRight(store.markFinished(id)))
      assert.deepStrictEqual([yield* store.prune(1_300_000), yield* store.prune(1_300_000)], [1_000, 5])

      yield* vault.rememberEndpoint(1, "https://c.example/one", 1_000)
      yield* vault.rememberEndpoint(2, "https://c.example/two", 2_000)
      assert.strictEqual(yield* vault.forgetEndpoints(2_000), 1)
      assert.isTrue(Option.isNone(yield* vault.endpointOf(1)))
      assert.isTrue(Option.isSome(yield* vault.endpointOf(2)))
    }).pipe(Effect.provide(Stores)))

  it.live(
    "every row of finished workflows goes after the retention; a waiting workflow keeps all of its rows",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const directory = yield* tempDirectory("effect-authlete-retention-")
        yield* Effect.gen(function*() {
          const before = yield* floor
          const held = yield* waiting(1)
          const heldRows = yield* rowsOf(held)
          assert.isAbove(heldRows.cluster_messages.length, 0)
          assert.isAbove(heldRows.cluster_replies.length, 0)

          // 50 workflows, POLL, PING and PUSH, allowed and denied, run to completion.
          yield* Effect.forEach(
            Array.from({ length: 50 }, (_, i) => i),
            (i) =>
              Effect.flatMap(waiting(((i % 3) + 1) as 1 | 2 | 3), (flow) =>
                decided(flow, i % 4 === 3 ? "deny" : "allow")),
            { concurrency: 5, discard: true }
          )
          const after = yield* counts
          assert.isAbove(after.cluster_messages!, before.cluster_messages! + 50)

          // Back to the floor, but for the waiting workflow's rows, which are all there still.
          const expected = plus(before, heldRows)
          const pruned = yield* until(sameCounts(expected))
          assert.deepStrictEqual(yield* counts, expected, pruned ? undefined : "the tables never came back")
          assert.deepStrictEqual(yield* rowsOf(held), heldRows)

          // Decided now, it completes from what was kept; then its rows go too.
          yield* decided(held, "allow")
          const empty = yield* until(sameCounts(before))
          assert.deepStrictEqual(yield* counts, before, empty ? undefined : "the last workflow's rows stayed")
        }).pipe(Effect.provide(Server(join(directory, "node.db"), { interval: "200 millis", retention: "1 second" })))
      })),
    120_000
  )

  it.live(
    "the engine's pruner walks a batch at a time: a workflow cut across batches goes whole, a waiting one stays",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const directory = yield* tempDirectory("effect-authlete-retention-")
        yield* Effect.gen(function*() {
          const before = yield* floor
          const held = yield* waiting(2)
          for (const clientId of [1, 2, 3, 3] as const) yield* decided(yield* waiting(clientId), "allow")
          const heldRows = yield* rowsOf(held)
          // Batches of 3 messages: every finished workflow (five messages or more) spans two or more.
          const pruner = yield* makeEnginePruner(CibaCompletion.CibaCompletion.name, { batchRows: 3, batches: 1 })
          for (let round = 0; round < 100; round++) yield* pruner.prune(Date.now())
          const engine = (all: Record<string, number>) => [all.cluster_messages, all.cluster_replies]
          assert.deepStrictEqual(engine(yield* counts), engine(plus(before, heldRows)))
          assert.deepStrictEqual(yield* rowsOf(held), heldRows)
        }).pipe(Effect.provide(Server(join(directory, "node.db"), undefined)))
      })),
    120_000
  )
})
