/**
 * The playground's pages without a browser: their endpoints over HTTP (the device's list, events
 * and decisions, the user code check, the consumption device's client in every mode, the
 * notification endpoints), the ID token checks, the escaping of the pages, and a playground that
 * closes while a page's event stream is open. The pages in Chromium: test/browser/ (`npm run
 * test:browser`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Pages, Playground } from "effect-authlete/playground"
import { spawn } from "node:child_process"
import * as Crypto from "node:crypto"
import { fileURLToPath } from "node:url"
import { inspectIdToken } from "../src/playground/internal/idToken.js"

/** A playground with its pages for the test's scope (1-second interval). */
const withPages = <A>(
  body: (info: Playground.PlaygroundInfo) => Promise<A>,
  options: Playground.PlaygroundOptions = {}
) =>
  Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(Playground.layer({ interval: 1, routes: Pages.pages(), ...options })).pipe(
      Effect.orDie
    )
    const info = yield* Effect.provide(Playground.Playground, context)
    return yield* Effect.promise(() => body(info))
  }))

const postJson = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

type Event = { readonly type: string; readonly [name: string]: unknown }

/** Starts a request on the consumption device; its events, as they come, and all of them at the end. */
const startClient = (info: Playground.PlaygroundInfo, input: Record<string, string>) => {
  const seen: Array<Event> = []
  const done = postJson(`${info.issuer}/client/start`, input).then(async (response) => {
    assert.strictEqual(response.status, 200)
    assert.strictEqual(response.headers.get("content-type"), "application/x-ndjson")
    const text = await response.text()
    for (const line of text.split("\n")) if (line !== "") seen.push(JSON.parse(line) as Event)
    return seen
  })
  return done
}

