/**
 * The whole CIBA flow through the library's own programs against the simulator: every delivery mode
 * and result, the other CIBA APIs, and the refusals a real authorization server meets.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted, TestClock } from "effect"
import {
  AuthleteClient,
  BackchannelAuthenticationCompleteResult,
  BackchannelAuthenticationCompletion,
  HttpTransport
} from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { checkFlow, driveFlow, type FlowReport, FlowsLive } from "../support/flows.js"

const json = (text: string): Record<string, unknown> => JSON.parse(text)

describe("CIBA flows through the library against the simulator", () => {
  for (const mode of ["POLL", "PING", "PUSH"] as const) {
    for (const result of BackchannelAuthenticationCompleteResult.BackchannelAuthenticationCompleteResult.literals) {
      it.scoped(`${mode} x ${result}`, () =>
        Effect.gen(function*() {
          const report = yield* driveFlow(mode, result)
          assert.strictEqual(report.resultCode, "A198001")
          if (mode === "POLL") {
            assert.strictEqual(report.action, "NO_ACTION")
            assert.strictEqual(report.outcome, "NoAction")
            assert.strictEqual(report.notifications.length, 0)
            return
          }
          assert.strictEqual(report.action, "NOTIFICATION")
          assert.strictEqual(report.outcome, "Notified")
          assert.strictEqual(report.notifications.length, 1)
          const [notification] = report.notifications
          assert.strictEqual(notification.authorization, `Bearer ${report.notificationToken}`)
          const body = json(notification.body)
          assert.strictEqual(body.auth_req_id, report.authReqId)
          if (mode === "PING") {
            assert.deepStrictEqual(Object.keys(body), ["auth_req_id"])
          } else if (result === "AUTHORIZED") {
            assert.isString(body.access_token)
            assert.isString(body.refresh_token)
            assert.strictEqual(body.token_type, "Bearer")
            const [, payload] = String(body.id_token).split(".")
            const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"))
            assert.strictEqual(claims.sub, "user-1")
            assert.strictEqual(claims.family_name, "山田", "collected in the requested locale")
            assert.strictEqual(claims.member_since, 2019, "merged from a second source")
            assert.isUndefined(claims.email_verified, "not consented, so not sent")
          } else {
            assert.strictEqual(body.error, result === "ACCESS_DENIED" ? "access_denied" : "expired_token")
            assert.isUndefined(body.access_token)
          }
          assert.deepStrictEqual(checkFlow(report), [])
        }).pipe(Effect.provide(FlowsLive)))
    }
  }

  it("the flows' check catches a flow that went wrong", () => {
    const report: FlowReport = {
      mode: "PING",
      result: "AUTHORIZED",
      authReqId: "abc",
      notificationToken: "token",
      action: "NOTIFICATION",
      resultCode: "A198001",
      outcome: "Notified",
      notifications: [{
        authorization: "Bearer other",
        contentType: "application/json",
        body: "{\"auth_req_id\":\"abc\",\"x\":1}"
      }]
    }
    assert.deepStrictEqual(checkFlow(report), ["wrong bearer token", "a PING notification holds only auth_req_id"])
    assert.deepStrictEqual(checkFlow({ ...report, mode: "POLL", action: "NO_ACTION" }), [
      "the client was notified in POLL mode"
    ])
  })
})

/** A ticket from `/backchannel/authentication` for the simulator's client of that mode, issued or not. */
const ticketFor = (mode: "POLL" | "PING" | "PUSH", issue = true) =>
  Effect.gen(function*() {
    const simulator = yield* AuthleteSimulator.AuthleteSimulator
    const authlete = yield* AuthleteClient.AuthleteClient
    const client = yield* simulator.clientFor(mode)
    const identified = yield* authlete.backchannelAuthentication({
      parameters: `scope=openid&login_hint=user-1${mode === "POLL" ? "" : "&client_notification_token=nt-123456789"}`,
      clientId: String(client.clientId),
      clientSecret: client.clientSecret
    })
    assert.strictEqual(identified.action, "USER_IDENTIFICATION")
    const ticket = identified.ticket!
    if (issue) assert.strictEqual((yield* authlete.backchannelAuthenticationIssue({ ticket })).action, "OK")
    return ticket
  })

const complete = (ticket: string) =>
  BackchannelAuthenticationCompletion.completeBackchannelAuthentication({
    ticket,
    result: "AUTHORIZED",
    subject: "user-1"
  })

describe("the CIBA APIs and their refusals, through AuthleteClient", () => {
  it.scoped("backchannelAuthenticationFail refuses a request and deletes its ticket", () =>
    Effect.gen(function*() {
      const authlete = yield* AuthleteClient.AuthleteClient
      const ticket = yield* ticketFor("POLL", false)
      const failed = yield* authlete.backchannelAuthenticationFail({ ticket, reason: "ACCESS_DENIED" })
      assert.strictEqual(failed.action, "FORBIDDEN")
      assert.strictEqual(json(failed.responseContent!).error, "access_denied")
      const issued = yield* authlete.backchannelAuthenticationIssue({ ticket })
      assert.strictEqual(issued.action, "INVALID_TICKET")
    }).pipe(Effect.provide(FlowsLive)))

  it.scoped("a wrong client secret is UNAUTHORIZED", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const authlete = yield* AuthleteClient.AuthleteClient
      const client = yield* simulator.clientFor("POLL")
      const answer = yield* authlete.backchannelAuthentication({
        parameters: "scope=openid&login_hint=user-1",
        clientId: String(client.clientId),
        clientSecret: "not-the-secret"
      })
      assert.strictEqual(answer.action, "UNAUTHORIZED")
      assert.strictEqual(json(answer.responseContent!).error, "invalid_client")
    }).pipe(Effect.provide(FlowsLive)))

  it.scoped("a ticket completes once: the second time is AuthleteServerError", () =>
    Effect.gen(function*() {
      const ticket = yield* ticketFor("POLL")
      const first = yield* complete(ticket)
      assert.strictEqual(first._tag, "NoAction")
      const second = yield* Effect.flip(complete(ticket))
      assert.strictEqual(second._tag, "AuthleteServerError")
    }).pipe(Effect.provide(FlowsLive)))

  it.scoped("a wrong service token is AuthleteApiError 401, with nothing processed", () =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const wrong = AuthleteClient.layer({
        baseUrl: simulator.baseUrl,
        serviceId: simulator.serviceId,
        accessToken: Redacted.make("not-the-service-access-token-0000")
      }).pipe(Layer.provide(HttpTransport.layerFetch))
      const error = yield* Effect.flip(
        Effect.flatMap(AuthleteClient.AuthleteClient, (client) =>
          client.backchannelAuthenticationIssue({ ticket: "whatever" })).pipe(
            Effect.provide(wrong)
          )
      )
      assert.strictEqual(error._tag, "AuthleteApiError")
      if (error._tag === "AuthleteApiError") {
        assert.strictEqual(error.status, 401)
        assert.match(error.resultCode ?? "", /^A\d{6}$/)
      }
    }).pipe(Effect.provide(AuthleteSimulator.layer())))

  it.scoped("an auth_req_id that expired (TestClock) is refused in POLL", () =>
    Effect.gen(function*() {
      const ticket = yield* ticketFor("POLL")
      yield* TestClock.adjust("601 seconds")
      const error = yield* Effect.flip(complete(ticket))
      assert.strictEqual(error._tag, "AuthleteServerError")
    }).pipe(Effect.provide(FlowsLive)))
})
