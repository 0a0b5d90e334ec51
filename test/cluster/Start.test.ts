/**
 * Nodes that start together: five `effect-authlete serve` nodes started at the same moment on an
 * empty PostgreSQL database, ten times over; every node creates or finds every table (the engine's
 * included) and serves. And the same race made as tight as it gets: five nodes' layers built at the
 * same moment in one process, ten times. Before the engine's tables were created under a lock, 8
 * rounds in 10 of those lost a race in PostgreSQL's catalog (`cluster_runners` created twice) and a
 * node died.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted } from "effect"
import { ClusterNode } from "effect-authlete/sql"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { kill, killEveryStarted, startCli, type Started } from "../support/processes.js"
import * as Postgres from "./postgres.js"

const NODES = 5
const ROUNDS = Number(process.env.EFFECT_AUTHLETE_START_ROUNDS ?? 10)

describe("serve nodes started together on an empty database", () => {
  afterEach(killEveryStarted)

  it(`${NODES} nodes, ${ROUNDS} times: every node serves`, async () => {
    const directory = mkdtempSync(join(tmpdir(), "effect-authlete-start-"))
    const simulator = await startCli<{ baseUrl: string; serviceId: string; accessToken: string }>(
      ["simulate", "--json"],
      { logFile: join(directory, "simulator.log") }
    )
    const env = {
      AUTHLETE_BASE_URL: simulator.info.baseUrl,
      AUTHLETE_SERVICE_APIKEY: simulator.info.serviceId,
      AUTHLETE_SERVICE_ACCESSTOKEN: simulator.info.accessToken,
      EFFECT_AUTHLETE_SECRET_KEY: randomBytes(32).toString("base64")
    }
    const failures: Array<string> = []
    const seconds: Array<number> = []
    for (let round = 0; round < ROUNDS; round++) {
      await Effect.runPromise(Postgres.reset.pipe(Effect.provide(Postgres.layer)))
      const began = Date.now()
      const starts = await Promise.allSettled(Array.from({ length: NODES }, (_, index) =>
        startCli<{ issuer: string }>([
          "serve",
          "--json",
          "--database",
          Postgres.postgresUrl,
          "--port",
          String(25_100 + index),
          "--runner-port",
          String(25_200 + index)
        ], { env, logFile: join(directory, `round-${round}-node-${index}.log`), timeoutMillis: 90_000 })))
      seconds.push((Date.now() - began) / 1_000)
      const serving = starts.flatMap((start) => start.status === "fulfilled" ? [start.value] : [])
      // Each serving node answers over HTTP.
      for (const node of serving) {
        const answer = await fetch(`${node.info.issuer}/.well-known/openid-configuration`)
        if (answer.status !== 200) failures.push(`round ${round}: ${node.info.issuer} answered ${answer.status}`)
      }
      for (const [index, start] of starts.entries()) {
        if (start.status === "rejected") failures.push(`round ${round}, node ${index}: ${String(start.reason)}`)
      }
      await Promise.all(serving.map((node: Started<{ issuer: string }>) => kill(node)))
    }
    await kill(simulator)
    console.log(
      `serve nodes started together: ${ROUNDS} rounds of ${NODES}, all serving within ${
        Math.max(...seconds).toFixed(1)
      } s (median ${
        [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)]!.toFixed(1)
      } s); logs in ${directory}`
    )
    assert.deepStrictEqual(failures, [])
  }, 900_000)

  it(`${NODES} nodes' layers built at the same moment in one process, ${ROUNDS} times: every one builds`, async () => {
    const failures: Array<string> = []
    for (let round = 0; round < ROUNDS; round++) {
      await Effect.runPromise(Postgres.reset.pipe(Effect.provide(Postgres.layer)))
      const built = await Effect.runPromise(Effect.all(
        Array.from({ length: NODES }, (_, index) =>
          Effect.exit(Effect.scoped(Layer.build(ClusterNode.layerPg({
            url: Redacted.make(Postgres.postgresUrl),
            runnerAddress: { host: "127.0.0.1", port: 25_300 + index },
            maxConnections: 4
          }))))),
        { concurrency: "unbounded" }
      ))
      for (const [index, exit] of built.entries()) {
        if (Exit.isFailure(exit)) failures.push(`round ${round}, node ${index}: ${String(exit.cause).slice(0, 300)}`)
      }
    }
    assert.deepStrictEqual(failures, [])
  }, 600_000)
})