/** The pending requests on the device, once there are `count`. */
const pendingOnDevice = async (info: Playground.PlaygroundInfo, count = 1, subject?: string) => {
  for (let i = 0; i < 300; i++) {
    const response = await fetch(`${info.issuer}/device/requests${subject === undefined ? "" : `?subject=${subject}`}`)
    const body = await response.json() as { requests: Array<Record<string, unknown>> }
    if (body.requests.length >= count) return body.requests
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error("no pending request appeared")
}

const decide = async (info: Playground.PlaygroundInfo, body: Record<string, string>) => {
  const response = await postJson(`${info.issuer}/device/decide`, body)
  return { status: response.status, body: await response.json() as Record<string, unknown> }
}

const outcomeOf = (events: ReadonlyArray<Event>) => events[events.length - 1]!

describe("the pages' endpoints", () => {
  it.live("the PING and PUSH clients are notified at the consumption device by default, and users carry their codes", () =>
    withPages(async (info) => {
      const endpoint = (mode: string) => info.clients.find((c) => c.deliveryMode === mode)?.notificationEndpoint
      assert.strictEqual(endpoint("PING"), `${info.issuer}/client/callback/ping`)
      assert.strictEqual(endpoint("PUSH"), `${info.issuer}/client/callback/push`)
      assert.strictEqual(endpoint("POLL"), undefined)
      assert.deepInclude(info.users, {
        subject: "user-1",
        loginHints: ["user-1", "taro@example.com"],
        name: "Taro Yamada",
        userCode: "1111"
      })
    }))

  it.live(
    "POLL: the device lists the request; approved, the client gets tokens and a verified ID token",
    () =>
      withPages(async (info) => {
        const events = startClient(info, { mode: "POLL", subject: "user-1", bindingMessage: "W4SCT" })
        const [request] = await pendingOnDevice(info)
        assert.strictEqual(request!.bindingMessage, "W4SCT")
        assert.strictEqual(request!.clientName, "Playground POLL client")
        assert.strictEqual(request!.userName, "Taro Yamada")
        assert.notProperty(request!, "ticket")
        assert.isBelow(request!.decideBy as number, request!.expiresAt as number)
        assert.deepStrictEqual(await decide(info, { authReqId: request!.authReqId as string, decision: "allow" }), {
          status: 200,
          body: { decided: true, decision: "allow", result: "Completed" }
        })
        const seen = await events
        const types = seen.map((event) => event.type)
        assert.deepStrictEqual(types.slice(0, 4), [
          "discovery",
          "backchannel-request",
          "backchannel-response",
          "waiting"
        ])
        assert.include(types, "token-response")
        assert.deepStrictEqual(types.slice(-3), ["tokens", "id-token", "outcome"])
        const report = seen.find((event) => event.type === "id-token")!.report as ReturnType<typeof inspectIdToken>
        assert.isTrue(report.valid)
        assert.strictEqual(report.claims.sub, "user-1")
        assert.deepInclude(outcomeOf(seen), { type: "outcome", ok: true })
        // What the page shows of the request: never the client secret.
        assert.notInclude(JSON.stringify(seen), info.clients.find((c) => c.deliveryMode === "POLL")!.clientSecret)
      }),
    30_000
  )

  it.live("PING and PUSH: the notifications reach the client at the pages' callbacks", () =>
    withPages(async (info) => {
      const ping = startClient(info, { mode: "PING", subject: "user-2" })
      const [first] = await pendingOnDevice(info)
      await decide(info, { authReqId: first!.authReqId as string, decision: "allow" })
      const pinged = await ping
      assert.include(pinged.map((event) => event.type), "ping")
      assert.deepInclude(outcomeOf(pinged), { ok: true })

      const push = startClient(info, { mode: "PUSH", subject: "user-3" })
      const [second] = await pendingOnDevice(info)
      await decide(info, { authReqId: second!.authReqId as string, decision: "allow" })
      const pushed = await push
      const tokens = pushed.find((event) => event.type === "tokens")!
      assert.strictEqual(tokens.source, "push")
      const report = pushed.find((event) => event.type === "id-token")!.report as ReturnType<typeof inspectIdToken>
      assert.deepStrictEqual(
        report.checks.filter((check) => ["auth_req_id", "rt_hash", "at_hash"].includes(check.name)).map((c) => c.ok),
        [true, true, true]
      )
    }), 30_000)

  it.live("deny: the client sees access_denied, in POLL and in PUSH", () =>
    withPages(async (info) => {
      for (const mode of ["POLL", "PUSH"]) {
        const events = startClient(info, { mode, subject: "user-2" })
        const [request] = await pendingOnDevice(info)
        await decide(info, { authReqId: request!.authReqId as string, decision: "deny" })
        assert.deepInclude(outcomeOf(await events), { ok: false, error: "access_denied" })
      }
    }), 30_000)

  it.live(
    "a user code is asked for, a wrong one refused, and too many wrong ones deny the request",
    () =>
      withPages(async (info) => {
        // The client must send the user's code (checked at the backchannel endpoint).
        const refused = await startClient(info, { mode: "POLL", subject: "user-1" })
        assert.deepInclude(outcomeOf(refused), { ok: false, error: "missing_user_code" })

        const events = startClient(info, { mode: "POLL", subject: "user-1", userCode: "1111" })
        const [request] = await pendingOnDevice(info)
        assert.isTrue(request!.userCodeRequired)
        const authReqId = request!.authReqId as string
        assert.deepInclude((await decide(info, { authReqId, decision: "allow" })).body, {
          decided: false,
          error: "invalid_user_code"
        })
        for (const left of [4, 3, 2, 1]) {
          assert.deepStrictEqual((await decide(info, { authReqId, decision: "allow", userCode: "0000" })).body, {
            decided: false,
            error: "invalid_user_code",
            message: `That is not your user code (${left} more ${left === 1 ? "try" : "tries"}).`
          })
        }
        assert.deepInclude((await decide(info, { authReqId, decision: "allow", userCode: "0000" })).body, {
          decided: false,
          error: "too_many_attempts"
        })
        assert.deepInclude(outcomeOf(await events), { ok: false, error: "access_denied" })
        assert.deepInclude((await decide(info, { authReqId, decision: "allow", userCode: "1111" })).body, {
          decided: false,
          error: "already_decided"
        })
      }, { userCodeRequired: ["POLL"] }),
    30_000
  )

  it.live(
    "expiry: the request leaves the list before it expires, and the client sees expired_token",
    () =>
      withPages(async (info) => {
        const events = startClient(info, { mode: "POLL", subject: "user-3" })
        await pendingOnDevice(info)
        const seen = await events
        assert.deepInclude(outcomeOf(seen), { ok: false, error: "expired_token" })
        const after = await (await fetch(`${info.issuer}/device/requests`)).json() as { requests: Array<unknown> }
        assert.deepStrictEqual(after.requests, [])
      }, { expiresIn: 2 }),
    30_000
  )

  it.live(
    "the device lists one user's requests when asked, and its events start with a snapshot",
    () =>
      withPages(async (info) => {
        void startClient(info, { mode: "POLL", subject: "user-2", bindingMessage: "ONE" }).catch(() => [])
        await pendingOnDevice(info)
        assert.strictEqual((await pendingOnDevice(info, 1, "user-2")).length, 1)
        const none = await (await fetch(`${info.issuer}/device/requests?subject=user-3`)).json() as {
          requests: Array<unknown>
        }
        assert.deepStrictEqual(none.requests, [])
        const controller = new AbortController()
        const response = await fetch(`${info.issuer}/device/events?subject=user-2`, { signal: controller.signal })
        assert.strictEqual(response.headers.get("content-type"), "text/event-stream")
        const reader = response.body!.getReader()
        let text = ""
        while (!text.includes("\n\nevent: requests\ndata: ") || !text.endsWith("\n\n")) {
          text += new TextDecoder().decode((await reader.read()).value)
        }
        controller.abort()
        const data = JSON.parse(text.split("data: ")[1]!) as { requests: Array<{ bindingMessage: string }> }
        assert.strictEqual(data.requests[0]!.bindingMessage, "ONE")
      }),
    30_000
  )

  it.live("refusals: a body that is not JSON, unknown fields' values, an unknown notification token", () =>
    withPages(async (info) => {
      const form = await fetch(`${info.issuer}/device/decide`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "authReqId=x&decision=allow"
      })
      assert.strictEqual(form.status, 415)
      assert.strictEqual(
        (await postJson(`${info.issuer}/device/decide`, { authReqId: "x", decision: "maybe" })).status,
        400
      )
      assert.deepInclude((await decide(info, { authReqId: "nope", decision: "deny" })).body, {
        decided: false,
        error: "unknown_request"
      })
      assert.strictEqual(
        (await postJson(`${info.issuer}/client/start`, { mode: "POLL", subject: "nobody" })).status,
        400
      )
      assert.strictEqual(
        (await postJson(`${info.issuer}/client/start`, { mode: "HYBRID", subject: "user-1" })).status,
        400
      )
      const ping = await fetch(`${info.issuer}/client/callback/ping`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer not-expected" },
        body: "{\"auth_req_id\":\"x\"}"
      })
      assert.strictEqual(ping.status, 401)
      assert.strictEqual((await postJson(`${info.issuer}/client/callback/push`, {})).status, 401)
    }))

  it.live("the pages escape what they show, run under a Content-Security-Policy and load nothing from elsewhere", () =>
    withPages(async (info) => {
      const device = await fetch(`${info.issuer}/device`)
      assert.match(device.headers.get("content-security-policy") ?? "", /default-src 'none'; script-src 'self'/)
      const text = await device.text()
      assert.include(text, "&lt;b&gt;Mallory&lt;/b&gt; &amp; co")
      assert.notInclude(text, "<b>Mallory</b>")
      const client = await (await fetch(`${info.issuer}/client`)).text()
      for (const page of [text, client]) {
        const urls = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!)
        for (const url of urls) assert.isTrue(url.startsWith("/") || url === "data:,", url)
      }
      for (const asset of ["/device/device.js", "/client/client.js", "/client/style.css"]) {
        assert.strictEqual((await fetch(`${info.issuer}${asset}`)).status, 200, asset)
      }
    }, {
      users: {
        "user-x": { loginHints: ["x@example.com"], userCode: "0", claims: { name: "<b>Mallory</b> & co" } }
      }
    }))

  it.live("the playground closes at once while a page's event stream is open", () =>
    Effect.gen(function*() {
      const started = Date.now()
      yield* withPages(async (info) => {
        const response = await fetch(`${info.issuer}/device/events`)
        await response.body!.getReader().read()
      })
      assert.isBelow(Date.now() - started, 5_000)
    }), 15_000)
})

