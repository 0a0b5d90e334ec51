/**
 * What an authorization server does once the user decided on their device: gather the claims, tell
 * Authlete (`/backchannel/authentication/complete`), and act on its answer.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Types from "effect/Types"
import * as AuthleteClient from "./AuthleteClient.js"
import * as AuthleteError from "./AuthleteError.js"
import * as BackchannelAuthenticationCompleteRequest from "./BackchannelAuthenticationCompleteRequest.js"
import type * as BackchannelAuthenticationCompleteResponse from "./BackchannelAuthenticationCompleteResponse.js"
import * as CibaMetrics from "./CibaMetrics.js"
import { type ClaimsSource, mergeClaimsEither } from "./Claims.js"
import * as ClientNotifier from "./ClientNotifier.js"
import * as Codec from "./internal/codec.js"
import * as Models from "./internal/models.js"
import * as Rules from "./internal/rules.js"
import * as Tracing from "./internal/tracing.js"

/**
 * Claims as a program gathers them: one object or JSON text, or several, merged in order.
 *
 * @since 0.1.0
 * @category models
 */
export type ClaimsInput = ClaimsSource | ReadonlyArray<ClaimsSource>

/**
 * The wire-shaped request, except that `claims` and `jwtAtClaims` may be objects, JSON texts or
 * arrays of those (merged with `mergeClaims`), `idtHeaderParams` an object or JSON text, and
 * `idTokenAudType` `null` (the service's setting, as absent is; left off the wire).
 *
 * @since 0.1.0
 * @category models
 */
export interface CompleteBackchannelAuthenticationInput extends
  Omit<
    BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequestJson,
    "claims" | "jwtAtClaims" | "idtHeaderParams" | "idTokenAudType"
  >
{
  readonly claims?: ClaimsInput | undefined
  readonly jwtAtClaims?: ClaimsInput | undefined
  readonly idtHeaderParams?: { readonly [x: string]: unknown } | string | undefined
  readonly idTokenAudType?: "array" | "string" | null | undefined
}

/**
 * How a completion ended: nothing to do now (POLL), or the client was notified (PING, PUSH) and its
 * endpoint answered `status`.
 *
 * @since 0.1.0
 * @category models
 */
export type CompletionOutcome = Data.TaggedEnum<{
  NoAction: { readonly response: BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse }
  Notified: {
    readonly response: BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse
    readonly status: number
  }
}>

/**
 * Constructors and `$match` for `CompletionOutcome`.
 *
 * @since 0.1.0
 * @category models
 */
export const CompletionOutcome = Data.taggedEnum<CompletionOutcome>()

/**
 * Authlete answered `SERVER_ERROR`: the request to it was wrong or Authlete failed. No notification
 * was sent; the authorization server answers 500 on its side.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthleteServerError extends Schema.TaggedError<AuthleteServerError>(
  "effect-authlete/AuthleteServerError"
)("AuthleteServerError", {
  resultCode: Schema.optional(Schema.String),
  resultMessage: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `Authlete answered SERVER_ERROR${this.resultCode === undefined ? "" : ` ${this.resultCode}`}${
      this.resultMessage === undefined ? "" : `: ${this.resultMessage}`
    }`
  }
}

/**
 * Authlete's answer decoded, but the program cannot act on it: an `action` it does not know
 * (`UnknownAction`), or a `NOTIFICATION` without what a notification needs (`IncompleteNotification`,
 * naming the missing fields). Nothing was sent to the client.
 *
 * @since 0.1.0
 * @category errors
 */
export class CompletionResponseError extends Schema.TaggedError<CompletionResponseError>(
  "effect-authlete/CompletionResponseError"
)("CompletionResponseError", {
  reason: Schema.Literal("UnknownAction", "IncompleteNotification"),
  action: Schema.optional(Schema.String),
  missing: Schema.optional(Schema.Array(Schema.String))
}) {
  override get message(): string {
    return this.reason === "UnknownAction"
      ? `Authlete answered action ${
        JSON.stringify(this.action ?? null)
      }, which this library does not know how to act on`
      : `Authlete answered NOTIFICATION without ${(this.missing ?? []).join(", ")}`
  }
}

