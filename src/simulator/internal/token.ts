/**
 * The simulator's `/auth/token`, for the CIBA grant (`urn:openid:params:grant-type:ciba`, CIBA Core
 * 10.1 and 11): client authentication, then `authorization_pending` until the user decided,
 * `slow_down` for a client polling faster than its interval (which grows by 5 seconds each time),
 * `access_denied`, `expired_token`, `invalid_grant` for an `auth_req_id` unknown, another client's or
 * already used, and the tokens once. The refresh grant takes a refresh token of the same client only
 * (and rotates it). A client with `tlsClientCertificateBoundAccessTokens` must present a certificate
 * (RFC 8705 3), to which its access tokens are bound. The password grant is answered `PASSWORD`, left
 * to the server.
 */
import * as Effect from "effect/Effect"
import type { TokenRequest, TokenResponse } from "../../Token.js"
import { authleteAuthorizationDetails } from "./authorizationDetails.js"
import { certificateThumbprint, readCertificate } from "./certificates.js"
import { authenticateClient } from "./clientAuthentication.js"
import { randomToken } from "./crypto.js"
import * as Codes from "./resultCodes.js"
import { type Answer, clientInfo, compact, forgetExpired, type Json, ok, type State } from "./state.js"
import { issueTokens, mintTokens } from "./tokens.js"

type TokenJson = Json<typeof TokenResponse.Encoded>

export const CIBA_GRANT_TYPE = "urn:openid:params:grant-type:ciba"

/** Parameters a client must not repeat (RFC 6749 3.2). */
const SINGLE_PARAMETERS = [
  "grant_type",
  "auth_req_id",
  "refresh_token",
  "client_id",
  "client_secret",
  "client_assertion",
  "client_assertion_type",
  "username",
  "password"
] as const

