/**
 * The three ways to provide `AuthleteClient`: live over an `HttpTransport`, from the `AUTHLETE_*`
 * environment, and a test layer. Run it with `npx tsx examples/layers.ts`: it starts the embedded
 * simulator and points the live and environment layers at it, so it needs no Authlete account.
 */
import { ConfigProvider, Console, Effect, Layer, Redacted } from "effect"
import { AuthleteClient, BackchannelAuthenticationCompleteResponse, HttpTransport } from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"

/** What the application does: hand a client's CIBA request to Authlete. */
const program = (clientId: number, clientSecret: string) =>
  Effect.gen(function*() {
    const authlete = yield* AuthleteClient.AuthleteClient
    const response = yield* authlete.backchannelAuthentication({
      parameters: "scope=openid&login_hint=user-1",
      clientId: String(clientId),
      clientSecret
    })
    return response.action
  })

Effect.gen(function*() {
  const simulator = yield* AuthleteSimulator.AuthleteSimulator
  const { clientId, clientSecret } = yield* simulator.clientFor("POLL")

  // 1. Live: the options in code, the transport of your choice (fetch here; UndiciTransport on Node).
  const AuthleteLive = AuthleteClient.layer({
    baseUrl: simulator.baseUrl, // "https://us.authlete.com" in production
    serviceId: simulator.serviceId,
    accessToken: simulator.accessToken // Redacted.make(process.env.TOKEN!)
  }).pipe(Layer.provide(HttpTransport.layerFetch))
  yield* Console.log("live:", yield* Effect.provide(program(clientId, clientSecret), AuthleteLive))

  // 2. From Config: by default the AUTHLETE_* environment variables of Authlete's Java and Python SDKs.
  const environment = ConfigProvider.fromMap(
    new Map([
      ["AUTHLETE_BASE_URL", simulator.baseUrl],
      ["AUTHLETE_SERVICE_APIKEY", simulator.serviceId],
      ["AUTHLETE_SERVICE_ACCESSTOKEN", Redacted.value(simulator.accessToken)]
    ])
  )
  const AuthleteFromEnv = AuthleteClient.layerConfig().pipe(
    Layer.provide(HttpTransport.layerFetch),
    Layer.provide(Layer.setConfigProvider(environment))
  )
  yield* Console.log("config:", yield* Effect.provide(program(clientId, clientSecret), AuthleteFromEnv))

  // 3. Test: answers from your handlers and records what it validated.
  const AuthleteTest = AuthleteClient.layerTest({
    backchannelAuthenticationComplete: () =>
      Effect.succeed(
        new BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse({ action: "NO_ACTION" })
      ),
    backchannelAuthentication: () => Effect.die("not used in this example")
  })
  yield* Effect.gen(function*() {
    const authlete = yield* AuthleteClient.AuthleteClient
    const response = yield* authlete.backchannelAuthenticationComplete({
      ticket: "ticket-1",
      result: "AUTHORIZED",
      subject: "user-1"
    })
    const recorded = yield* Effect.flatMap(AuthleteClient.AuthleteClientRecorder, (recorder) => recorder.requests)
    yield* Console.log("test:", response.action, `(${recorded.length} request recorded)`)
  }).pipe(Effect.provide(AuthleteTest))
}).pipe(Effect.provide(AuthleteSimulator.layer()), Effect.runPromise)
