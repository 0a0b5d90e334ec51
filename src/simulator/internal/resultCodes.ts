/**
 * The result codes the simulator answers with. Codes marked "Authlete" appear with these messages in
 * Authlete's own material; the others are the simulator's own, numbered after Authlete's scheme
 * (`A` + API number + class digit + two digits; class 0 success, 1 Authlete, 2 service, 3 client).
 */

/** A result code and its message, rendered the way Authlete renders them: `[A179001] ...`. */
export interface Result {
  readonly resultCode: string
  readonly resultMessage: string
}

const result = (code: string, message: string): Result => ({
  resultCode: code,
  resultMessage: `[${code}] ${message}`
})

// Shared by every API.

/** Authlete. */
export const authorizationHeaderMissing = result("A001202", "Authorization header is missing.")
/** Authlete. */
export const serverError = result("A001101", "Authlete Server error.")
/** Simulator's own. */
export const accessTokenInvalid = result("A001203", "The access token in the Authorization header is invalid.")
/** Simulator's own. */
export const accessTokenForOtherService = (serviceId: string) =>
  result("A001204", `The access token does not grant access to the service (ID = ${serviceId}).`)
/** Simulator's own. */
export const bodyNotJson = result("A001205", "The request body is not a JSON object.")

/** Simulator's own. */
export const bodyTooLarge = (maxBytes: number) =>
  result("A001206", `The request body is larger than ${maxBytes} bytes.`)

/** Simulator's own: the API call's body breaks the API's schema. `api` is the API number (179, 183, ...). */
export const malformedRequest = (api: number, problems: string) =>
  result(`A${String(api).padStart(3, "0")}201`, `The request to the API is malformed: ${problems}`)

// /backchannel/authentication (API 179).

/** Authlete. */
export const authenticationOk = result("A179001", "The backchannel authentication request was processed successfully.")
/** Simulator's own. */
export const clientAuthenticationFailed = (detail: string) =>
  result("A179301", `Client authentication failed: ${detail}`)
/** Simulator's own. */
export const scopeMissing = result("A179302", "The backchannel authentication request does not contain 'scope'.")
/** Simulator's own. */
export const openidScopeMissing = result(
  "A179303",
  "The 'scope' of a backchannel authentication request must contain 'openid'."
)
/** Simulator's own. */
export const hintMissing = result(
  "A179304",
  "The backchannel authentication request contains none of 'login_hint', 'id_token_hint' and 'login_hint_token'."
)
/** Simulator's own. */
export const hintAmbiguous = result(
  "A179305",
  "The backchannel authentication request contains more than one of 'login_hint', 'id_token_hint' and 'login_hint_token'."
)
/** Simulator's own. */
export const idTokenHintInvalid = result("A179306", "The 'id_token_hint' is not an ID token issued by this service.")
/** Simulator's own. */
export const notificationTokenMissing = (mode: string) =>
  result("A179307", `The client uses the ${mode} mode, so 'client_notification_token' is required.`)
/** Simulator's own. */
export const requestedExpiryInvalid = result("A179308", "The 'requested_expiry' must be a positive integer.")
/** Simulator's own. */
export const userCodeMissing = result(
  "A179309",
  "The client requires 'user_code', but the request does not contain it."
)
/** Simulator's own. */
export const parameterRepeated = (name: string) =>
  result("A179310", `The request parameter '${name}' is included more than once.`)
/** Simulator's own. */
export const requestUriUnsupported = result("A179311", "The simulator does not support 'request_uri'.")
/** Simulator's own. */
export const clientCredentialsConflict = result(
  "A179312",
  "The client presented its credentials in both the Authorization header and the request body."
)

/** Simulator's own. */
export const requestObjectRequired = result(
  "A179313",
  "The client is required to send its backchannel authentication request as a signed request object ('request')."
)
/** Simulator's own. */
export const requestObjectInvalid = (detail: string) => result("A179314", `The request object is invalid: ${detail}`)
/** Simulator's own. */
export const bindingMessageRequiredInFapi = result(
  "A179315",
  "The backchannel authentication request is a FAPI-CIBA request, so 'binding_message' is required."
)
/** Simulator's own. */
export const pushModeInFapi = result("A179316", "FAPI-CIBA does not allow the push delivery mode.")
/** Simulator's own. */
export const authorizationDetailsInvalid = (detail: string) =>
  result("A179317", `The 'authorization_details' is invalid: ${detail}`)

// /backchannel/authentication/issue (API 183).

/** Authlete. */
export const issueOk = result("A183001", "An auth_req_id was issued successfully.")
/** Simulator's own. */
export const issueTicketUnknown = result("A183202", "The ticket does not exist.")
/** Simulator's own. */
export const issueTicketExpired = result("A183203", "The ticket has expired.")
/** Simulator's own. */
export const issueTicketUsed = result("A183204", "An auth_req_id has already been issued for the ticket.")

// /backchannel/authentication/fail (API 185).

/** Authlete. */
export const failOk = result(
  "A185001",
  "Successfully generated an error response for the backchannel authentication request."
)

// /backchannel/authentication/complete (API 198).