export const makeToken = (state: State) => {
  const { grants, now } = state

  const answer = (
    action: "BAD_REQUEST" | "INVALID_CLIENT" | "PASSWORD",
    error: string,
    cause: Codes.Result,
    extra: TokenJson = {}
  ): Answer => ok(compact<TokenJson>({ ...cause, action, responseContent: Codes.oauthError(error, cause), ...extra }))

  const token = (request: TokenRequest): Effect.Effect<Answer> =>
    Effect.gen(function*() {
      const form = new URLSearchParams(request.parameters)
      for (const name of SINGLE_PARAMETERS) {
        if (form.getAll(name).length > 1) {
          return answer("BAD_REQUEST", "invalid_request", Codes.tokenParameterRepeated(name))
        }
      }
      const grantType = form.get("grant_type")
      if (grantType === null || grantType === "") {
        return answer("BAD_REQUEST", "invalid_request", Codes.tokenGrantTypeMissing)
      }
      const authenticated = yield* authenticateClient(state, request, form, "token")
      if (authenticated._tag !== "Authenticated") {
        const detail = authenticated._tag === "Conflict"
          ? "the client presented its credentials in both the Authorization header and the request body."
          : authenticated.detail
        return answer("INVALID_CLIENT", "invalid_client", Codes.tokenClientAuthenticationFailed(detail))
      }
      const { aliasUsed, client, method } = authenticated
      const info = { ...clientInfo(client, aliasUsed), clientAuthMethod: method }
      if (grantType === "password") {
        return answer("PASSWORD", "unsupported_grant_type", Codes.tokenPasswordGrant, {
          ...info,
          username: form.get("username") ?? undefined,
          password: form.get("password") ?? undefined,
          ticket: randomToken()
        })
      }
      if (grantType !== CIBA_GRANT_TYPE && grantType !== "refresh_token") {
        return answer("BAD_REQUEST", "unsupported_grant_type", Codes.tokenGrantTypeUnsupported(grantType))
      }
      // Checked before the grant is looked at, so a client that forgot its certificate can try again.
      const certificate = authenticated.certificate ?? readCertificate(request.clientCertificate)
      const bound = client.tlsClientCertificateBoundAccessTokens === true
      if (bound && certificate === undefined) {
        return answer("BAD_REQUEST", "invalid_request", Codes.tokenCertificateRequired, info)
      }
      const thumbprint = bound && certificate !== undefined ? certificateThumbprint(certificate) : undefined
      const at = yield* now

      if (grantType === "refresh_token") {
        const refreshToken = form.get("refresh_token")
        if (refreshToken === null || refreshToken === "") {
          return answer("BAD_REQUEST", "invalid_request", Codes.tokenRefreshTokenMissing, info)
        }
        const record = state.refreshTokens.get(refreshToken)
        // A refresh token is bound to its client (RFC 6749 6): another client's is unknown to it.
        if (record === undefined || record.clientId !== client.clientId) {
          return answer("BAD_REQUEST", "invalid_grant", Codes.tokenRefreshTokenUnknown, info)
        }
        state.refreshTokens.delete(refreshToken)
        if (at >= record.expiresAt) return answer("BAD_REQUEST", "invalid_grant", Codes.tokenRefreshTokenExpired, info)
        forgetExpired(state, at)
        const tokens = yield* issueTokens(state, {
          client,
          aliasUsed,
          subject: record.subject,
          scopes: record.scopes,
          authorizationDetails: record.authorizationDetails,
          properties: record.properties,
          certificateThumbprint: thumbprint
        }, { accessToken: request.accessTokenDuration, refreshToken: request.refreshTokenDuration })
        return ok(compact<TokenJson>({
          ...Codes.tokenOk("refresh_token"),
          action: "OK",
          responseContent: JSON.stringify(tokens.responseMembers),
          ...info,
          grantType: "REFRESH_TOKEN",
          subject: record.subject,
          scopes: [...record.scopes],
          accessToken: tokens.accessToken,
          accessTokenDuration: tokens.accessTokenDuration,
          accessTokenExpiresAt: tokens.accessTokenExpiresAt,
          refreshToken: tokens.refreshToken,
          refreshTokenDuration: tokens.refreshTokenDuration,
          refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
          jwtAccessToken: tokens.jwtAccessToken,
          authorizationDetails: authleteAuthorizationDetails(record.authorizationDetails)
        }))
      }

      const authReqId = form.get("auth_req_id")
      if (authReqId === null || authReqId === "") {
        return answer("BAD_REQUEST", "invalid_request", Codes.tokenAuthReqIdMissing)
      }
      const grant = grants.get(authReqId)
      if (grant === undefined || grant.clientId !== client.clientId) {
        return answer("BAD_REQUEST", "invalid_grant", Codes.tokenAuthReqIdUnknown, info)
      }
      if (client.deliveryMode === "PUSH") {
        return answer("BAD_REQUEST", "invalid_grant", Codes.tokenPushClient, info)
      }
      if (grant.used) return answer("BAD_REQUEST", "invalid_grant", Codes.tokenAuthReqIdUsed, info)
      if (at >= grant.expiresAt) return answer("BAD_REQUEST", "expired_token", Codes.tokenAuthReqIdExpired, info)
      const decided = grant.decided
      if (decided === undefined) {
        // CIBA Core 11: a client polling faster than its interval is told to slow down, for good.
        const tooSoon = grant.lastPollAt !== undefined && at - grant.lastPollAt < grant.intervalSeconds * 1000
        grant.lastPollAt = at
        if (tooSoon) {
          grant.intervalSeconds += 5
          return answer("BAD_REQUEST", "slow_down", Codes.tokenSlowDown, info)
        }
        return answer("BAD_REQUEST", "authorization_pending", Codes.tokenAuthorizationPending, info)
      }
      if (decided.request.result !== "AUTHORIZED") {
        grant.used = true
        return decided.request.result === "ACCESS_DENIED"
          ? answer("BAD_REQUEST", "access_denied", Codes.tokenAccessDenied, info)
          : answer("BAD_REQUEST", "expired_token", Codes.tokenTransactionFailed, info)
      }
      // Redeemed once: the grant is used before anything else can ask.
      grant.used = true
      const tokens = yield* mintTokens(state, {
        request: decided.request,
        client,
        aliasUsed,
        authReqId,
        scopes: decided.scopes,
        authorizationDetails: decided.authorizationDetails,
        certificateThumbprint: thumbprint,
        pushed: false
      })
      return ok(compact<TokenJson>({
        ...Codes.tokenOk(CIBA_GRANT_TYPE),
        action: "OK",
        responseContent: tokens.responseContent,
        ...info,
        grantType: "CIBA",
        subject: decided.request.subject,
        scopes: [...tokens.scopes],
        accessToken: tokens.accessToken,
        accessTokenDuration: tokens.accessTokenDuration,
        accessTokenExpiresAt: tokens.accessTokenExpiresAt,
        refreshToken: tokens.refreshToken,
        refreshTokenDuration: tokens.refreshTokenDuration,
        refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
        idToken: tokens.idToken,
        jwtAccessToken: tokens.jwtAccessToken,
        authorizationDetails: authleteAuthorizationDetails(decided.authorizationDetails),
        properties: decided.request.properties?.map((property) => ({ ...property }))
      }))
    })

  return { token }
}
