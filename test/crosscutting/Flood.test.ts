/**
 * Bounded memory under abuse: `effect-authlete playground --json` in a process of its own with a
 * 256 MiB heap (`--max-old-space-size=256`), flooded with 1 MB requests whose client credentials are
 * wrong, at the backchannel endpoint and at the token endpoint. Each reaches the simulator, which
 * authenticates the client before it records anything; before it did, 207 such requests ended the
 * process. Then 1 MB requests of an authenticated client (refused for their binding message): the
 * simulator records them, within `maxRecordedBytes`. Afterwards the process is alive and a valid
 * request goes through.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { kill, killEveryStarted, startCli } from "../support/processes.js"

interface PlaygroundInfo {
  readonly backchannelAuthenticationEndpoint: string
  readonly tokenEndpoint: string
  readonly clients: ReadonlyArray<
    { readonly clientId: string; readonly clientSecret: string; readonly deliveryMode: string }
  >
}

/** How many 1 MB requests, to each endpoint, and how many at once. */
const BACKCHANNEL_REQUESTS = 300
const TOKEN_REQUESTS = 100
const AUTHENTICATED_REQUESTS = 260
const CONCURRENCY = 8
const MEGABYTE = 1_000_000

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`

const post = async (url: string, authorization: string, body: string) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization },
    body
  })
  return { status: response.status, json: await response.json() as Record<string, unknown> }
}

/** Sends `count` requests, `CONCURRENCY` at a time; the statuses and OAuth errors seen, counted. */
const flood = async (count: number, send: () => Promise<{ status: number; json: Record<string, unknown> }>) => {
  const seen = new Map<string, number>()
  let sent = 0
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (sent < count) {
      sent++
      const { json, status } = await send()
      const key = `${status} ${String(json["error"])}`
      seen.set(key, (seen.get(key) ?? 0) + 1)
    }
  }))
  return Object.fromEntries(seen)
}

afterAll(killEveryStarted)

describe("the playground under a flood of unauthenticated 1 MB requests", () => {
  it(
    "keeps serving with a 256 MiB heap",
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "effect-authlete-flood-"))
      const logFile = join(directory, "playground.log")
      // The rate limits off: memory must stay bounded without them (they have tests of their own).
      const playground = await startCli<PlaygroundInfo>(
        [
          "playground",
          "--json",
          "--no-user-code",
          "--interval",
          "1",
          "--limit-per-client",
          "off",
          "--limit-per-user",
          "off"
        ],
        { fromSources: true, logFile, nodeOptions: ["--max-old-space-size=256"] }
      )
      try {
        const { backchannelAuthenticationEndpoint, clients, tokenEndpoint } = playground.info
        const poll = clients.find((client) => client.deliveryMode === "POLL")!
        const wrong = basic(poll.clientId, "wrong-secret")
        const padding = "x".repeat(MEGABYTE)

        const backchannel = await flood(
          BACKCHANNEL_REQUESTS,
          () =>
            post(backchannelAuthenticationEndpoint, wrong, `scope=openid&login_hint=user-1&binding_message=${padding}`)
        )
        assert.deepStrictEqual(backchannel, { "401 invalid_client": BACKCHANNEL_REQUESTS })
        const token = await flood(
          TOKEN_REQUESTS,
          () => post(tokenEndpoint, wrong, `grant_type=urn:openid:params:grant-type:ciba&auth_req_id=${padding}`)
        )
        assert.deepStrictEqual(token, { "401 invalid_client": TOKEN_REQUESTS })
        const valid = basic(poll.clientId, poll.clientSecret)
        const authenticated = await flood(
          AUTHENTICATED_REQUESTS,
          () =>
            post(backchannelAuthenticationEndpoint, valid, `scope=openid&login_hint=user-1&binding_message=${padding}`)
        )
        assert.deepStrictEqual(authenticated, { "400 invalid_binding_message": AUTHENTICATED_REQUESTS })

        assert.strictEqual(playground.child.exitCode, null, "the process is alive")
        assert.strictEqual(playground.child.signalCode, null)
        const started = await post(backchannelAuthenticationEndpoint, valid, "scope=openid&login_hint=user-1")
        assert.strictEqual(started.status, 200)
        assert.isString(started.json["auth_req_id"])
        const polled = await post(
          tokenEndpoint,
          valid,
          `grant_type=urn:openid:params:grant-type:ciba&auth_req_id=${String(started.json["auth_req_id"])}`
        )
        assert.strictEqual(polled.json["error"], "authorization_pending")
        assert.notInclude(readFileSync(logFile, "utf8"), "heap out of memory")
      } finally {
        await kill(playground)
        rmSync(directory, { recursive: true, force: true })
      }
    },
    90_000
  )
})
