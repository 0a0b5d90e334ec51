/**
 * `effect-authlete/playground`: the simulator and an authorization server built from this library,
 * together on 127.0.0.1 (what `effect-authlete playground` runs), and its pages: the
 * authentication device and the consumption device.
 *
 * @since 0.1.0
 */
export * as Pages from "./Pages.js"
export * as Playground from "./Playground.js"
