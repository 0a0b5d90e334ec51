/**
 * The authorization server's backchannel authentication endpoint (CIBA Core 7 and 13), as a
 * program: the client's request goes to Authlete; on `USER_IDENTIFICATION` the application
 * identifies the user and checks the request; Authlete either fails it (`/fail`, whose answer is the
 * error to return) or issues the `auth_req_id` (`/issue`); the request is recorded for the decision,
 * and the user's authentication device is asked to reach them.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { AuthenticationDevice } from "./AuthenticationDevice.js"
import { AuthleteClient } from "./AuthleteClient.js"
import type { AuthleteError } from "./AuthleteError.js"
import type { BackchannelAuthenticationResponse } from "./BackchannelAuthentication.js"
import type { BackchannelAuthenticationFailReason } from "./BackchannelAuthenticationFail.js"
import { Decisions } from "./DeviceDecision.js"
import * as Endpoint from "./EndpointResponse.js"
import { PendingRequest, PendingRequestStore, type PendingRequestStoreError } from "./PendingRequests.js"

/**
 * How the client named the user (`login_hint`, `login_hint_token` or `id_token_hint`), as Authlete
 * reports it; `sub` is the subject of an `id_token_hint`.
 *
 * @since 0.1.0
 * @category models
 */
export interface UserHint {
  readonly type: "LOGIN_HINT" | "LOGIN_HINT_TOKEN" | "ID_TOKEN_HINT" | (string & {})
  readonly value: string
  readonly sub?: string | undefined
}

/**
 * The application's user directory: which user a hint names.
 *
 * @since 0.1.0
 * @category models
 */
export interface UserIdentifierService {
  /** The subject of the user the hint names, or `None` (the client gets `unknown_user_id`). */
  readonly identify: (hint: UserHint) => Effect.Effect<Option.Option<string>>
}

/**
 * The tag of the user directory.
 *
 * @since 0.1.0
 * @category tags
 */
export class UserIdentifier extends Context.Tag("effect-authlete/UserIdentifier")<
  UserIdentifier,
  UserIdentifierService
>() {
  /**
   * Users by subject, each with the login hints that name them (the subject always does); an
   * `id_token_hint` names the user of its `sub`.
   */
  static readonly layerFromRecord = (
    users: { readonly [subject: string]: { readonly loginHints?: ReadonlyArray<string> | undefined } }
  ): Layer.Layer<UserIdentifier> => {
    const bySubjectOrHint = new Map<string, string>()
    for (const [subject, user] of Object.entries(users)) {
      bySubjectOrHint.set(subject, subject)
      for (const hint of user.loginHints ?? []) bySubjectOrHint.set(hint, subject)
    }
    return Layer.succeed(UserIdentifier, {
      identify: (hint) =>
        Effect.succeed(
          hint.type === "ID_TOKEN_HINT"
            ? Option.fromNullable(hint.sub === undefined ? undefined : bySubjectOrHint.get(hint.sub))
            : Option.fromNullable(bySubjectOrHint.get(hint.value))
        )
    })
  }
}

/**
 * The application's checks of a backchannel request, each with a default.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackchannelChecksService {
  /** Whether a `login_hint_token` has expired. Default: its `exp` (when it is a JWT) is past. */
  readonly isLoginHintTokenExpired: (token: string, nowMillis: number) => Effect.Effect<boolean>
  /**
   * Whether the `user_code` is the user's, for clients that require one. Default: no user has a
   * code, so every code is refused: an application whose clients require codes provides this.
   */
  readonly isUserCodeValid: (subject: string, userCode: string) => Effect.Effect<boolean>
  /**
   * Whether the binding message can be shown to the user. Default: 1 to 64 characters, none of them
   * control characters (CIBA Core 7.1: short, plain text).
   */
  readonly isBindingMessageValid: (message: string) => Effect.Effect<boolean>
}

/** The `exp` of a compact JWS or JWT, read without verifying it (it only decides expiry). */
const expiryOf = (token: string): number | undefined => {
  const payload = token.split(".")[1]
  if (payload === undefined) return undefined
  try {
    const text = atob(payload.replace(/-/g, "+").replace(/_/g, "/"))
    const exp = (JSON.parse(text) as { readonly exp?: unknown }).exp
    return typeof exp === "number" ? exp : undefined
  } catch {
    return undefined
  }
}

/** Whether a text holds a C0 or C1 control character. */
const hasControlCharacter = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true
  }
  return false
}

const defaultChecks: BackchannelChecksService = {
  isLoginHintTokenExpired: (token, nowMillis) =>
    Effect.sync(() => {
      const exp = expiryOf(token)
      return exp !== undefined && exp * 1000 <= nowMillis
    }),
  isUserCodeValid: () => Effect.succeed(false),
  isBindingMessageValid: (message) =>
    Effect.succeed(message.length >= 1 && message.length <= 64 && !hasControlCharacter(message))
}

/**
 * The tag of the checks.
 *
 * @since 0.1.0
 * @category tags
 */
export class BackchannelChecks extends Context.Tag("effect-authlete/BackchannelChecks")<
  BackchannelChecks,
  BackchannelChecksService
>() {
  static readonly defaults = defaultChecks
  /** The defaults, with any check replaced by yours. */
  static readonly layer = (checks: Partial<BackchannelChecksService> = {}): Layer.Layer<BackchannelChecks> =>
    Layer.succeed(BackchannelChecks, { ...defaultChecks, ...checks })
}

