/**
 * The body of `POST /api/{serviceId}/backchannel/authentication/complete`.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { ParseOptions } from "effect/SchemaAST"
import type { AuthleteValidationError } from "./AuthleteError.js"
import * as BackchannelAuthenticationCompleteResult from "./BackchannelAuthenticationCompleteResult.js"
import { NullMeansAbsentId } from "./internal/codec.js"
import * as Models from "./internal/models.js"
import * as Rules from "./internal/rules.js"
import { Properties } from "./Property.js"

/**
 * The shape of the ID token's `aud`: always an array, always a string, or (`null`) the service's setting.
 *
 * @since 0.1.0
 * @category models
 */
export const IdTokenAudType = Schema.NullOr(Schema.Literal("array", "string")).annotations({
  identifier: "IdTokenAudType",
  message: () => ({ message: "must be \"array\", \"string\" or null", override: true })
})

/**
 * The field on the wire: `"array"` or `"string"`. Authlete types it as a string, so a `null` (the
 * service's setting, as absent is) is never sent, and one that comes in is read as absent. At run
 * time this is `IdTokenAudType`, which reads that `null`; only its `Encoded` type leaves `null` out,
 * so that the request's `Encoded` side is the wire JSON exactly.
 */
const WireIdTokenAudType = IdTokenAudType as unknown as Schema.Schema<"array" | "string" | null, "array" | "string">

const idTokenAudType = Schema.optionalToOptional(WireIdTokenAudType, IdTokenAudType, {
  decode: Option.filter((value) => value !== null),
  encode: Option.filter((value): value is "array" | "string" => value !== null)
}).annotations({ [NullMeansAbsentId]: true })

const fields = {
  /** The ticket from `/backchannel/authentication`. */
  ticket: Rules.NonEmptyText,
  result: BackchannelAuthenticationCompleteResult.BackchannelAuthenticationCompleteResult,
  /** The user's unique identifier at the authorization server. */
  subject: Rules.Subject,
  /** Replaces `sub` in the ID token only. */
  sub: Schema.optional(Rules.NonEmptyText),
  /** Seconds since the epoch; a positive value adds `auth_time` to the ID token. */
  authTime: Schema.optional(Rules.Seconds),
  acr: Schema.optional(Rules.NonEmptyText),
  /** Claim values for the ID token. */
  claims: Schema.optional(Rules.JsonObjectFromText),
  /** Extra properties of the access token. */
  properties: Schema.optional(Properties),
  /** Replaces the requested scopes; must include `openid`. */
  scopes: Schema.optional(Rules.Scopes),
  /** Extra JWS header parameters for the ID token. */
  idtHeaderParams: Schema.optional(Rules.JsonObjectFromText),
  /** Used only when `result` is not AUTHORIZED. */
  errorDescription: Schema.optional(Rules.ErrorDescription),
  /** Used only when `result` is not AUTHORIZED. */
  errorUri: Schema.optional(Rules.ErrorUri),
  /** The claims the user consented to share. */
  consentedClaims: Schema.optional(Rules.array(Rules.NonEmptyText)),
  /** Extra claims for a JWT access token. */
  jwtAtClaims: Schema.optional(Rules.JsonObjectFromText),
  /** A caller-chosen access token value (PUSH mode). */
  accessToken: Schema.optional(Rules.AccessToken),
  accessTokenDuration: Schema.optional(Rules.Seconds),
  refreshTokenDuration: Schema.optional(Rules.Seconds),
  idTokenAudType
}

/**
 * The request. Its `Encoded` side is exactly the wire JSON; on its `Type` side `claims`,
 * `jwtAtClaims` and `idtHeaderParams` are plain objects rather than JSON text. The constructor
 * checks every rule and throws `AuthleteValidationError` listing all that are broken.
 *
 * @example
 * ```ts
 * import { BackchannelAuthenticationCompleteRequest } from "effect-authlete"
 *
 * declare const ticket: string
 *
 * new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
 *   ticket,
 *   result: "AUTHORIZED",
 *   subject: "user-1",
 *   claims: { given_name: "Taro" }
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class BackchannelAuthenticationCompleteRequest extends Models.Class<BackchannelAuthenticationCompleteRequest>(
  "effect-authlete/BackchannelAuthenticationCompleteRequest"
)(fields) {}

/**
 * The wire JSON of a request.
 *
 * @since 0.1.0
 * @category models
 */
export type BackchannelAuthenticationCompleteRequestJson = typeof BackchannelAuthenticationCompleteRequest.Encoded

/**
 * Decoding and encoding report every problem at once and refuse unknown fields, which are almost
 * always typos.
 *
 * @since 0.1.0
 * @category validation
 */
export const strictParseOptions: ParseOptions = Models.strictParseOptions

/**
 * Decodes wire-shaped input (`claims` as JSON text) into a request, collecting every broken rule.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateCompleteRequest: (
  input: unknown
) => Effect.Effect<BackchannelAuthenticationCompleteRequest, AuthleteValidationError> = Models.validator(
  BackchannelAuthenticationCompleteRequest
)
