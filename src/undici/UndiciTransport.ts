/**
 * The `HttpTransport` this library recommends on Node: undici's dispatcher directly, with keep-alive
 * connection pools. One handler object per request collects the answer under the cap (decompressing
 * it, if the server compressed it anyway, under the same cap), one timer keeps the deadlines of the
 * requests in flight, and an interrupted caller's request is aborted (a request still waiting for a
 * connection is never sent).
 * A client-chosen URL is judged on the addresses the connection is actually made to.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Dns from "node:dns"
import type { LookupAddress, LookupOptions } from "node:dns"
import * as Tls from "node:tls"
import * as Zlib from "node:zlib"
import { Agent, type Dispatcher } from "undici"
import type { AuthleteTransportError } from "../AuthleteError.js"
import * as HttpTransport from "../HttpTransport.js"
import { Deadlines, type Expiring } from "../internal/deadlines.js"
import * as Transport from "../internal/transport.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface UndiciTransportOptions {
  /** Connections per origin; default unlimited. */
  readonly connections?: number | undefined
  /** How long an idle connection is kept, in milliseconds; default 4 seconds (undici's). */
  readonly keepAliveTimeout?: number | undefined
  /**
   * Certificate authorities (PEM) trusted besides Node's own, for HTTPS destinations with a private
   * CA (the FAPI playground's notification endpoints, a test's). Default: Node's alone.
   */
  readonly extraCaCertificates?: ReadonlyArray<string> | undefined
}

