/**
 * The durable `Decisions` in one process, over the in-memory workflow engine and an in-memory
 * SQLite: the decision and the deadline, `/complete`, the notification with its retries and its
 * refusals, the per-mode handling of a `/complete` whose answer was lost, the secrets sealed and
 * then deleted. Time is the test clock, so deadlines and backoffs pass at once.
 */
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { assert, describe, it } from "@effect/vitest"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import { Effect, Layer, Option, Redacted, TestClock } from "effect"
import {
  AuthenticationDevice,
  AuthleteClient,
  BackchannelAuthenticationEndpoint,
  BackchannelChecks,
  BackchannelLimits,
  ClientNotifier,
  Decisions,
  type PendingRequest,
  PendingRequestStore,
  TokenEndpoint,
  UserClaims,
  UserIdentifier
} from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import {
  CibaCompletion,
  DurableDecisions,
  NotificationVault,
  SecretBox,
  SqlPendingRequestStore
} from "effect-authlete/sql"

const PING = "https://client.example/ping"
const PUSH = "https://client.example/push"

/** What the test notifier answers, in order, per endpoint; 204 once the script runs out. */
const script: Record<string, Array<number>> = {}
const answerOf = (notification: ClientNotifier.ClientNotification) => script[notification.endpoint]?.shift() ?? 204

const Simulator = AuthleteSimulator.layerClient({
  interval: 0,
  authReqIdLifetime: 60,
  clients: [
    { clientId: 1, clientSecret: "poll-secret", deliveryMode: "POLL" },
    { clientId: 2, clientSecret: "ping-secret", deliveryMode: "PING", clientNotificationEndpoint: PING },
    { clientId: 3, clientSecret: "push-secret", deliveryMode: "PUSH", clientNotificationEndpoint: PUSH }
  ]
})

const Stores = Layer.mergeAll(SqlPendingRequestStore.layer, NotificationVault.layer).pipe(
  Layer.provideMerge(
    Layer.mergeAll(SqliteClient.layer({ filename: ":memory:" }), SecretBox.layer(SecretBox.generateKey()))
  )
)

const Durable = DurableDecisions.layer.pipe(
  Layer.provideMerge(Layer.mergeAll(
    WorkflowEngine.layerMemory,
    Stores,
    ClientNotifier.layerTest(answerOf),
    UserClaims.layerFromRecord({ "user-1": { given_name: "Taro", family_name: "Yamada" } })
  )),
  Layer.provideMerge(Simulator)
)

const AuthorizationServer = Layer.mergeAll(
  UserIdentifier.layerFromRecord({ "user-1": { loginHints: ["taro@example.com"] } }),
  BackchannelChecks.layer(),
  BackchannelLimits.layerMemory(),
  AuthenticationDevice.layerNoop
).pipe(Layer.provideMerge(Durable))

const secretOf = { 1: "poll-secret", 2: "ping-secret", 3: "push-secret" } as const

/** A backchannel request of client 1 (POLL), 2 (PING) or 3 (PUSH), as the store recorded it. */
const backchannel = (clientId: 1 | 2 | 3, notificationToken = `nt-${crypto.randomUUID()}`) =>
  Effect.gen(function*() {
    const parameters = new URLSearchParams({ scope: "openid profile", login_hint: "taro@example.com" })
    if (clientId !== 1) parameters.set("client_notification_token", notificationToken)
    const answer = yield* BackchannelAuthenticationEndpoint.handleBackchannelAuthentication({
      parameters: parameters.toString(),
      clientId: String(clientId),
      clientSecret: secretOf[clientId]
    })
    assert.strictEqual(answer.status, 200, answer.body)
    const authReqId = (JSON.parse(answer.body) as { auth_req_id: string }).auth_req_id
    const request = yield* Effect.flatMap(PendingRequestStore.PendingRequestStore, (store) => store.get(authReqId))
    assert.isTrue(Option.isSome(request))
    return { authReqId, notificationToken, request: Option.getOrThrow(request) }
  })

