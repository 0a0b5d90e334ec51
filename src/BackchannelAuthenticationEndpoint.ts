/**
 * The authorization server's backchannel authentication endpoint (CIBA Core 7 and 13), as a
 * program: the client's request goes to Authlete; on `USER_IDENTIFICATION` the application
 * identifies the user and checks the request; Authlete either fails it (`/fail`, whose answer is the
 * error to return) or issues the `auth_req_id` (`/issue`); the request is recorded for the decision,
 * and the user's authentication device is asked to reach them.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as AuthenticationDevice from "./AuthenticationDevice.js"
import * as AuthleteClient from "./AuthleteClient.js"
import type * as AuthleteError from "./AuthleteError.js"
import type { BackchannelAuthenticationResponse } from "./BackchannelAuthentication.js"
import type { BackchannelAuthenticationFailReason } from "./BackchannelAuthenticationFail.js"
import * as BackchannelChecks from "./BackchannelChecks.js"
import * as BackchannelLimits from "./BackchannelLimits.js"
import * as CibaMetrics from "./CibaMetrics.js"
import * as ClientCredentials from "./ClientCredentials.js"
import * as Decisions from "./Decisions.js"
import * as Endpoint from "./EndpointResponse.js"
import { unverifiedPayload } from "./internal/unverifiedJwt.js"
import * as PendingRequest from "./PendingRequest.js"
import * as PendingRequestStore from "./PendingRequestStore.js"
import * as UserIdentifier from "./UserIdentifier.js"

/**
 * What the backchannel authentication endpoint received: the form body as it came, and the client
 * credentials outside it (`ClientCredentials.fromHeaders`; credentials in the form stay in
 * `parameters`).
 *
 * @since 0.1.0
 * @category models
 */
export interface BackchannelAuthenticationInput extends ClientCredentials.ClientCredentials {
  readonly parameters: string
}

const statusOfFail = (action: string | undefined): number =>
  action === "BAD_REQUEST" ? 400 : action === "FORBIDDEN" ? 403 : 500

/** The attestation challenge Authlete asks the endpoint to pass on, if any. */
const challengeHeader = (response: { readonly attestationChallenge?: string | undefined }) => ({
  "oauth-client-attestation-challenge": response.attestationChallenge
})

/**
 * Who the request names, as it came: the client of the Basic header, else of `client_id`, else the
 * `iss` of its `client_assertion`; the first login hint of the form.
 */
const requesterOf = (input: BackchannelAuthenticationInput, form: URLSearchParams): BackchannelLimits.Requester => {
  const assertion = form.get("client_assertion")
  const issuer = assertion === null ? undefined : unverifiedPayload(assertion)?.iss
  return {
    clientId: input.clientId ?? form.get("client_id") ?? (typeof issuer === "string" ? issuer : undefined),
    hint: form.get("login_hint") ?? form.get("login_hint_token") ?? form.get("id_token_hint") ?? undefined
  }
}

/** An unsigned request where the profile requires signed ones. */
const unsignedRequest = Endpoint.oauthError(
  400,
  "invalid_request",
  "The authentication request must be signed: send it as a request object (request)."
)

/** Past a rate limit: 429 with `Retry-After`. */
const tooManyRequests = (refused: Extract<BackchannelLimits.Admission, { _tag: "Refused" }>) =>
  Effect.as(
    CibaMetrics.count(CibaMetrics.limitsExceeded, { limit: refused.limit === "perClient" ? "per_client" : "per_user" }),
    tooManyRefusal(refused)
  )

const tooManyRefusal = (refused: Extract<BackchannelLimits.Admission, { _tag: "Refused" }>) =>
  Endpoint.oauthError(
    429,
    "slow_down",
    refused.limit === "perClient"
      ? `Too many backchannel requests from this client; try again in ${refused.retryAfterSeconds} seconds.`
      : `Too many backchannel requests for this user; try again in ${refused.retryAfterSeconds} seconds.`,
    { "retry-after": String(refused.retryAfterSeconds) }
  )

