/**
 * How this library moves its requests: to Authlete (`AuthleteClient`) and to clients' notification
 * endpoints (`ClientNotifier`). Both services take it from the context, so the application chooses
 * it once, where its layers say so: `HttpTransport.layer` over any `@effect/platform` `HttpClient`
 * (portable), or `UndiciTransport.layer` from `effect-authlete/undici` (Node, faster: see the README's Performance).
 *
 * Every transport keeps the same promises: redirects are never followed; one deadline covers the
 * whole exchange, reading the answer included; at most `maxResponseBytes` of the answer, as decoded,
 * are read; a request whose header values HTTP cannot carry, or (for client-chosen URLs) whose
 * destination is a loopback or private address, is not sent; an interrupted request is aborted at
 * once; failures are `AuthleteTransportError`s whose text shows no header value or secret.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as FiberId from "effect/FiberId"
import * as FiberRefs from "effect/FiberRefs"
import { constTrue } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as NodeDns from "node:dns"
import type { AuthleteTransportError } from "./AuthleteError.js"
import { type DeadlineFiberOptions, Deadlines, withDeadline } from "./internal/deadlines.js"
import { nodeBuiltin } from "./internal/nodeBuiltin.js"
import * as Transport from "./internal/transport.js"

/**
 * Where a client-chosen URL may lead (loopback and private addresses are refused unless allowed).
 *
 * @since 0.1.0
 * @category models
 */
export type DestinationPolicy = Transport.DestinationPolicy

/**
 * One request.
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpTransportRequest {
  readonly method: "GET" | "POST"
  /** Absolute. */
  readonly url: string
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  /** JSON text for a POST. */
  readonly body?: string | undefined
  /** The whole exchange, reading the answer included. */
  readonly timeoutMillis: number
  /** The most bytes of the answer read, as decoded; a larger answer comes back with `body: undefined`. */
  readonly maxResponseBytes: number
  /** For URLs someone else chose (a client's notification endpoint): the addresses it may lead to. */
  readonly destination?: DestinationPolicy | undefined
  /** Values an error's text must not show, besides the header values (which it never shows). */
  readonly secrets?: ReadonlyArray<string> | undefined
}

/**
 * A complete answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpTransportResponse {
  readonly status: number
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string | undefined>>
  /** The body as UTF-8 text, or `undefined` when it was larger than `maxResponseBytes` (the rest was not read). */
  readonly body: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface HttpTransportService {
  readonly send: (request: HttpTransportRequest) => Effect.Effect<HttpTransportResponse, AuthleteTransportError>
}

// ------------------------------------------------------------------------------ the portable path

const decoder = new TextDecoder()

const isIdentity = (encoding: string | undefined): boolean => {
  if (encoding === undefined) return true
  const value = encoding.trim().toLowerCase()
  return value === "" || value === "identity"
}

/**
 * Reads an answer's body, at most `maxBytes` of it as the client delivers it (decoded, with fetch):
 * `undefined` when it is larger, the rest unread.
 *
 * - `Content-Length` above the cap: nothing is read (the stream is opened and closed at once: its
 *   finaliser cancels the body, and the connection with it).
 * - `Content-Length` within the cap and no content encoding: the body is read whole, in one step
 *   (`arrayBuffer`). HTTP frames such a body by its length, so no more than the cap can come; its
 *   size is checked again all the same.
 * - Otherwise (no length, or a compressed body, whose decoded size its length does not bound): the
 *   body is streamed, counting the bytes, and the stream stops (cancelling the rest) past the cap.
 */
const readCapped = (
  response: HttpClientResponse.HttpClientResponse,
  headers: Headers.Headers,
  maxBytes: number
): Effect.Effect<string | undefined, HttpClientError.ResponseError> => {
  const declared = headers["content-length"]
  if (declared !== undefined) {
    const length = Number(declared)
    if (length > maxBytes) return Effect.as(Effect.ignore(Stream.runHead(response.stream)), undefined)
    if (Number.isSafeInteger(length) && length >= 0 && isIdentity(headers["content-encoding"])) {
      return Effect.map(
        response.arrayBuffer,
        (buffer) => buffer.byteLength > maxBytes ? undefined : decoder.decode(buffer)
      )
    }
  }
  return readStreamed(response, maxBytes)
}

