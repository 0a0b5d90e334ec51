/**
 * `HealthRoutes` over HTTP on a real loopback server: live answers while the process serves; ready
 * runs every check at once, 200 when all pass, else 503 naming the check that did not (`down`,
 * `timeout`) and never its error's text; the Authlete check reads the configuration once per
 * `maxAge`, not once per probe.
 */
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { HealthRoutes } from "effect-authlete/routes"
import { AuthleteSimulator } from "effect-authlete/simulator"
import * as Http from "node:http"

/** The routes on a loopback server; the base URL. */
const serving = <R>(routes: Effect.Effect<ReturnType<typeof HealthRoutes.healthRouter<R>>, never, R>) =>
  Effect.gen(function*() {
    const router = yield* routes
    const context = yield* Layer.build(
      HttpServer.serve(router).pipe(
        Layer.provideMerge(NodeHttpServer.layer(() => Http.createServer(), { port: 0, host: "127.0.0.1" }))
      )
    )
    const server = yield* Effect.provide(HttpServer.HttpServer, context)
    const address = server.address
    return address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
  })

const get = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return { status: response.status, body: await response.text(), cacheControl: response.headers.get("cache-control") }
  })

describe("HealthRoutes.healthRouter", () => {
  it.scoped("live: 200 while the process serves; ready: 200 when every check passes", () =>
    Effect.gen(function*() {
      const base = yield* serving(Effect.succeed(HealthRoutes.healthRouter({
        checks: [{ name: "database", check: Effect.void }, { name: "authlete", check: Effect.succeed(1) }]
      })))
      const live = yield* get(`${base}/health/live`)
      assert.strictEqual(live.status, 200)
      assert.deepStrictEqual(JSON.parse(live.body), { status: "live" })
      assert.strictEqual(live.cacheControl, "no-store")
      const ready = yield* get(`${base}/health/ready`)
      assert.strictEqual(ready.status, 200)
      assert.deepStrictEqual(JSON.parse(ready.body), { status: "ready", checks: { database: "up", authlete: "up" } })
    }))

  it.live("ready: 503 naming the check that failed or took too long, never its error's text", () =>
    Effect.scoped(Effect.gen(function*() {
      const base = yield* serving(Effect.succeed(HealthRoutes.healthRouter({
        readyPath: "/ready",
        livePath: "/live",
        timeout: "100 millis",
        checks: [
          { name: "database", check: Effect.fail(new Error("password authentication failed for postgres://10.0.0.5")) },
          { name: "cluster", check: Effect.never },
          { name: "defect", check: Effect.die("boom at 10.0.0.5") },
          { name: "authlete", check: Effect.void }
        ]
      })))
      const ready = yield* get(`${base}/ready`)
      assert.strictEqual(ready.status, 503)
      assert.deepStrictEqual(JSON.parse(ready.body), {
        status: "not ready",
        checks: { database: "down", cluster: "timeout", defect: "down", authlete: "up" }
      })
      assert.notInclude(ready.body, "10.0.0.5")
      assert.notInclude(ready.body, "password")
      assert.strictEqual((yield* get(`${base}/live`)).status, 200)
      assert.strictEqual((yield* get(`${base}/health/live`)).status, 404)
    })))

  it("refuses a check name that is not a plain word", () => {
    assert.throws(() => HealthRoutes.healthRouter({ checks: [{ name: "a b", check: Effect.void }] }), TypeError)
  })

  it.live("the Authlete check reads the configuration once per maxAge, and is not up when Authlete fails", () =>
    Effect.scoped(Effect.gen(function*() {
      const base = yield* serving(
        Effect.map(
          HealthRoutes.authleteCheck("1 hour"),
          (authlete) => HealthRoutes.healthRouter({ checks: [authlete] })
        )
      )
      for (let i = 0; i < 3; i++) assert.strictEqual((yield* get(`${base}/health/ready`)).status, 200)
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const reads = (yield* simulator.requests).filter((request) => request.path.endsWith("/service/configuration"))
      assert.strictEqual(reads.length, 1)

      const fresh = yield* serving(
        Effect.map(
          HealthRoutes.authleteCheck("1 millis"),
          (authlete) => HealthRoutes.healthRouter({ checks: [authlete] })
        )
      )
      // Authlete answers 500 (the client retries a few times; every try fails).
      yield* simulator.failNext(20, 500)
      yield* Effect.sleep("5 millis")
      const down = yield* get(`${fresh}/health/ready`)
      assert.strictEqual(down.status, 503)
      // Down, or still retrying when the check's deadline came.
      assert.oneOf((JSON.parse(down.body) as { checks: { authlete: string } }).checks.authlete, ["down", "timeout"])
    })).pipe(Effect.provide(AuthleteSimulator.layerClient())))
})
