/**
 * What an authorization server does once the user decided on their device: gather the claims, tell
 * Authlete (`/backchannel/authentication/complete`), and act on its answer.
 *
 * @since 0.1.0
 */
import { Data, Effect, Either, Redacted, Schema } from "effect"
import { AuthleteClient } from "./AuthleteClient.js"
import {
  type AuthleteError,
  AuthleteResponseError,
  AuthleteServerError,
  AuthleteValidationError,
  type ClientNotificationError,
  type ValidationIssue
} from "./AuthleteError.js"
import {
  BackchannelAuthenticationCompleteRequest,
  type BackchannelAuthenticationCompleteRequestJson,
  validateCompleteRequest
} from "./BackchannelAuthenticationCompleteRequest.js"
import type { BackchannelAuthenticationCompleteResponse } from "./BackchannelAuthenticationCompleteResponse.js"
import { type ClaimsSource, mergeClaims } from "./Claims.js"
import { type ClientNotification, ClientNotifier } from "./ClientNotifier.js"
import * as Rules from "./internal/rules.js"

/**
 * Claims as a program gathers them: one object or JSON text, or several, merged in order.
 *
 * @since 0.1.0
 * @category models
 */
export type ClaimsInput = ClaimsSource | ReadonlyArray<ClaimsSource>

/**
 * The wire-shaped request, except that `claims` and `jwtAtClaims` may be objects, JSON texts or
 * arrays of those (merged with `mergeClaims`), and `idtHeaderParams` an object or JSON text.
 *
 * @since 0.1.0
 * @category models
 */
export interface CompleteBackchannelAuthenticationInput
  extends Omit<BackchannelAuthenticationCompleteRequestJson, "claims" | "jwtAtClaims" | "idtHeaderParams">
{
  readonly claims?: ClaimsInput | undefined
  readonly jwtAtClaims?: ClaimsInput | undefined
  readonly idtHeaderParams?: { readonly [x: string]: unknown } | string | undefined
}

/**
 * How a completion ended: nothing to do now (POLL), or the client was notified (PING, PUSH) and its
 * endpoint answered `status`.
 *
 * @since 0.1.0
 * @category models
 */
export type CompletionOutcome = Data.TaggedEnum<{
  NoAction: { readonly response: BackchannelAuthenticationCompleteResponse }
  Notified: { readonly response: BackchannelAuthenticationCompleteResponse; readonly status: number }
}>

/**
 * Constructors and `$match` for `CompletionOutcome`.
 *
 * @since 0.1.0
 * @category models
 */
export const CompletionOutcome = Data.taggedEnum<CompletionOutcome>()

type JsonObject = { readonly [x: string]: unknown }

/** Moves issues to the field they belong to, dropping the first `drop` path segments (a one-source merge's `0`). */
const atField = (field: string) => (error: AuthleteValidationError, drop = 1) =>
  new AuthleteValidationError({
    issues: error.issues.map((issue) => ({ path: [field, ...issue.path.slice(drop)], message: issue.message }))
  })

/** One claims field: merged sources, or nothing when absent or merged to `{}`. */
const claimsField = (
  field: "claims" | "jwtAtClaims",
  value: unknown,
  consentedClaims: ReadonlyArray<string> | undefined
): Effect.Effect<JsonObject | undefined, AuthleteValidationError> => {
  if (value === undefined) return Effect.succeed(undefined)
  const merged = Array.isArray(value)
    ? mergeClaims(value as ReadonlyArray<ClaimsSource>, { path: [field], consentedClaims })
    : Effect.mapError(mergeClaims([value as ClaimsSource], { consentedClaims }), (error) => atField(field)(error))
  // Authlete's reference handler leaves out claims that came out empty.
  return Effect.map(merged, (claims) => Object.keys(claims).length === 0 ? undefined : claims)
}

const decodeHeaderParams = Schema.decodeUnknown(Rules.JsonObject)
const decodeHeaderParamsText = Schema.decodeUnknown(Rules.JsonObjectFromText)

/** `idtHeaderParams`: one object or JSON text of one, taken as it is (nothing to merge). */
const headerParamsField = (value: unknown): Effect.Effect<JsonObject | undefined, AuthleteValidationError> =>
  value === undefined
    ? Effect.succeed(undefined)
    : (typeof value === "string" ? decodeHeaderParamsText(value) : decodeHeaderParams(value)).pipe(
      Effect.mapError((error) => atField("idtHeaderParams")(AuthleteValidationError.fromParseError(error), 0))
    )

/**
 * Validates a wire-shaped request whose claims may still be separate sources, and merges them:
 * claims outside `consentedClaims` (when given) are dropped, since the user did not consent to share
 * them, and claims that come out empty are left out. Every broken rule is reported at once.
 *
 * @since 0.1.0
 * @category program
 */
