/**
 * A backchannel request waiting for the user's decision: what the authentication device shows, and
 * what the decision needs.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Models from "./internal/models.js"

/**
 * One element of the request's RFC 9396 `authorization_details`, as Authlete reports it: what exactly
 * the user is asked to approve (a payment, an agent's action). `otherFields` is the JSON of the
 * element's other members (amounts, creditor, ...).
 *
 * @since 0.1.0
 * @category models
 */
export const AuthorizationDetail = Schema.Struct({
  type: Schema.String,
  locations: Schema.optional(Schema.Array(Schema.String)),
  actions: Schema.optional(Schema.Array(Schema.String)),
  dataTypes: Schema.optional(Schema.Array(Schema.String)),
  identifier: Schema.optional(Schema.String),
  privileges: Schema.optional(Schema.Array(Schema.String)),
  otherFields: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type AuthorizationDetail = typeof AuthorizationDetail.Type

/**
 * A request the user has not decided yet: what the device shows, and what the decision needs.
 *
 * @since 0.1.0
 * @category models
 */
export class PendingRequest extends Models.Class<PendingRequest>("effect-authlete/PendingRequest")({
  authReqId: Schema.String,
  /** Authlete's ticket, for `/backchannel/authentication/complete`. */
  ticket: Schema.String,
  /** The user the hint named. */
  subject: Schema.String,
  clientId: Schema.Number,
  clientName: Schema.optional(Schema.String),
  deliveryMode: Schema.optional(Schema.String),
  scopes: Schema.Array(Schema.String),
  /** The claims the scopes stand for (OpenID Connect Core 5.4), to collect when the user allows. */
  claimNames: Schema.Array(Schema.String),
  claimsLocales: Schema.Array(Schema.String),
  acrValues: Schema.Array(Schema.String),
  bindingMessage: Schema.optional(Schema.String),
  /** What exactly the user is asked to approve, when the client sent `authorization_details`. */
  authorizationDetails: Schema.optional(Schema.Array(AuthorizationDetail)),
  /** Whether the client required a `user_code` (checked at the backchannel endpoint). */
  userCodeRequired: Schema.Boolean,
  /** Milliseconds since the epoch. */
  createdAt: Schema.Number,
  /** When the `auth_req_id` expires, in milliseconds since the epoch. */
  expiresAt: Schema.Number
}) {}
