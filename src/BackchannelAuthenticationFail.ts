/**
 * `POST /api/{serviceId}/backchannel/authentication/fail`: builds the error the backchannel
 * authentication endpoint returns to the client, and deletes the ticket.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { AuthleteValidationError } from "./AuthleteError.js"
import * as Models from "./internal/models.js"
import { responseField, validator } from "./internal/models.js"
import { openLiteral } from "./internal/openLiteral.js"
import * as Rules from "./internal/rules.js"

/**
 * Why the request failed. Each maps to a CIBA error code (`ACCESS_DENIED` to `access_denied`, ...).
 *
 * @since 0.1.0
 * @category models
 */
export const BackchannelAuthenticationFailReason = Schema.Literal(
  "ACCESS_DENIED",
  "EXPIRED_LOGIN_HINT_TOKEN",
  "INVALID_BINDING_MESSAGE",
  "INVALID_TARGET",
  "INVALID_USER_CODE",
  "MISSING_USER_CODE",
  "SERVER_ERROR",
  "UNAUTHORIZED_CLIENT",
  "UNKNOWN_USER_ID"
).annotations({
  identifier: "BackchannelAuthenticationFailReason",
  message: () => ({
    message: "must be one of ACCESS_DENIED, EXPIRED_LOGIN_HINT_TOKEN, INVALID_BINDING_MESSAGE, INVALID_TARGET, " +
      "INVALID_USER_CODE, MISSING_USER_CODE, SERVER_ERROR, UNAUTHORIZED_CLIENT, UNKNOWN_USER_ID",
    override: true
  })
})

/**
 * @since 0.1.0
 * @category models
 */
export type BackchannelAuthenticationFailReason = typeof BackchannelAuthenticationFailReason.Type

/**
 * The request.
 *
 * @since 0.1.0
 * @category models
 */
export class BackchannelAuthenticationFailRequest extends Models.Class<BackchannelAuthenticationFailRequest>(
  "effect-authlete/BackchannelAuthenticationFailRequest"
)({
  /** The ticket from `/backchannel/authentication`; Authlete deletes it. */
  ticket: Rules.NonEmptyText,
  reason: BackchannelAuthenticationFailReason,
  /** Becomes `error_description`. */
  errorDescription: Schema.optional(Rules.ErrorDescription),
  /** Becomes `error_uri`. */
  errorUri: Schema.optional(Rules.ErrorUri)
}) {}

/**
 * The wire JSON of a request.
 *
 * @since 0.1.0
 * @category models
 */
export type BackchannelAuthenticationFailRequestJson = typeof BackchannelAuthenticationFailRequest.Encoded

/**
 * Decodes wire-shaped input into a request, collecting every broken rule.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateBackchannelAuthenticationFailRequest: (
  input: unknown
) => Effect.Effect<BackchannelAuthenticationFailRequest, AuthleteValidationError> = validator(
  BackchannelAuthenticationFailRequest
)

/**
 * Which status the endpoint answers the client with: 400, 403 (`ACCESS_DENIED`) or 500. Open.
 *
 * @since 0.1.0
 * @category models
 */
export const BackchannelAuthenticationFailAction = openLiteral("BAD_REQUEST", "FORBIDDEN", "INTERNAL_SERVER_ERROR")

/**
 * @since 0.1.0
 * @category models
 */
export type BackchannelAuthenticationFailAction = typeof BackchannelAuthenticationFailAction.Type

/** Every response field is optional on the wire; `null` reads as absent. */
const field = responseField

/**
 * The response. Unknown fields are ignored; an unknown `action` is kept.
 *
 * @since 0.1.0
 * @category models
 */
export class BackchannelAuthenticationFailResponse extends Schema.Class<BackchannelAuthenticationFailResponse>(
  "effect-authlete/BackchannelAuthenticationFailResponse"
)({
  resultCode: field(Schema.String),
  resultMessage: field(Schema.String),
  action: field(BackchannelAuthenticationFailAction),
  /** The error JSON to return to the client. */
  responseContent: field(Schema.String)
}) {}
