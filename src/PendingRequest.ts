/**
 * A backchannel request waiting for the user's decision: what the authentication device shows, and
 * what the decision needs.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Models from "./internal/models.js"

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
  /** Whether the client required a `user_code` (checked at the backchannel endpoint). */
  userCodeRequired: Schema.Boolean,
  /** Milliseconds since the epoch. */
  createdAt: Schema.Number,
  /** When the `auth_req_id` expires, in milliseconds since the epoch. */
  expiresAt: Schema.Number
}) {}
