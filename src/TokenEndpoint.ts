/**
 * The authorization server's token endpoint (RFC 6749 5, CIBA Core 10.1 and 11), as a program: the
 * client's request goes to Authlete (`/auth/token`) and its `action` becomes the HTTP answer. Grants
 * Authlete leaves to the server (`PASSWORD`, `TOKEN_EXCHANGE`, `JWT_BEARER`, `NATIVE_SSO`) go to the
 * application's `TokenGrantHandler` when it provides one, and are otherwise refused as
 * `unsupported_grant_type`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as AuthleteClient from "./AuthleteClient.js"
import type * as AuthleteError from "./AuthleteError.js"
import * as ClientCredentials from "./ClientCredentials.js"
import * as Endpoint from "./EndpointResponse.js"
import type { TokenResponse } from "./Token.js"

/**
 * What the token endpoint received.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenEndpointInput extends ClientCredentials.ClientCredentials {
  /** The form body as it came (credentials in the form stay in it). */
  readonly parameters: string
  /**
   * The `DPoP` header, and the method (`htm`) and URL (`htu`, the token endpoint's URL as the client
   * used it, RFC 9449 4.3) Authlete checks its proof against; without `htu`, Authlete takes the
   * service's `tokenEndpoint`.
   */
  readonly dpop?: string | undefined
  readonly htm?: string | undefined
  readonly htu?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface TokenGrantHandlerService {
  /**
   * Answers a grant Authlete left to the server (`response.action` is `PASSWORD`, `TOKEN_EXCHANGE`,
   * `JWT_BEARER` or `NATIVE_SSO`), or `None` to refuse it as `unsupported_grant_type`.
   */
  readonly handle: (
    response: TokenResponse,
    input: TokenEndpointInput
  ) => Effect.Effect<Option.Option<Endpoint.EndpointResponse>, AuthleteError.AuthleteError>
}

/**
 * The application's own grants, optional: without it, they are refused.
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenGrantHandler extends Context.Tag("effect-authlete/TokenGrantHandler")<
  TokenGrantHandler,
  TokenGrantHandlerService
>() {}

const SERVER_ERROR = "{\"error\":\"server_error\"}"

/** The headers Authlete asks the endpoint to pass on. */
const passedOn = (response: TokenResponse) => ({
  "dpop-nonce": response.dpopNonce,
  "oauth-client-attestation-challenge": response.attestationChallenge
})

const unsupported = Endpoint.oauthError(400, "unsupported_grant_type", "The grant type is not supported.")

/**
 * The token endpoint: from what the HTTP request carried to the HTTP answer, every answer with
 * `Cache-Control: no-store` and `Pragma: no-cache`: `OK` 200; `BAD_REQUEST` 400 (CIBA's
 * `authorization_pending`, `slow_down`, `access_denied`, `expired_token`, `invalid_grant`);
 * `INVALID_CLIENT` 401 with `WWW-Authenticate`; `INTERNAL_SERVER_ERROR` 500; `DPoP-Nonce` passed on.
 * It fails when Authlete cannot be reached (the route answers 500 then), or with
 * `AuthleteValidationError` when the input breaks a rule of `TokenRequest` (the route checks every
 * value it takes from the request first; one that still breaks a rule is answered 400).
 *
 * @since 0.1.0
 * @category program
 */
export const handleTokenRequest = (
  input: TokenEndpointInput
): Effect.Effect<Endpoint.EndpointResponse, AuthleteError.AuthleteError, AuthleteClient.AuthleteClient> =>
  Effect.gen(function*() {
    const authlete = yield* AuthleteClient.AuthleteClient
    // Absent and undefined are one on the wire: the fields go as they came.
    const response = yield* authlete.token({
      parameters: input.parameters,
      ...ClientCredentials.pick(input),
      dpop: input.dpop,
      htm: input.htm,
      htu: input.htu
    })
    const content = response.responseContent ?? SERVER_ERROR
    switch (response.action) {
      case "OK":
      case "ID_TOKEN_REISSUABLE":
        return Endpoint.json(200, content, passedOn(response))
      case "BAD_REQUEST":
        return Endpoint.json(400, content, passedOn(response))
      case "INVALID_CLIENT":
        // RFC 6749 5.2: 401 with the scheme the client can authenticate with.
        return Endpoint.json(401, content, { "www-authenticate": "Basic realm=\"token\"", ...passedOn(response) })
      case "INTERNAL_SERVER_ERROR":
        return Endpoint.json(500, content, passedOn(response))
      case "PASSWORD":
      case "TOKEN_EXCHANGE":
      case "JWT_BEARER":
      case "NATIVE_SSO": {
        const handler = yield* Effect.serviceOption(TokenGrantHandler)
        if (Option.isNone(handler)) return unsupported
        return Option.getOrElse(yield* handler.value.handle(response, input), () => unsupported)
      }
      default:
        return Endpoint.json(500, SERVER_ERROR)
    }
  })
