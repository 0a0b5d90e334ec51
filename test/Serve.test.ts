/**
 * `effect-authlete serve` on its default database, SQLite, as a user runs it: killed with SIGKILL and
 * started again on the same file, it still has its requests, and the durable timer of one whose
 * deadline passed meanwhile fires. On HTTPS with mutual TLS, or behind a trusted proxy's certificate
 * header, it passes the client's certificate to Authlete. Without a secret key it does not start,
 * and says why.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Agent, fetch as undiciFetch } from "undici"
import { kill, startCli } from "./support/processes.js"

interface SimulatorInfo {
  readonly baseUrl: string
  readonly serviceId: string
  readonly accessToken: string
  readonly clients: ReadonlyArray<
    { readonly clientId: string; readonly clientSecret: string; readonly deliveryMode: string }
  >
}

interface ServeInfo {
  readonly issuer: string
  readonly database: string
  readonly automatedApprovalUrl: string
}

const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

describe("effect-authlete serve", () => {
  it(
    "on SQLite, survives SIGKILL: requests are still there, and a deadline that passed meanwhile fails its request",
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "effect-authlete-serve-"))
      const journal = join(directory, "journal.ndjson")
      const simulator = await startCli<SimulatorInfo>(["simulate", "--json", "--interval", "0", "--journal", journal], {
        fromSources: true,
        logFile: join(directory, "simulator.log")
      })
      const env = {
        AUTHLETE_BASE_URL: simulator.info.baseUrl,
        AUTHLETE_SERVICE_APIKEY: simulator.info.serviceId,
        AUTHLETE_SERVICE_ACCESSTOKEN: simulator.info.accessToken,
        EFFECT_AUTHLETE_SECRET_KEY: Buffer.alloc(32, 7).toString("base64")
      }
      const serve = () =>
        startCli<ServeInfo>(["serve", "--json", "--automated-approval", "--database", join(directory, "as.db")], {
          fromSources: true,
          env,
          logFile: join(directory, "serve.log")
        })
      const poll = simulator.info.clients.find((client) => client.deliveryMode === "POLL")!
      const post = async (url: string, parameters: Record<string, string>) => {
        const response = await fetch(url, {
          method: "POST",
          headers: {
            authorization: `Basic ${Buffer.from(`${poll.clientId}:${poll.clientSecret}`).toString("base64")}`,
            "content-type": "application/x-www-form-urlencoded"
          },
          body: new URLSearchParams(parameters).toString()
        })
        return { status: response.status, json: await response.json() as Record<string, unknown> }
      }
      try {
        const first = await serve()
        assert.strictEqual(first.info.database, "sqlite")
        // Health for a load balancer: the process serves, its database and Authlete answer.
        assert.strictEqual((await fetch(`${first.info.issuer}/health/live`)).status, 200)
        const ready = await fetch(`${first.info.issuer}/health/ready`)
        assert.strictEqual(ready.status, 200)
        assert.deepStrictEqual(await ready.json(), {
          status: "ready",
          checks: { database: "up", cluster: "up", authlete: "up" }
        })
        const later = await post(`${first.info.issuer}/backchannel`, { scope: "openid", login_hint: "user-1" })
        const soon = await post(`${first.info.issuer}/backchannel`, {
          scope: "openid",
          login_hint: "user-2",
          requested_expiry: "2"
        })
        assert.strictEqual(later.status, 200)
        assert.strictEqual(soon.status, 200)
        await kill(first)
        // The second request's decision deadline passes while no node runs.
        await sleep(2_500)

        const second = await serve()
        const approve = second.info.automatedApprovalUrl.replace("{auth_req_id}", String(later.json.auth_req_id))
          .replace("{action}", "allow")
        assert.strictEqual((await fetch(approve, { method: "POST" })).status, 200)
        const token = (authReqId: unknown) =>
          post(`${second.info.issuer}/token`, {
            grant_type: "urn:openid:params:grant-type:ciba",
            auth_req_id: String(authReqId)
          })
        let redeemed = await token(later.json.auth_req_id)
        for (let i = 0; i < 100 && redeemed.json.error === "authorization_pending"; i++) {
          await sleep(100)
          redeemed = await token(later.json.auth_req_id)
        }
        assert.strictEqual(redeemed.status, 200)
        assert.isString(redeemed.json.access_token)
        assert.strictEqual((await token(soon.json.auth_req_id)).json.error, "expired_token")

        // The simulator's journal: the second request's ticket was completed as TRANSACTION_FAILED.
        const failed = async () => {
          const lines = readFileSync(journal, "utf8").trim().split("\n").map((line) =>
            JSON.parse(line) as Record<string, string>
          )
          const ticket = lines.find((line) => line.authReqId === soon.json.auth_req_id)?.ticket
          return lines.some((line) =>
            line.api === "backchannelAuthenticationComplete" && line.ticket === ticket &&
            line.result === "TRANSACTION_FAILED"
          )
        }
        for (let i = 0; i < 100 && !(await failed()); i++) await sleep(100)
        assert.isTrue(await failed())
        await kill(second)
      } finally {
        await kill(simulator)
        rmSync(directory, { recursive: true, force: true })
      }
    },
    120_000
  )

  it(
    "on HTTPS with mutual TLS, and behind a trusted proxy's header, passes the client certificate to Authlete",
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "effect-authlete-serve-tls-"))
      const journal = join(directory, "journal.ndjson")
      const tls = (name: string) => fileURLToPath(new URL(`./fixtures/tls/${name}`, import.meta.url))
      const simulator = await startCli<SimulatorInfo>(["simulate", "--json", "--journal", journal], {
        fromSources: true,
        logFile: join(directory, "simulator.log")
      })
      const env = {
        AUTHLETE_BASE_URL: simulator.info.baseUrl,
        AUTHLETE_SERVICE_APIKEY: simulator.info.serviceId,
        AUTHLETE_SERVICE_ACCESSTOKEN: simulator.info.accessToken,
        EFFECT_AUTHLETE_SECRET_KEY: Buffer.alloc(32, 7).toString("base64")
      }
      const poll = simulator.info.clients.find((client) => client.deliveryMode === "POLL")!
      const basic = `Basic ${Buffer.from(`${poll.clientId}:${poll.clientSecret}`).toString("base64")}`
      /** Whether the journal's backchannel requests came with a certificate, in order. */
      const certificatesSeen = () =>
        readFileSync(journal, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
          .filter((line) => line.api === "backchannelAuthentication").map((line) => line.clientCertificate)
      const started: Array<Awaited<ReturnType<typeof startCli<ServeInfo>>>> = []
      const serve = async (name: string, flags: ReadonlyArray<string>) => {
        const node = await startCli<ServeInfo>(
          ["serve", "--json", "--database", join(directory, `${name}.db`), ...flags],
          { fromSources: true, env, logFile: join(directory, `${name}.log`) }
        )
        started.push(node)
        return node
      }
      const body = new URLSearchParams({ scope: "openid", login_hint: "user-1" }).toString()
      const headers = { authorization: basic, "content-type": "application/x-www-form-urlencoded" }
      try {
        const https = await serve("https", [
          "--tls-cert",
          tls("server.pem"),
          "--tls-key",
          tls("server.key"),
          "--client-ca",
          tls("ca.pem")
        ])
        assert.match(https.info.issuer, /^https:\/\/127\.0\.0\.1:\d+$/)
        const ca = readFileSync(tls("ca.pem"), "utf8")
        const withCertificate = new Agent({
          connect: { ca, cert: readFileSync(tls("client1.pem"), "utf8"), key: readFileSync(tls("client1.key"), "utf8") }
        })
        const without = new Agent({ connect: { ca } })
        for (const dispatcher of [withCertificate, without]) {
          const answer = await undiciFetch(`${https.info.issuer}/backchannel`, {
            method: "POST",
            headers,
            body,
            dispatcher
          })
          assert.strictEqual(answer.status, 200, await answer.text())
        }
        assert.deepStrictEqual(certificatesSeen(), [true, false])

        const proxied = await serve("proxied", [
          "--client-certificate-header",
          "x-ssl-cert",
          "--trusted-proxy",
          "127.0.0.1"
        ])
        const escaped = encodeURIComponent(readFileSync(tls("client1.pem"), "utf8"))
        const answer = await fetch(`${proxied.info.issuer}/backchannel`, {
          method: "POST",
          headers: { ...headers, "x-ssl-cert": escaped },
          body
        })
        assert.strictEqual(answer.status, 200, await answer.text())
        assert.deepStrictEqual(certificatesSeen(), [true, false, true])
        await Promise.all([withCertificate.close(), without.close()])
      } finally {
        await Promise.all(started.map((node) => kill(node)))
        await kill(simulator)
        rmSync(directory, { recursive: true, force: true })
      }
    },
    120_000
  )

  it("refuses TLS flags that do not go together, each said", async () => {
    const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url))
    const run = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [
          "--import",
          "tsx",
          main,
          "serve",
          "--database",
          ":memory:",
          "--tls-cert",
          "server.pem",
          "--client-certificate-header",
          "x-ssl-cert"
        ],
        { env: { PATH: process.env.PATH ?? "" }, timeout: 60_000 },
        (error, _stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stderr })
      )
    )
    assert.strictEqual(run.code, 1)
    assert.include(run.stderr, "--tls-cert and --tls-key go together")
    assert.include(run.stderr, "--client-certificate-header and --trusted-proxy go together")
  }, 60_000)

  it("does not start without EFFECT_AUTHLETE_SECRET_KEY, and says how to make one", async () => {
    const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url))
    const run = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, ["--import", "tsx", main, "serve", "--database", ":memory:"], {
        env: {
          PATH: process.env.PATH ?? "",
          AUTHLETE_BASE_URL: "http://127.0.0.1:9",
          AUTHLETE_SERVICE_APIKEY: "1",
          AUTHLETE_SERVICE_ACCESSTOKEN: "token-0123456789abcdef"
        },
        timeout: 60_000
      }, (error, _stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stderr }))
    )
    assert.strictEqual(run.code, 1)
    assert.include(run.stderr, "EFFECT_AUTHLETE_SECRET_KEY")
    assert.include(run.stderr, "openssl rand -base64 32")
  }, 60_000)
})
