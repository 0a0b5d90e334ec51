/**
 * The four backchannel APIs of the simulator, as functions from a decoded request to an answer.
 */
import * as Effect from "effect/Effect"
import type {
  BackchannelAuthenticationRequest,
  BackchannelAuthenticationResponse
} from "../../BackchannelAuthentication.js"
import type * as BackchannelAuthenticationCompleteRequest from "../../BackchannelAuthenticationCompleteRequest.js"
import type * as BackchannelAuthenticationCompleteResponse from "../../BackchannelAuthenticationCompleteResponse.js"
import type {
  BackchannelAuthenticationFailReason,
  BackchannelAuthenticationFailResponse
} from "../../BackchannelAuthenticationFail.js"
import type { BackchannelAuthenticationIssueResponse } from "../../BackchannelAuthenticationIssue.js"
import type { SimulatedClient } from "../AuthleteSimulator.js"
import { authleteAuthorizationDetails, readAuthorizationDetails } from "./authorizationDetails.js"
import { authenticateClient } from "./clientAuthentication.js"
import { randomToken, verifyJws } from "./crypto.js"
import { readRequestObject } from "./requestObject.js"
import * as Codes from "./resultCodes.js"
import { type Answer, clientById, clientInfo, compact, forgetExpired, type Json, ok, type State } from "./state.js"
import { mintTokens } from "./tokens.js"

/** OpenID Connect Core 5.4: the claims each standard scope stands for. */
const CLAIMS_OF_SCOPE: { readonly [scope: string]: ReadonlyArray<string> } = {
  profile: [
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at"
  ],
  email: ["email", "email_verified"],
  address: ["address"],
  phone: ["phone_number", "phone_number_verified"]
}

/** Parameters a client must not repeat (RFC 6749 3.1, 3.2). */
const SINGLE_PARAMETERS = [
  "scope",
  "client_id",
  "client_secret",
  "login_hint",
  "id_token_hint",
  "login_hint_token",
  "binding_message",
  "user_code",
  "requested_expiry",
  "acr_values",
  "client_notification_token",
  "authorization_details",
  "request",
  "request_uri",
  "client_assertion",
  "client_assertion_type"
] as const

const HINTS = [
  ["LOGIN_HINT", "login_hint"],
  ["ID_TOKEN_HINT", "id_token_hint"],
  ["LOGIN_HINT_TOKEN", "login_hint_token"]
] as const

const MAX_INT32 = 2_147_483_647

/** The CIBA error code and the action `/backchannel/authentication/fail` answers each reason with. */
const FAILURES: {
  readonly [R in BackchannelAuthenticationFailReason]: {
    readonly action: "BAD_REQUEST" | "FORBIDDEN" | "INTERNAL_SERVER_ERROR"
    readonly error: string
  }
} = {
  ACCESS_DENIED: { action: "FORBIDDEN", error: "access_denied" },
  EXPIRED_LOGIN_HINT_TOKEN: { action: "BAD_REQUEST", error: "expired_login_hint_token" },
  INVALID_BINDING_MESSAGE: { action: "BAD_REQUEST", error: "invalid_binding_message" },
  INVALID_TARGET: { action: "BAD_REQUEST", error: "invalid_target" },
  INVALID_USER_CODE: { action: "BAD_REQUEST", error: "invalid_user_code" },
  MISSING_USER_CODE: { action: "BAD_REQUEST", error: "missing_user_code" },
  SERVER_ERROR: { action: "INTERNAL_SERVER_ERROR", error: "server_error" },
  UNAUTHORIZED_CLIENT: { action: "BAD_REQUEST", error: "unauthorized_client" },
  UNKNOWN_USER_ID: { action: "BAD_REQUEST", error: "unknown_user_id" }
}

type AuthenticationJson = Json<typeof BackchannelAuthenticationResponse.Encoded>
type IssueJson = Json<typeof BackchannelAuthenticationIssueResponse.Encoded>
type FailJson = Json<typeof BackchannelAuthenticationFailResponse.Encoded>
type CompleteJson = Json<
  typeof BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse.Encoded
>

/**
 * `/fail` with wrong parameters is the action `INTERNAL_SERVER_ERROR` (javadoc of
 * BackchannelAuthenticationFailResponse), not a 400.
 */
