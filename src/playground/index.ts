/**
 * `effect-authlete/playground`: the simulator and an authorization server built from this library,
 * together on 127.0.0.1 (what `effect-authlete playground` runs).
 *
 * @since 0.1.0
 */
export * from "./Playground.js"