/** The workflow's record, once it completes (it runs on real sockets, so this waits in real time). */
const completion = (request: PendingRequest.PendingRequest) =>
  Effect.gen(function*() {
    const executionId = yield* CibaCompletion.CibaCompletion.executionId(request)
    for (let i = 0; i < 2_000; i++) {
      const result = yield* CibaCompletion.CibaCompletion.poll(executionId)
      if (result !== undefined && result._tag === "Complete") return yield* result.exit
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 1)))
    }
    return assert.fail("the workflow did not complete")
  })

/** Runs `effect` while the test clock moves a second at a time, so that its backoffs pass. */
const withTimePassing = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 90 && fiber.unsafePoll() === null; i++) {
      yield* TestClock.adjust("1 second")
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 2)))
    }
    return yield* fiber.await.pipe(Effect.flatten)
  })

const token = (authReqId: string, clientId: 1 | 2 | 3) =>
  Effect.map(
    TokenEndpoint.handleTokenRequest({
      parameters: new URLSearchParams({ grant_type: "urn:openid:params:grant-type:ciba", auth_req_id: authReqId })
        .toString(),
      clientId: String(clientId),
      clientSecret: secretOf[clientId]
    }),
    (answer) => ({ status: answer.status, json: JSON.parse(answer.body) as Record<string, unknown> })
  )

