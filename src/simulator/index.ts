/**
 * `effect-authlete/simulator`: an embedded Authlete for CIBA, for tests and demos.
 *
 * @since 0.1.0
 */
export * as AuthleteSimulator from "./AuthleteSimulator.js"
export type { PublicJwk } from "./internal/crypto.js"
export type { ServiceSettings } from "./internal/state.js"