export const failMalformed = (problems: string): Answer => {
  const cause = Codes.malformedRequest(185, problems)
  return ok(
    {
      ...cause,
      action: "INTERNAL_SERVER_ERROR",
      responseContent: Codes.oauthError("server_error", cause)
    } satisfies FailJson
  )
}

export const makeBackchannel = (state: State) => {
  const { config, grants, now, tickets } = state

  // ---------------------------------------------------------------- /backchannel/authentication

  const refuse = (
    action: "BAD_REQUEST" | "UNAUTHORIZED",
    error: string,
    cause: Codes.Result,
    client?: SimulatedClient
  ): Answer =>
    ok(compact<AuthenticationJson>({
      ...cause,
      action,
      responseContent: Codes.oauthError(error, cause),
      clientId: client?.clientId,
      clientName: client?.clientName
    }))

  const badRequest = (cause: Codes.Result, client?: SimulatedClient, error = "invalid_request") =>
    Effect.fail(refuse("BAD_REQUEST", error, cause, client))

  const authentication = (request: BackchannelAuthenticationRequest): Effect.Effect<Answer> =>
    Effect.gen(function*() {
      const parameters = new URLSearchParams(request.parameters)
      for (const name of SINGLE_PARAMETERS) {
        if (parameters.getAll(name).length > 1) return yield* badRequest(Codes.parameterRepeated(name))
      }
      const authenticated = yield* authenticateClient(state, request, parameters, "backchannel")
      if (authenticated._tag === "Conflict") return yield* badRequest(Codes.clientCredentialsConflict)
      if (authenticated._tag === "Failed") {
        return yield* Effect.fail(
          refuse("UNAUTHORIZED", "invalid_client", Codes.clientAuthenticationFailed(authenticated.detail))
        )
      }
      const { aliasUsed, client, method } = authenticated
      // FAPI-CIBA 5.2.2: poll and ping only.
      if (client.fapi === true && client.deliveryMode === "PUSH") {
        return yield* badRequest(Codes.pushModeInFapi, client, "unauthorized_client")
      }
      const requestObject = yield* readRequestObject(state, client, parameters)
      if (requestObject._tag === "Refused") return yield* badRequest(requestObject.cause, client)
      // From a verified request object on, its parameters are the request's (CIBA Core 7.1.1).
      const authorization = requestObject._tag === "Verified" ? requestObject.parameters : parameters

      const scopeText = authorization.get("scope")?.trim() ?? ""
      if (scopeText === "") return yield* badRequest(Codes.scopeMissing, client)
      const scopes = [...new Set(scopeText.split(/\s+/))]
      if (!scopes.includes("openid")) return yield* badRequest(Codes.openidScopeMissing, client, "invalid_scope")

      const hints = HINTS.flatMap(([type, name]) => {
        const value = authorization.get(name)
        return value === null || value === "" ? [] : [{ type, value }]
      })
      if (hints.length === 0) return yield* badRequest(Codes.hintMissing, client)
      if (hints.length > 1) return yield* badRequest(Codes.hintAmbiguous, client)
      const hint = hints[0]!
      let sub: string | undefined
      if (hint.type === "ID_TOKEN_HINT") {
        const claims = verifyJws(config.key, hint.value)
        if (claims === undefined || typeof claims.sub !== "string") {
          return yield* badRequest(Codes.idTokenHintInvalid, client)
        }
        sub = claims.sub
      }

      const clientNotificationToken = authorization.get("client_notification_token") ?? undefined
      if (
        client.deliveryMode !== "POLL" && (clientNotificationToken === undefined || clientNotificationToken === "")
      ) {
        return yield* badRequest(Codes.notificationTokenMissing(client.deliveryMode), client)
      }
      const expiryText = authorization.get("requested_expiry")
      const requestedExpiry = expiryText === null ? 0 : /^[1-9][0-9]{0,9}$/.test(expiryText) ? Number(expiryText) : -1
      if (requestedExpiry < 0 || requestedExpiry > MAX_INT32) {
        return yield* badRequest(Codes.requestedExpiryInvalid, client)
      }
      const userCode = authorization.get("user_code") ?? undefined
      const userCodeRequired = client.userCodeRequired === true
      if (userCodeRequired && (userCode === undefined || userCode === "")) {
        return yield* badRequest(Codes.userCodeMissing, client, "missing_user_code")
      }
      const bindingMessage = authorization.get("binding_message") ?? undefined
      if (
        client.fapi === true && config.backchannelBindingMessageRequiredInFapi &&
        (bindingMessage === undefined || bindingMessage === "")
      ) {
        return yield* badRequest(Codes.bindingMessageRequiredInFapi, client)
      }
      const read = readAuthorizationDetails(authorization.get("authorization_details"))
      if ("problem" in read) {
        return yield* badRequest(
          Codes.authorizationDetailsInvalid(read.problem),
          client,
          "invalid_authorization_details"
        )
      }
      const acrs = authorization.get("acr_values")?.split(/\s+/).filter((acr) => acr !== "")
      const claimNames = [...new Set(scopes.flatMap((scope) => CLAIMS_OF_SCOPE[scope] ?? []))]

      const ticket = randomToken()
      const createdAt = yield* now
      forgetExpired(state, createdAt)
      tickets.set(ticket, {
        clientId: client.clientId,
        clientIdAliasUsed: aliasUsed,
        scopes,
        clientNotificationToken,
        requestedExpiry,
        authorizationDetails: read.details,
        createdAt
      })
      return ok(compact<AuthenticationJson>({
        ...Codes.authenticationOk,
        action: "USER_IDENTIFICATION",
        ticket,
        ...clientInfo(client, aliasUsed),
        clientAuthMethod: method,
        scopes: scopes.map((name) => ({ name, defaultEntry: false })),
        claimNames: claimNames.length === 0 ? undefined : claimNames,
        acrs: acrs === undefined || acrs.length === 0 ? undefined : acrs,
        hintType: hint.type,
        hint: hint.value,
        sub,
        bindingMessage,
        userCode,
        userCodeRequired,
        requestedExpiry,
        clientNotificationToken,
        authorizationDetails: authleteAuthorizationDetails(read.details)
      }))
    }).pipe(Effect.merge)

  // ---------------------------------------------------------------- /backchannel/authentication/issue

  const invalidTicket = (cause: Codes.Result) =>
    ok(
      {
        ...cause,
        action: "INVALID_TICKET",
        responseContent: Codes.oauthError("server_error", cause)
      } satisfies IssueJson
    )

  const issue = ({ ticket }: { readonly ticket: string }): Effect.Effect<Answer> =>
    Effect.map(now, (at) => {
      const record = tickets.get(ticket)
      if (record === undefined) return invalidTicket(Codes.issueTicketUnknown)
      if (record.authReqId !== undefined) return invalidTicket(Codes.issueTicketUsed)
      if (at >= record.createdAt + config.ticketLifetime * 1000) {
        tickets.delete(ticket)
        return invalidTicket(Codes.issueTicketExpired)
      }
      const authReqId = randomToken()
      const expiresIn = record.requestedExpiry > 0 ? record.requestedExpiry : config.authReqIdLifetime
      record.authReqId = authReqId
      grants.set(authReqId, {
        authReqId,
        clientId: record.clientId,
        clientIdAliasUsed: record.clientIdAliasUsed,
        expiresAt: at + expiresIn * 1000,
        used: false,
        intervalSeconds: config.interval
      })
      return ok(
        {
          ...Codes.issueOk,
          action: "OK",
          responseContent: JSON.stringify({ auth_req_id: authReqId, expires_in: expiresIn, interval: config.interval }),
          authReqId,
          expiresIn,
          interval: config.interval
        } satisfies IssueJson
      )
    })

  // ---------------------------------------------------------------- /backchannel/authentication/fail

  const fail = (request: {
    readonly ticket: string
    readonly reason: BackchannelAuthenticationFailReason
    readonly errorDescription?: string | undefined
    readonly errorUri?: string | undefined
  }): Effect.Effect<Answer> =>
    Effect.sync(() => {
      tickets.delete(request.ticket)
      const { action, error } = FAILURES[request.reason]
      return ok(
        {
          ...Codes.failOk,
          action,
          responseContent: JSON.stringify(compact({
            error,
            error_description: request.errorDescription,
            error_uri: request.errorUri
          }))
        } satisfies FailJson
      )
    })

  // ---------------------------------------------------------------- /backchannel/authentication/complete

  const serverError = (cause: Codes.Result): Answer => ({
    status: config.completeServerErrorStatus,
    body: { ...cause, action: "SERVER_ERROR" } satisfies CompleteJson
  })

  const complete = (
    request: BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest
  ): Effect.Effect<Answer> =>
    Effect.gen(function*() {
      // Taken out in one step: a ticket completes once, even under concurrent calls.
      const record = tickets.get(request.ticket)
      if (record === undefined) return serverError(Codes.completeTicketUnknown)
      const authReqId = record.authReqId
      if (authReqId === undefined) return serverError(Codes.completeTicketNotIssued)
      tickets.delete(request.ticket)
      const grant = grants.get(authReqId)
      const client = yield* clientById(state, record.clientId)
      if (client === undefined || grant === undefined) return serverError(Codes.completeTicketUnknown)
      const at = yield* now
      const mode = client.deliveryMode
      const base: CompleteJson = {
        ...clientInfo(client, record.clientIdAliasUsed),
        authReqId,
        authorizationDetails: authleteAuthorizationDetails(record.authorizationDetails),
        accessTokenDuration: 0,
        refreshTokenDuration: 0,
        idTokenDuration: 0,
        ...(mode === "POLL" ? {} : {
          clientNotificationEndpoint: client.clientNotificationEndpoint,
          clientNotificationToken: record.clientNotificationToken
        })
      }

      if (at >= grant.expiresAt) {
        // An error found once the ticket's record is loaded: in PING and PUSH it is a NOTIFICATION
        // (javadoc of BackchannelAuthenticationCompleteResponse), whose PING body is the usual one.
        const cause = Codes.completeAuthReqIdExpired
        if (mode === "POLL") return serverError(cause)
        return ok(compact<CompleteJson>({
          ...cause,
          action: "NOTIFICATION",
          ...base,
          responseContent: JSON.stringify(
            mode === "PING"
              ? { auth_req_id: authReqId }
              : { error: "server_error", error_description: cause.resultMessage, auth_req_id: authReqId }
          )
        }))
      }

      const result = Codes.completeOk(mode, request.result)
      if (mode !== "PUSH") {
        // The token endpoint answers from here on (`/auth/token`).
        grant.decided = { request, scopes: record.scopes, authorizationDetails: record.authorizationDetails }
        return ok(compact<CompleteJson>({
          ...result,
          ...base,
          ...(mode === "POLL"
            ? { action: "NO_ACTION" }
            : { action: "NOTIFICATION", responseContent: JSON.stringify({ auth_req_id: authReqId }) })
        }))
      }
      grant.used = true
      if (request.result === "AUTHORIZED") {
        const tokens = yield* mintTokens(state, {
          request,
          client,
          aliasUsed: record.clientIdAliasUsed,
          authReqId,
          scopes: record.scopes,
          authorizationDetails: record.authorizationDetails,
          // No certificate reaches `/complete`: pushed access tokens are never certificate-bound.
          certificateThumbprint: undefined,
          pushed: true
        })
        return ok(compact<CompleteJson>({
          ...result,
          action: "NOTIFICATION",
          ...base,
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken,
          idToken: tokens.idToken,
          accessTokenDuration: tokens.accessTokenDuration,
          refreshTokenDuration: tokens.refreshTokenDuration,
          idTokenDuration: tokens.idTokenDuration,
          responseContent: tokens.responseContent
        }))
      }
      return ok(compact<CompleteJson>({
        ...result,
        action: "NOTIFICATION",
        ...base,
        responseContent: JSON.stringify(compact({
          error: request.result === "ACCESS_DENIED" ? "access_denied" : "expired_token",
          error_description: request.errorDescription,
          error_uri: request.errorUri,
          auth_req_id: authReqId
        }))
      }))
    })

  return {
    backchannelAuthentication: authentication,
    backchannelAuthenticationIssue: issue,
    backchannelAuthenticationFail: fail,
    backchannelAuthenticationComplete: complete
  }
}
