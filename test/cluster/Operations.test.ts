/**
 * Three `effect-authlete serve` nodes on one PostgreSQL, as an operator runs them: each is ready
 * (database, its share of the cluster, Authlete), a real Prometheus (Debian's `prometheus`) scrapes
 * their metrics and sees the series move as POLL, PING and PUSH flows run across the nodes, and every
 * flow is one trace over OTLP even when its workflow runs on another node than its request.
 */
import { SqlClient } from "@effect/sql"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { isWhole, type OtlpReceiver, otlpReceiver, traces } from "../support/otlpReceiver.js"
import {
  kill,
  killEveryStarted,
  type Receiver,
  receiver,
  type ServeInfo,
  type SimulatorInfo,
  startCli,
  type Started,
  until
} from "../support/processes.js"
import * as Postgres from "./postgres.js"

const NODES = 3
const FLOWS = 9
const PROMETHEUS_PORT = 25_690

let directory: string
let simulator: Started<SimulatorInfo>
let endpoint: Receiver
let otlp: OtlpReceiver
let prometheus: ChildProcess | undefined
let nodes: Array<Started<ServeInfo>> = []

/** One number from Prometheus' query API (NaN when the query has no result yet). */
const query = async (expression: string): Promise<number> => {
  const response = await fetch(
    `http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query?query=${encodeURIComponent(expression)}`
  )
  const body = await response.json() as { data?: { result?: ReadonlyArray<{ value: [number, string] }> } }
  const value = body.data?.result?.[0]?.value[1]
  return value === undefined ? Number.NaN : Number(value)
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "effect-authlete-operations-"))
  await Effect.runPromise(Postgres.reset.pipe(Effect.provide(Postgres.layer)))
  endpoint = await receiver(() => 204)
  otlp = await otlpReceiver()
  simulator = await startCli<SimulatorInfo>([
    "simulate",
    "--json",
    "--interval",
    "0",
    "--ping-endpoint",
    `${endpoint.url}/ping`,
    "--push-endpoint",
    `${endpoint.url}/push`
  ], { logFile: join(directory, "simulator.log") })
  const env = {
    AUTHLETE_BASE_URL: simulator.info.baseUrl,
    AUTHLETE_SERVICE_APIKEY: simulator.info.serviceId,
    AUTHLETE_SERVICE_ACCESSTOKEN: simulator.info.accessToken,
    EFFECT_AUTHLETE_SECRET_KEY: randomBytes(32).toString("base64")
  }
  for (let index = 0; index < NODES; index++) {
    nodes.push(
      await startCli<ServeInfo>([
        "serve",
        "--json",
        "--automated-approval",
        "--allow-local-notifications",
        "--database",
        Postgres.postgresUrl,
        "--port",
        String(25_600 + index),
        "--runner-port",
        String(25_610 + index),
        "--metrics-port",
        String(25_620 + index),
        "--otlp-endpoint",
        otlp.url,
        "--log-format",
        "logfmt",
        "--retention",
        "20s"
      ], { env, logFile: join(directory, `node-${index}.log`), timeoutMillis: 90_000 })
    )
  }
  const config = join(directory, "prometheus.yml")
  writeFileSync(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "scrape_configs:",
      "  - job_name: effect-authlete",
      "    static_configs:",
      `      - targets: [${nodes.map((node) => `"${new URL(node.info.metricsUrl).host}"`).join(", ")}]`,
      ""
    ].join("\n")
  )
  const log = createWriteStream(join(directory, "prometheus.log"))
  prometheus = spawn(process.env.PROMETHEUS_PATH ?? "prometheus", [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(directory, "prometheus-data")}`,
    `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`
  ], { stdio: ["ignore", "pipe", "pipe"] })
  prometheus.stdout!.pipe(log)
  prometheus.stderr!.pipe(log)
  await until("Prometheus scraping every node", async () => {
    const up = await query("sum(up)").catch(() => Number.NaN)
    return up === NODES ? true : undefined
  })
}, 240_000)

afterAll(async () => {
  prometheus?.kill("SIGKILL")
  await Promise.all(nodes.map((node) => kill(node)))
  nodes = []
  killEveryStarted()
  await endpoint?.close()
  await otlp?.close()
})

const clientOf = (mode: string) => simulator.info.clients.find((client) => client.deliveryMode === mode)!

const post = async (node: number, path: string, mode: string, parameters: Record<string, string>) => {
  const client = clientOf(mode)
  const response = await fetch(`${nodes[node % NODES]!.info.issuer}${path}`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded"
    },
    body: new URLSearchParams(parameters).toString()
  })
  return { status: response.status, json: await response.json() as Record<string, unknown> }
}

describe(`${NODES} serve nodes on one PostgreSQL, watched`, () => {
  it("each node is ready: its database, its share of the cluster and Authlete", async () => {
    for (const node of nodes) {
      const body = await until(`${node.info.issuer} ready`, async () => {
        const response = await fetch(`${node.info.issuer}/health/ready`)
        return response.status === 200 ? await response.json() : undefined
      })
      assert.deepStrictEqual(body, { status: "ready", checks: { database: "up", cluster: "up", authlete: "up" } })
    }
  }, 90_000)

  /** Every table's row count, but the rate limits' (kept until their windows end, not by the retention). */
  const rowCounts = () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const tables = yield* sql<{ readonly name: string }>`SELECT tablename AS name FROM pg_tables
    WHERE schemaname = 'public' AND tablename <> 'effect_authlete_rate_limits' ORDER BY tablename`
      const counts: Record<string, number> = {}
      for (const { name } of tables) {
        counts[name] = Number((yield* sql<{ readonly n: string }>`SELECT count(*) AS n FROM ${sql(name)}`)[0]!.n)
      }
      return counts
    }).pipe(Effect.provide(Postgres.layer), Effect.runPromise)

  let floor: Record<string, number> = {}
  let grew: Record<string, number> = {}

  it("Prometheus sees the series move as flows run across the nodes; each flow is one trace across nodes", async () => {
    floor = await rowCounts()
    const issuedBefore = await query(`sum(effect_authlete_backchannel_requests_total{outcome="issued"})`)
    assert.isTrue(Number.isNaN(issuedBefore) || issuedBefore === 0)
    const modes = ["POLL", "PING", "PUSH"]
    for (let n = 0; n < FLOWS; n++) {
      const mode = modes[n % 3]!
      // Requested on one node, decided on the next, its tokens asked of the third.
      const started = await post(n, "/backchannel", mode, {
        scope: "openid",
        login_hint: ["user-1", "user-2", "user-3"][n % 3]!,
        ...(mode === "POLL" ? {} : { client_notification_token: `token-${n}-${"x".repeat(20)}` })
      })
      assert.strictEqual(started.status, 200, JSON.stringify(started.json))
      const authReqId = String(started.json.auth_req_id)
      const approve = nodes[(n + 1) % NODES]!.info.automatedApprovalUrl
        .replace("{auth_req_id}", authReqId).replace("{action}", "allow")
      assert.strictEqual((await fetch(approve, { method: "POST" })).status, 200)
      if (mode !== "POLL") await until(`the ${mode} notification`, () => endpoint.received.get(authReqId))
      if (mode !== "PUSH") {
        await until("the tokens", async () => {
          const answer = await post(n + 2, "/token", mode, {
            grant_type: "urn:openid:params:grant-type:ciba",
            auth_req_id: authReqId
          })
          return answer.status === 200 ? true : undefined
        })
      }
    }
    // The flows' rows are there until their 20 seconds are up.
    grew = await rowCounts()
    // Summed over the three nodes by Prometheus, once it has scraped them after the flows.
    const expected: ReadonlyArray<readonly [string, number]> = [
      [`sum(effect_authlete_backchannel_requests_total{outcome="issued"})`, FLOWS],
      [`sum(effect_authlete_decisions_total{result="AUTHORIZED"})`, FLOWS],
      [`sum(effect_authlete_decision_duration_count)`, FLOWS],
      [`sum(effect_authlete_notifications_total{outcome="delivered"})`, (FLOWS / 3) * 2],
      [`sum(effect_authlete_delivery_duration_count)`, (FLOWS / 3) * 2],
      [`sum(effect_authlete_authlete_duration_count{api="backchannelAuthenticationComplete",outcome="ok"})`, FLOWS],
      // Every node served requests: a series from each.
      [`count(effect_authlete_authlete_duration_count{api="backchannelAuthentication"})`, NODES],
      [`max(effect_authlete_backchannel_pending)`, 0]
    ]
    for (const [expression, value] of expected) {
      await until(`${expression} = ${value}`, async () => (await query(expression)) === value ? true : undefined)
    }

    // One trace per flow, each with its one root (the backchannel request) and every parent in it.
    const flows = await until("every flow's trace, whole", () => {
      const complete = traces(otlp.spans).filter((spans) =>
        spans.some((span) => span.name === "AuthleteClient.backchannelAuthenticationIssue") &&
        spans.some((span) => span.name === "AuthleteClient.backchannelAuthenticationComplete") &&
        spans.some((span) => span.name.endsWith(".run")) &&
        isWhole(spans)
      )
      return complete.length === FLOWS ? complete : undefined
    })
    // Some flow's workflow ran on another node than its request, in the same trace.
    const crossing = flows.filter((spans) => new Set(spans.map((span) => span.instance)).size > 1)
    assert.isAbove(crossing.length, 0, "no trace crossed nodes")

    // logfmt lines carry the flow's hash and the trace id.
    const ended = await until("every flow's last line", () => {
      const lines = nodes.flatMap((_, index) =>
        readFileSync(join(directory, `node-${index}.log`), "utf8").split("\n")
          .filter((line) => line.includes("message=\"The CIBA flow ended\""))
      )
      return lines.length === FLOWS ? lines : undefined
    })
    for (const line of ended) {
      assert.match(line, /auth_req_id_hash=[\w-]{16}/)
      assert.match(line, /trace_id=[0-9a-f]{32}/)
    }
  }, 240_000)

  it("with a retention of 20 seconds, every table returns to its row count from before the flows", async () => {
    assert.isAbove(Object.keys(floor).length, 5)
    assert.isAbove(grew.cluster_messages!, floor.cluster_messages!, "the flows left engine rows to prune")
    await until("every table back at its floor", async () => {
      const now = await rowCounts()
      return Object.entries(floor).every(([table, count]) => now[table] === count) ? true : undefined
    }, 120_000)
  }, 150_000)
})
