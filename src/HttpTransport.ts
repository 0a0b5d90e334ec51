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
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as NodeDns from "node:dns"
import type { AuthleteTransportError } from "./AuthleteError.js"
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

/** Reads a body counting the bytes as the client delivers them (decoded, with fetch), stopping past the cap. */
const readCapped = (response: HttpClientResponse.HttpClientResponse, maxBytes: number) => {
  const declared = response.headers["content-length"]
  if (declared !== undefined && Number(declared) > maxBytes) {
    // Open the stream and close it at once: its finaliser cancels the body, and the connection with it.
    return Effect.as(Effect.ignore(Stream.runHead(response.stream)), undefined)
  }
  return response.stream.pipe(
    Stream.runFoldWhile(
      { chunks: Chunk.empty<Uint8Array>(), size: 0 },
      (acc) => acc.size <= maxBytes,
      (acc, chunk) => ({ chunks: Chunk.append(acc.chunks, chunk), size: acc.size + chunk.length })
    ),
    Effect.map(({ chunks, size }) => size > maxBytes ? undefined : utf8(chunks, size)),
    // fetch gives a 204 no body at all; that is an empty body, not an error.
    Effect.catchIf(
      (error) => error._tag === "ResponseError" && error.reason === "EmptyBody",
      () => Effect.succeed("")
    )
  )
}

const decoder = new TextDecoder()

const utf8 = (chunks: Chunk.Chunk<Uint8Array>, size: number): string => {
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return decoder.decode(bytes)
}

/**
 * fetch follows redirects unless told not to, and a followed redirect would carry the credentials to
 * another host: ask for the redirect itself (other clients never follow, and ignore this setting).
 */
const withoutRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(
    Effect.serviceOption(FetchHttpClient.RequestInit),
    (init) =>
      Effect.provideService(effect, FetchHttpClient.RequestInit, {
        ...Option.getOrElse(init, () => ({})),
        redirect: "manual"
      })
  )

type Lookup = (hostname: string) => Promise<ReadonlyArray<string>>

/**
 * The addresses a DNS name resolves to, where the runtime can tell: Node's `dns`, taken with
 * `process.getBuiltinModule` (no import, so the root entry loads anywhere).
 */
const resolverOf = (): Lookup | undefined => {
  const builtin = typeof process === "object"
    ? (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule
    : undefined
  const dns = builtin?.("node:dns") as typeof NodeDns | undefined
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
  // No trace context for a third party, and no transport span: it would keep the failed request,
  // Authorization header included, in its exit.
  const quiet = client.pipe(HttpClient.withTracerPropagation(false), HttpClient.withTracerDisabledWhen(() => true))
  const send = (request: HttpTransportRequest): Effect.Effect<HttpTransportResponse, AuthleteTransportError> =>
    Effect.suspend(() => {
      const url = new URL(request.url)
      const refused = Transport.refusal(request, url)
      if (refused !== undefined) return Effect.fail(refused)
      const headers = { "accept-encoding": "identity", ...request.headers }
      const outgoing = request.method === "GET"
        ? HttpClientRequest.get(url, { headers })
        : HttpClientRequest.bodyText(HttpClientRequest.post(url, { headers }), request.body ?? "", "application/json")
      const exchange = Effect.flatMap(
        withoutRedirects(quiet.execute(outgoing)),
        (response) =>
          Effect.map(
            readCapped(response, request.maxResponseBytes),
            (body): HttpTransportResponse => ({ status: response.status, headers: response.headers, body })
          )
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
      return Transport.withDeadline(
        request.destination === undefined ? exchange : Effect.zipRight(
          checkResolved(request, url, request.destination),
          exchange
        ),
        request.timeoutMillis,
        () => Transport.timeoutFailure(request.timeoutMillis)
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
