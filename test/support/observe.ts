/**
 * Records everything a program exposes to an observer (spans with their attributes, events and
 * exits, and log lines at every level), so tests can assert that no secret ever shows there.
 */
import { Cause, Effect, Exit, Logger, LogLevel, Option, Tracer } from "effect"
import type { Context } from "effect"

export interface Observed {
  readonly texts: () => ReadonlyArray<string>
  readonly spans: Array<RecordingSpan>
  readonly logs: Array<string>
}

class RecordingSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = Math.random().toString(16).slice(2)
  readonly traceId: string
  readonly sampled = true
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  readonly events: Array<string> = []
  readonly links: Array<Tracer.SpanLink>
  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind
  ) {
    this.status = { _tag: "Started", startTime }
    this.traceId = Option.match(parent, { onNone: () => "trace", onSome: (span) => span.traceId })
    this.links = [...links]
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>) {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
  }
  attribute(key: string, value: unknown) {
    this.attributes.set(key, value)
  }
  event(name: string, _startTime: bigint, attributes?: Record<string, unknown>) {
    this.events.push(`${name} ${JSON.stringify(attributes ?? {})}`)
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>) {
    this.links.push(...links)
  }
}

const exitText = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isSuccess(exit) ? "" : `${Cause.pretty(exit.cause)} ${JSON.stringify(Cause.squash(exit.cause))}`

/** Runs `effect` with a recording tracer and a logger at `All`; returns what was observed. */
export const observe = <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const spans: Array<RecordingSpan> = []
  const logs: Array<string> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const span = new RecordingSpan(name, parent, context, links, startTime, kind)
      spans.push(span)
      return span
    },
    context: (f) => f()
  })
  const logger = Logger.make(({ annotations, cause, message }) => {
    logs.push(`${JSON.stringify(message)} ${Cause.pretty(cause)} ${JSON.stringify([...annotations])}`)
  })
  const observed: Observed = {
    spans,
    logs,
    texts: () => [
      ...logs,
      ...spans.flatMap((span) => [
        span.name,
        ...[...span.attributes].map(([key, value]) => `${key}=${String(value)}`),
        ...span.events,
        span.status._tag === "Ended" ? exitText(span.status.exit) : ""
      ])
    ]
  }
  return effect.pipe(
    Effect.withTracer(tracer),
    Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
    Logger.withMinimumLogLevel(LogLevel.All),
    Effect.exit,
    Effect.map((exit) => ({ exit, observed }))
  )
}
