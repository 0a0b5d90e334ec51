/**
 * The simulated service: one behaviour per API of `AuthleteApis` (the type makes a new API's
 * behaviour required), plus the APIs only the simulator offers (`/auth/introspection`, for resource
 * servers under test), over the state they share.
 */
import * as Effect from "effect/Effect"
import * as AuthleteApi from "../../AuthleteApi.js"
import { failMalformed, makeBackchannel } from "./ciba.js"
import { authenticateClient } from "./clientAuthentication.js"
import { IntrospectionApi, makeIntrospection } from "./introspection.js"
import { makeService } from "./service.js"
import type { Answer, State } from "./state.js"
import { makeToken } from "./token.js"

/** What the simulator does for each API, given the request its declaration decoded. */
export type Engine = {
  readonly [Name in AuthleteApi.AuthleteApiName]: (
    request: AuthleteApi.AuthleteApi.Request<typeof AuthleteApi.AuthleteApis[Name]>
  ) => Effect.Effect<Answer>
}

/** The APIs the simulator answers: the library's, and those it offers on its own. */
export type SimulatedApiName = AuthleteApi.AuthleteApiName | "introspection"

/** One API the simulator routes: its declaration, its behaviour, and what else the server needs. */
export interface SimulatedApi {
  readonly name: SimulatedApiName
  readonly api: AuthleteApi.AuthleteApi
  readonly behave: (request: unknown) => Effect.Effect<Answer>
  /** What it answers to a body that breaks its schema, where Authlete documents more than a 400. */
  readonly malformed?: ((problems: string) => Answer) | undefined
  /** For the APIs that authenticate a client: whether it does (the request is recorded only then). */
  readonly checkClient?: ((request: unknown) => Effect.Effect<boolean>) | undefined
}

export const makeEngine = (state: State): Engine => ({
  ...makeBackchannel(state),
  ...makeToken(state),
  ...makeService(state)
})

type ClientRequest = {
  readonly parameters: string
  readonly clientId?: string | undefined
  readonly clientSecret?: string | undefined
  readonly clientCertificate?: string | undefined
}

/** Every API the simulator routes. */
export const makeApis = (state: State): ReadonlyArray<SimulatedApi> => {
  const engine = makeEngine(state)
  // Looks without remembering the client assertion: the engine's own pass must not see a replay.
  const authenticates = (endpoint: "backchannel" | "token") => (request: unknown) =>
    Effect.map(
      authenticateClient(
        state,
        request as ClientRequest,
        new URLSearchParams((request as ClientRequest).parameters),
        endpoint,
        false
      ),
      (outcome) => outcome._tag === "Authenticated"
    )
  const checks: { readonly [Name in SimulatedApiName]?: (request: unknown) => Effect.Effect<boolean> } = {
    backchannelAuthentication: authenticates("backchannel"),
    token: authenticates("token")
  }
  const library = (Object.entries(AuthleteApi.AuthleteApis) as Array<
    [AuthleteApi.AuthleteApiName, AuthleteApi.AuthleteApi]
  >).map(([name, api]): SimulatedApi => ({
    name,
    api,
    behave: engine[name] as (request: unknown) => Effect.Effect<Answer>,
    malformed: name === "backchannelAuthenticationFail" ? failMalformed : undefined,
    checkClient: checks[name]
  }))
  const { introspection } = makeIntrospection(state)
  return [
    ...library,
    {
      name: "introspection",
      api: IntrospectionApi,
      behave: introspection as (request: unknown) => Effect.Effect<Answer>
    }
  ]
}
