/**
 * The SQL stores on SQLite: the migrations, a request taken once however many take it at once, the
 * expired and overdue ones, the decision kept with the request; the secret box; and the vault, whose
 * database file (and its write-ahead log) never holds a token in plain text. Last, one PUSH flow on
 * the cluster engine's SQLite runner, whose own tables are searched for the tokens too.
 */
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Option, Redacted } from "effect"
import {
  AuthenticationDevice,
  BackchannelAuthenticationEndpoint,
  BackchannelChecks,
  BackchannelLimits,
  ClientNotifier,
  Decisions,
  DeviceDecision,
  PendingRequest,
  PendingRequestStore,
  UserClaims,
  UserIdentifier
} from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import {
  ClusterNode,
  DurableDecisions,
  Migrations,
  NotificationVault,
  SecretBox,
  SqlPendingRequestStore
} from "effect-authlete/sql"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { tempDirectory } from "./support/tempDirectory.js"

const request = (authReqId: string, overrides: Partial<PendingRequest.PendingRequest> = {}) =>
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
    expiresAt: 1_060_000,
    ...overrides
  })

const allow = new SqlPendingRequestStore.RecordedDecision({ decision: "allow", authTime: 1_000 })

/** A fresh SQLite file in a temporary directory, removed with the scope. */

/** Every byte SQLite wrote in the directory (database, WAL, shared memory), as text. */
const filesOf = (directory: string) =>
  readdirSync(directory).map((name) => readFileSync(join(directory, name)).toString("latin1")).join("\n")

const StoreOn = (filename: string) =>
  Layer.mergeAll(SqlPendingRequestStore.layer, NotificationVault.layer).pipe(
    Layer.provideMerge(Layer.mergeAll(SqliteClient.layer({ filename }), SecretBox.layer(SecretBox.generateKey())))
  )

