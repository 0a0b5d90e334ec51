/**
 * What `serve` shows an operator, as layers around its program: log lines in the format asked for
 * (with the trace id of the span they were written in), the library's metrics in Prometheus text
 * format on their own port, and traces and metrics over OTLP/HTTP. The OpenTelemetry packages are
 * loaded only when a flag asks for them.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { hostname } from "node:os"
import { importPeer, type MissingPeerError, type OptionalPeer } from "../../internal/peers.js"

const SERVICE_NAME = "effect-authlete"

/** The Prometheus endpoint's packages: Effect's bridge to OpenTelemetry and the exporter. */
const PROMETHEUS_PEERS: ReadonlyArray<OptionalPeer> = [
  "@effect/opentelemetry",
  "@opentelemetry/exporter-prometheus",
  "@opentelemetry/sdk-metrics"
]

/** A logger that adds `trace_id` and `span_id` to every line written inside a span. */
const withTraceIds = <Output>(logger: Logger.Logger<unknown, Output>): Logger.Logger<unknown, Output> =>
  Logger.mapInputOptions(logger, (options) => {
    const span = Context.getOption(
      FiberRefs.getOrDefault(options.context, FiberRef.currentContext),
      Tracer.ParentSpan
    )
    if (Option.isNone(span)) return options
    return {
      ...options,
      annotations: HashMap.set(
        HashMap.set(options.annotations, "trace_id", span.value.traceId),
        "span_id",
        span.value.spanId
      )
    }
  })

const LEVELS = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error
} as const

/** Every log line in one format, on stderr (stdout holds only what the command prints). */
export const loggerLayer = (
  format: "pretty" | "json" | "logfmt",
  level: "debug" | "info" | "warning" | "error" = "info"
): Layer.Layer<never> => {
  const logger = format === "pretty"
    ? withTraceIds(Logger.prettyLogger({ stderr: true }))
    : Logger.withConsoleError(withTraceIds(format === "json" ? Logger.jsonLogger : Logger.logfmtLogger))
  // The only logger: it replaces whichever the command line installed before the flags were read.
  return Layer.merge(
    Layer.locallyScoped(FiberRef.currentLoggers, HashSet.make<Array<Logger.Logger<unknown, any>>>(logger)),
    Logger.minimumLogLevel(LEVELS[level])
  )
}

/** Where the metrics are served: the address bound, for the startup line and for tests. */
export interface MetricsEndpoint {
  readonly url: string
}

/**
 * The library's metrics (Effect's `Metric` registry, through `@effect/opentelemetry`) in Prometheus
 * text format at `path` on their own HTTP server: a scrape never queues behind CIBA traffic, and
 * the port can stay inside the cluster's network.
 */
export const prometheusLayer = (options: {
  readonly host: string
  readonly port: number
  readonly path: string
}): Effect.Effect<MetricsEndpoint, Error | MissingPeerError, Scope.Scope> =>
  Effect.gen(function*() {
    const [{ PrometheusExporter }, Metrics, Resource] = yield* importPeer(PROMETHEUS_PEERS, () =>
      Promise.all([
        import("@opentelemetry/exporter-prometheus"),
        import("@effect/opentelemetry/Metrics"),
        import("@effect/opentelemetry/Resource")
      ]))
    const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true })
    yield* Layer.buildWithScope(
      Metrics.layer(() => exporter).pipe(Layer.provide(Resource.layer({ serviceName: SERVICE_NAME }))),
      yield* Effect.scope
    )
    const server = Http.createServer((request, response) => {
      if (request.method === "GET" && new URL(request.url ?? "/", "http://metrics").pathname === options.path) {
        exporter.getMetricsRequestHandler(request, response)
        return
      }
      response.writeHead(404, { "content-type": "text/plain" }).end("Not found\n")
    })
    const address = yield* Effect.acquireRelease(
      Effect.async<AddressInfo, Error>((resume) => {
        server.once("error", (error) =>
          resume(Effect.fail(
            (error as NodeJS.ErrnoException).code === "EADDRINUSE"
              ? new Error(`--metrics-port ${options.port} is in use`)
              : error
          )))
        server.listen(options.port, options.host, () => resume(Effect.succeed(server.address() as AddressInfo)))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
        })
    )
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address
    return { url: `http://${host}:${address.port}${options.path}` }
  })

/**
 * Traces and metrics over OTLP/HTTP with JSON bodies, to `${endpoint}/v1/traces` and
 * `${endpoint}/v1/metrics` (the OpenTelemetry SDKs' convention for `OTEL_EXPORTER_OTLP_ENDPOINT`).
 * Spans are sent every second; the exporter's own requests are not traced.
 */
export const otlpLayer = (endpoint: string): Layer.Layer<never, MissingPeerError> =>
  Layer.unwrapEffect(Effect.map(
    importPeer(["@effect/opentelemetry"], () =>
      Promise.all([
        import("@effect/opentelemetry/OtlpTracer"),
        import("@effect/opentelemetry/OtlpMetrics"),
        import("@effect/opentelemetry/OtlpSerialization")
      ])),
    ([OtlpTracer, OtlpMetrics, OtlpSerialization]) => {
      const base = endpoint.replace(/\/+$/, "")
      // Each node is one instance of the service: a trace that crosses nodes shows which did what.
      const resource = {
        serviceName: SERVICE_NAME,
        attributes: { "service.instance.id": `${hostname()}/${process.pid}` }
      }
      return Layer.merge(
        OtlpTracer.layer({ url: `${base}/v1/traces`, resource, exportInterval: "1 second" }),
        OtlpMetrics.layer({ url: `${base}/v1/metrics`, resource, exportInterval: "10 seconds" })
      ).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(FetchHttpClient.layer))
    }
  ))
