/**
 * The library's metrics: what it records under attributes is what an application reads with
 * Effect's own `Metric.tagged`, so any exporter sees one series per attribute set.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Metric, Redacted, Schedule } from "effect"
import { AuthleteClient, BackchannelAuthenticationEndpoint, CibaMetrics } from "effect-authlete"
import { UndiciTransport } from "effect-authlete/undici"
import { backchannelServices } from "./support/backchannelServer.js"
import { loopbackServer } from "./support/loopback.js"

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

  it.scopedLive("records an Authlete call its caller interrupted, and counts a backchannel request whose client went away", () =>
    Effect.gen(function*() {
      // Authlete that never answers: every call waits until its caller gives up.
      const server = yield* loopbackServer(() => () => {})
      const services = yield* Layer.build(
        backchannelServices().pipe(
          Layer.provideMerge(
            AuthleteClient.layer({
              baseUrl: server.url,
              serviceId: "715948317",
              accessToken: Redacted.make("service-access-token-0123"),
              timeout: "1 hour",
              retry: "none"
            }).pipe(Layer.provide(UndiciTransport.layer))
          )
        )
      )
      const calls = CibaMetrics.authleteCallDuration.pipe(
        Metric.tagged("api", "backchannelAuthenticationComplete"),
        Metric.tagged("outcome", "interrupted")
      )
      const requests = Metric.tagged(CibaMetrics.backchannelRequests, "outcome", "interrupted")
      const callsBefore = (yield* Metric.value(calls)).count
      const requestsBefore = (yield* Metric.value(requests)).count
      const received = (count: number) =>
        Effect.repeat(Effect.sync(() => server.received.length), {
          until: (length) => length >= count,
          schedule: Schedule.spaced("10 millis")
        })

      const completion = yield* Effect.fork(Effect.provide(
        Effect.flatMap(
          AuthleteClient.AuthleteClient,
          (client) =>
            client.backchannelAuthenticationComplete({ ticket: "ticket-1", result: "AUTHORIZED", subject: "user-1" })
        ),
        services
      ))
      yield* received(1)
      yield* Fiber.interrupt(completion)
      assert.strictEqual((yield* Metric.value(calls)).count, callsBefore + 1)

      const request = yield* Effect.fork(Effect.provide(
        BackchannelAuthenticationEndpoint.handleBackchannelAuthentication({
          parameters: "scope=openid&login_hint=taro%40example.com",
          clientId: "1001",
          clientSecret: "client-secret-1001"
        }),
        services
      ))
      yield* received(2)
      yield* Fiber.interrupt(request)
      assert.strictEqual((yield* Metric.value(requests)).count, requestsBefore + 1)
    }))
})