const readStreamed = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number
): Effect.Effect<string | undefined, HttpClientError.ResponseError> =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    return response.stream.pipe(
      Stream.runForEachWhile((chunk) => {
        size += chunk.length
        if (size > maxBytes) return Effect.succeed(false)
        chunks.push(chunk)
        return Effect.succeed(true)
      }),
      Effect.map(() => size > maxBytes ? undefined : decoder.decode(concat(chunks, size))),
      // fetch gives a 204 no body at all; that is an empty body, not an error.
      Effect.catchIf(
        (error) => error.reason === "EmptyBody",
        () => Effect.succeed("")
      )
    )
  })

const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return bytes
}

/**
 * fetch follows redirects unless told not to, and a followed redirect would carry the credentials to
 * another host: ask for the redirect itself (other clients never follow, and ignore this setting).
 * Applied to the context the exchange's fiber starts with.
 */
const MANUAL_REDIRECTS: globalThis.RequestInit = { redirect: "manual" }

// A caller's context, with redirects turned off: most calls come with the same (immutable) context.
const redirectFree = new WeakMap<Context.Context<never>, Context.Context<never>>()

const withoutRedirects = <R>(context: Context.Context<R>): Context.Context<R> => {
  let out = redirectFree.get(context as Context.Context<never>)
  if (out === undefined) {
    const init = Context.getOption(context, FetchHttpClient.RequestInit)
    out = Context.add(
      context as Context.Context<never>,
      FetchHttpClient.RequestInit,
      Option.isNone(init) ? MANUAL_REDIRECTS : { ...init.value, redirect: "manual" }
    )
    redirectFree.set(context as Context.Context<never>, out)
  }
  return out as Context.Context<R>
}

/**
 * No trace context for a third party, and no transport span: it would keep the failed request,
 * Authorization header included, in its exit. Set in the exchange's fiber (what
 * `HttpClient.withTracerPropagation(false)` and `withTracerDisabledWhen` set around each request).
 */
const quiet = (refs: FiberRefs.FiberRefs, fiberId: FiberId.Runtime): FiberRefs.FiberRefs =>
  FiberRefs.updateManyAs(refs, {
    entries: [
      [HttpClient.currentTracerDisabledWhen, [[fiberId, constTrue]]],
      [HttpClient.currentTracerPropagation, [[fiberId, false]]]
    ]
  })

const exchangeFiber: DeadlineFiberOptions<never> = { context: withoutRedirects, updateRefs: quiet }

// The outgoing headers of a frozen header object (a service sends the same few on every request).
const outgoingHeaders = new WeakMap<object, Headers.Headers>()

const headersOf = (headers: Readonly<Record<string, string>>): Headers.Headers => {
  let out = outgoingHeaders.get(headers)
  if (out === undefined) {
    out = Headers.fromInput({ "accept-encoding": "identity", ...headers })
    if (Object.isFrozen(headers)) outgoingHeaders.set(headers, out)
  }
  return out
}

type Lookup = (hostname: string) => Promise<ReadonlyArray<string>>

/**
 * The addresses a DNS name resolves to, where the runtime can tell: Node's `dns`, taken with
 * `process.getBuiltinModule` (no import, so the root entry loads anywhere).
 */
const resolverOf = (): Lookup | undefined => {
  const dns = nodeBuiltin<typeof NodeDns>("node:dns")
  if (dns === undefined) return undefined
  return (hostname) =>
    dns.promises.lookup(hostname, { all: true, verbatim: true }).then((all) => all.map((entry) => entry.address))
}

/**
 * The portable path cannot see which address its `HttpClient` connects to, so a client-chosen DNS
 * name is resolved just before the request and refused when any address is not allowed. A name that
 * cannot be checked (the lookup failed, or found no address) is refused too, with the failure the
 * undici transport gives when its lookup fails. (The undici transport judges the address it actually
 * connects to, which no DNS change can get around.)
 */
