/**
 * What an operator sees of `effect-authlete serve` on SQLite: the metrics in Prometheus text format
 * move as POLL, PING and PUSH flows run; each flow is one trace, from the backchannel request through
 * `/complete` to the notification, exported over OTLP/HTTP with no secret in any span; JSON log lines
 * carry the flow's auth_req_id hash and the trace id, never the auth_req_id.
 */
import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { isWhole, otlpReceiver, seriesValue, traces } from "./support/otlpReceiver.js"
import { kill, receiver, type ServeInfo, type SimulatorInfo, startCli, until } from "./support/processes.js"

describe("serve's operations", () => {
  it(
    "metrics move with the flows, each flow is one trace without secrets, logs carry hashes and trace ids",
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "effect-authlete-operations-"))
      const otlp = await otlpReceiver()
      const endpoint = await receiver(() => 204)
      const simulator = await startCli<SimulatorInfo>([
        "simulate",
        "--json",
        "--interval",
        "0",
        "--ping-endpoint",
        `${endpoint.url}/ping`,
        "--push-endpoint",
        `${endpoint.url}/push`
      ], { fromSources: true, logFile: join(directory, "simulator.log") })
      const logFile = join(directory, "serve.log")
      const secretKey = Buffer.alloc(32, 9).toString("base64")
      const serve = await startCli<ServeInfo>([
        "serve",
        "--json",
        "--automated-approval",
        "--allow-local-notifications",
        "--database",
        join(directory, "as.db"),
        "--metrics-port",
        "0",
        "--log-format",
        "json"
      ], {
        fromSources: true,
        env: {
          AUTHLETE_BASE_URL: simulator.info.baseUrl,
          AUTHLETE_SERVICE_APIKEY: simulator.info.serviceId,
          AUTHLETE_SERVICE_ACCESSTOKEN: simulator.info.accessToken,
          EFFECT_AUTHLETE_SECRET_KEY: secretKey,
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url
        },
        logFile
      })
      const secrets = [
        simulator.info.accessToken,
        secretKey,
        ...simulator.info.clients.map((client) => client.clientSecret)
      ]
      const post = async (
        path: string,
        client: SimulatorInfo["clients"][number],
        parameters: Record<string, string>
      ) => {
        const response = await fetch(`${serve.info.issuer}${path}`, {
          method: "POST",
          headers: {
            authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`,
            "content-type": "application/x-www-form-urlencoded"
          },
          body: new URLSearchParams(parameters).toString()
        })
        return { status: response.status, json: await response.json() as Record<string, unknown> }
      }
      const scrape = async () => (await fetch(serve.info.metricsUrl)).text()
      try {
        const before = await scrape()
        const issued = () => seriesValue(before, "effect_authlete_backchannel_requests_total", { outcome: "issued" })
        assert.strictEqual(issued(), 0)

        const authReqIds: Array<string> = []
        for (const mode of ["POLL", "PING", "PUSH"]) {
          const client = simulator.info.clients.find((candidate) => candidate.deliveryMode === mode)!
          const token = `notification-token-${mode}-${"x".repeat(24)}`
          secrets.push(token)
          const started = await post("/backchannel", client, {
            scope: "openid",
            login_hint: "user-1",
            ...(mode === "POLL" ? {} : { client_notification_token: token })
          })
          assert.strictEqual(started.status, 200, JSON.stringify(started.json))
          const authReqId = String(started.json.auth_req_id)
          authReqIds.push(authReqId)
          const approved = await fetch(
            serve.info.automatedApprovalUrl.replace("{auth_req_id}", authReqId).replace("{action}", "allow"),
            { method: "POST" }
          )
          assert.strictEqual(approved.status, 200)
          if (mode !== "POLL") await until(`the ${mode} notification`, () => endpoint.received.get(authReqId))
          if (mode !== "PUSH") {
            const tokens = await until("the tokens", async () => {
              const answer = await post("/token", client, {
                grant_type: "urn:openid:params:grant-type:ciba",
                auth_req_id: authReqId
              })
              return answer.status === 200 ? answer.json : undefined
            })
            secrets.push(String(tokens.access_token), String(tokens.refresh_token), String(tokens.id_token))
          } else {
            const pushed = JSON.parse(endpoint.received.get(authReqId)![0]!.body) as Record<string, unknown>
            secrets.push(String(pushed.access_token), String(pushed.id_token))
          }
        }
        // A client with a wrong secret: refused, and counted so.
        const poll = simulator.info.clients.find((candidate) => candidate.deliveryMode === "POLL")!
        const refused = await post("/backchannel", { ...poll, clientSecret: "wrong" }, {
          scope: "openid",
          login_hint: "user-1"
        })
        assert.strictEqual(refused.status, 401)

        // Metrics: every series moved by what happened, and only by that.
        const after = await until("the three flows in the metrics", async () => {
          const text = await scrape()
          return seriesValue(text, "effect_authlete_delivery_duration_count") === 2 &&
              seriesValue(text, "effect_authlete_decisions_total") === 3
            ? text
            : undefined
        })
        assert.strictEqual(seriesValue(after, "effect_authlete_backchannel_requests_total", { outcome: "issued" }), 3)
        assert.strictEqual(seriesValue(after, "effect_authlete_backchannel_requests_total", { outcome: "refused" }), 1)
        assert.strictEqual(seriesValue(after, "effect_authlete_decisions_total", { result: "AUTHORIZED" }), 3)
        assert.strictEqual(seriesValue(after, "effect_authlete_decision_duration_count", { result: "AUTHORIZED" }), 3)
        assert.strictEqual(
          seriesValue(after, "effect_authlete_notifications_total", { outcome: "delivered", attempt: "1" }),
          2
        )
        assert.strictEqual(seriesValue(after, "effect_authlete_delivery_duration_count", { mode: "PING" }), 1)
        assert.strictEqual(seriesValue(after, "effect_authlete_delivery_duration_count", { mode: "PUSH" }), 1)
        assert.strictEqual(
          seriesValue(after, "effect_authlete_authlete_duration_count", {
            api: "backchannelAuthenticationComplete",
            outcome: "ok"
          }),
          3
        )
        assert.strictEqual(
          seriesValue(after, "effect_authlete_authlete_duration_count", { api: "backchannelAuthentication" }),
          4
        )

        // Traces: one per flow, from the backchannel request to /complete and the notification.
        const byTrace = await until("every flow's trace, whole", () => {
          const flows = traces(otlp.spans).filter((spans) =>
            spans.some((span) => span.name === "AuthleteClient.backchannelAuthenticationIssue") &&
            spans.some((span) => span.name === "AuthleteClient.backchannelAuthenticationComplete") &&
            isWhole(spans)
          )
          const notified = flows.filter((spans) => spans.some((span) => span.name === "ClientNotifier.notify"))
          return flows.length === 3 && notified.length === 2 ? flows : undefined
        })
        for (const spans of byTrace) {
          const roots = spans.filter((span) => span.parentSpanId === undefined || span.parentSpanId === "")
          assert.match(roots[0]!.name, /POST/, "the trace starts at the backchannel request")
          const names = spans.map((span) => span.name)
          assert.includeMembers(names, [
            "AuthleteClient.backchannelAuthentication",
            "AuthleteClient.backchannelAuthenticationComplete"
          ])
          // The workflow waited for the decision, inside the same trace.
          assert.isTrue(names.some((name) => name.endsWith(".deferred")), names.join(", "))
        }
        // OTLP metrics arrive too.
        await until("the metrics over OTLP", () => otlp.metricNames.has("effect_authlete.decisions") ? true : undefined)

        // No secret in any exported span or metric.
        const exported = otlp.bodies.join("\n")
        for (const secret of secrets) assert.notInclude(exported, secret)

        // Logs: JSON lines, each flow's end with its hash and trace id, no auth_req_id.
        const ended = await until("every flow's last line", () => {
          const entries = readFileSync(logFile, "utf8").split("\n").filter((line) => line.startsWith("{"))
            .map((line) => JSON.parse(line) as { message: unknown; annotations: Record<string, string> })
            .filter((entry) => entry.message === "The CIBA flow ended")
          return entries.length === 3 ? entries : undefined
        })
        for (const entry of ended) {
          assert.match(entry.annotations.auth_req_id_hash!, /^[\w-]{16}$/)
          assert.match(entry.annotations.trace_id!, /^[0-9a-f]{32}$/)
        }
        const logged = readFileSync(logFile, "utf8")
        for (const authReqId of authReqIds) assert.notInclude(logged, authReqId)
        for (const secret of secrets) assert.notInclude(logged, secret)
      } finally {
        await kill(serve)
        await kill(simulator)
        await endpoint.close()
        await otlp.close()
        rmSync(directory, { recursive: true, force: true })
      }
    },
    120_000
  )
})
