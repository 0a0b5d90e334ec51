/**
 * `POST /api/{serviceId}/auth/token`: the request the authorization server forwards from its token
 * endpoint, and Authlete's answer (for CIBA, the `urn:openid:params:grant-type:ciba` grant).
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { AuthleteValidationError } from "./AuthleteError.js"
import { AuthleteScope, CimdOptions, FormParameters } from "./BackchannelAuthentication.js"
import { AuthorizationDetails, AuthorizationDetailsElement, Pair } from "./BackchannelAuthenticationCompleteResponse.js"
import * as ClientCredentials from "./ClientCredentials.js"
import * as Models from "./internal/models.js"
import { responseField, validator } from "./internal/models.js"
import { openLiteral } from "./internal/openLiteral.js"
import * as Rules from "./internal/rules.js"
import { Properties } from "./Property.js"

/**
 * The request. `clientId` and `clientSecret` carry credentials the endpoint took from an HTTP Basic
 * `Authorization` header; credentials in the form body stay in `parameters`. (Authlete's OpenAPI
 * document types `properties` as a string; its Java DTO, followed here, as an array of properties.)
 *
 * @since 0.1.0
 * @category models
 */
export class TokenRequest extends Models.Class<TokenRequest>("effect-authlete/TokenRequest")({
  /** The entire `application/x-www-form-urlencoded` body of the client's token request. */
  parameters: FormParameters,
  ...ClientCredentials.ClientCredentials.fields,
  /** Extra properties of the access token. */
  properties: Schema.optional(Properties),
  /** The `DPoP` header value. */
  dpop: Schema.optional(Rules.NonEmptyText),
  /** The HTTP method of the token request, for DPoP (`POST`). */
  htm: Schema.optional(Rules.NonEmptyText),
  /** The URL of the token endpoint, for DPoP. */
  htu: Schema.optional(Rules.NonEmptyText),
  /** A caller-chosen access token value. */
  accessToken: Schema.optional(Rules.AccessToken),
  /** Extra claims for a JWT access token, as JSON text of an object on the wire. */
  jwtAtClaims: Schema.optional(Rules.JsonObjectFromText),
  /** Used only when positive. */
  accessTokenDuration: Schema.optional(Rules.Seconds),
  /** Used only when positive. */
  refreshTokenDuration: Schema.optional(Rules.Seconds),
  dpopNonceRequired: Schema.optional(Rules.Boolean),
  cimdOptions: Schema.optional(CimdOptions)
}) {}

/**
 * The wire JSON of a request.
 *
 * @since 0.1.0
 * @category models
 */
export type TokenRequestJson = typeof TokenRequest.Encoded

/**
 * Decodes wire-shaped input into a request, collecting every broken rule.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateTokenRequest: (input: unknown) => Effect.Effect<TokenRequest, AuthleteValidationError> = validator(
  TokenRequest
)

/**
 * What the token endpoint does next: answer with `responseContent` (`OK` 200, `BAD_REQUEST` 400,
 * `INVALID_CLIENT` 401, `INTERNAL_SERVER_ERROR` 500), or handle a grant Authlete leaves to the server
 * (`PASSWORD`, `TOKEN_EXCHANGE`, `JWT_BEARER`, `NATIVE_SSO`). Open: an action a newer Authlete adds
 * decodes as its name.
 *
 * @since 0.1.0
 * @category models
 */
export const TokenAction = openLiteral(
  "OK",
  "BAD_REQUEST",
  "INVALID_CLIENT",
  "INTERNAL_SERVER_ERROR",
  "PASSWORD",
  "TOKEN_EXCHANGE",
  "JWT_BEARER",
  "NATIVE_SSO",
  "ID_TOKEN_REISSUABLE"
)

/**
 * @since 0.1.0
 * @category models
 */
export type TokenAction = typeof TokenAction.Type

/**
 * A token type of OAuth 2.0 Token Exchange (RFC 8693), as Authlete names them. Open.
 *
 * @since 0.1.0
 * @category models
 */
export const TokenType = openLiteral(
  "JWT",
  "ACCESS_TOKEN",
  "REFRESH_TOKEN",
  "ID_TOKEN",
  "SAML1",
  "SAML2",
  "DEVICE_SECRET",
  "DEVICE_CODE",
  "TOKEN_EXCHANGE",
  "JWT_BEARER"
)

const field = responseField

/**
 * An extra property of a token, as Authlete reports it.
 *
 * @since 0.1.0
 * @category models
 */
