/**
 * The one retry helper of both services (`AuthleteClient`, `ClientNotifier`): a schedule decides
 * which failures are tried again and after how long, and a budget bounds the whole sequence,
 * attempts and waits together: no retry starts that could not end within it, and the last attempt's
 * deadline is shortened to what is left. The retry machinery is entered only once an attempt failed,
 * so a call that succeeds at once costs nothing more.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"

export interface RetryPolicy<E> {
  /** Its input is the failure; its delay is the wait before the next attempt. */
  readonly schedule: Schedule.Schedule<unknown, E>
  readonly while: (error: E) => boolean
  /** Attempts and waits together, in milliseconds. */
  readonly budgetMillis: number
}

/** The shortest attempt worth starting. */
const MIN_ATTEMPT_MILLIS = 10

/**
 * Runs `attempt` (given the milliseconds it may take) and retries it by the policy. Sleeps follow
 * Effect's `Clock`, so `TestClock` drives them.
 */
export const retrying = <A, E>(
  attempt: (timeoutMillis: number) => Effect.Effect<A, E>,
  timeoutMillis: number,
  policy: RetryPolicy<E> | undefined
): Effect.Effect<A, E> => {
  if (policy === undefined) return attempt(timeoutMillis)
  return Effect.clockWith((clock) => {
    const start = clock.unsafeCurrentTimeMillis()
    const again = (error: E, state: unknown): Effect.Effect<A, E> => {
      if (!policy.while(error)) return Effect.fail(error)
      const now = clock.unsafeCurrentTimeMillis()
      return Effect.flatMap(policy.schedule.step(now, error, state), ([next, , decision]) => {
        if (ScheduleDecision.isDone(decision)) return Effect.fail(error)
        const delay = Math.max(0, ScheduleIntervals.start(decision.intervals) - now)
        const left = policy.budgetMillis - (now - start) - delay
        if (left < MIN_ATTEMPT_MILLIS) return Effect.fail(error)
        return Effect.zipRight(
          delay === 0 ? Effect.void : Clock.sleep(Duration.millis(delay)),
          Effect.catchAll(attempt(Math.min(timeoutMillis, left)), (failure) => again(failure, next))
        )
      })
    }
    return Effect.catchAll(
      attempt(Math.min(timeoutMillis, policy.budgetMillis)),
      (failure) => again(failure, policy.schedule.initial)
    )
  })
}
