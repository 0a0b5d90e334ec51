/**
 * `POST /api/{serviceId}/backchannel/authentication`: the request the authorization server forwards
 * from its backchannel authentication endpoint, and Authlete's answer.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { AuthleteValidationError } from "./AuthleteError.js"
import { AuthorizationDetails, DeliveryMode, Pair } from "./BackchannelAuthenticationCompleteResponse.js"
import * as ClientCredentials from "./ClientCredentials.js"
import * as Models from "./internal/models.js"
import { responseField, validator } from "./internal/models.js"
import { openLiteral } from "./internal/openLiteral.js"
import * as Rules from "./internal/rules.js"

/** Ours: the longest form body accepted in `parameters` (request objects and hint tokens can be long). */
export const MAX_PARAMETERS_LENGTH = 1_048_576

/**
 * The client's request body, exactly as the backchannel authentication endpoint received it. Authlete
 * judges it (an empty or malformed body gets the client-facing `BAD_REQUEST` Authlete writes, as
 * Authlete's reference handlers rely on); ours is only the size bound.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FormParameters = Rules.text(
  (s) =>
    s.length > MAX_PARAMETERS_LENGTH
      ? `must be at most ${Rules.formatCount(MAX_PARAMETERS_LENGTH)} characters`
      : undefined,
  () => (fc) =>
    fc.constantFrom(
      "scope=openid&login_hint=john",
      "scope=openid+email&login_hint=alice%40example.com&binding_message=W4SCT"
    )
)

/**
 * Per-request overrides of the service's Client ID Metadata Document settings: each `true` takes
 * precedence over the service's setting; `false` or absent changes nothing.
 *
 * @since 0.1.0
 * @category models
 */
export class CimdOptions extends Models.Class<CimdOptions>("effect-authlete/CimdOptions")({
  /** Retrieve the client's metadata even when the cached copy is still valid. */
  alwaysRetrieved: Schema.optional(Rules.Boolean),
  /** Allow the `http` scheme in CIMD client IDs. */
  httpPermitted: Schema.optional(Rules.Boolean),
  /** Allow a query component in CIMD client IDs. */
  queryPermitted: Schema.optional(Rules.Boolean)
}) {}

/**
 * The request. `clientId` and `clientSecret` carry credentials the endpoint took from an HTTP Basic
 * `Authorization` header; credentials in the form body stay in `parameters`.
 *
 * @example
 * ```ts
 * import { BackchannelAuthentication } from "effect-authlete"
 *
 * declare const clientSecret: string
 *
 * new BackchannelAuthentication.BackchannelAuthenticationRequest({
 *   parameters: "scope=openid&login_hint=john",
 *   clientId: "26862190133482",
 *   clientSecret
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class BackchannelAuthenticationRequest extends Models.Class<BackchannelAuthenticationRequest>(
  "effect-authlete/BackchannelAuthenticationRequest"
)({
  /** The entire `application/x-www-form-urlencoded` body of the client's request. */
  parameters: FormParameters,
  ...ClientCredentials.ClientCredentials.fields,
  /** Client ID Metadata Document overrides for this request. */
  cimdOptions: Schema.optional(CimdOptions)
}) {}

/**
 * The wire JSON of a request.
 *
 * @since 0.1.0
 * @category models
 */
export type BackchannelAuthenticationRequestJson = typeof BackchannelAuthenticationRequest.Encoded

/**
 * Decodes wire-shaped input into a request, collecting every broken rule.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateBackchannelAuthenticationRequest: (
  input: unknown
) => Effect.Effect<BackchannelAuthenticationRequest, AuthleteValidationError> = validator(
  BackchannelAuthenticationRequest
)

/**
 * What the authorization server does next: identify the user (`USER_IDENTIFICATION`) or answer the
 * client with `responseContent`. Open: an action a newer Authlete adds decodes as its name.
 *
 * @since 0.1.0
 * @category models
 */
export const BackchannelAuthenticationAction = openLiteral(
  "USER_IDENTIFICATION",
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "INTERNAL_SERVER_ERROR"
)

/**
 * @since 0.1.0
 * @category models
 */
export type BackchannelAuthenticationAction = typeof BackchannelAuthenticationAction.Type

/** Every response field is optional on the wire; `null` reads as absent. */
const field = responseField

/**
 * A value with a BCP 47 language tag (`{ tag: "ja", value: "..." }`).
 *
 * @since 0.1.0
 * @category models
 */
export class TaggedValue extends Schema.Class<TaggedValue>("effect-authlete/TaggedValue")({
  tag: field(Schema.String),
  value: field(Schema.String)
}) {}

/**
 * A scope as Authlete reports it. In `/backchannel/authentication` responses the descriptions are
 * always null.
 *
 * @since 0.1.0
 * @category models
 */