/** Every value in our tables, as one text, to look for a secret in. */
const everything = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const tables = yield* sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`
  const rows = yield* Effect.forEach(tables, ({ name }) => sql.unsafe(`SELECT * FROM "${name}"`))
  return JSON.stringify(rows)
})

const decide = (authReqId: string, decision: "allow" | "deny") =>
  Effect.flatMap(Decisions.Decisions, (decisions) => decisions.decide({ authReqId, decision }))

const notifications = Effect.flatMap(ClientNotifier.ClientNotifierRecorder, (recorder) => recorder.notifications)

describe("durable decisions on the in-memory engine", () => {
  it.scoped("POLL: the decision is accepted, carried out by the workflow, and the client redeems its tokens", () =>
    Effect.gen(function*() {
      const { authReqId, request } = yield* backchannel(1)
      assert.strictEqual((yield* token(authReqId, 1)).json.error, "authorization_pending")
      assert.deepStrictEqual(yield* decide(authReqId, "allow"), { _tag: "Accepted" })
      const record = yield* completion(request)
      assert.strictEqual(record.result, "AUTHORIZED")
      assert.strictEqual(record.complete._tag, "Completed")
      assert.isUndefined(record.delivery)
      const tokens = yield* token(authReqId, 1)
      assert.strictEqual(tokens.status, 200)
      assert.isString(tokens.json.access_token)
      // A second decision is refused, and changes nothing.
      const again = yield* Effect.flip(decide(authReqId, "deny"))
      assert.strictEqual(again._tag === "DecisionError" && again.reason, "AlreadyDecided")
    }).pipe(Effect.provide(AuthorizationServer)))

  it.scoped("PUSH: the tokens reach the client once, sealed meanwhile, and nothing is left of them", () =>
    Effect.gen(function*() {
      const { authReqId, notificationToken, request } = yield* backchannel(3)
      assert.notInclude(yield* everything, notificationToken)
      yield* decide(authReqId, "allow")
      const record = yield* completion(request)
      assert.deepStrictEqual(record.delivery, { _tag: "Delivered", status: 204, attempts: 1, rebuilt: false })
      const pushed = (yield* notifications).filter((n) => n.endpoint === PUSH)
      assert.strictEqual(pushed.length, 1)
      assert.strictEqual(Redacted.value(pushed[0]!.token), notificationToken)
      const body = JSON.parse(pushed[0]!.body) as Record<string, string>
      assert.strictEqual(body.auth_req_id, authReqId)
      const dump = yield* everything
      for (const secret of [body.access_token!, body.refresh_token!, body.id_token!, notificationToken]) {
        assert.notInclude(dump, secret)
      }
      const vault = yield* NotificationVault.NotificationVault
      assert.isTrue((yield* vault.notification(authReqId))._tag === "None")
      assert.isTrue((yield* vault.token(authReqId))._tag === "None")
    }).pipe(Effect.provide(AuthorizationServer)))

  it.scoped("an undecided PING request is failed at its deadline by the durable timer, and the client pinged", () =>
    Effect.gen(function*() {
      const { authReqId, request } = yield* backchannel(2)
      yield* TestClock.adjust("56 seconds")
      const record = yield* completion(request)
      assert.strictEqual(record.result, "TRANSACTION_FAILED")
      assert.strictEqual(record.delivery?._tag, "Delivered")
      const late = yield* Effect.flip(decide(authReqId, "allow"))
      assert.strictEqual(late._tag === "DecisionError" && late.reason, "Expired")
      const pinged = (yield* notifications).filter((n) => n.endpoint === PING)
      assert.deepStrictEqual(JSON.parse(pinged[0]!.body), { auth_req_id: authReqId })
      assert.strictEqual((yield* token(authReqId, 2)).json.error, "expired_token")
    }).pipe(Effect.provide(AuthorizationServer)))

  it.scoped("the notification is retried after 503, 429 and 408, never after another 4xx", () =>
    Effect.gen(function*() {
      script[PUSH] = [503, 429, 408]
      const first = yield* backchannel(3)
      yield* decide(first.authReqId, "deny")
      const record = yield* withTimePassing(completion(first.request))
      assert.deepStrictEqual(record.delivery, { _tag: "Delivered", status: 204, attempts: 4, rebuilt: false })

      script[PUSH] = [400]
      const second = yield* backchannel(3)
      yield* decide(second.authReqId, "deny")
      const refused = yield* completion(second.request)
      assert.strictEqual(refused.delivery?._tag, "Rejected")
      assert.strictEqual(refused.delivery?._tag === "Rejected" && refused.delivery.attempts, 1)
    }).pipe(Effect.provide(AuthorizationServer)))

  it.scoped("the notification is Expired, with its attempts, when the client takes none before the auth_req_id expires", () =>
    Effect.gen(function*() {
      script[PUSH] = Array.from({ length: 100 }, () => 503)
      const { authReqId, request } = yield* backchannel(3)
      yield* decide(authReqId, "deny")
      const record = yield* withTimePassing(completion(request))
      script[PUSH] = []
      const sent = (yield* notifications).filter((n) => JSON.parse(n.body).auth_req_id === authReqId).length
      assert.isAbove(sent, 1)
      assert.deepStrictEqual(record.delivery, { _tag: "Expired", attempts: sent })
    }).pipe(Effect.provide(AuthorizationServer)))

  it.scoped("/complete is sent again after a 5xx until Authlete takes it, or until the auth_req_id would expire", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const completesOf = (ticket: string) =>
        Effect.map(
          simulator.requests,
          (all) =>
            all.filter((r) => r.path.endsWith("/complete") && (r.body as { ticket?: string }).ticket === ticket).length
        )

      const taken = yield* backchannel(1)
      yield* simulator.failNext(2, 502)
      yield* decide(taken.authReqId, "allow")
      const completed = yield* withTimePassing(completion(taken.request))
      assert.strictEqual(completed.complete._tag === "Completed" && completed.complete.recovered, false)
      assert.strictEqual(yield* completesOf(taken.request.ticket), 3)
      assert.strictEqual((yield* token(taken.authReqId, 1)).status, 200)

      const unreachable = yield* backchannel(1)
      yield* simulator.failNext(1_000, 502)
      yield* decide(unreachable.authReqId, "allow")
      const record = yield* withTimePassing(completion(unreachable.request))
      yield* simulator.reset
      assert.strictEqual(record.complete._tag, "Unavailable")
      assert.isAbove(yield* completesOf(unreachable.request.ticket), 1)
    }).pipe(Effect.provide(AuthorizationServer)))

  it.scoped("a /complete whose answer was lost: POLL loses nothing, PING is rebuilt, PUSH tokens are lost", () =>
    Effect.gen(function*() {
      const store = yield* SqlPendingRequestStore.SqlPendingRequestStore
      const authlete = yield* AuthleteClient.AuthleteClient
      // Authlete reports a client's notification endpoint in /complete's answers: learn them first.
      for (const clientId of [2, 3] as const) {
        const learned = yield* backchannel(clientId)
        yield* decide(learned.authReqId, "allow")
        yield* completion(learned.request)
      }

      /** An earlier attempt that reached Authlete and died before anything was recorded of its answer. */
      const lostAttempt = (request: PendingRequest.PendingRequest, result: "AUTHORIZED" | "ACCESS_DENIED") =>
        Effect.gen(function*() {
          yield* store.countCompletionAttempt(request.authReqId)
          yield* authlete.backchannelAuthenticationComplete({ ticket: request.ticket, result, subject: "user-1" })
        })

      const poll = yield* backchannel(1)
      yield* lostAttempt(poll.request, "AUTHORIZED")
      yield* decide(poll.authReqId, "allow")
      assert.strictEqual((yield* completion(poll.request)).complete._tag, "TicketAlreadyUsed")
      assert.strictEqual((yield* token(poll.authReqId, 1)).status, 200)

      const ping = yield* backchannel(2)
      yield* lostAttempt(ping.request, "AUTHORIZED")
      yield* decide(ping.authReqId, "allow")
      const rebuilt = yield* completion(ping.request)
      assert.deepStrictEqual(rebuilt.delivery, { _tag: "Delivered", status: 204, attempts: 1, rebuilt: true })
      const pinged = (yield* notifications).filter((n) => JSON.parse(n.body).auth_req_id === ping.authReqId)
      assert.strictEqual(Redacted.value(pinged[0]!.token), ping.notificationToken)
      assert.strictEqual((yield* token(ping.authReqId, 2)).status, 200)

      const push = yield* backchannel(3)
      yield* lostAttempt(push.request, "AUTHORIZED")
      yield* decide(push.authReqId, "allow")
      assert.strictEqual((yield* completion(push.request)).delivery?._tag, "Lost")

      const denied = yield* backchannel(3)
      yield* lostAttempt(denied.request, "ACCESS_DENIED")
      yield* decide(denied.authReqId, "deny")
      assert.strictEqual((yield* completion(denied.request)).delivery?._tag, "Delivered")
      const pushed = (yield* notifications).filter((n) => JSON.parse(n.body).auth_req_id === denied.authReqId)
      assert.strictEqual(JSON.parse(pushed[0]!.body).error, "access_denied")
    }).pipe(Effect.provide(AuthorizationServer)))

  it.scoped("a notification sealed by a run that died before recording it is delivered without a second /complete", () =>
    Effect.gen(function*() {
      const vault = yield* NotificationVault.NotificationVault
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const { authReqId, notificationToken, request } = yield* backchannel(3)
      yield* vault.keepNotification(authReqId, {
        endpoint: PUSH,
        token: Redacted.make(notificationToken),
        body: JSON.stringify({ auth_req_id: authReqId, access_token: "sealed-earlier" })
      }, Date.now() + 60_000)
      const before = (yield* simulator.requests).filter((r) => r.path.endsWith("/complete")).length
      yield* decide(authReqId, "allow")
      const record = yield* completion(request)
      assert.deepStrictEqual(record.complete, { _tag: "Completed", action: "NOTIFICATION", recovered: true })
      assert.strictEqual((yield* simulator.requests).filter((r) => r.path.endsWith("/complete")).length, before)
    }).pipe(Effect.provide(AuthorizationServer)))

  it.scoped("a request started twice, from anywhere, is one workflow: one /complete", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const decisions = yield* Decisions.Decisions
      const { authReqId, request } = yield* backchannel(1)
      yield* decisions.awaiting(request)
      yield* decisions.awaiting(request)
      yield* decide(authReqId, "allow")
      yield* completion(request)
      const completes = (yield* simulator.requests).filter((r) =>
        r.path.endsWith("/complete") && (r.body as { ticket?: string }).ticket === request.ticket
      )
      assert.strictEqual(completes.length, 1)
    }).pipe(Effect.provide(AuthorizationServer)))
})
