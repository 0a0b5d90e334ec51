/**
 * `effect-authlete/routes`: the authorization server's endpoints as `@effect/platform` routes, for
 * an application's own server to mount (an entry of its own, so that the root entry loads none of
 * `@effect/platform`'s server modules).
 *
 * @since 0.1.0
 */
export * as CibaRoutes from "../CibaRoutes.js"
export * as HealthRoutes from "../HealthRoutes.js"
