/**
 * The command line in a child process, as a user runs it: `complete` against the simulator with the
 * `AUTHLETE_*` environment, a clear message when that environment is missing, and `--help`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { AuthleteClient } from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { execFile, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { loopbackServer } from "./support/loopback.js"

const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url))

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the CLI from its sources with only the given environment (plus PATH). */
const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}, imports: ReadonlyArray<string> = []) =>
  Effect.async<Run>((resume) => {
    execFile(
      process.execPath,
      [...imports.flatMap((module) => ["--import", module]), "--import", "tsx", main, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resume(
          Effect.succeed({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
        )
    )
  })

describe("effect-authlete command line", () => {
  it.scoped("complete sends one completion configured from the environment", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator
      const authlete = yield* AuthleteClient
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
      assert.notMatch(run.stderr, /at .*\.ts:\d+/, "no stack trace")
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
      ], {
        AUTHLETE_BASE_URL: "http://127.0.0.1:9",
        AUTHLETE_SERVICE_APIKEY: "1",
        AUTHLETE_SERVICE_ACCESSTOKEN: "x".repeat(40)
      })
      assert.strictEqual(run.code, 1)
      assert.match(run.stderr, /claims\[0\]: must be JSON text of an object/)
    }))

  it.effect("--help lists the commands; help is plain text when piped, names the program and the variables", () =>
    Effect.gen(function*() {
      const run = yield* cli(["--help"])
      assert.strictEqual(run.code, 0)
      for (const command of ["complete", "simulate", "playground", "demo"]) assert.include(run.stdout, command)
      const completeHelp = yield* cli(["complete", "--help"])
      assert.include(completeHelp.stdout, "--ticket")
      assert.notInclude(completeHelp.stdout, "\u001b[", "no colour codes when piped")
      assert.match(completeHelp.stdout, /^\$ effect-authlete complete /m)
      assert.match(completeHelp.stdout, /\[--claims text\.\.\.\]/, "--claims is optional")
      for (const variable of ["AUTHLETE_BASE_URL", "AUTHLETE_SERVICE_APIKEY", "AUTHLETE_SERVICE_ACCESSTOKEN"]) {
        assert.include(completeHelp.stdout, variable)
      }
    }))

  it.effect("argument errors print the sentence only, and exit 1", () =>
    Effect.gen(function*() {
      const cases = [
        ["complete", "--subjct", "x"],
        ["complete", "--ticket", "t", "--result", "APPROVED", "--subject", "s"],
        ["complete", "--ticket", "t", "--result", "AUTHORIZED", "--subject", "s", "--auth-time", "abc"],
        ["complete"],
        ["compleet"],
        ["simulate", "--port", "-1"]
      ]
      const runs = yield* Effect.forEach(cases, (args) => cli(args), { concurrency: 3 })
      runs.forEach((run, i) => {
        const args = cases[i]!.join(" ")
        assert.strictEqual(run.code, 1, args)
        assert.notInclude(run.stderr, "ERROR (#", args)
        assert.notInclude(run.stderr, "_tag", args)
        assert.notMatch(run.stderr, /RangeError|\bat .*:\d+:\d+/, args)
      })
      assert.include(runs[5]!.stderr, "port must be 0–65535")
    }))

  it.scoped("simulate on a port in use says so", () =>
    Effect.gen(function*() {
      const taken = yield* loopbackServer(() => ({ status: 204 }))
      const run = yield* cli(["simulate", "--port", new URL(taken.url).port])
      assert.strictEqual(run.code, 1)
      assert.include(run.stderr, `port ${new URL(taken.url).port} is in use`)
    }))

  it.effect("without the optional peer @effect/cli, it says what to install", () =>
    Effect.gen(function*() {
      const withoutCli = fileURLToPath(new URL("./support/without-effect-cli.mjs", import.meta.url))
      const run = yield* cli(["--help"], {}, [withoutCli])
      assert.strictEqual(run.code, 1)
      assert.include(run.stderr, "the command line needs @effect/cli; install it")
      assert.notMatch(run.stderr, /\bat .*:\d+:\d+/, "no stack trace")
    }))

  it.live(
    "playground --json prints one line with its URLs, serves, and exits soon after SIGTERM",
    () =>
      Effect.gen(function*() {
        const child = spawn(process.execPath, ["--import", "tsx", main, "playground", "--json", "--interval", "1"], {
          env: { PATH: process.env.PATH ?? "" }
        })
        const line = yield* Effect.async<string>((resume) => {
          let out = ""
          child.stdout.on("data", (chunk: Buffer) => {
            out += chunk.toString("utf8")
            if (out.includes("\n")) resume(Effect.succeed(out.split("\n")[0]!))
          })
        })
        const info = JSON.parse(line) as {
          issuer: string
          clients: ReadonlyArray<{ clientId: string; clientSecret: string; deliveryMode: string }>
          users: ReadonlyArray<ReadonlyArray<string>>
          automatedApprovalUrl: string
          deviceUrl: string
          clientUrl: string
        }
        for (const page of [info.deviceUrl, info.clientUrl]) {
          const response = yield* Effect.promise(() => fetch(page))
          assert.strictEqual(response.status, 200, page)
          assert.include(response.headers.get("content-type") ?? "", "text/html", page)
          yield* Effect.promise(() => response.arrayBuffer())
        }
        assert.deepStrictEqual(info.clients.map((client) => client.deliveryMode), ["POLL", "PING", "PUSH"])
        assert.include(info.automatedApprovalUrl, "{auth_req_id}")
        assert.isAbove(info.users.length, 1)
        const discovery = yield* Effect.promise(() =>
          fetch(`${info.issuer}/.well-known/openid-configuration`).then((response) => response.json())
        ) as Effect.Effect<{ issuer: string }>
        assert.strictEqual(discovery.issuer, info.issuer)
        const stopped = Date.now()
        child.kill("SIGTERM")
        const code = yield* Effect.async<number | null>((resume) => {
          child.on("exit", (exitCode) => resume(Effect.succeed(exitCode)))
        })
        assert.isBelow(Date.now() - stopped, 3_000, "exits within a second or two")
        assert.notStrictEqual(code, null)
      }),
    60_000
  )
})
