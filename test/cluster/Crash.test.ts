/**
 * The authorization server on several nodes, crashing: `effect-authlete simulate` and three
 * `effect-authlete serve` nodes on one PostgreSQL, CIBA flows of every mode sent to random nodes
 * (each backchannel request, decision and token request to a node picked at random), and every few
 * hundred milliseconds a random node killed with SIGKILL and restarted, as soon as the one killed
 * before serves again (two nodes always serve; a restart takes a few seconds, so that is a kill every
 * few seconds). At the end: every decided flow ended (or is counted in the documented window), no
 * ticket was completed twice at the simulator, every undecided flow was failed by its durable timer,
 * and no token is in the database in plain text, every undecided or denied flow was failed before
 * its `auth_req_id` expired. It runs idle, and loaded: two busy-loop processes take the two cores as
 * a noisy neighbour would. The figures (decision to `/complete`, the durable timers' lateness, the
 * margin before expiry) are printed and written to `test/cluster/.last-run-{idle,loaded}.json`.
 * With EFFECT_AUTHLETE_CRASH_DEBUG set, the nodes log at debug level, and `timeline.json` in the run's
 * logs directory lists every kill and restart and each undecided flow's deadline and lateness.
 */
import { SqlClient } from "@effect/sql"
import { afterEach, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { DeviceDecision } from "effect-authlete"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { kill, killEveryStarted, type Received, receiver, startCli, type Started } from "../support/processes.js"
import * as Postgres from "./postgres.js"

const FLOWS = Number(process.env.EFFECT_AUTHLETE_CRASH_FLOWS ?? 240)
/** Milliseconds between two flows' starts. */
const FLOW_SPACING = Number(process.env.EFFECT_AUTHLETE_CRASH_SPACING ?? 250)
const NODES = 3
const DECIDED_EXPIRY = 60
const UNDECIDED_EXPIRY = 60
const CIBA = "urn:openid:params:grant-type:ciba"

type Mode = "POLL" | "PING" | "PUSH"

interface SimulatorInfo {
  readonly baseUrl: string
  readonly serviceId: string
  readonly accessToken: string
  readonly clients: ReadonlyArray<
    { readonly clientId: string; readonly clientSecret: string; readonly deliveryMode: Mode }
  >
}

interface ServeInfo {
  readonly issuer: string
  readonly pid: number
}

interface Node {
  readonly index: number
  readonly port: number
  readonly runnerPort: number
  current: Started<ServeInfo> | undefined
  ready: boolean
  starts: number
}

interface Flow {
  readonly id: number
  readonly mode: Mode
  readonly decision: "allow" | "deny" | "none"
  readonly notificationToken: string
  authReqId?: string
  expiresAt?: number
  ended?: "tokens" | "denied" | "expired"
  failure?: string
  answerLostByClient?: boolean
  /** When the node answered the decision with 200. */
  decidedAt?: number
  readonly tokens: Array<string>
}

/** Processes that keep a core busy, as a noisy neighbour would. */
const busyLoops = (count: number): ReadonlyArray<ChildProcess> =>
  Array.from({ length: count }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }))

const percentile = (sorted: ReadonlyArray<number>, p: number): number | null =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!

const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))
const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(Math.random() * items.length)]!

/**
 * Every row of every table, as text, searched for each secret; and where the lost flows' requests
 * stand in the store, to tell what was left undone.
 */
const scanDatabase = (secrets: ReadonlyArray<string>, lostAuthReqIds: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const tables = yield* sql<{ tablename: string }>`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`
    const rows = yield* Effect.forEach(tables, ({ tablename }) =>
      sql.unsafe<{ row: string }>(`SELECT t::text AS row FROM "${tablename}" t`))
    const dump = rows.flat().map(({ row }) =>
      row
    ).join("\n")
    const lostInStore = yield* Effect.forEach(lostAuthReqIds, (authReqId) =>
      Effect.map(
        sql<Record<string, unknown>>`SELECT state, workflow_started, signalled, finished, complete_attempts
          FROM effect_authlete_pending_requests WHERE auth_req_id = ${authReqId}`,
        (found) => found[0]
      ))
    return {
      tables: tables.length,
      bytes: dump.length,
      found: secrets.filter((secret) => dump.includes(secret)).length,
      lostInStore
    }
  })