const checkResolved = (
  request: HttpTransportRequest,
  url: URL,
  policy: DestinationPolicy
): Effect.Effect<void, AuthleteTransportError> => {
  if (Transport.addressClass(url.hostname) !== undefined) return Effect.void
  const resolve = resolverOf()
  if (resolve === undefined) {
    return Effect.fail(Transport.forbiddenAddress(url.host, "a DNS name this runtime cannot resolve to check it"))
  }
  const unchecked = (cause: unknown) =>
    Transport.failureOf(
      cause,
      request.headers,
      request.secrets,
      "The request was not sent: its destination's lookup failed"
    )
  return Effect.flatMap(
    Effect.tryPromise({ try: () => resolve(url.hostname), catch: unchecked }),
    (addresses) => {
      if (addresses.length === 0) {
        return Effect.fail(unchecked(Object.assign(new Error(`${url.hostname} has no address`), { code: "ENOTFOUND" })))
      }
      for (const address of addresses) {
        const why = Transport.addressRefusal(address, policy)
        if (why !== undefined) return Effect.fail(Transport.forbiddenAddress(url.host, why))
      }
      return Effect.void
    }
  )
}

/**
 * A transport over any `@effect/platform` `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (client: HttpClient.HttpClient): HttpTransportService => {
  const deadlines = new Deadlines()
  const send = (request: HttpTransportRequest): Effect.Effect<HttpTransportResponse, AuthleteTransportError> =>
    Effect.suspend(() => {
      const url = new URL(request.url)
      const refused = Transport.refusal(request, url)
      if (refused !== undefined) return Effect.fail(refused)
      const headers = headersOf(request.headers)
      // The URL as text: the platform parses it once more, as it does for any request.
      const outgoing = request.method === "GET"
        ? HttpClientRequest.get(request.url, { headers })
        : HttpClientRequest.post(request.url, {
          headers,
          body: HttpBody.text(request.body ?? "", "application/json")
        })
      const exchange = Effect.flatMap(
        client.execute(outgoing),
        (response) => {
          const answered = response.headers
          return Effect.map(
            readCapped(response, answered, request.maxResponseBytes),
            (body): HttpTransportResponse => ({ status: response.status, headers: answered, body })
          )
        }
      ).pipe(
        Effect.catchAll((error: HttpClientError.HttpClientError) =>
          Effect.fail(
            Transport.failureOf(
              error.cause,
              request.headers,
              request.secrets,
              error._tag === "RequestError" ? "The request failed" : "The answer broke off"
            )
          )
        )
      )
      // The deadline covers the lookup too: a resolver that never answers is a timeout, as on undici.
      return withDeadline(
        request.destination === undefined ? exchange : Effect.zipRight(
          checkResolved(request, url, request.destination),
          exchange
        ),
        request.timeoutMillis,
        () => Transport.timeoutFailure(request.timeoutMillis),
        deadlines,
        exchangeFiber
      )
    })
  return { send }
}

/**
 * The tag of the transport.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { AuthleteClient, HttpTransport } from "effect-authlete"
 * import { UndiciTransport } from "effect-authlete/undici"
 *
 * declare const options: AuthleteClient.AuthleteClientOptions
 *
 * // Portable: over @effect/platform's fetch client.
 * const Live = AuthleteClient.layer(options).pipe(Layer.provide(HttpTransport.layerFetch))
 * // On Node: effect-authlete/undici.
 * const Fast = AuthleteClient.layer(options).pipe(Layer.provide(UndiciTransport.layer))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class HttpTransport extends Context.Tag("effect-authlete/HttpTransport")<
  HttpTransport,
  HttpTransportService
>() {}

/**
 * Over the application's `HttpClient` (`FetchHttpClient`, `NodeHttpClient`, ...).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpTransport, never, HttpClient.HttpClient> = Layer.effect(
  HttpTransport,
  Effect.map(HttpClient.HttpClient, make)
)

/**
 * `layer`, with the application's `HttpClient` adjusted first (proxies, extra headers, logging).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: {
  readonly transformClient: (client: HttpClient.HttpClient) => HttpClient.HttpClient
}): Layer.Layer<HttpTransport, never, HttpClient.HttpClient> =>
  Layer.effect(HttpTransport, Effect.map(HttpClient.HttpClient, (client) => make(options.transformClient(client))))

/**
 * `layer` over `@effect/platform`'s `FetchHttpClient`: works wherever `fetch` does.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFetch: Layer.Layer<HttpTransport> = layer.pipe(
  Layer.provide(FetchHttpClient.layer)
)
