/**
 * The authorization server's discovery endpoint (`/.well-known/openid-configuration`) and its
 * `jwks_uri`, as programs: both documents come from Authlete, which builds them from the service's
 * settings.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as AuthleteClient from "./AuthleteClient.js"
import type * as AuthleteError from "./AuthleteError.js"
import * as Endpoint from "./EndpointResponse.js"

/**
 * What the server adds to Authlete's metadata.
 *
 * @since 0.1.0
 * @category models
 */
export interface DiscoveryOptions {
  /**
   * The endpoints' URLs on the mutual TLS host (RFC 8705 5), by metadata name (`token_endpoint`,
   * `backchannel_authentication_endpoint`): merged into Authlete's `mtls_endpoint_aliases`, over the
   * same names there (the server knows where it serves them); Authlete's other aliases stay.
   */
  readonly mtlsEndpointAliases?: Readonly<Record<string, string>> | undefined
}

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * The OpenID Provider metadata, as Authlete gives it (`/service/configuration`): every member passes
 * through as Authlete wrote it (`mtls_endpoint_aliases`, `tls_client_certificate_bound_access_tokens`,
 * `backchannel_authentication_request_signing_alg_values_supported`, ...), and `options` adds the
 * server's mutual TLS aliases.
 *
 * @since 0.1.0
 * @category program
 */
export const handleDiscoveryWith = (
  options: DiscoveryOptions
): Effect.Effect<Endpoint.EndpointResponse, AuthleteError.AuthleteError, AuthleteClient.AuthleteClient> =>
  Effect
    .flatMap(AuthleteClient.AuthleteClient, (authlete) => authlete.serviceConfiguration())
    .pipe(Effect.map((document) => {
      const aliases = options.mtlsEndpointAliases
      if (aliases === undefined || Object.keys(aliases).length === 0) {
        return Endpoint.json(200, JSON.stringify(document))
      }
      const authletes = document["mtls_endpoint_aliases"]
      const merged = { ...(isObject(authletes) ? authletes : {}), ...aliases }
      return Endpoint.json(200, JSON.stringify({ ...document, mtls_endpoint_aliases: merged }))
    }))

/**
 * The OpenID Provider metadata, as Authlete gives it (`/service/configuration`).
 *
 * @since 0.1.0
 * @category program
 */
export const handleDiscovery: Effect.Effect<
  Endpoint.EndpointResponse,
  AuthleteError.AuthleteError,
  AuthleteClient.AuthleteClient
> = handleDiscoveryWith({})

/**
 * The service's public JWK Set (`/service/jwks/get`); a service without keys serves an empty set.
 *
 * @since 0.1.0
 * @category program
 */
export const handleJwks: Effect.Effect<
  Endpoint.EndpointResponse,
  AuthleteError.AuthleteError,
  AuthleteClient.AuthleteClient
> = Effect
  .flatMap(AuthleteClient.AuthleteClient, (authlete) => authlete.serviceJwks({ includePrivateKeys: false }))
  .pipe(Effect.map((jwks) => Endpoint.json(200, JSON.stringify({ keys: jwks.keys ?? [] }))))
