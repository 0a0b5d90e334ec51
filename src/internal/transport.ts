/**
 * How this library moves one JSON POST (to Authlete, and to a client's notification endpoint): over
 * any `@effect/platform` `HttpClient`, or, when the `HttpClient` offers it, over its own lean path
 * (`effect-authlete/undici` does). Both give the same `Exchange` or `AuthleteTransportError`, so
 * everything above them behaves the same.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Duration, Effect, Runtime } from "effect"
import { AuthleteTransportError } from "../AuthleteError.js"
import * as Http from "./http.js"

/** A complete answer: status, headers (lower-case names), and the body read under the cap. */
export interface Exchange {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: Http.CappedBody
}

export interface PostJsonOptions {
  readonly timeoutMillis: number
  readonly maxBytes: number
  /** Values to remove from the text of a transport error. */
  readonly secrets: () => ReadonlyArray<string | undefined>
}

/**
 * One POST of JSON text to an absolute URL with the given headers (Content-Type included), never
 * following redirects, under a deadline that covers reading the body; the answer goes to `then`
 * (the caller's interpretation, run where the answer lands). A failure to get an answer is an
 * `AuthleteTransportError`.
 */
export type PostJson = <A, E>(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  options: PostJsonOptions,
  then: (exchange: Exchange) => Effect.Effect<A, E>
) => Effect.Effect<A, AuthleteTransportError | E>

/**
 * An `HttpClient` that carries this property offers a lean path for JSON POSTs; the Authlete client
 * uses it instead of building a request object per call.
 */
export const PostJsonId: unique symbol = Symbol.for("effect-authlete/PostJson")

export interface WithPostJson {
  readonly [PostJsonId]: PostJson
}

export const hasPostJson = (client: HttpClient.HttpClient): client is HttpClient.HttpClient & WithPostJson =>
  PostJsonId in client

export const timeoutError = (timeoutMillis: number) =>
  new AuthleteTransportError({
    reason: "Timeout",
    message: `No complete answer within ${Duration.format(Duration.millis(timeoutMillis))}`
  })

/**
 * Fails with `onTimeout` unless `effect` ends within `millis`, interrupting it. `Effect.timeout`
 * costs about 25 µs a call in Effect 3.22 (it races two fibers); one fiber and a timer do the same.
 */
export const withDeadline = <A, E, R, E2>(
  effect: Effect.Effect<A, E, R>,
  millis: number,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> =>
  Effect.flatMap(Effect.runtime<R>(), (runtime) =>
    Effect.async<A, E | E2>((resume) => {
      let settled = false
      const timer = setTimeout(() => {
        settled = true
        cancel()
        resume(Effect.fail(onTimeout()))
      }, millis)
      const cancel = Runtime.runCallback(runtime)(effect, {
        onExit: (exit) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resume(exit)
        }
      })
      return Effect.sync(() => {
        settled = true
        clearTimeout(timer)
        cancel()
      })
    }))

/** The portable path: any `HttpClient` (fetch, undici, a fake). */
export const postJsonOver = (client: HttpClient.HttpClient): PostJson => {
  // No trace context for a third party, and no transport span: it would keep the failed request,
  // Authorization header included, in its exit.
  const quiet = client.pipe(HttpClient.withTracerPropagation(false), HttpClient.withTracerDisabledWhen(() => true))
  return (url, headers, body, options, then) =>
    withDeadline(
      Http.withoutRedirects(
        quiet.execute(
          HttpClientRequest.bodyText(HttpClientRequest.post(url, { headers }), body, "application/json")
        )
      ).pipe(
        Effect.flatMap((response) =>
          Effect.map(
            Http.readCappedBody(response, options.maxBytes),
            (capped): Exchange => ({ status: response.status, headers: response.headers, body: capped })
          )
        ),
        Effect.catchTags({
          RequestError: (error) =>
            Effect.fail(
              new AuthleteTransportError({
                reason: Http.transportFailureReason(error.cause),
                message: `The request failed: ${Http.scrubSecrets(Http.errorText(error.cause), options.secrets())}`
              })
            ),
          ResponseError: (error) =>
            Effect.fail(
              new AuthleteTransportError({
                reason: "Transport",
                message: `The answer broke off: ${Http.scrubSecrets(Http.errorText(error.cause), options.secrets())}`
              })
            )
        })
      ),
      options.timeoutMillis,
      () => timeoutError(options.timeoutMillis)
    ).pipe(Effect.flatMap(then))
}

/** The client's lean path when it has one, else the portable one. */
export const postJsonOf = (client: HttpClient.HttpClient): PostJson =>
  hasPostJson(client) ? client[PostJsonId] : postJsonOver(client)