describe("the SQL pending-request store", () => {
  it.scoped("migrates once: the tables exist, and a second run has nothing to do", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const names = (yield* sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`)
        .map((row) => row.name)
      for (const table of Object.values(Migrations.tables)) assert.include(names, table)
      assert.deepStrictEqual(yield* Migrations.migrate, [])
      const recorded = yield* sql<{ migration_id: number }>`SELECT migration_id FROM ${
        sql(Migrations.tables.migrations)
      }`
      assert.deepStrictEqual(recorded.map((row) => row.migration_id), [1, 2, 3])
    }).pipe(Effect.provide(StoreOn(":memory:"))))

  it.scoped("a request is taken once, however many take it at the same moment", () =>
    Effect.gen(function*() {
      const store = yield* SqlPendingRequestStore.SqlPendingRequestStore
      yield* store.add(request("a"))
      const outcomes = yield* Effect.all(
        Array.from({ length: 20 }, () => store.takeForDecision("a", 1_010_000, allow)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(outcomes.filter((o) => o._tag === "Taken").length, 1)
      assert.strictEqual(outcomes.filter((o) => o._tag === "AlreadyDecided").length, 19)
      const decided = yield* store.decided("a")
      assert.deepStrictEqual(Option.map(decided, ({ decision }) => decision), Option.some(allow))
      assert.deepStrictEqual(yield* store.take("nobody", 1_010_000), { _tag: "Unknown" })
      // Adding the same auth_req_id again changes nothing.
      yield* store.add(request("a"))
      assert.isTrue(Option.isNone(yield* store.get("a")))
    }).pipe(Effect.provide(StoreOn(":memory:"))))

  it.scoped("an expired request cannot be taken; overdue ones are taken once; the deadline keeps a decision", () =>
    Effect.gen(function*() {
      const store = yield* SqlPendingRequestStore.SqlPendingRequestStore
      yield* store.add(request("late"))
      assert.deepStrictEqual(yield* store.take("late", 1_060_000), { _tag: "Expired" })
      assert.deepStrictEqual(yield* store.take("late", 1_000_001), { _tag: "Expired" })

      yield* store.add(request("waiting", { subject: "user-2" }))
      yield* store.add(request("later", { expiresAt: 2_000_000 }))
      assert.deepStrictEqual((yield* store.list(1_010_000)).map((r) => r.authReqId), ["waiting", "later"])
      assert.deepStrictEqual((yield* store.list(1_010_000, "user-2")).map((r) => r.authReqId), ["waiting"])
      const overdue = yield* Effect.all([
        store.takeOverdue(DeviceDecision.decisionDeadline, 1_056_000),
        store.takeOverdue(DeviceDecision.decisionDeadline, 1_056_000)
      ], { concurrency: "unbounded" })
      assert.deepStrictEqual(overdue.flat().map((r) => r.authReqId), ["waiting"])
      assert.deepStrictEqual(yield* store.take("waiting", 1_056_001), { _tag: "Expired" })

      // At its deadline, a request decided just before keeps its decision; an undecided one is failed.
      assert.deepStrictEqual(yield* store.takeForDecision("later", 1_500_000, allow), {
        _tag: "Taken",
        request: request("later", { expiresAt: 2_000_000 })
      })
      assert.deepStrictEqual(yield* store.settleAtDeadline("later", 1_600_000), { _tag: "Decided", decision: allow })
      yield* store.add(request("undecided", { expiresAt: 2_000_000 }))
      assert.deepStrictEqual(yield* store.settleAtDeadline("undecided", 1_600_000), { _tag: "Undecided" })
      assert.deepStrictEqual(yield* store.takeForDecision("undecided", 1_500_000, allow), { _tag: "Expired" })

      assert.strictEqual(yield* store.countCompletionAttempt("later"), 1)
      assert.strictEqual(yield* store.countCompletionAttempt("later"), 2)
      // An hour past expiry, ids are forgotten.
      assert.strictEqual(yield* store.purge(1_060_000 + 3_600_001), 2)
      assert.deepStrictEqual(yield* store.take("late", 5_000_000), { _tag: "Unknown" })
    }).pipe(Effect.provide(StoreOn(":memory:"))))

  it.scoped("the upkeep finds what a dead node left: unstarted workflows, unsent decisions, stalled workflows", () =>
    Effect.gen(function*() {
      const store = yield* SqlPendingRequestStore.SqlPendingRequestStore
      const ids = (requests: ReadonlyArray<PendingRequest.PendingRequest>) => requests.map((r) => r.authReqId).sort()
      yield* store.add(request("stranded"))
      yield* store.add(request("started"))
      yield* store.markStarted("started")
      assert.deepStrictEqual(ids(yield* store.unstarted(1_000_001)), ["stranded"])
      assert.deepStrictEqual(yield* store.unstarted(1_000_000), [])

      yield* store.takeForDecision("started", 1_010_000, allow)
      assert.deepStrictEqual((yield* store.unsignalled(1_010_001)).map(({ request }) => request.authReqId), ["started"])
      yield* store.markSignalled("started")
      assert.deepStrictEqual(yield* store.unsignalled(1_010_001), [])

      // Decided at 1,010,000: stalled 10 seconds later, unless finished.
      assert.deepStrictEqual(yield* store.stalled(1_015_000, 10_000), [])
      assert.deepStrictEqual(ids(yield* store.stalled(1_020_001, 10_000)), ["started"])
      yield* store.markFinished("started")
      assert.deepStrictEqual(yield* store.stalled(1_020_001, 10_000), [])
      // A request still waiting 10 seconds past its decision deadline (1,030,000, 30 seconds before its
      // expiry) is stalled too, started or not; or `overdueMillis` past it, when given.
      assert.deepStrictEqual(yield* store.stalled(1_039_000, 10_000), [])
      assert.deepStrictEqual(ids(yield* store.stalled(1_040_001, 10_000)), ["stranded"])
      assert.deepStrictEqual(yield* store.stalled(1_030_999, 10_000, 1_000), [])
      assert.deepStrictEqual(ids(yield* store.stalled(1_031_001, 10_000, 1_000)), ["stranded"])
    }).pipe(Effect.provide(StoreOn(":memory:"))))
})

describe("the secret box", () => {
  it.effect("opens what it sealed, for the same purpose and key only", () =>
    Effect.gen(function*() {
      const box = yield* SecretBox.make(SecretBox.generateKey())
      const sealed = yield* box.seal("the PUSH tokens", "notification:a")
      assert.match(sealed, /^v1\.[A-Za-z0-9_-]+$/)
      assert.notInclude(sealed, "PUSH")
      assert.notStrictEqual(yield* box.seal("the PUSH tokens", "notification:a"), sealed)
      assert.strictEqual(yield* box.open(sealed, "notification:a"), "the PUSH tokens")
      assert.strictEqual((yield* Effect.flip(box.open(sealed, "notification:b"))).reason, "Forged")
      const other = yield* SecretBox.make(SecretBox.generateKey())
      assert.strictEqual((yield* Effect.flip(other.open(sealed, "notification:a"))).reason, "Forged")
      // One character of the sealed text changed (never to itself: its second-to-last).
      const altered = `${sealed.slice(0, -2)}${sealed.at(-2) === "A" ? "B" : "A"}${sealed.slice(-1)}`
      assert.notStrictEqual(altered, sealed)
      assert.strictEqual((yield* Effect.flip(box.open(altered, "notification:a"))).reason, "Forged")
      assert.strictEqual((yield* Effect.flip(box.open("plain", "notification:a"))).reason, "Malformed")
    }))

  it.effect("takes its key from EFFECT_AUTHLETE_SECRET_KEY, and refuses one that is not 32 bytes", () =>
    Effect.gen(function*() {
      const build = (key: string | undefined) =>
        Layer.build(SecretBox.layerConfig()).pipe(
          Effect.provide(Layer.setConfigProvider(
            ConfigProvider.fromMap(new Map(key === undefined ? [] : [["EFFECT_AUTHLETE_SECRET_KEY", key]]))
          )),
          Effect.scoped,
          Effect.either
        )
      assert.isTrue(Either.isRight(yield* build(Redacted.value(SecretBox.generateKey()))))
      const short = yield* build(Buffer.alloc(16).toString("base64"))
      assert.isTrue(Either.isLeft(short) && String(short.left).includes("must be 32 bytes"))
      const missing = yield* build(undefined)
      assert.isTrue(Either.isLeft(missing) && String(missing.left).includes("EFFECT_AUTHLETE_SECRET_KEY"))
    }))
})

describe("the notification vault", () => {
  it.scoped("keeps tokens and notifications sealed in the database file, and deletes them", () =>
    Effect.gen(function*() {
      const directory = yield* tempDirectory("effect-authlete-sql-")
      const secret = `push-access-token-${crypto.randomUUID()}`
      const notificationToken = `notification-token-${crypto.randomUUID()}`
      yield* Effect.gen(function*() {
        const vault = yield* NotificationVault.NotificationVault
        yield* vault.keepToken("a", Redacted.make(notificationToken), 2_000)
        yield* vault.keepNotification("a", {
          endpoint: "https://client.example/push",
          token: Redacted.make(notificationToken),
          body: JSON.stringify({ auth_req_id: "a", access_token: secret })
        }, 2_000)
        yield* vault.keepToken("b", Redacted.make(notificationToken), 1_000)
        const opened = yield* vault.notification("a")
        assert.isTrue(Option.isSome(opened) && opened.value.body.includes(secret))
        assert.deepStrictEqual(Option.map(yield* vault.token("a"), Redacted.value), Option.some(notificationToken))
        yield* vault.rememberEndpoint(7, "https://client.example/ping", 1)
        yield* vault.rememberEndpoint(7, "https://client.example/ping2", 2)
        assert.deepStrictEqual(yield* vault.endpointOf(7), Option.some("https://client.example/ping2"))

        const files = filesOf(directory)
        assert.include(files, "client.example/ping2")
        assert.notInclude(files, secret)
        assert.notInclude(files, notificationToken)

        assert.strictEqual(yield* vault.purgeExpired(1_000), 1)
        yield* vault.forget("a")
        assert.isTrue(Option.isNone(yield* vault.notification("a")))
        assert.isTrue(Option.isNone(yield* vault.token("a")))
      }).pipe(Effect.provide(StoreOn(join(directory, "store.db"))))
    }))
})

describe("a PUSH flow on the SQLite cluster runner", () => {
  it.scoped(
    "completes, and no table of the engine or of the stores holds a token in plain text",
    () =>
      Effect.gen(function*() {
        const directory = yield* tempDirectory("effect-authlete-sql-")
        const push = "https://client.example/push"
        const Node = Layer.mergeAll(SqlPendingRequestStore.layer, NotificationVault.layer).pipe(
          Layer.provideMerge(SecretBox.layer(SecretBox.generateKey())),
          Layer.provideMerge(ClusterNode.layerSqlite({ filename: join(directory, "node.db") }))
        )
        const Server = Layer.mergeAll(
          UserIdentifier.layerFromRecord({ "user-1": {} }),
          BackchannelChecks.layer(),
          BackchannelLimits.layerMemory(),
          AuthenticationDevice.layerNoop
        ).pipe(
          Layer.provideMerge(DurableDecisions.layer),
          Layer.provideMerge(Layer.mergeAll(ClientNotifier.layerTest(), UserClaims.layerFromRecord({ "user-1": {} }))),
          Layer.provideMerge(Node),
          Layer.provideMerge(AuthleteSimulator.layerClient({
            clients: [{
              clientId: 9,
              clientSecret: "push-secret",
              deliveryMode: "PUSH",
              clientNotificationEndpoint: push
            }]
          }))
        )
        yield* Effect.gen(function*() {
          const notificationToken = `nt-${crypto.randomUUID()}`
          const answer = yield* BackchannelAuthenticationEndpoint.handleBackchannelAuthentication({
            parameters: `scope=openid&login_hint=user-1&client_notification_token=${notificationToken}`,
            clientId: "9",
            clientSecret: "push-secret"
          })
          const authReqId = (JSON.parse(answer.body) as { auth_req_id: string }).auth_req_id
          yield* Effect.flatMap(Decisions.Decisions, (decisions) => decisions.decide({ authReqId, decision: "allow" }))
          const recorder = yield* ClientNotifier.ClientNotifierRecorder
          let pushed = yield* recorder.notifications
          for (let i = 0; i < 300 && pushed.length === 0; i++) {
            yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
            pushed = yield* recorder.notifications
          }
          assert.strictEqual(pushed.length, 1)
          const tokens = JSON.parse(pushed[0]!.body) as Record<string, string>
          const store = yield* PendingRequestStore.PendingRequestStore
          assert.isTrue(Option.isNone(yield* store.get(authReqId)))
          const sql = yield* SqlClient.SqlClient
          const names = yield* sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`
          assert.include(names.map((n) => n.name), "cluster_replies")
          const rows = JSON.stringify(yield* Effect.forEach(names, ({ name }) => sql.unsafe(`SELECT * FROM "${name}"`)))
          assert.include(rows, authReqId)
          const files = filesOf(directory)
          for (const secret of [tokens.access_token!, tokens.refresh_token!, tokens.id_token!, notificationToken]) {
            assert.notInclude(rows, secret)
            assert.notInclude(files, secret)
          }
        }).pipe(Effect.provide(Server))
      }),
    60_000
  )
})
