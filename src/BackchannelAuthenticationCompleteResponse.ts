/**
 * Authlete's answer to `/backchannel/authentication/complete`.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { responseField } from "./internal/models.js"
import { openLiteral } from "./internal/openLiteral.js"

/**
 * What the authorization server does next. Open: an action a newer Authlete adds decodes as its name.
 *
 * @since 0.1.0
 * @category models
 */
export const BackchannelAuthenticationCompleteAction = openLiteral("NO_ACTION", "NOTIFICATION", "SERVER_ERROR")

/**
 * @since 0.1.0
 * @category models
 */
export type BackchannelAuthenticationCompleteAction = typeof BackchannelAuthenticationCompleteAction.Type

/**
 * How the client receives the result. Open, like the action.
 *
 * @since 0.1.0
 * @category models
 */
export const DeliveryMode = openLiteral("POLL", "PING", "PUSH")

/**
 * @since 0.1.0
 * @category models
 */
export type DeliveryMode = typeof DeliveryMode.Type

const field = responseField

/**
 * A `{ key, value }` attribute of the service or the client.
 *
 * @since 0.1.0
 * @category models
 */
export class Pair extends Schema.Class<Pair>("effect-authlete/Pair")({
  key: field(Schema.String),
  value: field(Schema.String)
}) {}

/**
 * One element of RFC 9396 authorization details, as Authlete reports it.
 *
 * @since 0.1.0
 * @category models
 */
export class AuthorizationDetailsElement
  extends Schema.Class<AuthorizationDetailsElement>("effect-authlete/AuthorizationDetailsElement")({
    type: Schema.String,
    locations: field(Schema.Array(Schema.String)),
    actions: field(Schema.Array(Schema.String)),
    dataTypes: field(Schema.Array(Schema.String)),
    identifier: field(Schema.String),
    privileges: field(Schema.Array(Schema.String)),
    otherFields: field(Schema.String)
  })
{}

/**
 * @since 0.1.0
 * @category models
 */
export class AuthorizationDetails extends Schema.Class<AuthorizationDetails>("effect-authlete/AuthorizationDetails")({
  elements: field(Schema.Array(AuthorizationDetailsElement))
}) {}

/**
 * The response. Unknown fields are ignored; unknown `action` and `deliveryMode` values are kept.
 *
 * @since 0.1.0
 * @category models
 */
export class BackchannelAuthenticationCompleteResponse extends Schema.Class<BackchannelAuthenticationCompleteResponse>(
  "effect-authlete/BackchannelAuthenticationCompleteResponse"
)({
  resultCode: field(Schema.String),
  resultMessage: field(Schema.String),
  action: field(BackchannelAuthenticationCompleteAction),
  /** What to POST to the client's notification endpoint (PING and PUSH). */
  responseContent: field(Schema.String),
  clientId: field(Schema.Number),
  clientIdAlias: field(Schema.String),
  clientIdAliasUsed: field(Schema.Boolean),
  clientName: field(Schema.String),
  deliveryMode: field(DeliveryMode),
  clientNotificationEndpoint: field(Schema.String),
  clientNotificationToken: field(Schema.String),
  authReqId: field(Schema.String),
  accessToken: field(Schema.String),
  refreshToken: field(Schema.String),
  idToken: field(Schema.String),
  accessTokenDuration: field(Schema.Number),
  refreshTokenDuration: field(Schema.Number),
  idTokenDuration: field(Schema.Number),
  jwtAccessToken: field(Schema.String),
  resources: field(Schema.Array(Schema.String)),
  authorizationDetails: field(AuthorizationDetails),
  serviceAttributes: field(Schema.Array(Pair)),
  clientAttributes: field(Schema.Array(Pair)),
  grantId: field(Schema.String),
  clientEntityId: field(Schema.String),
  clientEntityIdUsed: field(Schema.Boolean),
  metadataDocumentLocation: field(Schema.String),
  metadataDocumentUsed: field(Schema.Boolean)
}) {}
