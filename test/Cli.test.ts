/**
 * The built command line (`dist/esm/cli/main.js`; `npm run build` first) in a child process, as a
 * user runs it: `complete` against the simulator with the `AUTHLETE_*` environment, usage mistakes
 * told in one line with exit code 2, `--help` and `--version` without loading `effect`, a missing
 * optional peer told as the line that installs it, `serve` listing every missing setting at once
 * and writing nothing, and `playground --json`'s line.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { AuthleteClient } from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { spawn } from "node:child_process"
import { X509Certificate } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Tls from "node:tls"
import { fileURLToPath } from "node:url"
import { Agent, fetch as undiciFetch } from "undici"
import { loopbackServer } from "./support/loopback.js"
import { builtCli, kill, runCli, startCli } from "./support/processes.js"

const hidePackages = fileURLToPath(new URL("./support/hide-packages.mjs", import.meta.url))
const recordLoads = fileURLToPath(new URL("./support/record-loads.mjs", import.meta.url))
const packageVersion = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string
}).version

/** Runs the built CLI with only the given environment (plus PATH). */
const cli = (
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  options: { readonly nodeOptions?: ReadonlyArray<string>; readonly cwd?: string } = {}
) => Effect.promise(() => runCli(args, { env, ...options }))

const authleteEnv = {
  AUTHLETE_BASE_URL: "http://127.0.0.1:9",
  AUTHLETE_SERVICE_APIKEY: "1",
  AUTHLETE_SERVICE_ACCESSTOKEN: "token-0123456789abcdef"
}

const temporaryDirectory = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "effect-authlete-cli-"))),
  (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
)

