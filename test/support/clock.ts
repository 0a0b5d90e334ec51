import { assert } from "@effect/vitest"
import { Chunk, Effect, TestClock } from "effect"

/**
 * Waits (in real time, while real I/O proceeds) until the test clock has a sleep due within
 * `withinMillis`, then moves the clock to it and returns how long that sleep was. Tests that use it
 * give clients a timeout far beyond the window, so only a retry's sleep matches.
 */
export const passNextSleep = (withinMillis: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) {
      const now = yield* TestClock.currentTimeMillis
      const due = Chunk.toArray(yield* TestClock.sleeps()).filter((at) => at > now && at <= now + withinMillis)
      if (due.length > 0) {
        const wait = Math.max(...due) - now
        yield* TestClock.adjust(wait)
        return wait
      }
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
    }
    return assert.fail("no retry was scheduled")
  })
