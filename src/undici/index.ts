/**
 * `effect-authlete/undici`: the `HttpClient` recommended on Node (needs the `undici` package).
 *
 * @since 0.1.0
 */
export * as UndiciHttpClient from "./UndiciHttpClient.js"
