/**
 * An OTLP/HTTP receiver on 127.0.0.1 for JSON bodies (the OpenTelemetry protocol's JSON encoding, as
 * a collector's `otlphttp` receiver takes it): it answers 200 `{}` to `POST /v1/traces` and
 * `/v1/metrics`, keeps every span and every body as it came, and refuses anything else with 404.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly attributes?: ReadonlyArray<{ readonly key: string; readonly value: Record<string, unknown> }>
  readonly status?: { readonly code?: number }
  /** The `service.instance.id` of the resource that sent it (added here). */
  readonly instance?: string
}

export interface OtlpReceiver {
  readonly url: string
  readonly spans: Array<ReceivedSpan>
  /** Every request body, as text, in arrival order (for searching them for secrets). */
  readonly bodies: Array<string>
  /** The names of the metrics received so far. */
  readonly metricNames: Set<string>
  readonly close: () => Promise<void>
}

interface TracesBody {
  readonly resourceSpans?: ReadonlyArray<{
    readonly resource?: {
      readonly attributes?: ReadonlyArray<{ readonly key: string; readonly value: { readonly stringValue?: string } }>
    }
    readonly scopeSpans?: ReadonlyArray<{ readonly spans?: ReadonlyArray<ReceivedSpan> }>
  }>
}

interface MetricsBody {
  readonly resourceMetrics?: ReadonlyArray<{
    readonly scopeMetrics?: ReadonlyArray<{ readonly metrics?: ReadonlyArray<{ readonly name: string }> }>
  }>
}

export const otlpReceiver = (): Promise<OtlpReceiver> =>
  new Promise((resolve) => {
    const spans: Array<ReceivedSpan> = []
    const bodies: Array<string> = []
    const metricNames = new Set<string>()
    const server = Http.createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        if (request.method !== "POST" || (request.url !== "/v1/traces" && request.url !== "/v1/metrics")) {
          response.writeHead(404).end()
          return
        }
        bodies.push(text)
        if (request.url === "/v1/traces") {
          const body = JSON.parse(text) as TracesBody
          for (const resource of body.resourceSpans ?? []) {
            const instance = resource.resource?.attributes?.find((attribute) => attribute.key === "service.instance.id")
              ?.value.stringValue
            for (const scope of resource.scopeSpans ?? []) {
              for (const span of scope.spans ?? []) spans.push(instance === undefined ? span : { ...span, instance })
            }
          }
        } else {
          const body = JSON.parse(text) as MetricsBody
          for (const resource of body.resourceMetrics ?? []) {
            for (const scope of resource.scopeMetrics ?? []) {
              for (const metric of scope.metrics ?? []) metricNames.add(metric.name)
            }
          }
        }
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        spans,
        bodies,
        metricNames,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })

/** The value of a Prometheus text series (`name{label="value",...}`), summed over the series that match. */
export const seriesValue = (text: string, name: string, labels: Record<string, string> = {}): number => {
  let total = 0
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const found = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]])
    )
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) total += Number(match[3])
  }
  return total
}

/** The spans received, by trace id. */
export const traces = (spans: ReadonlyArray<ReceivedSpan>): Array<Array<ReceivedSpan>> => {
  const byTrace = new Map<string, Array<ReceivedSpan>>()
  for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span])
  return [...byTrace.values()]
}

/**
 * Whether a trace has arrived whole: one root, and every other span's parent in it (the nodes export
 * their spans each on its own schedule, so a trace may arrive in parts).
 */
export const isWhole = (spans: ReadonlyArray<ReceivedSpan>): boolean => {
  const ids = new Set(spans.map((span) => span.spanId))
  const roots = spans.filter((span) => span.parentSpanId === undefined || span.parentSpanId === "")
  return roots.length === 1 && spans.every((span) => span === roots[0] || ids.has(span.parentSpanId!))
}