/** The request's `authorization_details` as the pending request keeps them (absent fields left out). */
const authorizationDetailsOf = (response: BackchannelAuthenticationResponse) => {
  const elements = response.authorizationDetails?.elements
  if (elements === undefined || elements.length === 0) return {}
  return {
    authorizationDetails: elements.map((element) =>
      Object.fromEntries(
        Object.entries({
          type: element.type,
          locations: element.locations,
          actions: element.actions,
          dataTypes: element.dataTypes,
          identifier: element.identifier,
          privileges: element.privileges,
          otherFields: element.otherFields
        }).filter(([, value]) => value !== undefined)
      ) as PendingRequest.AuthorizationDetail
    )
  }
}

/**
 * Identifies the user and checks the request; the reason to fail it, or the user's subject.
 */
const judge = (response: BackchannelAuthenticationResponse) =>
  Effect.gen(function*() {
    const users = yield* UserIdentifier.UserIdentifier
    const checks = yield* BackchannelChecks.BackchannelChecks
    const limits = yield* BackchannelLimits.BackchannelLimits
    const hint: UserIdentifier.UserHint = {
      type: response.hintType ?? "LOGIN_HINT",
      value: response.hint ?? "",
      sub: response.sub
    }
    const refuse = (reason: BackchannelAuthenticationFailReason) => ({ _tag: "Refused", reason } as const)
    const { profile } = checks
    const mode = response.deliveryMode
    if (mode !== undefined && !(profile.deliveryModes as ReadonlyArray<string>).includes(mode)) {
      return refuse("UNAUTHORIZED_CLIENT")
    }
    if (profile.bindingMessageRequired && (response.bindingMessage ?? "") === "") {
      return refuse("INVALID_BINDING_MESSAGE")
    }
    const subject = yield* users.identify(hint)
    if (Option.isNone(subject)) return refuse("UNKNOWN_USER_ID")
    const now = yield* Clock.currentTimeMillis
    if (hint.type === "LOGIN_HINT_TOKEN" && (yield* checks.isLoginHintTokenExpired(hint.value, now))) {
      return refuse("EXPIRED_LOGIN_HINT_TOKEN")
    }
    if (response.userCodeRequired === true) {
      if (response.userCode === undefined || response.userCode === "") return refuse("MISSING_USER_CODE")
      // Locked out for wrong codes: refused before the code is looked at, so guessing on learns nothing.
      if (yield* limits.isUserCodeLocked(subject.value)) {
        yield* CibaMetrics.count(CibaMetrics.limitsExceeded, { limit: "wrong_user_codes" })
        return refuse("INVALID_USER_CODE")
      }
      if (!(yield* checks.isUserCodeValid(subject.value, response.userCode))) {
        yield* limits.wrongUserCode(subject.value)
        return refuse("INVALID_USER_CODE")
      }
    }
    if (response.bindingMessage !== undefined && !(yield* checks.isBindingMessageValid(response.bindingMessage))) {
      return refuse("INVALID_BINDING_MESSAGE")
    }
    return { _tag: "Identified", subject: subject.value } as const
  })

/** How a request ended, for `CibaMetrics.backchannelRequests`. */
const outcomeOf = ({ status }: Endpoint.EndpointResponse): string =>
  status === 200
    ? "issued"
    : status === 429
    ? "limited"
    : status === 503
    ? "unavailable"
    : status < 500
    ? "refused"
    : "error"

/** Counts a request by how it ended, in place: the endpoint is a hot path. */
const counted = (outcome: string) =>
  CibaMetrics.withAttributes(CibaMetrics.backchannelRequests, { outcome }).unsafeUpdate(1, [])

const isStoreFull = (error: PendingRequestStore.PendingRequestStoreError): boolean => error.reason === "Full"

/** A full store of pending requests: the client may try again later. */
const storeFull = Endpoint.oauthError(
  503,
  "temporarily_unavailable",
  "The authorization server holds too many requests waiting for a decision; try again later."
)

