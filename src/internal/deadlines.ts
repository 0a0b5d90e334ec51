/**
 * The deadlines of a transport's requests in flight, one timer per timeout. Each service sends its
 * requests with one timeout (`AuthleteClient` and `ClientNotifier` may share the transport with
 * different ones), so the requests with a given timeout expire in the order they started: a queue
 * per timeout, in start order, is in deadline order, a request that settles leaves it in constant
 * time, and one timer, set for the oldest, serves the whole queue. (A timer per request costs Node's
 * timer lists an insert and an unenroll on every call, several microseconds.) A timeout beyond the
 * first few seen (a retry cut short by its budget) gets a timer of its own.
 *
 * `withDeadline` puts an Effect under such a deadline (the portable transport's exchange, over an
 * `HttpClient`); the undici transport's handler objects are `Expiring` themselves.
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type * as FiberId from "effect/FiberId"
import type * as FiberRefs from "effect/FiberRefs"
import * as Runtime from "effect/Runtime"
import * as RuntimeFlags from "effect/RuntimeFlags"

/** What a deadline watches: told once, when its time is up, unless it left before. */
export interface Expiring {
  readonly expire: () => void
  /** @internal when it expires (milliseconds on `performance.now()`), and where it waits. */
  deadlineAt: number
  previous: Expiring | undefined
  next: Expiring | undefined
  queue: DeadlineQueue | undefined
  ownTimer: ReturnType<typeof setTimeout> | undefined
}

/** The most timeouts given a queue; there are usually one or two. */
const MAX_QUEUES = 8

export class Deadlines {
  private readonly queues = new Map<number, DeadlineQueue>()

  /** Starts `item`'s deadline, `millis` from now. */
  add(item: Expiring, millis: number): void {
    let queue = this.queues.get(millis)
    if (queue === undefined && this.queues.size < MAX_QUEUES) {
      queue = new DeadlineQueue()
      this.queues.set(millis, queue)
    }
    if (queue === undefined) {
      item.ownTimer = setTimeout(item.expire, millis)
    } else {
      queue.add(item, millis)
    }
  }

  /** Ends `item`'s deadline: it settled first. */
  remove(item: Expiring): void {
    if (item.ownTimer !== undefined) {
      clearTimeout(item.ownTimer)
      item.ownTimer = undefined
    } else {
      item.queue?.remove(item)
    }
  }
}

/** The requests with one timeout, oldest first, and the timer set for the oldest. */
class DeadlineQueue {
  private oldest: Expiring | undefined = undefined
  private newest: Expiring | undefined = undefined
  private timer: ReturnType<typeof setTimeout> | undefined = undefined

  add(item: Expiring, millis: number): void {
    item.deadlineAt = performance.now() + millis
    item.queue = this
    item.previous = this.newest
    item.next = undefined
    if (this.newest === undefined) this.oldest = item
    else this.newest.next = item
    this.newest = item
    if (this.timer === undefined) this.arm(millis)
  }

  remove(item: Expiring): void {
    if (item.queue !== this) return
    const { next, previous } = item
    if (previous === undefined) this.oldest = next
    else previous.next = next
    if (next === undefined) this.newest = previous
    else next.previous = previous
    item.previous = item.next = item.queue = undefined
  }

  // Not a reason to keep the process alive: a request in flight holds its socket, which is. (Where
  // timers are plain numbers, in browsers, there is nothing to unref.)
  private arm(millis: number) {
    const timer = setTimeout(this.fire, Math.max(1, Math.ceil(millis)))
    if (typeof timer === "object" && typeof timer.unref === "function") timer.unref()
    this.timer = timer
  }

  // The timer is left running when the oldest settles (clearing it would cost what is saved);
  // when it fires early it is set again for the oldest still waiting.
  private readonly fire = () => {
    this.timer = undefined
    const now = performance.now()
    while (this.oldest !== undefined && this.oldest.deadlineAt <= now) {
      const item = this.oldest
      this.remove(item)
      item.expire()
    }
    if (this.oldest !== undefined) this.arm(this.oldest.deadlineAt - now)
  }
}

