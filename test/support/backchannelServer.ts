/**
 * The backchannel endpoint's program against the simulator (or an Authlete client the test
 * provides), with the services a test chooses (its checks, its limits, its clients) and the rest as
 * an application would have them: user-1 with the login hint taro@example.com, the in-memory store,
 * the in-memory decisions. And what Authlete saw.
 */
import { Effect, Layer } from "effect"
import {
  AuthenticationDevice,
  BackchannelChecks,
  BackchannelLimits,
  ClientNotifier,
  Decisions,
  PendingRequestStore,
  UserClaims,
  UserIdentifier
} from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"

/** The endpoint's services but the Authlete client, which the test provides. */
export const backchannelServices = (options: {
  readonly checks?: Layer.Layer<BackchannelChecks.BackchannelChecks>
  readonly limits?: Layer.Layer<BackchannelLimits.BackchannelLimits>
} = {}) =>
  Layer.mergeAll(
    UserIdentifier.layerFromRecord({ "user-1": { loginHints: ["taro@example.com"] } }),
    options.checks ?? BackchannelChecks.layer(),
    options.limits ?? BackchannelLimits.layerNone,
    AuthenticationDevice.layerNoop,
    Decisions.layer
  ).pipe(
    Layer.provideMerge(Layer.mergeAll(
      PendingRequestStore.layerMemory,
      ClientNotifier.layerTest(),
      UserClaims.layerFromRecord({ "user-1": {} })
    ))
  )

export const backchannelServer = (options: {
  readonly clients: ReadonlyArray<AuthleteSimulator.SimulatedClient>
  readonly checks?: Layer.Layer<BackchannelChecks.BackchannelChecks>
  readonly limits?: Layer.Layer<BackchannelLimits.BackchannelLimits>
}) =>
  backchannelServices(options).pipe(
    Layer.provideMerge(AuthleteSimulator.layerClient({ clients: options.clients }))
  )

/** What Authlete was asked: how many calls, how many `/issue`, and the reasons given to `/fail`. */
export const authleteSaw = Effect.map(
  Effect.flatMap(AuthleteSimulator.AuthleteSimulator, (simulator) => simulator.requests),
  (requests) => ({
    calls: requests.length,
    issued: requests.filter((request) => request.path.endsWith("/backchannel/authentication/issue")).length,
    failed: requests.filter((request) => request.path.endsWith("/backchannel/authentication/fail")).map((request) =>
      (request.body as { reason?: string }).reason
    )
  })
)