describe("the ID token checks", () => {
  const { privateKey, publicKey } = Crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "ES256", use: "sig" }
  const now = 1_800_000_000
  const sign = (header: Record<string, unknown>, claims: Record<string, unknown>, key = privateKey) => {
    const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${
      Buffer.from(JSON.stringify(claims)).toString("base64url")
    }`
    const signature = Crypto.sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" })
    return `${input}.${signature.toString("base64url")}`
  }
  const claims = { iss: "http://127.0.0.1:1", aud: "1001", sub: "user-1", iat: now, exp: now + 300 }
  const expected = { issuer: "http://127.0.0.1:1", clientId: "1001", jwksUri: "http://127.0.0.1:1/jwks", now }
  const failed = (token: string, jwks: unknown = { keys: [jwk] }) =>
    inspectIdToken(token, { ...expected, jwks }).checks.filter((check) => !check.ok).map((check) => check.name)

  it("a token signed with the key of the JWK Set, for this client, passes", () => {
    const report = inspectIdToken(sign({ alg: "ES256", kid: "k1" }, claims), { ...expected, jwks: { keys: [jwk] } })
    assert.isTrue(report.valid)
    assert.strictEqual(report.header.kid, "k1")
  })

  it("another key, another kid, another alg, a changed payload, another audience or issuer, or expiry fail", () => {
    const other = Crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey
    assert.deepStrictEqual(failed(sign({ alg: "ES256", kid: "k1" }, claims, other)), ["signature"])
    assert.deepStrictEqual(failed(sign({ alg: "ES256", kid: "k2" }, claims)), ["signature"])
    assert.deepStrictEqual(failed(sign({ alg: "none", kid: "k1" }, claims)), ["signature"])
    const [header, , signature] = sign({ alg: "ES256", kid: "k1" }, claims).split(".")
    const changed = Buffer.from(JSON.stringify({ ...claims, sub: "user-2" })).toString("base64url")
    assert.deepStrictEqual(failed(`${header}.${changed}.${signature}`), ["signature"])
    assert.deepStrictEqual(failed(sign({ alg: "ES256", kid: "k1" }, { ...claims, aud: "1002" })), ["aud"])
    assert.deepStrictEqual(failed(sign({ alg: "ES256", kid: "k1" }, { ...claims, aud: ["1001", "1002"] })), ["aud"])
    assert.deepStrictEqual(failed(sign({ alg: "ES256", kid: "k1" }, { ...claims, iss: "http://evil" })), ["iss"])
    assert.deepStrictEqual(failed(sign({ alg: "ES256", kid: "k1" }, { ...claims, exp: now - 60 })), ["exp"])
    assert.deepStrictEqual(failed("not.a.jwt"), ["format"])
    assert.deepStrictEqual(failed(sign({ alg: "ES256", kid: "k1" }, claims), { keys: [] }), ["signature"])
  })
})

describe("examples/playground.ts", () => {
  it("prints the pages' addresses, serves them, and stops on SIGINT with a page connected", async () => {
    const child = spawn(process.execPath, [
      "--import",
      "tsx",
      fileURLToPath(new URL("../examples/playground.ts", import.meta.url))
    ], {
      env: { ...process.env, PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    try {
      let stdout = ""
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
      for (let i = 0; i < 600 && !stdout.includes("authentication device:"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const deviceUrl = /authentication device: (\S+)/.exec(stdout)?.[1]
      const clientUrl = /consumption device: +(\S+)/.exec(stdout)?.[1]
      assert.match(deviceUrl ?? "", /^http:\/\/127\.0\.0\.1:\d+\/device$/, stdout)
      assert.strictEqual((await fetch(deviceUrl!)).status, 200)
      assert.strictEqual((await fetch(clientUrl!)).status, 200)
      // A device page stays connected.
      const events = await fetch(`${deviceUrl!}/events`)
      await events.body!.getReader().read()
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
      child.kill("SIGINT")
      // runMain interrupts the program: the playground closes, and the process ends cleanly.
      assert.strictEqual(await exited, 0)
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL")
    }
  }, 40_000)
})