export const prepareCompleteRequest = (
  input: unknown
): Effect.Effect<BackchannelAuthenticationCompleteRequest, AuthleteValidationError> =>
  Effect.suspend(() => {
    if (!Rules.isPlainObject(input)) {
      return Effect.fail(AuthleteValidationError.single([], "must be an object with the request's fields"))
    }
    const { claims, idtHeaderParams, jwtAtClaims, ...rest } = input
    const consentedClaims = Array.isArray(rest.consentedClaims) &&
        rest.consentedClaims.every((name): name is string => typeof name === "string")
      ? rest.consentedClaims
      : undefined
    return Effect.all({
      request: validateCompleteRequest(rest),
      claims: claimsField("claims", claims, consentedClaims),
      jwtAtClaims: claimsField("jwtAtClaims", jwtAtClaims, undefined),
      idtHeaderParams: headerParamsField(idtHeaderParams)
    }, { mode: "either" }).pipe(
      Effect.flatMap((fields) => {
        const outcomes: ReadonlyArray<Either.Either<unknown, AuthleteValidationError>> = Object.values(fields)
        const issues: Array<ValidationIssue> = outcomes.flatMap((field) =>
          Either.isLeft(field) ? field.left.issues : []
        )
        if (issues.length > 0) return Effect.fail(new AuthleteValidationError({ issues }))
        const parts = Either.all(fields)
        if (Either.isLeft(parts)) return Effect.fail(parts.left)
        const { claims, idtHeaderParams, jwtAtClaims, request } = parts.right
        // Each merged object passed the same rules the constructor checks; they are not checked twice.
        return Effect.succeed(
          new BackchannelAuthenticationCompleteRequest({
            ...request,
            ...(claims === undefined ? {} : { claims }),
            ...(jwtAtClaims === undefined ? {} : { jwtAtClaims }),
            ...(idtHeaderParams === undefined ? {} : { idtHeaderParams })
          }, true)
        )
      })
    )
  })

/** The NOTIFICATION fields without which no notification can be sent. */
const notificationOf = (
  response: BackchannelAuthenticationCompleteResponse
): Effect.Effect<ClientNotification, AuthleteResponseError> => {
  const { clientNotificationEndpoint: endpoint, clientNotificationToken: token, responseContent: body } = response
  if (endpoint !== undefined && token !== undefined && body !== undefined) {
    return Effect.succeed({ endpoint, token: Redacted.make(token), body })
  }
  const missing = Object.entries({
    clientNotificationEndpoint: endpoint,
    clientNotificationToken: token,
    responseContent: body
  })
    .filter(([, value]) => value === undefined)
    .map(([name]) => name)
  return Effect.fail(
    new AuthleteResponseError({
      status: 200,
      body: "",
      message: `Authlete answered NOTIFICATION without ${missing.join(", ")}`
    })
  )
}

/**
 * Prepares the request, sends it through `AuthleteClient`, then acts on Authlete's `action`:
 * `NO_ACTION` ends with `NoAction`; `NOTIFICATION` delivers `responseContent` with `ClientNotifier`
 * and ends with `Notified`; `SERVER_ERROR` fails with `AuthleteServerError`; an action this library
 * does not know fails with `AuthleteResponseError` naming it. Nothing is sent when validation fails.
 *
 * @since 0.1.0
 * @category program
 */
export const completeBackchannelAuthentication: (
  input: CompleteBackchannelAuthenticationInput
) => Effect.Effect<
  CompletionOutcome,
  AuthleteError | AuthleteServerError | ClientNotificationError,
  AuthleteClient | ClientNotifier
> = Effect.fn("completeBackchannelAuthentication")(function*(input: CompleteBackchannelAuthenticationInput) {
  const request = yield* prepareCompleteRequest(input)
  const authlete = yield* AuthleteClient
  const response = yield* authlete.backchannelAuthenticationComplete(request)
  switch (response.action) {
    case "NO_ACTION":
      return CompletionOutcome.NoAction({ response })
    case "NOTIFICATION": {
      const notification = yield* notificationOf(response)
      const notifier = yield* ClientNotifier
      const { status } = yield* notifier.notify(notification)
      return CompletionOutcome.Notified({ response, status })
    }
    case "SERVER_ERROR":
      return yield* new AuthleteServerError({
        ...(response.resultCode === undefined ? {} : { resultCode: response.resultCode }),
        ...(response.resultMessage === undefined ? {} : { resultMessage: response.resultMessage })
      })
    default:
      return yield* new AuthleteResponseError({
        status: 200,
        body: "",
        message: `Authlete answered action ${
          JSON.stringify(response.action ?? null)
        }, which this library does not know how to act on`
      })
  }
})
