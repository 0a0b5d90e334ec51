/**
 * The node's upkeep (`ClusterNode.layerSweeper`) against a wake-up the engine lost. In
 * @effect/cluster 0.60 the handler of a workflow's signal resumes the workflow only if its run has
 * already recorded its suspension. When a loaded node loses its shards while it runs a workflow, the
 * new owner can handle the decision before the old one records the suspension, and nothing wakes the
 * workflow again. This test makes that interleaving in the engine's own storage, on the SQLite
 * runner: the run's "suspended" reply is taken away while the decision is handled, then written back
 * as the old owner would. The engine alone leaves the workflow suspended with its decision
 * delivered; the upkeep resumes it and `/complete` is sent, once.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import {
  AuthenticationDevice,
  BackchannelAuthenticationEndpoint,
  BackchannelChecks,
  BackchannelLimits,
  ClientNotifier,
  Decisions,
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
import { tempDirectory } from "./support/tempDirectory.js"

/** Polls `condition` every 50 ms until it holds, for at most `millis`. */
const until = <E, R>(condition: Effect.Effect<boolean, E, R>, millis = 15_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + millis
    while (!(yield* condition)) {
      if (Date.now() > deadline) return false
      yield* Effect.sleep("50 millis")
    }
    return true
  })

const Server = (filename: string, options: { readonly sweeper: boolean }) => {
  const Node = Layer.mergeAll(SqlPendingRequestStore.layer, NotificationVault.layer).pipe(
    Layer.provideMerge(SecretBox.layer(SecretBox.generateKey())),
    Layer.provideMerge(ClusterNode.layerSqlite({ filename }))
  )
  const Durable = DurableDecisions.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(ClientNotifier.layerTest(), UserClaims.layerFromRecord({ "user-1": {} }))),
    Layer.provideMerge(Node),
    Layer.provideMerge(AuthleteSimulator.layerClient({
      authReqIdLifetime: 120,
      clients: [{ clientId: 7, clientSecret: "poll-secret", deliveryMode: "POLL" }]
    }))
  )
  return Layer.mergeAll(
    UserIdentifier.layerFromRecord({ "user-1": {} }),
    BackchannelChecks.layer(),
    BackchannelLimits.layerMemory(),
    AuthenticationDevice.layerNoop,
    options.sweeper ? ClusterNode.layerSweeper("500 millis") : Layer.empty
  ).pipe(Layer.provideMerge(Durable))
}

/** A POLL request whose workflow waits, suspended, for its decision; and the engine's record of it. */
const suspendedRequest = Effect.gen(function*() {
  const answer = yield* BackchannelAuthenticationEndpoint.handleBackchannelAuthentication({
    parameters: "scope=openid&login_hint=user-1",
    clientId: "7",
    clientSecret: "poll-secret"
  })
  const authReqId = (JSON.parse(answer.body) as { auth_req_id: string }).auth_req_id
  const request = Option.getOrThrow(
    yield* Effect.flatMap(PendingRequestStore.PendingRequestStore, (store) => store.get(authReqId))
  )
  const executionId = yield* CibaCompletion.CibaCompletion.executionId(request)
  const suspended = CibaCompletion.CibaCompletion.poll(executionId).pipe(
    Effect.map((result) => result?._tag === "Suspended")
  )
  assert.isTrue(yield* until(suspended), "the workflow never suspended")
  return { authReqId, executionId, suspended }
})

/** The decision, handled while the run's suspension is not yet recorded; the suspension recorded after. */
const decideBeforeTheSuspensionIsRecorded = (authReqId: string, executionId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const entityType = `Workflow/${CibaCompletion.CibaCompletion.name}`
    const [run] = yield* sql<{ id: number }>`SELECT id FROM cluster_messages
      WHERE entity_type = ${entityType} AND entity_id = ${executionId} AND tag = 'run'`
    const replies = yield* sql<Record<string, unknown>>`SELECT * FROM cluster_replies WHERE request_id = ${run!.id}`
    assert.strictEqual(replies.length, 1)
    yield* sql`DELETE FROM cluster_replies WHERE request_id = ${run!.id}`
    yield* Effect.flatMap(Decisions.Decisions, (decisions) => decisions.decide({ authReqId, decision: "allow" }))
    const handled = sql<{ processed: number }>`SELECT processed FROM cluster_messages
      WHERE entity_type = ${entityType} AND entity_id = ${executionId} AND tag = 'deferred'`.pipe(
      Effect.map((rows) => rows.length === 1 && Boolean(rows[0]!.processed))
    )
    assert.isTrue(yield* until(handled), "the decision was never handled")
    yield* sql`INSERT INTO cluster_replies ${sql.insert(replies[0]!)}`
  })

const completesOf = Effect.map(
  Effect.flatMap(AuthleteSimulator.AuthleteSimulator, (simulator) => simulator.requests),
  (requests) => requests.filter((request) => request.path.endsWith("/backchannel/authentication/complete")).length
)

describe("ClusterNode.layerSweeper", () => {
  it.live(
    "the engine alone leaves a workflow suspended when its wake-up is lost",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const directory = yield* tempDirectory("effect-authlete-node-")
        yield* Effect.gen(function*() {
          const { authReqId, executionId, suspended } = yield* suspendedRequest
          yield* decideBeforeTheSuspensionIsRecorded(authReqId, executionId)
          // The engine handled the decision and resumed nothing: suspended, and /complete never sent.
          assert.isTrue(yield* suspended)
          assert.strictEqual(yield* completesOf, 0)
          // What the upkeep does wakes it.
          const upkeep = yield* DurableDecisions.Upkeep
          yield* upkeep.revive([executionId])
          assert.isTrue(yield* until(Effect.map(completesOf, (count) => count === 1)), "/complete was never sent")
        }).pipe(Effect.provide(Server(join(directory, "node.db"), { sweeper: false })))
      })),
    60_000
  )

  it.live(
    "the upkeep finds the stalled workflow and resumes it: /complete is sent once",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const directory = yield* tempDirectory("effect-authlete-node-")
        yield* Effect.gen(function*() {
          const { authReqId, executionId } = yield* suspendedRequest
          yield* decideBeforeTheSuspensionIsRecorded(authReqId, executionId)
          // Three seconds after the decision it counts as stalled; the sweeper looks every half second.
          assert.isTrue(yield* until(Effect.map(completesOf, (count) => count === 1)), "/complete was never sent")
          const finished = Effect.map(
            CibaCompletion.CibaCompletion.poll(executionId),
            (result) => result?._tag === "Complete"
          )
          assert.isTrue(yield* until(finished), "the workflow never finished")
          assert.strictEqual(yield* completesOf, 1)
        }).pipe(Effect.provide(Server(join(directory, "node.db"), { sweeper: true })))
      })),
    60_000
  )
})
