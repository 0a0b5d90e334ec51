/**
 * A program whose only call is interrupted: it sends one completion to the server at argv[2] (which
 * never answers) with a one-hour timeout, interrupts it after 200 ms, and prints "interrupted". The
 * process must then exit by itself, holding no socket or timer.
 */
import { Effect, Fiber, Layer, Redacted } from "effect"
import { AuthleteClient } from "effect-authlete"
import { UndiciTransport } from "effect-authlete/undici"

const baseUrl = process.argv[2]!

const call = Effect.flatMap(
  AuthleteClient.AuthleteClient,
  (client) => client.backchannelAuthenticationComplete({ ticket: "ticket-1", result: "AUTHORIZED", subject: "user-1" })
).pipe(
  Effect.provide(
    AuthleteClient.layer({
      baseUrl,
      serviceId: "715948317",
      accessToken: Redacted.make("t0ken-0123456789"),
      timeout: "1 hour"
    })
      .pipe(Layer.provide(UndiciTransport.layer))
  )
)

Effect.runFork(Effect.gen(function*() {
  const fiber = yield* Effect.fork(call)
  yield* Effect.sleep("200 millis")
  yield* Fiber.interrupt(fiber)
  yield* Effect.sync(() => console.log("interrupted"))
}))
