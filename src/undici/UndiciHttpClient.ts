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
import { type Exchange, type PostJson, PostJsonId, type PostJsonOptions, timeoutError } from "../internal/transport.js"

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
 * Collects one answer under the cap and settles once: with the exchange, a transport error, or the
 * deadline's timeout. A class rather than closures: one allocation per request on the hot path.
 */
class JsonExchange<A, E> implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined = undefined
  private settled = false
  private status = 0
  private headers: Record<string, string | undefined> = {}
  private readonly chunks: Array<Buffer> = []
  private size = 0
  private readonly timer: ReturnType<typeof setTimeout>

  constructor(
    private readonly options: PostJsonOptions,
    private readonly then: (exchange: Exchange) => Effect.Effect<A, E>,
    private readonly resume: (outcome: Effect.Effect<A, E | AuthleteTransportError>) => void
  ) {
    this.timer = setTimeout(() => {
      this.settle(Effect.fail(timeoutError(options.timeoutMillis)))
      this.stop()
    }, options.timeoutMillis)
  }

  private settle(outcome: Effect.Effect<A, E | AuthleteTransportError>) {
    if (this.settled) return
    this.settled = true
    clearTimeout(this.timer)
    this.resume(outcome)
  }

  private stop() {
    if (this.controller !== undefined && !this.controller.aborted) this.controller.abort(STOPPED)
  }

  private tooLarge() {
    this.settle(this.then({ status: this.status, headers: this.headers, body: { text: "", tooLarge: true } }))
    this.stop()
  }

  failed(error: unknown) {
    this.settle(Effect.fail(
      new AuthleteTransportError({
        reason: Http.transportFailureReason(error),
        message: `The request failed: ${Http.scrubSecrets(Http.errorText(error), this.options.secrets())}`
      })
    ))
  }

  onRequestStart(controller: Dispatcher.DispatchController) {
    this.controller = controller
    // Timed out while queued for a connection: it goes no further.
    if (this.settled) this.stop()
  }

  onResponseStart(_: Dispatcher.DispatchController, statusCode: number, headers: Dispatcher.ResponseData["headers"]) {
    if (statusCode < 200) return
    this.status = statusCode
    this.headers = flatHeaders(headers)
    const declared = this.headers["content-length"]
    if (declared !== undefined && Number(declared) > this.options.maxBytes) this.tooLarge()
  }

  onResponseData(_: Dispatcher.DispatchController, chunk: Buffer) {
    if (this.settled) return
    this.size += chunk.length
    if (this.size > this.options.maxBytes) return this.tooLarge()
    this.chunks.push(chunk)
  }

  onResponseEnd() {
    const { chunks } = this
    const text = chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks).toString("utf8")
    this.settle(this.then({ status: this.status, headers: this.headers, body: { text, tooLarge: false } }))
  }

  onResponseError(_: Dispatcher.DispatchController, error: Error) {
    this.failed(error)
  }
}

/**
 * One JSON POST on undici's dispatcher directly: no `AbortSignal` (it costs a third of the
 * throughput), no body stream; the handler collects the body under the cap, and the deadline aborts
 * through the dispatch controller.
 */
const postJsonWith = (dispatcher: Dispatcher): PostJson => (url, headers, body, options, then) =>
  Effect.async((resume) => {
    const exchange = new JsonExchange(options, then, resume)
    const { origin, path } = targetOf(url)
    try {
      dispatcher.dispatch({ origin, path, method: "POST", headers, body }, exchange)
    } catch (error) {
      exchange.failed(error)
    }
    // No canceler: registering one costs Effect about 8 µs a call. An interrupted call's request,
    // already on its way, ends at its answer or at the deadline (which aborts it), and is ignored.
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
