/**
 * The `HttpClient` this library recommends on Node: undici with a keep-alive connection pool, and a
 * lean path for the Authlete client's JSON POSTs (one promise from request to body, one timer for the
 * deadline, no request or response objects in between). Everything else goes through undici's
 * `fetch` as a plain `HttpClient`; redirects are never followed.
 *
 * @since 0.1.0
 */
import { HttpClient, HttpClientError, type HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Effect, Layer, Stream } from "effect"
import { Agent, type Dispatcher, fetch as undiciFetch } from "undici"
import { AuthleteTransportError } from "../AuthleteError.js"
import * as Http from "../internal/http.js"
import { type Exchange, type PostJson, PostJsonId, timeoutError } from "../internal/transport.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface UndiciHttpClientOptions {
  /** Connections per origin; default unlimited. */
  readonly connections?: number | undefined
  /** How long an idle connection is kept; default 4 seconds (undici's). */
  readonly keepAliveTimeout?: number | undefined
}

/** Header values as one string each (undici gives arrays for repeated headers). */
const flatHeaders = (headers: Dispatcher.ResponseData["headers"]): Record<string, string | undefined> => {
  const out: Record<string, string | undefined> = {}
  for (const name in headers) {
    const value = headers[name]
    out[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

/** `origin` and `path` of the few URLs a client posts to, parsed once each. */
const targets = new Map<string, { readonly origin: string; readonly path: string }>()
const targetOf = (url: string) => {
  let target = targets.get(url)
  if (target === undefined) {
    const parsed = new URL(url)
    target = { origin: parsed.origin, path: parsed.pathname + parsed.search }
    if (targets.size < 1024) targets.set(url, target)
  }
  return target
}

// Why a request was aborted from here; the answer is already settled by then.
const STOPPED = new Error("effect-authlete stopped the request")

/**
 * One JSON POST on undici's dispatcher directly: no `AbortSignal` (it costs a third of the
 * throughput), no body stream; the handler collects the body under the cap, and the deadline and
 * an interruption abort through the dispatch controller.
 */
const postJsonWith = (dispatcher: Dispatcher): PostJson => (url, headers, body, options) =>
  Effect.async<Exchange, AuthleteTransportError>((resume) => {
    let controller: Dispatcher.DispatchController | undefined
    let settled = false
    let status = 0
    let responseHeaders: Record<string, string | undefined> = {}
    const chunks: Array<Buffer> = []
    let size = 0
    const stop = () => {
      if (controller !== undefined && !controller.aborted) controller.abort(STOPPED)
    }
    const settle = (outcome: Effect.Effect<Exchange, AuthleteTransportError>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resume(outcome)
    }
    const tooLarge = () => {
      settle(Effect.succeed({ status, headers: responseHeaders, body: { text: "", tooLarge: true } }))
      stop()
    }
    const timer = setTimeout(() => {
      settle(Effect.fail(timeoutError(options.timeoutMillis)))
      stop()
    }, options.timeoutMillis)
    const failed = (error: unknown) =>
      settle(Effect.fail(
        new AuthleteTransportError({
          reason: Http.transportFailureReason(error),
          message: `The request to Authlete failed: ${Http.scrubSecrets(Http.errorText(error), options.secrets())}`
        })
      ))
    const { origin, path } = targetOf(url)
    try {
      dispatcher.dispatch({
        origin,
        path,
        method: "POST",
        headers,
        body
      }, {
        onRequestStart: (dispatchController) => {
          controller = dispatchController
          // Settled before it started (timed out in the queue, or interrupted): it goes no further.
          if (settled) stop()
        },
        onResponseStart: (_, statusCode, incoming) => {
          if (statusCode < 200) return
          status = statusCode
          responseHeaders = flatHeaders(incoming)
          const declared = responseHeaders["content-length"]
          if (declared !== undefined && Number(declared) > options.maxBytes) tooLarge()
        },
        onResponseData: (_, chunk) => {
          if (settled) return
          size += chunk.length
          if (size > options.maxBytes) return tooLarge()
          chunks.push(chunk)
        },
        onResponseEnd: () =>
          settle(Effect.succeed({
            status,
            headers: responseHeaders,
            body: {
              text: chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks).toString("utf8"),
              tooLarge: false
            }
          })),
        onResponseError: (_, error) => failed(error)
      })
    } catch (error) {
      failed(error)
    }
    return Effect.sync(() => {
      settled = true
      clearTimeout(timer)
      stop()
    })
  })

const bodyOf = (body: HttpClientRequest.HttpClientRequest["body"]): RequestInit["body"] => {
  switch (body._tag) {
    case "Empty":
      return undefined
    case "Uint8Array":
    case "Raw":
      return body.body as RequestInit["body"]
    case "FormData":
      return body.formData
    case "Stream":
      return Stream.toReadableStream(body.stream)
  }
}

/**
 * An `HttpClient` over an undici dispatcher.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (dispatcher: Dispatcher): HttpClient.HttpClient => {
  const client = HttpClient.make((request, url, signal) =>
    Effect.tryPromise({
      try: () =>
        undiciFetch(url, {
          dispatcher,
          method: request.method,
          headers: request.headers,
          body: bodyOf(request.body) as never,
          signal,
          redirect: "manual",
          ...(request.body._tag === "Stream" ? { duplex: "half" } : {})
        }),
      catch: (cause) => new HttpClientError.RequestError({ request, reason: "Transport", cause })
    }).pipe(Effect.map((response) => HttpClientResponse.fromWeb(request, response as unknown as Response)))
  )
  return Object.assign(client, { [PostJsonId]: postJsonWith(dispatcher) })
}

/**
 * A layer with its own keep-alive connection pool, closed with the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: UndiciHttpClientOptions = {}): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() =>
          new Agent({
            ...(options.connections === undefined ? {} : { connections: options.connections }),
            ...(options.keepAliveTimeout === undefined ? {} : { keepAliveTimeout: options.keepAliveTimeout })
          })
        ),
        (agent) => Effect.promise(() => agent.destroy())
      ),
      make
    )
  )

/**
 * `layerWith()`: undici's defaults.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient> = layerWith()
