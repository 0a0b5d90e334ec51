/**
 * `GET /api/{serviceId}/service/jwks/get`: the service's JWK Set (the document an authorization
 * server serves at its `jwks_uri`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Models from "./internal/models.js"
import { responseField } from "./internal/models.js"

/**
 * The query: `includePrivateKeys` (never for a public `jwks_uri`) and `pretty`.
 *
 * @since 0.1.0
 * @category models
 */
export class ServiceJwksRequest extends Models.Class<ServiceJwksRequest>("effect-authlete/ServiceJwksRequest")({
  includePrivateKeys: Schema.optional(Schema.BooleanFromString),
  pretty: Schema.optional(Schema.BooleanFromString)
}) {}

/**
 * One JSON Web Key (RFC 7517), kept whole.
 *
 * @since 0.1.0
 * @category models
 */
export const Jwk = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * The JWK Set. Authlete answers 204 when the service has none: then `keys` is absent.
 *
 * @since 0.1.0
 * @category models
 */
export class ServiceJwks extends Schema.Class<ServiceJwks>("effect-authlete/ServiceJwks")({
  keys: responseField(Schema.Array(Jwk))
}) {}