const RedactedNotification = Schema.declare(
  (u): u is Redacted.Redacted<ClientNotifier.ClientNotification> => Redacted.isRedacted(u),
  { identifier: "Redacted<ClientNotification>" }
)
const RedactedResponse = Schema.declare(
  (u): u is Redacted.Redacted<BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse> =>
    Redacted.isRedacted(u),
  { identifier: "Redacted<BackchannelAuthenticationCompleteResponse>" }
)

/**
 * Authlete completed the request, but the client's notification endpoint did not take the
 * notification (`cause`). What was minted is not lost: `notification` holds what to deliver (for PUSH
 * the tokens), and `response` Authlete's answer, both `Redacted` so that logging the error shows
 * neither. Deliver it again with `ClientNotifier` until `auth_req_id` expires:
 * `notifier.notify(Redacted.value(error.notification))`.
 *
 * @since 0.1.0
 * @category errors
 */
export class UndeliveredNotificationError extends Schema.TaggedError<UndeliveredNotificationError>(
  "effect-authlete/UndeliveredNotificationError"
)("UndeliveredNotificationError", {
  cause: Schema.instanceOf(ClientNotifier.ClientNotificationError),
  notification: RedactedNotification,
  response: RedactedResponse,
  authReqId: Schema.optional(Schema.String),
  deliveryMode: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `Authlete completed the request${
      this.authReqId === undefined ? "" : ` (auth_req_id ${this.authReqId})`
    }, but the notification was not delivered: ${this.cause.message}. It is kept in \`notification\` to deliver again.`
  }
}

type JsonObject = { readonly [x: string]: unknown }

/** Issues at a field, dropping the first `drop` path segments (a one-source merge's `0`). */
const atField = (
  field: string,
  error: AuthleteError.AuthleteValidationError,
  drop: number
): ReadonlyArray<AuthleteError.ValidationIssue> =>
  error.issues.map((issue) => ({ path: [field, ...issue.path.slice(drop)], message: issue.message }))

/** One claims field: merged sources, or nothing when absent or merged to `{}`. */
const claimsField = (
  field: "claims" | "jwtAtClaims",
  value: unknown,
  consentedClaims: ReadonlyArray<string> | undefined
): Either.Either<JsonObject | undefined, ReadonlyArray<AuthleteError.ValidationIssue>> => {
  if (value === undefined) return Either.right(undefined)
  // A revoked `Proxy` cannot even be told an array.
  const array = Rules.arrayOrUnreadable(value)
  if (array === undefined) return Either.left([{ path: [field], message: Rules.UNREADABLE }])
  const merged = array
    ? Either.mapLeft(
      mergeClaimsEither(value as ReadonlyArray<ClaimsSource>, { path: [field], consentedClaims }),
      (error) => error.issues
    )
    : Either.mapLeft(
      mergeClaimsEither([value as ClaimsSource], { consentedClaims }),
      (error) => atField(field, error, 1)
    )
  // Authlete's reference handler leaves out claims that came out empty.
  return Either.map(merged, (claims) => Object.keys(claims).length === 0 ? undefined : claims)
}

/** `idtHeaderParams`: one object or JSON text of one, taken as it is (nothing to merge). */
const headerParamsField = (
  value: unknown
): Either.Either<JsonObject | undefined, ReadonlyArray<AuthleteError.ValidationIssue>> => {
  if (value === undefined) return Either.right(undefined)
  let object: unknown = value
  if (typeof value === "string") {
    const parsed = Rules.parseJsonObjectText(value)
    if (typeof parsed === "string") return Either.left([{ path: ["idtHeaderParams"], message: parsed }])
    object = parsed.value
  }
  const copied = Rules.copyJsonObject(object)
  return "value" in copied
    ? Either.right(copied.value)
    : Either.left([{ path: ["idtHeaderParams", ...copied.path], message: copied.message }])
}

