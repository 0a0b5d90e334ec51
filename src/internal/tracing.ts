/**
 * The one span policy of this library's services and programs. A call is a span only when the
 * application installed a tracer that records (Effect's built-in one records nothing, and its span
 * would cost a measurable share of a call: see the README's Performance). A span's exit never holds the call's value: a completion's
 * response, or a notification, may carry tokens. Errors hold no secret, so they stay in the exit.
 */
import * as Effect from "effect/Effect"
import type * as Tracer from "effect/Tracer"

let nativeTracer: Tracer.Tracer | undefined

/** Whether spans made under this tracer go anywhere. */
const records = (tracer: Tracer.Tracer): boolean => tracer !== (nativeTracer ??= Effect.runSync(Effect.tracer))

/**
 * Runs `body(true)` as the span `name` when a recording tracer is installed, else `body(false)`
 * (so the body annotates the span only when there is one to annotate).
 */
export const spanned = <A, E, R>(
  name: string,
  options: { readonly kind?: Tracer.SpanKind; readonly attributes?: Record<string, unknown> },
  body: (recording: boolean) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.tracerWith((tracer) => {
    if (!records(tracer)) return body(false)
    let value: A
    return Effect.map(
      Effect.withSpan(
        Effect.map(body(true), (a) => {
          value = a
        }),
        name,
        options
      ),
      () => value
    )
  })
