/**
 * Signed backchannel authentication requests (CIBA Core 7.1.1, FAPI-CIBA 5.2.2): the `request`
 * parameter, a JWS by one of the client's registered keys, verified with `jose`. Once verified, the
 * authentication request's parameters are the ones inside it; the form's own are ignored except
 * those that authenticate the client. `request_uri` is refused.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Ref from "effect/Ref"
import type { JWK } from "jose"
import type { SimulatedClient } from "../AuthleteSimulator.js"
import { keysOf } from "./clientKeys.js"
import { FAPI_ALGORITHMS, joseProblem, loadJose } from "./jose.js"
import * as Codes from "./resultCodes.js"
import type { State } from "./state.js"

/** What a request object carries that the simulator reads (CIBA Core 7.1, RFC 9396). */
const AUTHENTICATION_PARAMETERS = [
  "scope",
  "login_hint",
  "login_hint_token",
  "id_token_hint",
  "binding_message",
  "user_code",
  "client_notification_token",
  "requested_expiry",
  "acr_values",
  "authorization_details"
] as const

/** FAPI-CIBA 5.2.2 (ID1): `exp` − `nbf` at most 60 minutes, `nbf` no older than 60 minutes. */
const MAX_LIFETIME_SECONDS = 3600

/** A request without a request object, one refused with the reason, or one verified. */
export type RequestObjectOutcome =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Refused"; readonly cause: Codes.Result }
  | { readonly _tag: "Verified"; readonly parameters: URLSearchParams }

const refused = (detail: string): RequestObjectOutcome => ({
  _tag: "Refused",
  cause: Codes.requestObjectInvalid(detail)
})

/** A claim as a form value: strings as they are, `requested_expiry` may be a number, RAR an array. */
const formValue = (name: string, value: unknown): string | undefined => {
  if (typeof value === "string") return value
  if (name === "requested_expiry" && typeof value === "number") return String(value)
  if (name === "authorization_details" && typeof value === "object" && value !== null) return JSON.stringify(value)
  return undefined
}

/**
 * Whether the client must sign: registered so (`requestObjectRequired`, or a `bcRequestSignAlg`,
 * which CIBA Core 4 makes a promise to sign).
 */
const signingRequired = (client: SimulatedClient): boolean =>
  client.requestObjectRequired === true || client.bcRequestSignAlg !== undefined

/**
 * The request object of `form`, checked against the client's JWK Set: `Absent` (and allowed),
 * `Refused` with the reason, or `Verified` with the authentication request's parameters.
 */
export const readRequestObject = (
  state: State,
  client: SimulatedClient,
  form: URLSearchParams
): Effect.Effect<RequestObjectOutcome> =>
  Effect.gen(function*() {
    if (form.has("request_uri")) return { _tag: "Refused", cause: Codes.requestUriUnsupported } as const
    const request = form.get("request")
    if (request === null || request === "") {
      return signingRequired(client) ? { _tag: "Refused", cause: Codes.requestObjectRequired } as const : {
        _tag: "Absent"
      } as const
    }
    const keys = keysOf(client.jwks)
    if (keys === undefined) return refused("the client has no registered JWK Set (jwks) to verify it with.")
    const jose = yield* loadJose
    let alg: unknown
    try {
      alg = jose.decodeProtectedHeader(request).alg
    } catch {
      return refused("it is not a JWS.")
    }
    if (typeof alg !== "string" || !FAPI_ALGORITHMS.includes(alg)) {
      return refused(`it is signed with '${String(alg)}'; only PS256 and ES256 are accepted.`)
    }
    if (client.bcRequestSignAlg !== undefined && alg !== client.bcRequestSignAlg) {
      return refused(`it is signed with '${alg}', not the registered '${client.bcRequestSignAlg}'.`)
    }
    const service = yield* Ref.get(state.service)
    const now = yield* state.now
    const verified = yield* Effect.either(Effect.tryPromise(() =>
      jose.jwtVerify(request, jose.createLocalJWKSet({ keys: keys as Array<JWK> }), {
        algorithms: [...FAPI_ALGORITHMS],
        issuer: [String(client.clientId), ...(client.clientIdAlias === undefined ? [] : [client.clientIdAlias])],
        audience: service.issuer,
        requiredClaims: ["aud", "iss", "exp", "iat", "nbf", "jti"],
        currentDate: new Date(now)
      })
    ))
    if (Either.isLeft(verified)) {
      return refused(`${joseProblem(verified.left.error)}.`)
    }
    const claims = verified.right.payload
    const nbf = claims.nbf!
    if (claims.exp! - nbf > MAX_LIFETIME_SECONDS) {
      return refused("'exp' is more than 60 minutes after 'nbf'.")
    }
    if (Math.floor(now / 1000) - nbf > MAX_LIFETIME_SECONDS) {
      return refused("'nbf' is more than 60 minutes old.")
    }
    if (typeof claims.jti !== "string" || claims.jti === "") {
      return refused("'jti' must be a non-empty string.")
    }

    const parameters = new URLSearchParams()
    for (const name of AUTHENTICATION_PARAMETERS) {
      const value = claims[name]
      if (value === undefined || value === null) {
        continue
      }
      const text = formValue(name, value)
      if (text === undefined) {
        return refused(`its '${name}' claim has the wrong type.`)
      }
      parameters.set(name, text)
    }
    return { _tag: "Verified", parameters } as const
  })