export class AuthleteScope extends Schema.Class<AuthleteScope>("effect-authlete/AuthleteScope")({
  name: field(Schema.String),
  /** Scopes marked as default are regarded as requested when a request names none. */
  defaultEntry: field(Schema.Boolean),
  description: field(Schema.String),
  descriptions: field(Schema.Array(TaggedValue)),
  attributes: field(Schema.Array(Pair))
}) {}

/**
 * A scope matched by one of the service's dynamic scope patterns (`{ name: "payment", value: "payment:42" }`).
 *
 * @since 0.1.0
 * @category models
 */
export class DynamicScope extends Schema.Class<DynamicScope>("effect-authlete/DynamicScope")({
  name: field(Schema.String),
  value: field(Schema.String)
}) {}

/**
 * The `grant_management_action` of the request (Grant Management for OAuth 2.0). Open.
 *
 * @since 0.1.0
 * @category models
 */
export const GrantManagementAction = openLiteral("CREATE", "QUERY", "REPLACE", "REVOKE", "MERGE")

/**
 * @since 0.1.0
 * @category models
 */
export type GrantManagementAction = typeof GrantManagementAction.Type

/**
 * @since 0.1.0
 * @category models
 */
export class GrantScope extends Schema.Class<GrantScope>("effect-authlete/GrantScope")({
  scope: field(Schema.String),
  resource: field(Schema.Array(Schema.String))
}) {}

/**
 * An existing grant the request refers to (Grant Management for OAuth 2.0).
 *
 * @since 0.1.0
 * @category models
 */
export class Grant extends Schema.Class<Grant>("effect-authlete/Grant")({
  scopes: field(Schema.Array(GrantScope)),
  claims: field(Schema.Array(Schema.String)),
  authorizationDetails: field(AuthorizationDetails)
}) {}

/**
 * The response. Unknown fields are ignored; unknown `action`, `deliveryMode` and `gmAction` values
 * are kept.
 *
 * @since 0.1.0
 * @category models
 */
export class BackchannelAuthenticationResponse extends Schema.Class<BackchannelAuthenticationResponse>(
  "effect-authlete/BackchannelAuthenticationResponse"
)({
  resultCode: field(Schema.String),
  resultMessage: field(Schema.String),
  action: field(BackchannelAuthenticationAction),
  /** The error JSON to return to the client (every action but USER_IDENTIFICATION). */
  responseContent: field(Schema.String),
  clientId: field(Schema.Number),
  clientIdAlias: field(Schema.String),
  clientIdAliasUsed: field(Schema.Boolean),
  clientName: field(Schema.String),
  clientAuthMethod: field(Schema.String),
  deliveryMode: field(DeliveryMode),
  /** The requested scopes that the service knows. */
  scopes: field(Schema.Array(AuthleteScope)),
  dynamicScopes: field(Schema.Array(DynamicScope)),
  /** Claims requested through scopes such as `profile` (OpenID Connect Core 5.4). */
  claimNames: field(Schema.Array(Schema.String)),
  clientNotificationToken: field(Schema.String),
  /** The requested ACR values that the service supports. */
  acrs: field(Schema.Array(Schema.String)),
  /** `LOGIN_HINT`, `LOGIN_HINT_TOKEN` or `ID_TOKEN_HINT`. */
  hintType: field(Schema.String),
  hint: field(Schema.String),
  /** The `sub` claim of the ID token hint. */
  sub: field(Schema.String),
  bindingMessage: field(Schema.String),
  userCode: field(Schema.String),
  userCodeRequired: field(Schema.Boolean),
  /** Seconds; 0 when the client asked for no particular lifetime. */
  requestedExpiry: field(Schema.Number),
  /** The `request_context` claim of a signed request (FAPI-CIBA), as JSON text. */
  requestContext: field(Schema.String),
  warnings: field(Schema.Array(Schema.String)),
  /** Passed to `/backchannel/authentication/issue`, `/fail` and `/complete`. */
  ticket: field(Schema.String),
  resources: field(Schema.Array(Schema.String)),
  authorizationDetails: field(AuthorizationDetails),
  serviceAttributes: field(Schema.Array(Pair)),
  clientAttributes: field(Schema.Array(Pair)),
  gmAction: field(GrantManagementAction),
  grantId: field(Schema.String),
  grant: field(Grant),
  grantSubject: field(Schema.String),
  clientEntityId: field(Schema.String),
  clientEntityIdUsed: field(Schema.Boolean),
  metadataDocumentLocation: field(Schema.String),
  metadataDocumentUsed: field(Schema.Boolean),
  /** When set, the endpoint sends it to the client as the `OAuth-Client-Attestation-Challenge` header. */
  attestationChallenge: field(Schema.String)
}) {}
