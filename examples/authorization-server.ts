/**
 * A CIBA authorization server in your own Effect HTTP server: the library's routes mounted under
 * `/as`, beside a route of your own, with your services (users, their claims, the device). Run it
 * with `npx tsx examples/authorization-server.ts`: Authlete is the embedded simulator, and a client
 * (plain `fetch`) runs one POLL flow through it, so it needs no account and no network.
 */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import {
  AuthenticationDevice,
  AuthleteClient,
  BackchannelChecks,
  BackchannelLimits,
  ClientNotifier,
  Decisions,
  PendingRequestStore,
  UserClaims,
  UserIdentifier
} from "effect-authlete"
import { CibaRoutes } from "effect-authlete/routes"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { UndiciTransport } from "effect-authlete/undici"
import * as Http from "node:http"

// Your application: its own routes, and the CIBA endpoints under /as.
const app = HttpRouter.empty.pipe(
  HttpRouter.get("/health", HttpServerResponse.text("ok")),
  HttpRouter.mount("/as", CibaRoutes.router({ automatedApproval: "/approve" }))
)

// Your decisions, as services: who a login hint names, their claims, how the device reaches them.
const Users = Layer.mergeAll(
  UserIdentifier.layerFromRecord({ "user-1": { loginHints: ["taro@example.com"] } }),
  UserClaims.layerFromRecord({ "user-1": { given_name: "Taro", "given_name#ja": "太郎", email: "taro@example.com" } }),
  BackchannelChecks.layer(),
  BackchannelLimits.layerMemory(),
  AuthenticationDevice.layerNoop,
  PendingRequestStore.layerMemory
)

// Authlete: the simulator here; `AuthleteClient.layerConfig()` reads AUTHLETE_* in production.
const ASPORT = 18_443
const issuer = `http://127.0.0.1:${ASPORT}/as`
const Authlete = Layer.unwrapEffect(
  Effect.map(AuthleteSimulator.AuthleteSimulator, (simulator) =>
    AuthleteClient.layer({
      baseUrl: simulator.baseUrl,
      serviceId: simulator.serviceId,
      accessToken: simulator.accessToken
    }))
).pipe(
  Layer.provideMerge(AuthleteSimulator.layer({
    issuer,
    tokenEndpoint: `${issuer}/token`,
    backchannelAuthenticationEndpoint: `${issuer}/backchannel`,
    jwksUri: `${issuer}/jwks`,
    interval: 1
  }))
)

const Server = HttpServer.serve(app).pipe(
  Layer.provide(Decisions.layer),
  Layer.provideMerge(Users),
  Layer.provideMerge(ClientNotifier.layer()),
  Layer.provideMerge(Authlete),
  Layer.provide(UndiciTransport.layer),
  Layer.provide(NodeHttpServer.layer(() => Http.createServer(), { port: ASPORT, host: "127.0.0.1" }))
)

// A relying party's side of one POLL flow, with plain fetch.
const client = Effect.gen(function*() {
  const simulator = yield* AuthleteSimulator.AuthleteSimulator
  const { clientId, clientSecret } = yield* simulator.clientFor("POLL")
  const basic = `Basic ${btoa(`${clientId}:${encodeURIComponent(clientSecret)}`)}`
  const post = (path: string, form: Record<string, string>) =>
    Effect.promise(() =>
      fetch(`${issuer}${path}`, {
        method: "POST",
        headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form)
      }).then(async (response) => ({ status: response.status, body: await response.json() as Record<string, unknown> }))
    )
  const started = yield* post("/backchannel", { scope: "openid profile email", login_hint: "taro@example.com" })
  yield* Console.log("backchannel:", started.status, Object.keys(started.body).join(", "))
  const authReqId = String(started.body.auth_req_id)
  const pending = yield* post("/token", { grant_type: "urn:openid:params:grant-type:ciba", auth_req_id: authReqId })
  yield* Console.log("token, before the user decides:", pending.status, pending.body.error)
  // The user approves (here through the automated approval endpoint the routes were given).
  yield* Effect.promise(() => fetch(`${issuer}/approve/${authReqId}/allow`, { method: "POST" }))
  yield* Effect.sleep("1100 millis") // the interval
  const tokens = yield* post("/token", { grant_type: "urn:openid:params:grant-type:ciba", auth_req_id: authReqId })
  const idToken = JSON.parse(Buffer.from(String(tokens.body.id_token).split(".")[1]!, "base64url").toString("utf8"))
  yield* Console.log("token, after:", tokens.status, `token_type ${tokens.body.token_type}`, `sub ${idToken.sub}`)
})

client.pipe(Effect.provide(Server), Effect.scoped, Effect.runPromise)