/**
 * The services the backchannel authentication endpoint needs.
 *
 * @since 0.1.0
 * @category models
 */
export type BackchannelAuthenticationRequirements =
  | AuthleteClient.AuthleteClient
  | UserIdentifier.UserIdentifier
  | BackchannelChecks.BackchannelChecks
  | BackchannelLimits.BackchannelLimits
  | PendingRequestStore.PendingRequestStore
  | Decisions.Decisions
  | AuthenticationDevice.AuthenticationDevice

/**
 * The backchannel authentication endpoint: from what the HTTP request carried to the HTTP answer
 * (CIBA Core 7.3 and 13): 200 `{auth_req_id, expires_in, interval}`, 400 / 401 (with
 * `WWW-Authenticate`) / 403 / 500 as Authlete says; 503 `temporarily_unavailable` when a bounded
 * store is full (the request is failed at Authlete first). It fails only when Authlete or the store
 * cannot be reached (the route answers 500 then).
 *
 * @since 0.1.0
 * @category program
 */
export const handleBackchannelAuthentication = (
  input: BackchannelAuthenticationInput
): Effect.Effect<
  Endpoint.EndpointResponse,
  AuthleteError.AuthleteError | PendingRequestStore.PendingRequestStoreError | BackchannelLimits.BackchannelLimitsError,
  BackchannelAuthenticationRequirements