/** Header values as one string each (undici gives arrays for repeated headers). */
const flatHeaders = (
  headers: Record<string, string | Array<string> | undefined>
): Record<string, string | undefined> => {
  const out: Record<string, string | undefined> = {}
  for (const name in headers) {
    const value = headers[name]
    out[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

interface Target {
  readonly url: URL
  readonly origin: string
  readonly path: string
}

/** The few URLs a service sends to, parsed once each. */
const targets = new Map<string, Target>()
const targetOf = (href: string): Target => {
  let target = targets.get(href)
  if (target === undefined) {
    const url = new URL(href)
    target = { url, origin: url.origin, path: url.pathname + url.search }
    if (targets.size < 1024) targets.set(href, target)
  }
  return target
}

// Why a request was aborted from here; its outcome is settled by then.
const STOPPED = new Error("effect-authlete stopped the request")

type Resume = (outcome: Effect.Effect<HttpTransport.HttpTransportResponse, AuthleteTransportError>) => void

/** Decodes a compressed answer under the cap; `undefined` when it is larger. */
const decompress = (encoding: string, bytes: Buffer, maxBytes: number): Buffer | undefined => {
  const options = { maxOutputLength: maxBytes + 1 }
  let out: Buffer
  try {
    switch (encoding) {
      case "gzip":
      case "x-gzip":
        out = Zlib.gunzipSync(bytes, options)
        break
      case "deflate":
        out = Zlib.inflateSync(bytes, options)
        break
      case "br":
        out = Zlib.brotliDecompressSync(bytes, options)
        break
      default:
        throw new Error(`the answer's content-encoding ${JSON.stringify(encoding)} is not supported`)
    }
  } catch (error) {
    if (error instanceof RangeError) return undefined
    throw error
  }
  return out.length > maxBytes ? undefined : out
}

/**
 * One exchange: collects the answer and settles once, with the answer, a failure, or the deadline.
 * A class rather than closures: one allocation per request on the hot path.
 */
class Exchange implements Dispatcher.DispatchHandler, Expiring {
  private controller: Dispatcher.DispatchController | undefined = undefined
  private settled = false
  private status = 0
  private headers: Record<string, string | undefined> = {}
  private readonly chunks: Array<Buffer> = []
  private size = 0
  private tooLarge = false
  deadlineAt = 0
  previous: Expiring | undefined = undefined
  next: Expiring | undefined = undefined
  queue: Expiring["queue"] = undefined
  ownTimer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(
    private readonly request: HttpTransport.HttpTransportRequest,
    private readonly resume: Resume,
    private readonly fiber: Fiber.RuntimeFiber<unknown, unknown>,
    private readonly deadlines: Deadlines
  ) {
    deadlines.add(this, request.timeoutMillis)
    fiber.addObserver(this.abandoned)
  }

  readonly expire = () => {
    this.settle(Effect.fail(Transport.timeoutFailure(this.request.timeoutMillis)))
    this.stop()
  }

  /**
   * The caller's fiber ended before the answer (it was interrupted): nothing more is read, and a
   * request not yet written never will be. (An observer of the fiber rather than a canceler: a
   * canceler costs Effect an `onInterrupt` around every call, several µs.)
   */
  private readonly abandoned = () => {
    if (this.settled) return
    this.settled = true
    this.deadlines.remove(this)
    this.stop()
  }

  private settle(outcome: Effect.Effect<HttpTransport.HttpTransportResponse, AuthleteTransportError>) {
    if (this.settled) return
    this.settled = true
    this.deadlines.remove(this)
    this.fiber.removeObserver(this.abandoned)
    this.resume(outcome)
  }

  /** Whether the caller was interrupted while this request waited (its fiber may not have ended yet). */
  private interrupted(): boolean {
    return !Cause.isEmpty(this.fiber.getFiberRef(FiberRef.interruptedCause))
  }

  private stop() {
    if (this.controller !== undefined && !this.controller.aborted) this.controller.abort(STOPPED)
  }

  private answer(body: string | undefined) {
    this.settle(Effect.succeed({ status: this.status, headers: this.headers, body }))
  }

  failed(error: unknown) {
    this.settle(Effect.fail(Transport.failureOf(error, this.request.headers, this.request.secrets)))
  }

  onRequestStart(controller: Dispatcher.DispatchController) {
    this.controller = controller
    // Timed out or interrupted while waiting for a connection: it goes no further.
    if (this.settled) this.stop()
    else if (this.interrupted()) this.abandoned()
  }

  onResponseStart(
    _: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | Array<string> | undefined>
  ) {
    if (statusCode < 200) return
    this.status = statusCode
    this.headers = flatHeaders(headers)
    const declared = this.headers["content-length"]
    if (declared !== undefined && Number(declared) > this.request.maxResponseBytes) this.cut()
  }

  /** Past the cap: the answer is what it is without its body, and the rest is not read. */
  private cut() {
    this.tooLarge = true
    this.answer(undefined)
    this.stop()
  }

  onResponseData(_: Dispatcher.DispatchController, chunk: Buffer) {
    if (this.settled) return
    this.size += chunk.length
    if (this.size > this.request.maxResponseBytes) return this.cut()
    this.chunks.push(chunk)
  }

  onResponseEnd() {
    if (this.settled || this.tooLarge) return
    const { chunks } = this
    let bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
    const encoding = this.headers["content-encoding"]?.trim().toLowerCase()
    if (encoding !== undefined && encoding !== "" && encoding !== "identity") {
      try {
        const decoded = decompress(encoding, bytes, this.request.maxResponseBytes)
        if (decoded === undefined) return this.answer(undefined)
        bytes = decoded
      } catch (error) {
        return this.failed(error)
      }
    }
    this.answer(bytes.toString("utf8"))
  }

  onResponseError(_: Dispatcher.DispatchController, error: Error) {
    this.failed(error)
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | Array<LookupAddress>,
  family?: number
) => void

/** A DNS lookup that refuses, before connecting, a name leading to an address the policy refuses. */
const guardedLookup =
  (policy: Transport.DestinationPolicy) => (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    Dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) return callback(error, [])
      for (const { address } of addresses) {
        const why = Transport.addressRefusal(address, policy)
        if (why !== undefined) {
          const refused: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${why}`)
          refused.code = Transport.FORBIDDEN_ADDRESS_CODE
          return callback(refused, [])
        }
      }
      if (options.all === true) return callback(null, addresses)
      const [first] = addresses
      if (first === undefined) {
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), [])
      }
      callback(null, first.address, first.family)
    })
  }

/**
 * A transport over undici agents: one for requests to where the application pointed the services,
 * and one per destination policy for client-chosen URLs (its connections check every address).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  agentFor: (policy: Transport.DestinationPolicy | undefined) => Dispatcher
): HttpTransport.HttpTransportService => {
  const deadlines = new Deadlines()
  const send = (request: HttpTransport.HttpTransportRequest) =>
    Effect.withFiberRuntime<HttpTransport.HttpTransportResponse, AuthleteTransportError>((fiber) =>
      Effect.async((resume) => {
        let target: Target
        try {
          target = targetOf(request.url)
        } catch {
          return resume(
            Effect.fail(Transport.failureOf(new Error("the URL is not absolute"), {}, [], "The request was not sent"))
          )
        }
        const refused = Transport.refusal(request, target.url)
        if (refused !== undefined) return resume(Effect.fail(refused))
        const exchange = new Exchange(request, resume, fiber, deadlines)
        try {
          agentFor(request.destination).dispatch({
            origin: target.origin,
            path: target.path,
            method: request.method,
            headers: request.headers,
            body: request.body ?? null
          }, exchange)
        } catch (error) {
          exchange.failed(error)
        }
      })
    )
  return { send }
}

/**
 * A transport with its own keep-alive connection pools, closed with the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: UndiciTransportOptions = {}): Layer.Layer<HttpTransport.HttpTransport> =>
  Layer.scoped(
    HttpTransport.HttpTransport,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => {
          const common = {
            ...(options.connections === undefined ? {} : { connections: options.connections }),
            ...(options.keepAliveTimeout === undefined ? {} : { keepAliveTimeout: options.keepAliveTimeout })
          }
          // Node's `ca` replaces its roots: the extra ones are added to them.
          const ca = options.extraCaCertificates === undefined || options.extraCaCertificates.length === 0
            ? {}
            : { ca: [...Tls.rootCertificates, ...options.extraCaCertificates] }
          const open = new Agent({ ...common, connect: ca })
          const guarded = new Map<string, Agent>()
          const agentFor = (policy: Transport.DestinationPolicy | undefined): Dispatcher => {
            if (policy === undefined) return open
            const key = `${policy.allowLoopback}/${policy.allowPrivate}`
            let agent = guarded.get(key)
            if (agent === undefined) {
              agent = new Agent({ ...common, connect: { ...ca, lookup: guardedLookup(policy) } })
              guarded.set(key, agent)
            }
            return agent
          }
          return { agentFor, all: () => [open, ...guarded.values()] }
        }),
        ({ all }) => Effect.promise(() => Promise.all(all().map((agent) => agent.destroy())))
      ),
      ({ agentFor }) => make(agentFor)
    )
  )

/**
 * `layerWith()`: undici's defaults.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpTransport.HttpTransport> = layerWith()
