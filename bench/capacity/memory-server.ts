/**
 * The in-memory system of `bench/capacity/run.ts`: the playground's authorization server (its users,
 * `PendingRequestStore` in memory, `Decisions.layer`, which carries a decision out before it answers,
 * `BackchannelLimits` in memory, `failOverdueRequests` every second, the automated approval) against
 * the Authlete of the `AUTHLETE_*` environment, built otherwise as `serve` builds a node (undici
 * transport, loopback notifications allowed, no device). `effect-authlete playground` runs its own
 * simulator in its own process with no latency; this is the same server against the separate
 * simulator every system of the benchmark uses. It prints one JSON line, `{ issuer, pid }`, once it
 * serves; SIGINT or SIGTERM stops it.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpServer from "@effect/platform/HttpServer"
import {
  AuthenticationDevice,
  AuthleteClient,
  BackchannelLimits,
  ClientNotifier,
  Decisions,
  DeviceDecision,
  PendingRequestStore
} from "effect-authlete"
import { Playground } from "effect-authlete/playground"
import { CibaRoutes } from "effect-authlete/routes"
import { UndiciTransport } from "effect-authlete/undici"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { createServer } from "node:http"

const services = Layer.mergeAll(
  AuthleteClient.layerConfig(),
  ClientNotifier.layer({ allowLoopback: true, allowPrivateNetworks: true }),
  Playground.usersLayer(Playground.defaultUsers),
  // Decided requests leave the store; the bound only guards against a run that decides nothing.
  PendingRequestStore.layerMemoryWith({ maxRequests: 1_000_000 }),
  // As `--limit-per-client off --limit-per-user off --limit-pending-per-user off --limit-wrong-user-codes off`.
  BackchannelLimits.layerMemory({ perClient: false, perUser: false, pendingPerUser: false, wrongUserCodes: false }),
  AuthenticationDevice.layerNoop
).pipe(Layer.provide(UndiciTransport.layer))

const Server = HttpServer.serve(CibaRoutes.router({ automatedApproval: Playground.APPROVAL_PATH })).pipe(
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
  Layer.provideMerge(Layer.provideMerge(Decisions.layer, services))
)

const main = Effect.gen(function*() {
  const address = (yield* HttpServer.HttpServer).address
  const port = address._tag === "TcpAddress" ? address.port : 0
  // Requests nobody decides in time are failed before their auth_req_id expires (as the playground does).
  yield* Effect.forkScoped(
    DeviceDecision.failOverdueRequests.pipe(
      Effect.catchAll(() => Effect.void),
      Effect.repeat(Schedule.spaced("1 second"))
    )
  )
  yield* Console.log(JSON.stringify({ issuer: `http://127.0.0.1:${port}`, pid: process.pid }))
  return yield* Effect.never
})

main.pipe(Effect.scoped, Effect.provide(Server), NodeRuntime.runMain)