export class TokenProperty extends Schema.Class<TokenProperty>("effect-authlete/TokenProperty")({
  key: field(Schema.String),
  value: field(Schema.String),
  hidden: field(Schema.Boolean)
}) {}

/**
 * What Authlete knows of a token of a token exchange (`subjectTokenInfo`, `actorTokenInfo`).
 *
 * @since 0.1.0
 * @category models
 */
export class TokenInfo extends Schema.Class<TokenInfo>("effect-authlete/TokenInfo")({
  clientId: field(Schema.Number),
  clientIdAlias: field(Schema.String),
  clientIdAliasUsed: field(Schema.Boolean),
  subject: field(Schema.String),
  scopes: field(Schema.Array(AuthleteScope)),
  /** Milliseconds since the epoch. */
  expiresAt: field(Schema.Number),
  properties: field(Schema.Array(TokenProperty)),
  resources: field(Schema.Array(Schema.String)),
  authorizationDetails: field(AuthorizationDetailsElement),
  clientEntityId: field(Schema.String),
  clientEntityIdUsed: field(Schema.Boolean),
  metadataDocumentLocation: field(Schema.String),
  metadataDocumentUsed: field(Schema.Boolean)
}) {}

/**
 * The response. Unknown fields are ignored; unknown `action` and token types are kept.
 *
 * @since 0.1.0
 * @category models
 */
export class TokenResponse extends Schema.Class<TokenResponse>("effect-authlete/TokenResponse")({
  resultCode: field(Schema.String),
  resultMessage: field(Schema.String),
  action: field(TokenAction),
  /** The JSON to return to the client. */
  responseContent: field(Schema.String),
  /** `PASSWORD`: the resource owner's credentials. */
  username: field(Schema.String),
  password: field(Schema.String),
  /** `PASSWORD`: for `/auth/token/issue` or `/auth/token/fail`. */
  ticket: field(Schema.String),
  accessToken: field(Schema.String),
  /** Milliseconds since the epoch. */
  accessTokenExpiresAt: field(Schema.Number),
  accessTokenDuration: field(Schema.Number),
  refreshToken: field(Schema.String),
  refreshTokenExpiresAt: field(Schema.Number),
  refreshTokenDuration: field(Schema.Number),
  idToken: field(Schema.String),
  /** `AUTHORIZATION_CODE`, `CIBA`, ... (Authlete's names). */
  grantType: field(Schema.String),
  clientId: field(Schema.Number),
  clientIdAlias: field(Schema.String),
  clientIdAliasUsed: field(Schema.Boolean),
  subject: field(Schema.String),
  scopes: field(Schema.Array(Schema.String)),
  properties: field(Schema.Array(TokenProperty)),
  jwtAccessToken: field(Schema.String),
  resources: field(Schema.Array(Schema.String)),
  accessTokenResources: field(Schema.Array(Schema.String)),
  authorizationDetails: field(AuthorizationDetails),
  additionalClaims: field(Schema.String),
  serviceAttributes: field(Schema.Array(Pair)),
  clientAttributes: field(Schema.Array(Pair)),
  clientAuthMethod: field(Schema.String),
  grantId: field(Schema.String),
  audiences: field(Schema.Array(Schema.String)),
  requestedTokenType: field(TokenType),
  subjectToken: field(Schema.String),
  subjectTokenType: field(TokenType),
  subjectTokenInfo: field(TokenInfo),
  actorToken: field(Schema.String),
  actorTokenType: field(TokenType),
  actorTokenInfo: field(TokenInfo),
  assertion: field(Schema.String),
  previousRefreshTokenUsed: field(Schema.Boolean),
  clientEntityId: field(Schema.String),
  clientEntityIdUsed: field(Schema.Boolean),
  cnonceDuration: field(Schema.Number),
  /** When set, the endpoint sends it to the client as the `DPoP-Nonce` header. */
  dpopNonce: field(Schema.String),
  cnonce: field(Schema.String),
  cnonceExpiresAt: field(Schema.Number),
  requestedIdTokenClaims: field(Schema.Array(Schema.String)),
  refreshTokenScopes: field(Schema.Array(Schema.String)),
  sessionId: field(Schema.String),
  deviceSecret: field(Schema.String),
  deviceSecretHash: field(Schema.String),
  metadataDocumentLocation: field(Schema.String),
  metadataDocumentUsed: field(Schema.Boolean),
  /** When set, the endpoint sends it to the client as the `OAuth-Client-Attestation-Challenge` header. */
  attestationChallenge: field(Schema.String)
}) {}