> =>
  Effect.gen(function*() {
    const authlete = yield* AuthleteClient.AuthleteClient
    const limits = yield* BackchannelLimits.BackchannelLimits
    const form = new URLSearchParams(input.parameters)
    const requester = requesterOf(input, form)
    // Past a limit already: refused without a call to Authlete.
    const admission = yield* limits.check(requester)
    if (admission._tag === "Refused") return yield* tooManyRequests(admission)
    // Absent and undefined are one on the wire: the fields go as they came.
    const response = yield* authlete.backchannelAuthentication({
      parameters: input.parameters,
      ...ClientCredentials.pick(input)
    })
    const content = response.responseContent ?? "{\"error\":\"server_error\"}"
    switch (response.action) {
      case "BAD_REQUEST":
        return Endpoint.json(400, content, challengeHeader(response))
      case "UNAUTHORIZED":
        return Endpoint.json(401, content, {
          "www-authenticate": "Basic realm=\"backchannel\"",
          ...challengeHeader(response)
        })
      case "USER_IDENTIFICATION":
        break
      default:
        return Endpoint.json(500, content)
    }
    const ticket = response.ticket ?? ""
    // A profile that requires signed requests (FAPI-CIBA): no reason of /fail says invalid_request,
    // so the ticket is deleted with SERVER_ERROR and the answer is written here.
    const { profile } = yield* BackchannelChecks.BackchannelChecks
    if (profile.signedRequestRequired && !form.has("request")) {
      yield* authlete.backchannelAuthenticationFail({ ticket, reason: "SERVER_ERROR" })
      return unsignedRequest
    }
    // Counted only now that Authlete authenticated the client: no one else spends its allowance or a user's.
    const counted = yield* limits.count(requester)
    if (counted._tag === "Refused") {
      yield* authlete.backchannelAuthenticationFail({ ticket, reason: "ACCESS_DENIED" })
      return yield* tooManyRequests(counted)
    }
    // Authlete's answer leaves out `claims_locales`; the client's form has it.
    const claimsLocales = (form.get("claims_locales") ?? "")
      .split(/\s+/).filter((locale) => locale !== "")
    const judged = yield* judge(response)
    if (judged._tag === "Refused") {
      const failed = yield* authlete.backchannelAuthenticationFail({ ticket, reason: judged.reason })
      return Endpoint.json(statusOfFail(failed.action), failed.responseContent ?? "{\"error\":\"server_error\"}")
    }
    const store = yield* PendingRequestStore.PendingRequestStore
    const { pendingPerUser } = limits.settings
    if (
      pendingPerUser !== false &&
      (yield* store.list(yield* Clock.currentTimeMillis, judged.subject)).length >= pendingPerUser
    ) {
      yield* CibaMetrics.count(CibaMetrics.limitsExceeded, { limit: "pending_per_user" })
      const failed = yield* authlete.backchannelAuthenticationFail({
        ticket,
        reason: "ACCESS_DENIED",
        errorDescription:
          `The user has ${pendingPerUser} requests waiting for a decision; try again once one is decided.`
      })
      return Endpoint.json(statusOfFail(failed.action), failed.responseContent ?? "{\"error\":\"access_denied\"}")
    }
    // A bounded store holds a place from before /issue until the request is in it: a full store
    // refuses the request through /fail, so that Authlete deletes the ticket.
    const stored = yield* Effect.scoped(Effect.gen(function*() {
      if (store.reserve !== undefined) {
        const full = yield* store.reserve(yield* Clock.currentTimeMillis).pipe(
          Effect.as(false),
          Effect.catchIf(isStoreFull, () => Effect.succeed(true))
        )
        if (full) {
          yield* authlete.backchannelAuthenticationFail({ ticket, reason: "SERVER_ERROR" })
          return { _tag: "Full" } as const
        }
      }
      const issued = yield* authlete.backchannelAuthenticationIssue({ ticket })
      if (issued.action !== "OK" || issued.authReqId === undefined) return { _tag: "NotIssued", issued } as const
      const now = yield* Clock.currentTimeMillis
      const pending = new PendingRequest.PendingRequest({
        authReqId: issued.authReqId,
        ticket,
        subject: judged.subject,
        clientId: response.clientId ?? 0,
        ...(response.clientName === undefined ? {} : { clientName: response.clientName }),
        ...(response.deliveryMode === undefined ? {} : { deliveryMode: response.deliveryMode }),
        scopes: (response.scopes ?? []).flatMap((scope) => scope.name === undefined ? [] : [scope.name]),
        claimNames: response.claimNames ?? [],
        claimsLocales,
        acrValues: response.acrs ?? [],
        ...(response.bindingMessage === undefined ? {} : { bindingMessage: response.bindingMessage }),
        ...authorizationDetailsOf(response),
        userCodeRequired: response.userCodeRequired === true,
        createdAt: now,
        expiresAt: now + (issued.expiresIn ?? 0) * 1000
      })
      // Full without a place held (a store without `reserve`): the auth_req_id, never told to the
      // client, expires at Authlete.
      return yield* store.add(pending).pipe(
        Effect.as({ _tag: "Stored", issued, pending } as const),
        Effect.catchIf(isStoreFull, () => Effect.succeed({ _tag: "Full" } as const))
      )
    }))
    if (stored._tag === "Full") return storeFull
    if (stored._tag === "NotIssued") {
      return Endpoint.json(500, stored.issued.responseContent ?? "{\"error\":\"server_error\"}")
    }
    const { issued, pending } = stored
    yield* Effect.flatMap(Decisions.Decisions, (decisions) =>
      decisions.awaiting(pending, {
        clientNotificationToken: response.clientNotificationToken === undefined
          ? undefined
          : Redacted.make(response.clientNotificationToken)
      }))
    // The client has its auth_req_id whatever the device does; a device that fails is logged.
    yield* Effect.flatMap(AuthenticationDevice.AuthenticationDevice, (device) => device.reach(pending)).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("The authentication device could not be reached", cause))
    )
    return Endpoint.json(200, issued.responseContent ?? JSON.stringify({ auth_req_id: issued.authReqId }))
  }).pipe(
    // Counted however it ends: a request whose client went away (its fiber interrupted) too.
    Effect.onExit((exit) => {
      counted(
        exit._tag === "Success"
          ? outcomeOf(exit.value)
          : Cause.isInterruptedOnly(exit.cause)
          ? "interrupted"
          : "error"
      )
      return Effect.void
    })
  )