describe("effect-authlete command line", () => {
  it.scoped("complete sends one completion configured from the environment", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const authlete = yield* AuthleteClient.AuthleteClient
      const client = yield* simulator.clientFor("POLL")
      const { ticket } = yield* authlete.backchannelAuthentication({
        parameters: "scope=openid%20profile&login_hint=user-1",
        clientId: String(client.clientId),
        clientSecret: client.clientSecret
      })
      yield* authlete.backchannelAuthenticationIssue({ ticket: ticket! })
      const run = yield* cli(
        [
          "complete",
          "--ticket",
          ticket!,
          "--result",
          "AUTHORIZED",
          "--subject",
          "user-1",
          "--claims",
          "{\"given_name\":\"Taro\"}",
          "--scopes",
          "openid,profile"
        ],
        {
          AUTHLETE_BASE_URL: simulator.baseUrl,
          AUTHLETE_SERVICE_APIKEY: simulator.serviceId,
          AUTHLETE_SERVICE_ACCESSTOKEN: Redacted.value(simulator.accessToken)
        }
      )
      assert.strictEqual(run.code, 0, run.stderr)
      assert.match(run.stdout, /outcome:\s+NoAction/)
      assert.match(run.stdout, /action:\s+NO_ACTION/)
      assert.match(run.stdout, /result code:\s+A198001/)
      const sent = (yield* simulator.requests).filter((request) => request.path.endsWith("/complete"))
      assert.strictEqual(sent.length, 1)
      assert.deepStrictEqual(sent[0].body, {
        ticket,
        result: "AUTHORIZED",
        subject: "user-1",
        claims: "{\"given_name\":\"Taro\"}",
        scopes: ["openid", "profile"]
      })
      assert.notInclude(run.stdout + run.stderr, Redacted.value(simulator.accessToken))
    }).pipe(Effect.provide(AuthleteSimulator.layerClient())))

  it.effect("complete names the missing environment variables and exits 1", () =>
    Effect.gen(function*() {
      const run = yield* cli(["complete", "--ticket", "t", "--result", "AUTHORIZED", "--subject", "user-1"])
      assert.strictEqual(run.code, 1)
      assert.include(run.stderr, "AUTHLETE_BASE_URL")
      assert.include(run.stderr, "AUTHLETE_SERVICE_APIKEY")
      assert.include(run.stderr, "AUTHLETE_SERVICE_ACCESSTOKEN")
      assert.notMatch(run.stderr, /\bat .*:\d+:\d+/, "no stack trace")
    }))

  it.effect("complete reports a rule the input breaks, and sends nothing", () =>
    Effect.gen(function*() {
      const run = yield* cli([
        "complete",
        "--ticket",
        "t",
        "--result",
        "AUTHORIZED",
        "--subject",
        "user-1",
        "--claims",
        "[1]"
      ], authleteEnv)
      assert.strictEqual(run.code, 1)
      assert.match(run.stderr, /claims\[0\]: must be JSON text of an object/)
    }))

  it.effect("--help lists the commands; a command's help is plain text with its usage line and variables", () =>
    Effect.gen(function*() {
      const run = yield* cli(["--help"])
      assert.strictEqual(run.code, 0)
      for (const command of ["complete", "simulate", "serve", "playground", "demo"]) {
        assert.match(run.stdout, new RegExp(`^  ${command} `, "m"))
      }
      const completeHelp = yield* cli(["complete", "--help"])
      assert.strictEqual(completeHelp.code, 0)
      assert.strictEqual(completeHelp.stderr, "")
      assert.notInclude(completeHelp.stdout, "\u001b[", "no colour codes")
      assert.match(completeHelp.stdout, /^Usage: effect-authlete complete --ticket TICKET --result /m, "required")
      assert.include(completeHelp.stdout, "[--claims JSON]...", "--claims is optional and repeatable")
      for (const variable of ["AUTHLETE_BASE_URL", "AUTHLETE_SERVICE_APIKEY", "AUTHLETE_SERVICE_ACCESSTOKEN"]) {
        assert.include(completeHelp.stdout, variable)
      }
      const playgroundHelp = yield* cli(["playground", "--help"])
      assert.include(playgroundHelp.stdout, "[--user-code POLL|PING|PUSH]...")
      assert.include(playgroundHelp.stdout, "[--no-user-code]")
      assert.include(playgroundHelp.stdout, "(default: PING)")
    }))

  it.effect("usage mistakes: one line naming the flag and what it takes, a hint, exit 2", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string, string?]> = [
        [["simulate", "--port", "abc"], "--port: expected an integer from 0 to 65535, got \"abc\""],
        [["simulate", "--port", "-1"], "--port: expected an integer from 0 to 65535, got \"-1\""],
        [["simulate", "--latency"], "--latency needs a value"],
        // A value that starts with "-" (a random token) is the flag's value, not a flag.
        [
          ["simulate", "--access-token", "-Ab3_x", "--port", "abc"],
          "--port: expected an integer from 0 to 65535, got \"abc\""
        ],
        [["complete", "--subjct", "x"], "unknown flag --subjct (did you mean --subject?)"],
        [["complete", "--result", "AUTHORIZED", "--subject", "s"], "complete needs --ticket"],
        [
          ["complete", "--ticket", "t", "--result", "APPROVED", "--subject", "s"],
          "--result: expected one of AUTHORIZED, ACCESS_DENIED, TRANSACTION_FAILED, got \"APPROVED\""
        ],
        [
          ["complete", "--ticket", "t", "--result", "AUTHORIZED", "--subject", "s", "--auth-time", "abc"],
          "--auth-time: expected a non-negative integer, got \"abc\""
        ],
        [["playground", "--user-code"], "--user-code needs a value"],
        [["playground", "--user-code", "--json"], "--user-code needs a value"],
        [
          ["playground", "--user-code", "PING", "--no-user-code"],
          "--user-code and --no-user-code cannot be given together"
        ],
        [["simulate", "--json=yes"], "--json takes no value"],
        [
          ["compleet"],
          "unknown command \"compleet\" (did you mean complete?)",
          "Run \"effect-authlete --help\" for usage."
        ]
      ]
      const runs = yield* Effect.forEach(cases, ([args]) => cli(args), { concurrency: 4 })
      runs.forEach((run, i) => {
        const [args, message, hint] = cases[i]!
        const label = args.join(" ")
        assert.strictEqual(run.code, 2, label)
        assert.strictEqual(run.stdout, "", label)
        assert.deepStrictEqual(run.stderr.split("\n"), [
          `effect-authlete: ${message}`,
          hint ?? `Run "effect-authlete ${args[0]} --help" for usage.`,
          ""
        ], label)
      })
    }))

  it.effect("--version and --help answer without loading effect, and --version is package.json's", () =>
    Effect.gen(function*() {
      const directory = yield* temporaryDirectory
      for (const args of [["--version"], ["--help"], ["serve", "--help"], ["simulate", "--port", "abc"]]) {
        const loads = join(directory, `${args.join("_")}.txt`)
        const run = yield* cli(args, { EFFECT_AUTHLETE_TEST_LOADS: loads }, { nodeOptions: ["--import", recordLoads] })
        const loaded = readFileSync(loads, "utf8").trim().split("\n")
        assert.isTrue(loaded.some((url) => url.endsWith("/dist/esm/cli/main.js")), "the hook saw the command line")
        assert.deepStrictEqual(loaded.filter((url) => /\/node_modules\/effect\//.test(url)), [], args.join(" "))
        assert.deepStrictEqual(loaded.filter((url) => /\/node_modules\/@effect\//.test(url)), [], args.join(" "))
        if (args[0] === "--version") {
          assert.strictEqual(run.code, 0)
          assert.strictEqual(run.stdout, `${packageVersion}\n`)
        }
      }
    }).pipe(Effect.scoped))

  it.effect("a missing optional peer is one line with its npm install, exit 2; --help needs none", () =>
    Effect.gen(function*() {
      const hide = (packages: string) => ({
        env: { EFFECT_AUTHLETE_TEST_HIDE: packages },
        nodeOptions: ["--import", hidePackages]
      })
      const pg = hide("@effect/sql-pg")
      const serve = yield* cli(
        ["serve", "--database", "postgres://127.0.0.1:1/x"],
        { ...pg.env, ...authleteEnv, EFFECT_AUTHLETE_SECRET_KEY: Buffer.alloc(32, 7).toString("base64") },
        { nodeOptions: pg.nodeOptions }
      )
      assert.strictEqual(serve.code, 2, serve.stderr)
      assert.strictEqual(
        serve.stderr,
        "effect-authlete: serve needs @effect/sql-pg, which is not installed: npm install @effect/sql-pg@~0.53.0\n"
      )
      const oidc = hide("openid-client")
      const demo = yield* cli(["demo"], oidc.env, { nodeOptions: oidc.nodeOptions })
      assert.strictEqual(demo.code, 2, demo.stderr)
      assert.match(
        demo.stderr,
        /^effect-authlete: demo needs openid-client, which is not installed: npm install openid-client@\S+\n$/
      )
      const none = hide(
        "@effect/platform-node,@effect/sql-pg,@effect/sql-sqlite-node,better-sqlite3,openid-client,undici," +
          "@effect/cluster,@effect/sql,@effect/workflow,@effect/rpc,@effect/experimental"
      )
      const help = yield* cli(["--help"], none.env, { nodeOptions: none.nodeOptions })
      assert.strictEqual(help.code, 0, help.stderr)
      assert.include(help.stdout, "Usage: effect-authlete")
      const simulate = yield* cli(["simulate"], none.env, { nodeOptions: none.nodeOptions })
      assert.strictEqual(simulate.code, 2)
      assert.match(
        simulate.stderr,
        /^effect-authlete: simulate needs @effect\/\S+, which is not installed: npm install /
      )
    }))

  it.effect("serve lists every missing or malformed setting in one run, exits 1, and writes nothing", () =>
    Effect.gen(function*() {
      const directory = yield* temporaryDirectory
      const run = yield* cli(
        ["serve", "--users", "missing-users.json", "--limit-per-client", "300", "--limit-pending-per-user", "0"],
        {},
        { cwd: directory }
      )
      assert.strictEqual(run.code, 1, run.stderr)
      for (
        const expected of [
          "AUTHLETE_BASE_URL",
          "AUTHLETE_SERVICE_APIKEY",
          "AUTHLETE_SERVICE_ACCESSTOKEN",
          "EFFECT_AUTHLETE_SECRET_KEY",
          "openssl rand -base64 32",
          "missing-users.json",
          "--limit-per-client takes COUNT/SECONDS",
          "--limit-pending-per-user takes a whole number of at least 1 or off, not \"0\""
        ]
      ) assert.include(run.stderr, expected)
      assert.strictEqual(run.stdout, "")
      assert.notMatch(run.stderr, /\bat .*:\d+:\d+/, "no stack trace")
      assert.deepStrictEqual(readdirSync(directory), [], "no database file, nothing at all")
    }).pipe(Effect.scoped))

  it("playground --tls-cert --tls-key serves HTTPS with that certificate", async () => {
    const tls = (name: string) => fileURLToPath(new URL(`./fixtures/tls/${name}`, import.meta.url))
    const directory = mkdtempSync(join(tmpdir(), "effect-authlete-playground-tls-"))
    const playground = await startCli<{ issuer: string; tokenEndpoint: string }>([
      "playground",
      "--json",
      "--tls-cert",
      tls("server.pem"),
      "--tls-key",
      tls("server.key"),
      "--client-ca",
      tls("ca.pem")
    ], { fromSources: true, logFile: join(directory, "playground.log") })
    try {
      assert.match(playground.info.issuer, /^https:\/\/127\.0\.0\.1:\d+$/)
      const ca = readFileSync(tls("ca.pem"), "utf8")
      const port = Number(new URL(playground.info.issuer).port)
      const served = await new Promise<string>((resolve, reject) => {
        const socket = Tls.connect({ host: "127.0.0.1", port, ca }, () => {
          resolve(socket.getPeerCertificate().fingerprint256)
          socket.end()
        })
        socket.on("error", reject)
      })
      assert.strictEqual(served, new X509Certificate(readFileSync(tls("server.pem"), "utf8")).fingerprint256)
      const agent = new Agent({
        connect: { ca, cert: readFileSync(tls("client1.pem"), "utf8"), key: readFileSync(tls("client1.key"), "utf8") }
      })
      const discovery = await undiciFetch(`${playground.info.issuer}/.well-known/openid-configuration`, {
        dispatcher: agent
      })
      assert.strictEqual(discovery.status, 200)
      assert.strictEqual(
        (await discovery.json() as { token_endpoint: string }).token_endpoint,
        playground.info.tokenEndpoint
      )
      await agent.close()
    } finally {
      await kill(playground)
      rmSync(directory, { recursive: true, force: true })
    }
  }, 60_000)

  it.scoped("simulate on a port in use says so", () =>
    Effect.gen(function*() {
      const taken = yield* loopbackServer(() => ({ status: 204 }))
      const run = yield* cli(["simulate", "--port", new URL(taken.url).port])
      assert.strictEqual(run.code, 1)
      assert.include(run.stderr, `port ${new URL(taken.url).port} is in use`)
    }))

  it.live(
    "playground --json prints one self-describing line and only it on stdout, serves, and exits soon after SIGTERM",
    () =>
      Effect.gen(function*() {
        const child = spawn(process.execPath, [builtCli, "playground", "--json", "--interval", "1", "--no-user-code"], {
          env: { PATH: process.env.PATH ?? "" }
        })
        let stdout = ""
        const line = yield* Effect.async<string>((resume) => {
          child.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk.toString("utf8")
            if (stdout.includes("\n")) resume(Effect.succeed(stdout.split("\n")[0]!))
          })
        })
        const info = JSON.parse(line) as {
          issuer: string
          backchannelAuthenticationEndpoint: string
          tokenEndpoint: string
          jwksUri: string
          deviceUrl: string
          clientUrl: string
          automatedApprovalUrl: string
          clients: ReadonlyArray<{
            clientId: string
            clientSecret: string
            deliveryMode: string
            notificationEndpoint: string | null
            requiresUserCode: boolean
          }>
          users: ReadonlyArray<
            { subject: string; name: string | null; loginHints: ReadonlyArray<string>; userCode: string }
          >
        }
        const discovery = yield* Effect.promise(() =>
          fetch(`${info.issuer}/.well-known/openid-configuration`).then((response) => response.json())
        ) as Effect.Effect<Record<string, unknown>>
        assert.strictEqual(discovery.issuer, info.issuer)
        assert.strictEqual(discovery.backchannel_authentication_endpoint, info.backchannelAuthenticationEndpoint)
        assert.strictEqual(discovery.token_endpoint, info.tokenEndpoint)
        assert.strictEqual(discovery.jwks_uri, info.jwksUri)
        for (const page of [info.deviceUrl, info.clientUrl]) {
          const response = yield* Effect.promise(() => fetch(page))
          assert.strictEqual(response.status, 200, page)
          assert.include(response.headers.get("content-type") ?? "", "text/html", page)
          yield* Effect.promise(() => response.arrayBuffer())
        }
        assert.include(info.automatedApprovalUrl, "{auth_req_id}")
        assert.deepStrictEqual(info.clients.map((client) => client.deliveryMode), ["POLL", "PING", "PUSH"])
        for (const client of info.clients) {
          assert.isString(client.clientId)
          assert.isString(client.clientSecret)
          assert.strictEqual(client.requiresUserCode, false, "--no-user-code")
          assert.property(client, "notificationEndpoint")
        }
        assert.strictEqual(info.clients[0]!.notificationEndpoint, null)
        assert.isString(info.clients[2]!.notificationEndpoint)
        assert.isAbove(info.users.length, 1)
        const taro = info.users.find((user) => user.subject === "user-1")!
        assert.strictEqual(taro.name, "Taro Yamada")
        assert.include(taro.loginHints, "taro@example.com")
        assert.strictEqual(taro.userCode, "1111")
        const stopped = Date.now()
        child.kill("SIGTERM")
        const code = yield* Effect.async<number | null>((resume) => {
          child.on("exit", (exitCode) => resume(Effect.succeed(exitCode)))
        })
        assert.isBelow(Date.now() - stopped, 3_000, "exits within a second or two")
        assert.notStrictEqual(code, null)
        assert.strictEqual(stdout, `${line}\n`, "stdout holds the JSON line only")
      }),
    60_000
  )

  it.live(
    "playground requires a user_code of the PING client by default, and of the modes --user-code names",
    () =>
      Effect.gen(function*() {
        const requiring = (args: ReadonlyArray<string>) =>
          Effect.async<ReadonlyArray<string>>((resume) => {
            const child = spawn(process.execPath, [builtCli, "playground", "--json", ...args], {
              env: { PATH: process.env.PATH ?? "" }
            })
            let stdout = ""
            child.stdout.on("data", (chunk: Buffer) => {
              stdout += chunk.toString("utf8")
              if (!stdout.includes("\n")) return
              child.kill("SIGTERM")
              const info = JSON.parse(stdout.split("\n")[0]!) as {
                clients: ReadonlyArray<{ deliveryMode: string; requiresUserCode: boolean }>
              }
              resume(Effect.succeed(
                info.clients.filter((client) => client.requiresUserCode).map((client) => client.deliveryMode)
              ))
            })
          })
        assert.deepStrictEqual(yield* requiring([]), ["PING"])
        assert.deepStrictEqual(yield* requiring(["--user-code", "poll", "--user-code", "PUSH"]), ["POLL", "PUSH"])
      }),
    60_000
  )
})