/** Whether the test's receivers make a notification's first attempt fail with 503 (a retry follows). */
const flaky = (authReqId: string) => authReqId.charCodeAt(0) % 10 === 0

type Load = "idle" | "loaded"

/**
 * The simulator stands in for Authlete here; the nodes are what is tested. It starts in about two
 * seconds under the busy loops; one CI run saw it print nothing for 60 s, once, so a start that
 * fails is told (with what it printed) and tried once more.
 */
const startSimulator = async (args: ReadonlyArray<string>, logFile: string): Promise<Started<SimulatorInfo>> => {
  try {
    return await startCli<SimulatorInfo>(args, { logFile, timeoutMillis: 30_000 })
  } catch (error) {
    console.warn(`the simulator did not start; once more: ${String(error)}`)
    return await startCli<SimulatorInfo>(args, { logFile, timeoutMillis: 30_000 })
  }
}

/**
 * Every process a run started, killed when its test ends whatever happened (a failed assertion or a
 * timeout must not leave nodes on the ports of the next run); `stopping` ends the restart loops.
 */
const busy = new Set<ChildProcess>()
let stopping = false
afterEach(() => {
  stopping = true
  for (const child of busy) child.kill("SIGKILL")
  busy.clear()
  killEveryStarted()
})

const crashRun = async (load: Load) => {
  const began = Date.now()
  stopping = false
  const neighbours = load === "loaded" ? busyLoops(2) : []
  for (const neighbour of neighbours) busy.add(neighbour)
  const directory = mkdtempSync(join(tmpdir(), "effect-authlete-crash-"))
  const journal = join(directory, "simulator-journal.ndjson")
  await Effect.runPromise(Postgres.reset.pipe(Effect.provide(Postgres.layer)))

  const ping = await receiver((id, attempt) => attempt === 0 && flaky(id) ? 503 : 204)
  const push = await receiver((id, attempt) => attempt === 0 && flaky(id) ? 503 : 204)
  const simulator = await startSimulator([
    "simulate",
    "--json",
    "--service-id",
    "700000000001",
    "--access-token",
    randomBytes(32).toString("base64url"),
    "--interval",
    "1",
    "--latency",
    "100",
    "--ping-endpoint",
    `${ping.url}/ping`,
    "--push-endpoint",
    `${push.url}/push`,
    "--journal",
    journal
  ], join(directory, "simulator.log"))
  const clientOf = (mode: Mode) => simulator.info.clients.find((client) => client.deliveryMode === mode)!
  const env = {
    AUTHLETE_BASE_URL: simulator.info.baseUrl,
    AUTHLETE_SERVICE_APIKEY: simulator.info.serviceId,
    AUTHLETE_SERVICE_ACCESSTOKEN: simulator.info.accessToken,
    EFFECT_AUTHLETE_SECRET_KEY: randomBytes(32).toString("base64")
  }

  const nodes: Array<Node> = Array.from({ length: NODES }, (_, index) => ({
    index,
    port: 23_300 + index,
    runnerPort: 24_500 + index,
    current: undefined,
    ready: false,
    starts: 0
  }))
  const start = async (node: Node): Promise<void> => {
    while (!stopping) {
      try {
        node.current = await startCli<ServeInfo>([
          "serve",
          ...(process.env.EFFECT_AUTHLETE_CRASH_DEBUG === undefined ? [] : ["--log-level", "debug"]),
          "--json",
          "--database",
          Postgres.postgresUrl,
          "--port",
          String(node.port),
          "--runner-port",
          String(node.runnerPort),
          "--automated-approval",
          "--allow-local-notifications",
          // A durability test: 240 flows of three users in a minute, far past the abuse limits.
          "--limit-per-client",
          "off",
          "--limit-per-user",
          "off",
          "--limit-pending-per-user",
          "off"
        ], { env, logFile: join(directory, `node-${node.index}.log`) })
        node.starts++
        node.ready = true
        return
      } catch {
        await sleep(500)
      }
    }
  }
  await Promise.all(nodes.map(start))

  // ------------------------------------------------------------------------------ the client side

  /**
   * One request to a random node, retried on another one when it gets no answer or a 5xx (at most 40
   * times); `attempts` says how many were sent.
   */
  const send = async (
    path: string,
    init: RequestInit,
    timeoutMillis = 10_000
  ): Promise<{ status: number; json: Record<string, unknown>; attempts: number }> => {
    let last = ""
    for (let attempt = 1; attempt <= 40; attempt++) {
      const node = pick(nodes)
      try {
        const response = await fetch(`http://127.0.0.1:${node.port}${path}`, {
          ...init,
          signal: AbortSignal.timeout(timeoutMillis)
        })
        const text = await response.text()
        if (response.status >= 500) throw new Error(`${response.status} ${text}`)
        const json = text === "" ? {} : JSON.parse(text) as Record<string, unknown>
        return { status: response.status, json, attempts: attempt }
      } catch (error) {
        last = error instanceof Error ? error.message : String(error)
        await sleep(100 + Math.random() * 200)
      }
    }
    throw new Error(`${path}: no node answered (${last})`)
  }
  const form = (mode: Mode, parameters: Record<string, string>): RequestInit => {
    const client = clientOf(mode)
    return {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded"
      },
      body: new URLSearchParams(parameters).toString()
    }
  }
  const tokenRequest = (flow: Flow) =>
    send("/token", form(flow.mode, { grant_type: CIBA, auth_req_id: flow.authReqId! }), 20_000)
  const accepted = (receiver: { received: Map<string, Array<Received>> }, authReqId: string) =>
    (receiver.received.get(authReqId) ?? []).filter((delivery) => delivery.status < 300)

  /** Redeems at the token endpoint until tokens, a denial or the expiry. */
  const redeem = async (flow: Flow): Promise<void> => {
    while (Date.now() < flow.expiresAt! + 5_000) {
      const answer = await tokenRequest(flow)
      if (answer.status === 200) {
        flow.tokens.push(...["access_token", "refresh_token", "id_token"].map((name) => String(answer.json[name])))
        flow.ended = "tokens"
        return
      }
      const error = answer.json.error
      // A retried token request: the node killed under the first attempt had Authlete answer it (tokens or
      // the denial, redeemed once), and died before passing the answer on.
      if (error === "invalid_grant" && answer.attempts > 1) {
        flow.answerLostByClient = true
        return void (flow.ended = flow.decision === "allow" ? "tokens" : "denied")
      }
      if (error === "access_denied") return void (flow.ended = "denied")
      if (error === "expired_token") return void (flow.ended = "expired")
      if (error !== "authorization_pending" && error !== "slow_down") {
        return void (flow.failure = `token endpoint: ${JSON.stringify(answer.json)}`)
      }
      await sleep(error === "slow_down" ? 2_000 : 1_100)
    }
  }

  const waitFor = async (condition: () => boolean, until: number) => {
    while (!condition() && Date.now() < until) await sleep(100)
    return condition()
  }

  const run = async (flow: Flow): Promise<void> => {
    const parameters: Record<string, string> = {
      scope: "openid profile email",
      login_hint: pick(["taro@example.com", "alice@example.com", "user-3"]),
      requested_expiry: String(flow.decision === "none" ? UNDECIDED_EXPIRY : DECIDED_EXPIRY)
    }
    if (flow.mode !== "POLL") parameters.client_notification_token = flow.notificationToken
    const started = await send("/backchannel", form(flow.mode, parameters))
    if (started.status !== 200) return void (flow.failure = `backchannel: ${JSON.stringify(started.json)}`)
    flow.authReqId = String(started.json.auth_req_id)
    flow.expiresAt = Date.now() + Number(started.json.expires_in) * 1_000
    if (flow.decision === "none") {
      await sleep(flow.expiresAt - Date.now() + 2_000)
      return
    }
    await sleep(200 + Math.random() * 1_800)
    const decided = await send(`/ciba/approve/${encodeURIComponent(flow.authReqId)}/${flow.decision}`, {
      method: "POST"
    })
    // A 409 after an attempt that got no answer: that attempt went through.
    if (decided.status !== 200 && !(decided.status === 409 && decided.attempts > 1)) {
      return void (flow.failure = `decision: ${decided.status} ${JSON.stringify(decided.json)}`)
    }
    flow.decidedAt = Date.now()
    if (flow.mode === "POLL") return redeem(flow)
    if (flow.mode === "PING") {
      const pinged = await waitFor(() => accepted(ping, flow.authReqId!).length > 0, flow.expiresAt + 5_000)
      if (!pinged) return
      return redeem(flow)
    }
    const pushed = await waitFor(() => accepted(push, flow.authReqId!).length > 0, flow.expiresAt + 5_000)
    if (!pushed) return
    const body = JSON.parse(accepted(push, flow.authReqId)[0]!.body) as Record<string, unknown>
    if (typeof body.access_token === "string") {
      flow.tokens.push(...["access_token", "refresh_token", "id_token"].map((name) => String(body[name])))
      flow.ended = "tokens"
    } else if (body.error === "access_denied") {
      flow.ended = "denied"
    } else {
      flow.failure = `push: ${JSON.stringify(body)}`
    }
  }

  const newFlow = (id: number, mode: Mode, decision: Flow["decision"]): Flow => ({
    id,
    mode,
    decision,
    notificationToken: `nt-${randomBytes(24).toString("base64url")}`,
    tokens: []
  })

  // Warm-up, before any crash: one allowed flow per mode, so that the nodes have seen each client once.
  const warmUp = (["POLL", "PING", "PUSH"] as const).map((mode, i) => newFlow(-1 - i, mode, "allow"))
  await Promise.all(warmUp.map(run))

  // ------------------------------------------------------------------------------------ the chaos

  let chaos = true
  let kills = 0
  const downtimes: Array<number> = []
  /** Every kill and restart: which node, which process, when (for the debug report). */
  const timeline: Array<{ node: number; pid: number; killedAt: number; servingAgainAt?: number; newPid?: number }> = []
  const restarts: Array<Promise<void>> = []
  const killer = (async () => {
    while (chaos) {
      await sleep(300 + Math.random() * 500)
      // At most one node is down at a time: the other two always serve.
      const ready = nodes.filter((node) => node.ready)
      if (!chaos || ready.length < NODES) continue
      const victim = pick(ready)
      victim.ready = false
      kills++
      const killedAt = Date.now()
      const event: (typeof timeline)[number] = { node: victim.index, pid: victim.current!.info.pid, killedAt }
      timeline.push(event)
      await kill(victim.current!)
      restarts.push(
        start(victim).then(() => {
          event.servingAgainAt = Date.now()
          event.newPid = victim.current?.info.pid ?? -1
          downtimes.push(Date.now() - killedAt)
        })
      )
    }
  })()

  const flows: Array<Flow> = Array.from({ length: FLOWS }, (_, id) => {
    const roll = Math.random()
    return newFlow(
      id,
      pick(["POLL", "PING", "PUSH"] as const),
      roll < 0.1 ? "none" : roll < 0.25 ? "deny" : "allow"
    )
  })
  const chaosBegan = Date.now()
  const running: Array<Promise<void>> = []
  for (const flow of flows) {
    running.push(run(flow).catch((error: unknown) => void (flow.failure = String(error))))
    await sleep(FLOW_SPACING)
  }
  const launched = Date.now()
  // The kills go on while the last flows are decided and redeemed.
  await sleep(5_000)
  chaos = false
  await killer
  const chaosSeconds = (Date.now() - chaosBegan) / 1_000
  await Promise.all(running)
  await Promise.all(restarts)
  // What the last workflows still do (their secrets' deletion) settles.
  await sleep(3_000)

  // ---------------------------------------------------------------------------------- the checks

  interface Line {
    readonly at: number
    readonly api: string
    readonly ticket?: string
    readonly authReqId?: string
    readonly result?: string
    readonly status: number
    readonly resultCode?: string
    readonly action?: string
  }
  const lines = readFileSync(journal, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Line)
  const ticketOf = new Map<string, string>()
  for (const line of lines) {
    if (
      line.api === "backchannelAuthenticationIssue" && line.authReqId !== undefined && line.ticket !== undefined
    ) {
      ticketOf.set(line.authReqId, line.ticket)
    }
  }
  const completes = new Map<string, Array<Line>>()
  for (const line of lines) {
    if (line.api !== "backchannelAuthenticationComplete" || line.ticket === undefined) continue
    completes.set(line.ticket, [...(completes.get(line.ticket) ?? []), line])
  }
  const processed = (line: Line) => line.action === "NO_ACTION" || line.action === "NOTIFICATION"
  const completesOf = (flow: Flow) => completes.get(ticketOf.get(flow.authReqId ?? "") ?? "") ?? []

  const everyFlow = [...warmUp, ...flows]
  const started = everyFlow.filter((flow) => flow.authReqId !== undefined)
  const decided = started.filter((flow) => flow.decision !== "none")
  const undecided = started.filter((flow) => flow.decision === "none")
  const expected = (flow: Flow) => flow.decision === "allow" ? "tokens" : "denied"
  const endedWell = (flow: Flow) =>
    flow.ended === expected(flow) && (flow.mode !== "PING" || accepted(ping, flow.authReqId!).length > 0)
  // The documented window: a PUSH whose /complete was answered to a node that died before sealing it.
  const inWindow = decided.filter((flow) =>
    !endedWell(flow) && flow.mode === "PUSH" && flow.decision === "allow" && completesOf(flow).length > 1 &&
    completesOf(flow).slice(1).every((line) => !processed(line))
  )
  const lost = decided.filter((flow) => !endedWell(flow) && !inWindow.includes(flow))

  const completedTwice = [...completes.values()].filter((calls) => calls.filter(processed).length > 1)
  const twoResults = [...completes.values()].filter((calls) => new Set(calls.map((call) => call.result)).size > 1)
  const reExecuted = [...completes.values()].reduce((sum, calls) => sum + calls.length - 1, 0)
  const refusedAsUsed = [...completes.values()].reduce(
    (sum, calls) => sum + calls.slice(1).filter((call) => !processed(call)).length,
    0
  )
  // Failed by the durable timer: a TRANSACTION_FAILED /complete, the only result its ticket ever got.
  const unfailed = undecided.filter((flow) => {
    const calls = completesOf(flow)
    return calls.length === 0 || calls.some((call) => call.result !== "TRANSACTION_FAILED")
  })
  // Late enough that Authlete had expired the auth_req_id (the timer's node was down at the deadline).
  const failedAfterExpiry = undecided.filter((flow) => completesOf(flow)[0]?.resultCode === "A198204")
  const lateness = undecided.flatMap((flow) => {
    const first = completesOf(flow)[0]
    // The decision deadline: DECISION_MARGIN_MILLIS before the expiry, or half the lifetime when shorter.
    return first === undefined
      ? []
      : [first.at - (flow.expiresAt! - Math.min(DeviceDecision.DECISION_MARGIN_MILLIS, UNDECIDED_EXPIRY * 500))]
  }).sort((a, b) => a - b)
  // From the decision's 200 to the first /complete of its ticket at the simulator.
  const decisionToComplete = decided.flatMap((flow) => {
    const first = completesOf(flow)[0]
    return first === undefined || flow.decidedAt === undefined ? [] : [Math.max(0, first.at - flow.decidedAt)]
  }).sort((a, b) => a - b)
  // How long before its expiry each flow's /complete came (negative: after it).
  const marginOf = (flow: Flow) => {
    const first = completesOf(flow)[0]
    return first === undefined ? [] : [flow.expiresAt! - first.at]
  }
  const undecidedMargins = undecided.flatMap(marginOf).sort((a, b) => a - b)
  const deniedMargins = decided.filter((flow) => flow.decision === "deny").flatMap(marginOf).sort((a, b) => a - b)
  const decidedAfterExpiry = decided.filter((flow) => marginOf(flow).some((margin) => margin < 0))
  const resumedByUpkeep = nodes.reduce(
    (sum, node) =>
      sum + readFileSync(join(directory, `node-${node.index}.log`), "utf8").split("Resumed a stalled workflow").length -
      1,
    0
  )

  const more = (receiver: { received: Map<string, Array<Received>> }) =>
    [...receiver.received.keys()].filter((id) => accepted(receiver, id).length > 1).length
  const wrongBearer = [...ping.received.entries(), ...push.received.entries()].filter(([id, deliveries]) => {
    const flow = everyFlow.find((candidate) => candidate.authReqId === id)
    return flow !== undefined && deliveries.some((d) => d.authorization !== `Bearer ${flow.notificationToken}`)
  })

  const secrets = everyFlow.flatMap((
    flow
  ) => [...flow.tokens, ...(flow.mode === "POLL" ? [] : [flow.notificationToken])])
    .filter((secret) => secret.length >= 16)
  const inDatabase = await Effect.runPromise(
    scanDatabase(secrets, lost.map((flow) => flow.authReqId!)).pipe(Effect.provide(Postgres.layer))
  )

  const count = (items: ReadonlyArray<Flow>, mode: Mode) => items.filter((flow) => flow.mode === mode).length
  const report = {
    load,
    flows: everyFlow.length,
    warmUpFlows: warmUp.length,
    startedFlows: started.length,
    byMode: { POLL: count(started, "POLL"), PING: count(started, "PING"), PUSH: count(started, "PUSH") },
    backchannelFailed: everyFlow.length - started.length,
    backchannelFailures: [
      ...new Set(everyFlow.filter((flow) => flow.authReqId === undefined).map((f) => f.failure))
    ],
    decided: decided.length,
    undecided: undecided.length,
    kills,
    nodeStarts: nodes.reduce((sum, node) => sum + node.starts, 0),
    downtimeMillis: {
      p50: downtimes.sort((a, b) => a - b)[Math.floor(downtimes.length / 2)] ?? null,
      max: downtimes[downtimes.length - 1] ?? null
    },
    chaosSeconds,
    launchSeconds: (launched - chaosBegan) / 1_000,
    endedWell: decided.filter(endedWell).length,
    tokenAnswersLostByClient: everyFlow.filter((flow) => flow.answerLostByClient === true).length,
    inWindow: inWindow.length,
    lost: lost.length,
    lostFlows: lost.map((flow, i) => ({
      id: flow.id,
      mode: flow.mode,
      decision: flow.decision,
      authReqId: flow.authReqId,
      failure: flow.failure,
      store: inDatabase.lostInStore[i]
    })),
    ticketsAtSimulator: completes.size,
    completedTwice: completedTwice.length,
    twoDifferentResults: twoResults.length,
    completeCalls: [...completes.values()].reduce((sum, calls) => sum + calls.length, 0),
    reExecutedCompletes: reExecuted,
    refusedAsAlreadyUsed: refusedAsUsed,
    undecidedUnfailed: unfailed.length,
    undecidedFailedAfterExpiry: failedAfterExpiry.length,
    deadlineLatenessMillis: {
      p50: percentile(lateness, 0.5),
      p99: percentile(lateness, 0.99),
      max: lateness[lateness.length - 1] ?? null
    },
    decisionToCompleteMillis: {
      p50: percentile(decisionToComplete, 0.5),
      p99: percentile(decisionToComplete, 0.99),
      max: decisionToComplete[decisionToComplete.length - 1] ?? null
    },
    undecidedFailedBeforeExpiryByMillis: { min: undecidedMargins[0] ?? null, p50: percentile(undecidedMargins, 0.5) },
    deniedCompletedBeforeExpiryByMillis: { min: deniedMargins[0] ?? null, p50: percentile(deniedMargins, 0.5) },
    decidedCompletedAfterExpiry: decidedAfterExpiry.length,
    workflowsResumedByUpkeep: resumedByUpkeep,
    pingsDeliveredMoreThanOnce: more(ping),
    pushesDeliveredMoreThanOnce: more(push),
    notificationsWithWrongBearer: wrongBearer.length,
    database: { tables: inDatabase.tables, bytes: inDatabase.bytes, secretsLookedFor: secrets.length },
    plainTextTokensInDatabase: inDatabase.found,
    seconds: (Date.now() - began) / 1_000,
    logs: directory
  }
  writeFileSync(new URL(`./.last-run-${load}.json`, import.meta.url), `${JSON.stringify(report, null, 2)}\n`)
  if (process.env.EFFECT_AUTHLETE_CRASH_DEBUG !== undefined) {
    // The undecided flows' deadlines and timers, and the kills, to correlate with the nodes' logs.
    const deadlineOf = (flow: Flow) =>
      flow.expiresAt! - Math.min(DeviceDecision.DECISION_MARGIN_MILLIS, UNDECIDED_EXPIRY * 500)
    writeFileSync(
      join(directory, "timeline.json"),
      `${
        JSON.stringify(
          {
            chaosBegan,
            undecided: undecided.map((flow) => ({
              authReqId: flow.authReqId,
              ticket: ticketOf.get(flow.authReqId!),
              expiresAt: flow.expiresAt,
              deadline: deadlineOf(flow),
              firstCompleteAt: completesOf(flow)[0]?.at,
              latenessMillis: completesOf(flow)[0] === undefined ? null : completesOf(flow)[0]!.at - deadlineOf(flow)
            })).sort((a, b) => (b.latenessMillis ?? 0) - (a.latenessMillis ?? 0)),
            kills: timeline,
            nodePids: nodes.map((node) => ({ node: node.index, pid: node.current?.info.pid }))
          },
          null,
          2
        )
      }\n`
    )
  }
  console.log(`cluster crash test (${load}): ${JSON.stringify(report, null, 2)}`)

  for (const neighbour of neighbours) neighbour.kill("SIGKILL")
  await Promise.all(nodes.map((node) => node.current === undefined ? undefined : kill(node.current)))
  await kill(simulator)
  await Promise.all([ping.close(), push.close()])

  assert.isAtLeast(started.length, 200)
  assert.isAtLeast(kills, 5)
  assert.deepStrictEqual(report.lostFlows, [])
  assert.strictEqual(report.completedTwice, 0)
  assert.strictEqual(report.twoDifferentResults, 0)
  assert.strictEqual(report.undecidedUnfailed, 0)
  assert.strictEqual(report.notificationsWithWrongBearer, 0)
  assert.strictEqual(report.plainTextTokensInDatabase, 0)
  assert.isAbove(secrets.length, 200)
  // Every accepted decision reached /complete, and every undecided flow was failed, in time.
  assert.strictEqual(report.decidedCompletedAfterExpiry, 0)
  assert.strictEqual(report.undecidedFailedAfterExpiry, 0)
}

describe("three serve nodes on PostgreSQL, killed and restarted at random", () => {
  it(
    "idle: every decided CIBA flow ends; nothing completes twice; undecided flows are failed in time; no token in plain text",
    () => crashRun("idle"),
    300_000
  )

  it(
    "loaded (two busy loops take the cores): the same holds",
    () => crashRun("loaded"),
    420_000
  )
})