// The rest of the request, as it comes on the wire (no JSON-text fields left in it).
const decodeRest = Codec.decoder(
  Schema.Struct(BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest.fields),
  { strict: true }
)

const prepare = (
  input: unknown
): Either.Either<
  BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest,
  AuthleteError.AuthleteValidationError
> => {
  const plain = Rules.plainObjectOrUnreadable(input)
  if (plain !== true) {
    return Either.left(
      AuthleteError.AuthleteValidationError.single(
        [],
        plain === undefined ? Rules.UNREADABLE : "must be an object with the request's fields"
      )
    )
  }
  const object = input as { readonly [x: string]: unknown }
  // One read of every field: what is checked below is what is sent. (A loop rather than a spread
  // and a rest pattern, which take V8's slow paths.)
  const rest: Record<string, unknown> = {}
  let claims: unknown
  let idtHeaderParams: unknown
  let jwtAtClaims: unknown
  let consented: ReadonlyArray<unknown> | undefined
  // The field being read, to name it when a getter or a `Proxy` trap throws.
  let reading: string | undefined
  try {
    for (const name of Object.keys(object)) {
      reading = name
      const value = object[name]
      if (name === "claims") claims = value
      else if (name === "jwtAtClaims") jwtAtClaims = value
      else if (name === "idtHeaderParams") idtHeaderParams = value
      else if (name === "consentedClaims") {
        // Read once into an array of ours: the consent that filters the claims is the one sent.
        consented = Rules.copyShortArray(value)
        rest[name] = consented ?? value
      } else if (name === "__proto__") {
        // Kept as an own field, so that it is refused as an unknown one.
        Object.defineProperty(rest, name, { value, enumerable: true, writable: true, configurable: true })
      } else rest[name] = value
    }
  } catch {
    return Either.left(
      AuthleteError.AuthleteValidationError.single(reading === undefined ? [] : [reading], Rules.UNREADABLE)
    )
  }
  const consentedClaims = consented?.every((name): name is string => typeof name === "string") === true
    ? consented as ReadonlyArray<string>
    : undefined
  const request = Either.mapLeft(
    decodeRest(rest),
    (refusal) => AuthleteError.AuthleteValidationError.fromRefusal(refusal)
  )
  const merged = [
    claimsField("claims", claims, consentedClaims),
    claimsField("jwtAtClaims", jwtAtClaims, undefined),
    headerParamsField(idtHeaderParams)
  ] as const
  if (Either.isLeft(request) || merged.some(Either.isLeft)) {
    const issues: Array<AuthleteError.ValidationIssue> = Either.isLeft(request) ? [...request.left.issues] : []
    for (const field of merged) if (Either.isLeft(field)) issues.push(...field.left)
    const counts = Either.isLeft(request) && request.left.omitted !== undefined
      ? { total: (request.left.total ?? 0) + issues.length - request.left.issues.length, omitted: request.left.omitted }
      : {}
    return Either.left(new AuthleteError.AuthleteValidationError({ issues, ...counts }))
  }
  const [mergedClaims, mergedJwtAtClaims, headerParams] = merged.map((field) => Either.getOrUndefined(field))
  // The decoded fields are a fresh object of ours, and the merged objects copies that passed the
  // rules the constructor checks: nothing is checked twice.
  const fields = request.right as Types.Mutable<typeof request.right> & Record<string, unknown>
  if (mergedClaims !== undefined) fields.claims = mergedClaims
  if (mergedJwtAtClaims !== undefined) fields.jwtAtClaims = mergedJwtAtClaims
  if (headerParams !== undefined) fields.idtHeaderParams = headerParams
  return Either.right(
    new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest(fields, true)
  )
}

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
): Effect.Effect<
  BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest,
  AuthleteError.AuthleteValidationError
> => Effect.suspend(() => prepare(input))