/** What `withDeadline` may change in the fiber it runs the effect in. */
export interface DeadlineFiberOptions<R> {
  /** The context the effect runs with (the caller's, by default). */
  readonly context?: ((context: Context.Context<R>) => Context.Context<R>) | undefined
  /** The fiber's refs, as `Runtime.RunForkOptions.updateRefs`. */
  readonly updateRefs?: ((refs: FiberRefs.FiberRefs, fiberId: FiberId.Runtime) => FiberRefs.FiberRefs) | undefined
}

/**
 * One call under its deadline: the fiber that runs it, the caller waiting for it, and its place in
 * `Deadlines`. Whichever comes first settles it: the fiber's exit, the deadline (the fiber is
 * interrupted, the caller fails with the timeout) or the caller's end (it was interrupted: the fiber is
 * interrupted too).
 */
class DeadlineCall<A, E, E2> implements Expiring {
  private settled = false
  fiber: Fiber.RuntimeFiber<Exit.Exit<A, E>> | undefined = undefined
  deadlineAt = 0
  previous: Expiring | undefined = undefined
  next: Expiring | undefined = undefined
  queue: Expiring["queue"] = undefined
  ownTimer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(
    private readonly resume: (effect: Effect.Effect<A, E | E2>) => void,
    private readonly caller: Fiber.RuntimeFiber<unknown, unknown>,
    private readonly deadlines: Deadlines,
    private readonly onTimeout: () => E2
  ) {}

  readonly expire = () => {
    if (this.settled) return
    this.settled = true
    this.caller.removeObserver(this.abandoned)
    this.fiber?.unsafeInterruptAsFork(this.caller.id())
    this.resume(Effect.fail(this.onTimeout()))
  }

  /**
   * The caller ended first (it was interrupted): the call is interrupted too. (An observer of the
   * caller's fiber rather than a canceler: a canceler costs Effect an `onInterrupt` around every call.)
   */
  readonly abandoned = () => {
    if (this.settled) return
    this.settled = true
    this.deadlines.remove(this)
    this.fiber?.unsafeInterruptAsFork(this.caller.id())
  }

  /** The call's own end: its exit is the caller's (an interruption comes only from the two above). */
  readonly done = (exit: Exit.Exit<Exit.Exit<A, E>>) => {
    if (this.settled || exit._tag === "Failure") return
    this.settled = true
    this.deadlines.remove(this)
    this.caller.removeObserver(this.abandoned)
    this.resume(exit.value)
  }
}

/**
 * Fails with `onTimeout` unless `effect` ends within `millis`, interrupting it. The effect runs in a
 * fiber of its own, started with the caller's context and refs (adjusted by `options`) and always
 * interruptible, so that the deadline can stop it wherever the caller stands; the deadline is one of
 * `deadlines` (one timer for the calls in flight, not one per call), and the caller's interruption
 * interrupts the call. `Effect.timeout` races two fibers and a sleep; this is one fiber and a place in
 * a queue.
 */
export const withDeadline = <A, E, R, E2>(
  effect: Effect.Effect<A, E, R>,
  millis: number,
  onTimeout: () => E2,
  deadlines: Deadlines,
  options: DeadlineFiberOptions<R> = {}
): Effect.Effect<A, E | E2, R> =>
  Effect.withFiberRuntime<A, E | E2, R>((caller, status) =>
    Effect.async<A, E | E2>((resume) => {
      const context = caller.currentContext as Context.Context<R>
      const runtime = Runtime.make({
        context: options.context === undefined ? context : options.context(context),
        fiberRefs: caller.getFiberRefs(),
        runtimeFlags: RuntimeFlags.enable(status.runtimeFlags, RuntimeFlags.Interruption)
      })
      const call = new DeadlineCall<A, E, E2>(resume, caller, deadlines, onTimeout)
      deadlines.add(call, millis)
      caller.addObserver(call.abandoned)
      // The fiber ends with its exit as a value: a failure is the caller's to report, never an
      // "unhandled error" of a fiber nobody joins.
      const fiber = Runtime.runFork(runtime, Effect.exit(effect), { updateRefs: options.updateRefs })
      call.fiber = fiber
      // Called at once when the fiber has ended already (an answer that needed no waiting).
      fiber.addObserver(call.done)
    })
  )
