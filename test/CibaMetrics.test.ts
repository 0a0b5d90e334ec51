/**
 * The library's metrics: what it records under attributes is what an application reads with
 * Effect's own `Metric.tagged`, so any exporter sees one series per attribute set.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { CibaMetrics } from "effect-authlete"

describe("CibaMetrics", () => {
  it.effect("counts under attributes into the series Metric.tagged names, and only that one", () =>
    Effect.gen(function*() {
      const authorized = Metric.tagged(CibaMetrics.decisions, "result", "AUTHORIZED")
      const denied = Metric.tagged(CibaMetrics.decisions, "result", "ACCESS_DENIED")
      const before = (yield* Metric.value(authorized)).count
      const deniedBefore = (yield* Metric.value(denied)).count
      yield* CibaMetrics.count(CibaMetrics.decisions, { result: "AUTHORIZED" })
      yield* CibaMetrics.count(CibaMetrics.decisions, { result: "AUTHORIZED" })
      assert.strictEqual((yield* Metric.value(authorized)).count, before + 2)
      assert.strictEqual((yield* Metric.value(denied)).count, deniedBefore)
    }))

  it.effect("records milliseconds as seconds in a histogram, under two attributes", () =>
    Effect.gen(function*() {
      const series = CibaMetrics.authleteCallDuration.pipe(
        Metric.tagged("api", "backchannelAuthenticationComplete"),
        Metric.tagged("outcome", "timeout")
      )
      const before = yield* Metric.value(series)
      yield* CibaMetrics.recordMillis(CibaMetrics.authleteCallDuration, 2_500, {
        api: "backchannelAuthenticationComplete",
        outcome: "timeout"
      })
      const after = yield* Metric.value(series)
      assert.strictEqual(after.count, before.count + 1)
      assert.closeTo(after.sum - before.sum, 2.5, 1e-9)
    }))

  it("takes its own metrics only", () => {
    assert.throws(() => CibaMetrics.withAttributes(Metric.counter("elsewhere"), { a: "b" }), /this module's metrics/)
  })

  it("labels delivery modes from Authlete by the three CIBA names, anything else as other", () => {
    assert.deepStrictEqual(
      ["POLL", "PING", "PUSH", "poll", "x".repeat(100), undefined].map(CibaMetrics.modeLabel),
      ["POLL", "PING", "PUSH", "other", "other", "other"]
    )
    assert.deepStrictEqual([1, 2, 3, 7].map(CibaMetrics.attemptLabel), ["1", "2", "3+", "3+"])
  })
})
