/**
 * `POST /api/{serviceId}/backchannel/authentication/issue`: turns a ticket into an `auth_req_id`
 * once the authorization server has identified the user.
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
 * The request.
 *
 * @since 0.1.0
 * @category models
 */
export class BackchannelAuthenticationIssueRequest extends Models.Class<BackchannelAuthenticationIssueRequest>(
  "effect-authlete/BackchannelAuthenticationIssueRequest"
)({
  /** The ticket from `/backchannel/authentication`. */
  ticket: Rules.NonEmptyText
}) {}

/**
 * The wire JSON of a request.
 *
 * @since 0.1.0
 * @category models
 */
export type BackchannelAuthenticationIssueRequestJson = typeof BackchannelAuthenticationIssueRequest.Encoded

/**
 * Decodes wire-shaped input into a request, collecting every broken rule.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateBackchannelAuthenticationIssueRequest: (
  input: unknown
) => Effect.Effect<BackchannelAuthenticationIssueRequest, AuthleteValidationError> = validator(
  BackchannelAuthenticationIssueRequest
)

/**
 * What the authorization server does next. `INVALID_TICKET`: the ticket does not exist or has
 * expired. Open: an action a newer Authlete adds decodes as its name.
 *
 * @since 0.1.0
 * @category models
 */
export const BackchannelAuthenticationIssueAction = openLiteral("OK", "INVALID_TICKET", "INTERNAL_SERVER_ERROR")

/**
 * @since 0.1.0
 * @category models
 */
export type BackchannelAuthenticationIssueAction = typeof BackchannelAuthenticationIssueAction.Type

/** Every response field is optional on the wire; `null` reads as absent. */
const field = responseField

/**
 * The response. Unknown fields are ignored; an unknown `action` is kept.
 *
 * @since 0.1.0
 * @category models
 */
export class BackchannelAuthenticationIssueResponse extends Schema.Class<BackchannelAuthenticationIssueResponse>(
  "effect-authlete/BackchannelAuthenticationIssueResponse"
)({
  resultCode: field(Schema.String),
  resultMessage: field(Schema.String),
  action: field(BackchannelAuthenticationIssueAction),
  /** The JSON to return to the client: `auth_req_id`, `expires_in` and `interval` when `OK`. */
  responseContent: field(Schema.String),
  authReqId: field(Schema.String),
  /** Seconds the `auth_req_id` stays valid. */
  expiresIn: field(Schema.Number),
  /** Seconds the client waits between polls of the token endpoint. */
  interval: field(Schema.Number)
}) {}