/** Authlete (the POLL/AUTHORIZED message; the simulator uses the same pattern for every mode and result). */
export const completeOk = (mode: string, outcome: string) =>
  result(
    "A198001",
    "Successfully updated the database so that the token endpoint can generate tokens " +
      `(mode = ${mode.toLowerCase()}, result = ${outcome}).`
  )
/** Simulator's own. */
export const completeTicketUnknown = result("A198202", "The ticket does not exist or has already been used.")
/** Simulator's own. */
export const completeTicketNotIssued = result(
  "A198203",
  "No auth_req_id has been issued for the ticket; call /backchannel/authentication/issue first."
)
/** Simulator's own. */
export const completeAuthReqIdExpired = result("A198204", "The auth_req_id has expired.")

/**
 * The OAuth error JSON Authlete puts in `responseContent` for errors it finds itself:
 * `{"error_description":"[A...] ...","error":"...","error_uri":"https://docs.authlete.com/#A..."}`.
 */
export const oauthError = (error: string, cause: Result): string =>
  JSON.stringify({
    error_description: cause.resultMessage,
    error,
    error_uri: `https://docs.authlete.com/#${cause.resultCode}`
  })

// /auth/token (API 50).

/** Authlete's pattern (its example is for the authorization code grant). */
export const tokenOk = (grantType: string) =>
  result("A050001", `The token request (grant_type=${grantType}) was processed successfully.`)
/** Simulator's own. */
export const tokenClientAuthenticationFailed = (detail: string) =>
  result("A050301", `Client authentication failed: ${detail}`)
/** Simulator's own. */
export const tokenGrantTypeMissing = result("A050302", "The token request does not contain 'grant_type'.")
/** Simulator's own. */
export const tokenGrantTypeUnsupported = (grantType: string) =>
  result("A050303", `The grant type '${grantType}' is not supported by the simulator.`)
/** Simulator's own. */
export const tokenAuthReqIdMissing = result("A050304", "The token request does not contain 'auth_req_id'.")
/** Simulator's own. */
export const tokenAuthReqIdUnknown = result(
  "A050305",
  "The auth_req_id does not exist or was not issued to the client."
)
/** Simulator's own. */
export const tokenAuthReqIdUsed = result("A050306", "The auth_req_id has already been used.")
/** Simulator's own. */
export const tokenAuthorizationPending = result("A050307", "The end-user has not been authenticated yet.")
/** Simulator's own. */
export const tokenSlowDown = result("A050308", "The client polls the token endpoint too frequently.")
/** Simulator's own. */
export const tokenAuthReqIdExpired = result("A050309", "The auth_req_id has expired.")
/** Simulator's own. */
export const tokenAccessDenied = result("A050310", "The end-user denied the authorization request.")
/** Simulator's own. */
export const tokenTransactionFailed = result("A050311", "The authentication transaction failed.")
/** Simulator's own. */
export const tokenPushClient = result("A050312", "The client uses the push mode; its tokens were pushed.")
/** Simulator's own. */
export const tokenPasswordGrant = result("A050313", "The password grant is for the authorization server to handle.")
/** Simulator's own. */
export const tokenParameterRepeated = (name: string) =>
  result("A050314", `The request parameter '${name}' is included more than once.`)

/** Simulator's own. */
export const tokenCertificateRequired = result(
  "A050315",
  "The client uses certificate-bound access tokens, but the token request carries no client certificate."
)
/** Simulator's own. */
export const tokenRefreshTokenMissing = result("A050316", "The token request does not contain 'refresh_token'.")
/** Simulator's own. */
export const tokenRefreshTokenUnknown = result(
  "A050317",
  "The refresh token does not exist or was not issued to the client."
)
/** Simulator's own. */
export const tokenRefreshTokenExpired = result("A050318", "The refresh token has expired.")

// /auth/introspection (Authlete's number for it was not confirmed: the simulator's own 903).

/** Simulator's own. */
export const introspectionOk = result("A903001", "The access token is valid.")
/** Simulator's own. */
export const introspectionTokenMissing = result("A903202", "The request does not contain 'token'.")
/** Simulator's own. */
export const introspectionTokenUnknown = result("A903301", "The access token does not exist.")
/** Simulator's own. */
export const introspectionTokenExpired = result("A903302", "The access token has expired.")
/** Simulator's own. */
export const introspectionCertificateMismatch = result(
  "A903303",
  "The access token is bound to a client certificate, and the request does not carry that certificate."
)
/** Simulator's own. */
export const introspectionScopeInsufficient = result(
  "A903304",
  "The access token does not cover the required scopes."
)
/** Simulator's own. */
export const introspectionSubjectMismatch = result(
  "A903305",
  "The subject of the access token is not the required subject."
)

/**
 * The `WWW-Authenticate` value Authlete puts in `/auth/introspection`'s `responseContent` (RFC 6750
 * 3): `Bearer error="...",error_description="[A...] ...",error_uri="https://docs.authlete.com/#A..."`.
 */
export const bearerChallenge = (error: string, cause: Result): string =>
  `Bearer error="${error}",error_description="${cause.resultMessage}",` +
  `error_uri="https://docs.authlete.com/#${cause.resultCode}"`

// /service/configuration and /service/jwks/get (the simulator's own API numbers 901 and 902).

/** Simulator's own. */
export const patchInvalid = (detail: string) => result("A901202", `The 'patch' cannot be applied: ${detail}`)
