/**
 * The abuse limits across nodes: three `effect-authlete serve` nodes on one PostgreSQL hold one limit,
 * not three. The requests go round the nodes in turn, so that no node alone sees enough of them to
 * refuse: the per-client window, the pending requests of one user and the wrong user codes are
 * counted in the database (`SqlRateLimiterStore`, the pending-request table).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { kill, killEveryStarted, startCli, type Started } from "../support/processes.js"
import * as Postgres from "./postgres.js"

interface SimulatorInfo {
  readonly baseUrl: string
  readonly serviceId: string
  readonly accessToken: string
  readonly clients: ReadonlyArray<
    { readonly clientId: string; readonly clientSecret: string; readonly deliveryMode: string }
  >
}

const NODES = 3
const PER_CLIENT = 6
const PENDING_PER_USER = 4
const WRONG_USER_CODES = 2

let simulator: Started<SimulatorInfo>
let nodes: Array<Started<{ issuer: string }>> = []

beforeAll(async () => {
  const directory = mkdtempSync(join(tmpdir(), "effect-authlete-limits-"))
  await Effect.runPromise(Postgres.reset.pipe(Effect.provide(Postgres.layer)))
  // No request here is decided: the notification endpoints are never called.
  simulator = await startCli<SimulatorInfo>([
    "simulate",
    "--json",
    "--user-code",
    "PING",
    "--ping-endpoint",
    "http://127.0.0.1:9/ping",
    "--push-endpoint",
    "http://127.0.0.1:9/push"
  ], {
    logFile: join(directory, "simulator.log")
  })
  const env = {
    AUTHLETE_BASE_URL: simulator.info.baseUrl,
    AUTHLETE_SERVICE_APIKEY: simulator.info.serviceId,
    AUTHLETE_SERVICE_ACCESSTOKEN: simulator.info.accessToken,
    EFFECT_AUTHLETE_SECRET_KEY: randomBytes(32).toString("base64")
  }
  // One at a time: the first creates the tables, the others find them.
  for (let index = 0; index < NODES; index++) {
    nodes.push(
      await startCli<{ issuer: string }>([
        "serve",
        "--json",
        "--database",
        Postgres.postgresUrl,
        "--port",
        String(25_400 + index),
        "--runner-port",
        String(25_500 + index),
        "--allow-local-notifications",
        "--limit-per-client",
        `${PER_CLIENT}/600`,
        "--limit-per-user",
        "off",
        "--limit-pending-per-user",
        String(PENDING_PER_USER),
        "--limit-wrong-user-codes",
        `${WRONG_USER_CODES}/900`
      ], { env, logFile: join(directory, `node-${index}.log`), timeoutMillis: 90_000 })
    )
  }
}, 180_000)

afterAll(async () => {
  await Promise.all(nodes.map((node) => kill(node)))
  nodes = []
  await killEveryStarted()
})

const clientOf = (mode: string) => simulator.info.clients.find((client) => client.deliveryMode === mode)!

/** The `n`th request goes to node `n mod 3`. */
const backchannel = async (n: number, mode: string, form: Record<string, string>) => {
  const client = clientOf(mode)
  const response = await fetch(`${nodes[n % NODES]!.info.issuer}/backchannel`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`
    },
    body: new URLSearchParams({ scope: "openid", ...form }).toString()
  })
  const body = (await response.json()) as { error?: string; auth_req_id?: string }
  return { status: response.status, error: body.error, retryAfter: response.headers.get("retry-after") }
}

describe(`${NODES} serve nodes on one PostgreSQL`, () => {
  it("hold one per-client window: the requests past it are 429 on every node", async () => {
    const answers = []
    // Three users, so that the pending-per-user limit stays out of the way.
    const hints = ["taro@example.com", "alice@example.com", "bob@example.com"]
    for (let n = 0; n < PER_CLIENT + NODES; n++) {
      answers.push(
        await backchannel(n, "POLL", { login_hint: hints[Math.floor(n / 2) % 3]!, binding_message: `N${n}` })
      )
    }
    assert.deepStrictEqual(
      answers.map((answer) => answer.status),
      [...Array(PER_CLIENT).fill(200), ...Array(NODES).fill(429)]
    )
    for (const refused of answers.slice(PER_CLIENT)) {
      assert.strictEqual(refused.error, "slow_down")
      assert.match(refused.retryAfter ?? "", /^[1-9][0-9]*$/)
    }
  }, 60_000)

  it("hold one count of a user's pending requests: the one past it is 403 access_denied on any node", async () => {
    const statuses = []
    for (let n = 0; n < PENDING_PER_USER + 2; n++) {
      const answer = await backchannel(n, "PUSH", {
        login_hint: "user-3",
        client_notification_token: `token-${n}-0123456789abcdef`
      })
      statuses.push(answer.status === 200 ? 200 : `${answer.status} ${answer.error}`)
    }
    // The first test left two of user-3's (bob@example.com) pending.
    const before = 2
    assert.deepStrictEqual(statuses, [
      ...Array(PENDING_PER_USER - before).fill(200),
      ...Array(2 + before).fill("403 access_denied")
    ])
  }, 60_000)

  // Six requests of the PING client in all, within its window.
  it("hold one count of wrong user codes: after them, even the right code is refused on every node", async () => {
    const answers = []
    for (let n = 0; n < WRONG_USER_CODES; n++) {
      answers.push(
        await backchannel(n, "PING", {
          login_hint: "alice@example.com",
          user_code: `999${n}`,
          client_notification_token: `token-${n}-0123456789abcdef`
        })
      )
    }
    assert.deepStrictEqual(answers.map((answer) => answer.error), Array(WRONG_USER_CODES).fill("invalid_user_code"))
    for (let n = 0; n < NODES; n++) {
      const locked = await backchannel(n, "PING", {
        login_hint: "alice@example.com",
        user_code: "2222",
        client_notification_token: `token-right-${n}-0123456789abcdef`
      })
      assert.strictEqual(locked.error, "invalid_user_code", `node ${n}`)
    }
    // Another user is not locked out.
    const other = await backchannel(0, "PING", {
      login_hint: "taro@example.com",
      user_code: "1111",
      client_notification_token: "token-taro-0123456789abcdef"
    })
    assert.strictEqual(other.status, 200)
  }, 60_000)
})