/** The NOTIFICATION fields without which no notification can be sent. */
const notificationOf = (
  response: BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse
): Either.Either<ClientNotifier.ClientNotification, CompletionResponseError> => {
  const { clientNotificationEndpoint: endpoint, clientNotificationToken: token, responseContent: body } = response
  if (endpoint !== undefined && token !== undefined && body !== undefined) {
    return Either.right({ endpoint, token: Redacted.make(token), body })
  }
  const missing = Object.entries({
    clientNotificationEndpoint: endpoint,
    clientNotificationToken: token,
    responseContent: body
  })
    .filter(([, value]) => value === undefined)
    .map(([name]) => name)
  return Either.left(new CompletionResponseError({ reason: "IncompleteNotification", missing }))
}

const act = (
  response: BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse,
  started: number
): Effect.Effect<
  CompletionOutcome,
  AuthleteServerError | CompletionResponseError | UndeliveredNotificationError,
  ClientNotifier.ClientNotifier
> => {
  switch (response.action) {
    case "NO_ACTION":
      return Effect.succeed(CompletionOutcome.NoAction({ response }))
    case "NOTIFICATION": {
      const notification = notificationOf(response)
      if (Either.isLeft(notification)) return Effect.fail(notification.left)
      return Effect.flatMap(
        ClientNotifier.ClientNotifier,
        (notifier) =>
          Effect.matchEffect(notifier.notify(notification.right), {
            onSuccess: ({ status }) =>
              Effect.as(
                CibaMetrics.recordMillis(CibaMetrics.deliveryDuration, performance.now() - started, {
                  mode: CibaMetrics.modeLabel(response.deliveryMode)
                }),
                CompletionOutcome.Notified({ response, status })
              ),
            onFailure: (cause) =>
              Effect.fail(
                new UndeliveredNotificationError({
                  cause,
                  notification: Redacted.make(notification.right),
                  response: Redacted.make(response),
                  ...(response.authReqId === undefined ? {} : { authReqId: response.authReqId }),
                  ...(response.deliveryMode === undefined ? {} : { deliveryMode: response.deliveryMode })
                })
              )
          })
      )
    }
    case "SERVER_ERROR":
      return Effect.fail(
        new AuthleteServerError({
          ...(response.resultCode === undefined ? {} : { resultCode: response.resultCode }),
          ...(response.resultMessage === undefined ? {} : { resultMessage: response.resultMessage })
        })
      )
    default:
      return Effect.fail(
        new CompletionResponseError({
          reason: "UnknownAction",
          ...(response.action === undefined ? {} : { action: response.action })
        })
      )
  }
}

/**
 * Everything `completeBackchannelAuthentication` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type CompletionError =
  | AuthleteError.AuthleteError
  | AuthleteServerError
  | CompletionResponseError
  | UndeliveredNotificationError

/**
 * Prepares the request, sends it through `AuthleteClient`, then acts on Authlete's `action`:
 * `NO_ACTION` ends with `NoAction`; `NOTIFICATION` delivers `responseContent` with `ClientNotifier`
 * and ends with `Notified` (or fails with `UndeliveredNotificationError`, which keeps the
 * notification); `SERVER_ERROR` fails with `AuthleteServerError`; an action this library does not
 * know fails with `CompletionResponseError`. Nothing is sent when validation fails.
 *
 * @since 0.1.0
 * @category program
 */
export const completeBackchannelAuthentication = (
  input: CompleteBackchannelAuthenticationInput
): Effect.Effect<CompletionOutcome, CompletionError, AuthleteClient.AuthleteClient | ClientNotifier.ClientNotifier> =>
  Tracing.spanned("completeBackchannelAuthentication", {}, () =>
    Effect.suspend(() => {
      const request = prepare(input)
      if (Either.isLeft(request)) return Effect.fail(request.left)
      // Checked just now and held by no one else: sending it need not check it again.
      Models.checkedByLibrary.add(request.right)
      const started = performance.now()
      return Effect.flatMap(
        AuthleteClient.AuthleteClient,
        (authlete) =>
          Effect.flatMap(
            authlete.backchannelAuthenticationComplete(request.right),
            (response) => act(response, started)
          )
      )
    }))
