/**
 * Load against the simulator: 1,000 concurrent completions with distinct tickets, with and without
 * 20% of the answers replaced by 429 and 503. Every completion is answered, no ticket is completed
 * twice, and no request is lost.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { AuthleteClient, BackchannelAuthenticationCompletion, ClientNotifier } from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { UndiciTransport } from "effect-authlete/undici"
import { NotificationEndpoint } from "../support/flows.js"

const COMPLETIONS = 1_000

const layers = Layer.mergeAll(
  AuthleteSimulator.layerClient(),
  ClientNotifier.layer({ allowLoopback: true }).pipe(Layer.provide(UndiciTransport.layer)),
  NotificationEndpoint.layer
)

/** Issued tickets, half for the POLL client and half for the PING one. */
const issuedTickets = (count: number) =>
  Effect.gen(function*() {
    const simulator = yield* AuthleteSimulator.AuthleteSimulator
    const authlete = yield* AuthleteClient.AuthleteClient
    const endpoint = yield* NotificationEndpoint
    const poll = yield* simulator.clientFor("POLL")
    const ping = yield* simulator.clientFor("PING")
    yield* simulator.setClientNotificationEndpoint(ping.clientId, endpoint.url)
    return yield* Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) =>
      Effect.gen(function*() {
        const client = i % 2 === 0 ? poll : ping
        const identified = yield* authlete.backchannelAuthentication({
          parameters: `scope=openid&login_hint=user-${i}${
            i % 2 === 0 ? "" : `&client_notification_token=nt-${i}-0123456789`
          }`,
          clientId: String(client.clientId),
          clientSecret: client.clientSecret
        })
        yield* authlete.backchannelAuthenticationIssue({ ticket: identified.ticket! })
        return { ticket: identified.ticket!, subject: `user-${i}`, mode: client.deliveryMode }
      }), { concurrency: 50 })
  })

/** Completes every ticket at once and checks what each party saw. */
const completeAll = (
  faults: (simulator: AuthleteSimulator.AuthleteSimulator["Type"]) => Effect.Effect<void>,
  faulted: number
) =>
  Effect.gen(function*() {
    const simulator = yield* AuthleteSimulator.AuthleteSimulator
    const endpoint = yield* NotificationEndpoint
    const tickets = yield* issuedTickets(COMPLETIONS)
    const before = (yield* simulator.requests).length
    yield* faults(simulator)
    const outcomes: ReadonlyArray<BackchannelAuthenticationCompletion.CompletionOutcome> = yield* Effect.forEach(
      tickets,
      ({ subject, ticket }) =>
        BackchannelAuthenticationCompletion.completeBackchannelAuthentication({
          ticket,
          result: "AUTHORIZED",
          subject
        }),
      { concurrency: "unbounded" }
    )
    // Every completion answered, each with the action of its client's mode.
    assert.strictEqual(outcomes.length, COMPLETIONS)
    outcomes.forEach((outcome, i) =>
      assert.strictEqual(outcome._tag, tickets[i].mode === "POLL" ? "NoAction" : "Notified")
    )
    // No request lost: Authlete saw each completion once, plus one more attempt per faulted answer.
    const sent = (yield* simulator.requests).slice(before).filter((request) => request.path.endsWith("/complete"))
    assert.strictEqual(sent.length, COMPLETIONS + faulted)
    const perTicket = new Map<string, number>()
    for (const request of sent) {
      const ticket = (request.body as { ticket: string }).ticket
      perTicket.set(ticket, (perTicket.get(ticket) ?? 0) + 1)
    }
    assert.strictEqual(perTicket.size, COMPLETIONS)
    // No ticket completed twice: a second processing would have been refused as SERVER_ERROR above,
    // and each PING client was notified once, with its own auth_req_id.
    const notifications = yield* endpoint.received
    assert.strictEqual(notifications.length, COMPLETIONS / 2)
    assert.strictEqual(new Set(notifications.map((notification) => notification.body)).size, COMPLETIONS / 2)
  }).pipe(Effect.provide(layers), Effect.scoped)

describe("load", () => {
  it.live(
    "1,000 concurrent completions: all answered, none twice, none lost",
    () => completeAll(() => Effect.void, 0),
    {
      timeout: 60_000
    }
  )

  it.live("the same with 20% of the answers 429 or 503: all completed within the retry budget", () =>
    completeAll(
      (simulator) =>
        Effect.zipRight(simulator.failNext(COMPLETIONS / 10, 503), simulator.rateLimitNext(COMPLETIONS / 10, 1)),
      COMPLETIONS / 5
    ), { timeout: 60_000 })
})
