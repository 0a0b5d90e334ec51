/**
 * `GET /api/{serviceId}/service/configuration`: the service's OpenID Provider metadata (the document
 * an authorization server serves at `/.well-known/openid-configuration`), built by Authlete from the
 * service's settings.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Models from "./internal/models.js"
import * as Rules from "./internal/rules.js"

/**
 * The query: `pretty` asks for indented JSON; `patch` is an RFC 6902 JSON Patch applied to the
 * document before it is returned.
 *
 * @since 0.1.0
 * @category models
 */
export class ServiceConfigurationRequest
  extends Models.Class<ServiceConfigurationRequest>("effect-authlete/ServiceConfigurationRequest")({
    pretty: Schema.optional(Schema.BooleanFromString),
    patch: Schema.optional(Rules.NonEmptyText)
  })
{}

/**
 * The discovery document as Authlete returns it: an object of metadata (`issuer`,
 * `token_endpoint`, `backchannel_authentication_endpoint`, `jwks_uri`, ...), kept whole.
 *
 * @since 0.1.0
 * @category models
 */
export const ServiceConfiguration = Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
  identifier: "ServiceConfiguration",
  message: () => "must be a JSON object (the OpenID Provider metadata)"
})

/**
 * @since 0.1.0
 * @category models
 */
export type ServiceConfiguration = typeof ServiceConfiguration.Type
