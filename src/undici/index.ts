/**
 * `effect-authlete/undici`: the `HttpTransport` recommended on Node (needs the `undici` package).
 *
 * @since 0.1.0
 */
export * as UndiciTransport from "./UndiciTransport.js"