/**
 * What the backchannel authentication endpoint received: the form body as it came, and the client
 * credentials of an `Authorization: Basic` header (credentials in the form stay in `parameters`).
 *
 * @since 0.1.0
 * @category models
 */
export interface BackchannelAuthenticationInput {
  readonly parameters: string
  readonly clientId?: string | undefined
  readonly clientSecret?: string | undefined
  /** The mutual TLS client certificate, in PEM format. */
  readonly clientCertificate?: string | undefined
  readonly clientCertificatePath?: ReadonlyArray<string> | undefined
}

const statusOfFail = (action: string | undefined): number =>
  action === "BAD_REQUEST" ? 400 : action === "FORBIDDEN" ? 403 : 500

/** The attestation challenge Authlete asks the endpoint to pass on, if any. */
const challengeHeader = (response: { readonly attestationChallenge?: string | undefined }) => ({
  "oauth-client-attestation-challenge": response.attestationChallenge
})

/**
 * Identifies the user and checks the request; the reason to fail it, or the user's subject.
 */
const judge = (response: BackchannelAuthenticationResponse) =>
  Effect.gen(function*() {
    const users = yield* UserIdentifier
    const checks = yield* BackchannelChecks
    const hint: UserHint = { type: response.hintType ?? "LOGIN_HINT", value: response.hint ?? "", sub: response.sub }
    const subject = yield* users.identify(hint)
    const refuse = (reason: BackchannelAuthenticationFailReason) => ({ _tag: "Refused", reason } as const)
    if (Option.isNone(subject)) return refuse("UNKNOWN_USER_ID")
    const now = yield* Clock.currentTimeMillis
    if (hint.type === "LOGIN_HINT_TOKEN" && (yield* checks.isLoginHintTokenExpired(hint.value, now))) {
      return refuse("EXPIRED_LOGIN_HINT_TOKEN")
    }
    if (response.userCodeRequired === true) {
      if (response.userCode === undefined || response.userCode === "") return refuse("MISSING_USER_CODE")
      if (!(yield* checks.isUserCodeValid(subject.value, response.userCode))) return refuse("INVALID_USER_CODE")
    }
    if (response.bindingMessage !== undefined && !(yield* checks.isBindingMessageValid(response.bindingMessage))) {
      return refuse("INVALID_BINDING_MESSAGE")
    }
    return { _tag: "Identified", subject: subject.value } as const
  })

/**
 * The backchannel authentication endpoint: from what the HTTP request carried to the HTTP answer
 * (CIBA Core 7.3 and 13): 200 `{auth_req_id, expires_in, interval}`, 400 / 401 (with
 * `WWW-Authenticate`) / 403 / 500 as Authlete says. It fails only when Authlete or the store cannot
 * be reached (the route answers 500 then).
 *
 * @since 0.1.0
 * @category program
 */
export const handleBackchannelAuthentication = (
  input: BackchannelAuthenticationInput
): Effect.Effect<
  Endpoint.EndpointResponse,
  AuthleteError | PendingRequestStoreError,
  AuthleteClient | UserIdentifier | BackchannelChecks | PendingRequestStore | Decisions | AuthenticationDevice
> =>
  Effect.gen(function*() {
    const authlete = yield* AuthleteClient
    // Absent and undefined are one on the wire: the fields go as they came.
    const response = yield* authlete.backchannelAuthentication({
      parameters: input.parameters,
      clientId: input.clientId,
      clientSecret: input.clientSecret,
      clientCertificate: input.clientCertificate,
      clientCertificatePath: input.clientCertificatePath
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
    // Authlete's answer leaves out `claims_locales`; the client's form has it.
    const claimsLocales = (new URLSearchParams(input.parameters).get("claims_locales") ?? "")
      .split(/\s+/).filter((locale) => locale !== "")
    const judged = yield* judge(response)
    if (judged._tag === "Refused") {
      const failed = yield* authlete.backchannelAuthenticationFail({ ticket, reason: judged.reason })
      return Endpoint.json(statusOfFail(failed.action), failed.responseContent ?? "{\"error\":\"server_error\"}")
    }
    const issued = yield* authlete.backchannelAuthenticationIssue({ ticket })
    if (issued.action !== "OK" || issued.authReqId === undefined) {
      return Endpoint.json(500, issued.responseContent ?? "{\"error\":\"server_error\"}")
    }
    const now = yield* Clock.currentTimeMillis
    const pending = new PendingRequest({
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
      userCodeRequired: response.userCodeRequired === true,
      createdAt: now,
      expiresAt: now + (issued.expiresIn ?? 0) * 1000
    })
    yield* Effect.flatMap(PendingRequestStore, (store) => store.add(pending))
    yield* Effect.flatMap(Decisions, (decisions) =>
      decisions.awaiting(pending, {
        clientNotificationToken: response.clientNotificationToken === undefined
          ? undefined
          : Redacted.make(response.clientNotificationToken)
      }))
    // The client has its auth_req_id whatever the device does; a device that fails is logged.
    yield* Effect.flatMap(AuthenticationDevice, (device) => device.reach(pending)).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("The authentication device could not be reached", cause))
    )
    return Endpoint.json(200, issued.responseContent ?? JSON.stringify({ auth_req_id: issued.authReqId }))
  })
