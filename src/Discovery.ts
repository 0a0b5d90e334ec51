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
 * The OpenID Provider metadata, as Authlete gives it (`/service/configuration`).
 *
 * @since 0.1.0
 * @category program
 */
export const handleDiscovery: Effect.Effect<
  Endpoint.EndpointResponse,
  AuthleteError.AuthleteError,
  AuthleteClient.AuthleteClient
> = Effect
  .flatMap(AuthleteClient.AuthleteClient, (authlete) => authlete.serviceConfiguration())
  .pipe(Effect.map((document) => Endpoint.json(200, JSON.stringify(document))))

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
