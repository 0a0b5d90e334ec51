/**
 * The command line in a child process, as a user runs it: `complete` against the simulator with the
 * `AUTHLETE_*` environment, a clear message when that environment is missing, and `--help`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { AuthleteClient } from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"

const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url))

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the CLI from its sources with only the given environment (plus PATH). */
const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.async<Run>((resume) => {
    execFile(
      process.execPath,
      ["--import", "tsx", main, ...args],
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

  it.effect("--help lists the commands", () =>
    Effect.gen(function*() {
      const run = yield* cli(["--help"])
      assert.strictEqual(run.code, 0)
      for (const command of ["complete", "simulate", "demo"]) assert.include(run.stdout, command)
      const completeHelp = yield* cli(["complete", "--help"])
      assert.include(completeHelp.stdout, "--ticket")
    }))
})
