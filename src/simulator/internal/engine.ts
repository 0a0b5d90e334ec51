/**
 * The simulated service: one behaviour per API of `AuthleteApis` (the type makes a new API's
 * behaviour required), over the state they share.
 */
import * as Effect from "effect/Effect"
import type * as AuthleteApi from "../../AuthleteApi.js"
import { failMalformed, makeBackchannel } from "./ciba.js"
import { makeService } from "./service.js"
import { type Answer, authenticateClient, type State } from "./state.js"
import { makeToken } from "./token.js"

/** What the simulator does for each API, given the request its declaration decoded. */
export type Engine = {
  readonly [Name in AuthleteApi.AuthleteApiName]: (
    request: AuthleteApi.AuthleteApi.Request<typeof AuthleteApi.AuthleteApis[Name]>
  ) => Effect.Effect<Answer>
}

export const makeEngine = (state: State): Engine => ({
  ...makeBackchannel(state),
  ...makeToken(state),
  ...makeService(state)
})

/** What an API answers to a body that breaks its schema, where Authlete documents more than a 400. */
export const malformedAnswers: { readonly [Name in AuthleteApi.AuthleteApiName]?: (problems: string) => Answer } = {
  backchannelAuthenticationFail: failMalformed
}

/** Whether a decoded request's client authenticates, for the APIs that authenticate a client. */
export type ClientChecks = {
  readonly [Name in AuthleteApi.AuthleteApiName]?: (
    request: AuthleteApi.AuthleteApi.Request<typeof AuthleteApi.AuthleteApis[Name]>
  ) => Effect.Effect<boolean>
}

export const makeClientChecks = (state: State): ClientChecks => {
  const authenticates = (
    request: {
      readonly parameters: string
      readonly clientId?: string | undefined
      readonly clientSecret?: string | undefined
    }
  ) =>
    Effect.map(
      authenticateClient(state, request, new URLSearchParams(request.parameters)),
      (outcome) => outcome._tag === "Authenticated"
    )
  return { backchannelAuthentication: authenticates, token: authenticates }
}
