/**
 * `serve`'s flags for operators: health paths, the Prometheus endpoint, OTLP export, the log format
 * and how long finished flows are kept. Read here into plain values; `observability` turns them
 * into layers. Nothing here loads at `--help`.
 */
import type { Flag } from "./commands.js"

export const OPERATIONS_FLAGS = [
  {
    name: "health-live-path",
    type: "string",
    default: "/health/live",
    value: "PATH",
    description: "Where the liveness check answers (200 while the process serves)"
  },
  {
    name: "health-ready-path",
    type: "string",
    default: "/health/ready",
    value: "PATH",
    description: "Where the readiness check answers (database, cluster share, Authlete; 200 or 503)"
  },
  {
    name: "metrics-port",
    type: "integer",
    min: 0,
    max: 65_535,
    value: "PORT",
    description: "Serve the metrics in Prometheus text format on this port (0: any free one)"
  },
  {
    name: "metrics-host",
    type: "string",
    default: "127.0.0.1",
    value: "ADDRESS",
    description: "The address the metrics port listens on"
  },
  {
    name: "metrics-path",
    type: "string",
    default: "/metrics",
    value: "PATH",
    description: "The metrics' path on the metrics port"
  },
  {
    name: "otlp-endpoint",
    type: "string",
    value: "URL",
    description:
      "Send traces and metrics over OTLP/HTTP (JSON) to this base URL (default: $OTEL_EXPORTER_OTLP_ENDPOINT)"
  },
  {
    name: "log-format",
    type: "choice",
    choices: ["pretty", "json", "logfmt"],
    default: "pretty",
    description: "One line per event, with the flow's auth_req_id hash and the trace id"
  },
  {
    name: "log-level",
    type: "choice",
    choices: ["debug", "info", "warning", "error"],
    default: "info",
    description: "The least severe log lines written"
  },
  {
    name: "retention",
    type: "string",
    default: "7d",
    value: "DURATION",
    description: "How long finished flows stay in the database (30s, 15m, 12h, 7d)"
  }
] as const satisfies ReadonlyArray<Flag>

/** `30s`, `15m`, `12h`, `7d` in milliseconds, or undefined when it is none of these. */
export const durationMillis = (text: string): number | undefined => {
  const match = /^(\d{1,9})(s|m|h|d)$/.exec(text)
  if (match === null) return undefined
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "s" | "m" | "h" | "d"]
  return Number(match[1]) * unit
}

/** An OTLP base URL: an absolute http(s) URL, or the reason it is not one. */
export const otlpEndpointProblem = (url: string): string | undefined => {
  try {
    const parsed = new URL(url)
    return parsed.protocol === "http:" || parsed.protocol === "https:"
      ? undefined
      : `--otlp-endpoint ${url} is not an http: or https: URL`
  } catch {
    return `--otlp-endpoint ${url} is not an absolute URL`
  }
}
