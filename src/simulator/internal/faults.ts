/**
 * Fault injection: answers queued to replace the next requests, and latency added to every answer.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"

/** An answer given instead of processing the request. */
export interface Fault {
  readonly status: number
  /** JSON, or text sent as is. */
  readonly body: unknown
  readonly headers: { readonly [name: string]: string }
}

interface State {
  readonly delay: Option.Option<Duration.Duration>
  /** Each entry answers `remaining` more requests. */
  readonly queue: ReadonlyArray<{ readonly remaining: number; readonly fault: Fault }>
}

const initial: State = { delay: Option.none(), queue: [] }

export interface Faults {
  readonly delay: (duration: Duration.DurationInput) => Effect.Effect<void>
  readonly enqueue: (n: number, fault: Fault) => Effect.Effect<void>
  readonly reset: Effect.Effect<void>
  /** The fault that replaces the current request, if one is queued (and counts it down). */
  readonly take: Effect.Effect<Option.Option<Fault>>
  readonly currentDelay: Effect.Effect<Option.Option<Duration.Duration>>
}

export const makeFaults: Effect.Effect<Faults> = Effect.map(Ref.make(initial), (state) => ({
  delay: (duration) => Ref.update(state, (s) => ({ ...s, delay: Option.some(Duration.decode(duration)) })),
  enqueue: (n, fault) =>
    n >= 1
      ? Ref.update(state, (s) => ({ ...s, queue: [...s.queue, { remaining: Math.floor(n), fault }] }))
      : Effect.void,
  reset: Ref.set(state, initial),
  take: Ref.modify(state, (s) => {
    const [head, ...rest] = s.queue
    if (head === undefined) return [Option.none(), s]
    const queue = head.remaining > 1 ? [{ remaining: head.remaining - 1, fault: head.fault }, ...rest] : rest
    return [Option.some(head.fault), { ...s, queue }]
  }),
  currentDelay: Effect.map(Ref.get(state), (s) => s.delay)
}))
