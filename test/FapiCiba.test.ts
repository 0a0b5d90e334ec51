/**
 * The FAPI-CIBA profile as one layer (`FapiCiba.layer`): through the backchannel endpoint against the
 * simulator, an unsigned request is 400 `invalid_request` (its ticket deleted at Authlete), and the
 * default checks stay open. The device page's reading of `authorization_details`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { BackchannelAuthenticationEndpoint, BackchannelChecks, FapiCiba } from "effect-authlete"
import { readableDetails } from "../src/playground/internal/authorizationDetails.js"
import { authleteSaw, backchannelServer } from "./support/backchannelServer.js"

const POLL = { clientId: 1, clientSecret: "poll-secret", deliveryMode: "POLL" } as const

const ServerWith = (checks: Layer.Layer<BackchannelChecks.BackchannelChecks>) =>
  backchannelServer({ clients: [POLL], checks })

const unsigned = BackchannelAuthenticationEndpoint.handleBackchannelAuthentication({
  parameters: new URLSearchParams({ scope: "openid", login_hint: "taro@example.com", binding_message: "W4SCT" })
    .toString(),
  clientId: String(POLL.clientId),
  clientSecret: POLL.clientSecret
})

describe("FapiCiba.layer", () => {
  it.scoped("refuses an unsigned request with 400 invalid_request, and Authlete deletes its ticket", () =>
    Effect.gen(function*() {
      const answer = yield* unsigned
      assert.strictEqual(answer.status, 400)
      const body = JSON.parse(answer.body) as { error: string; error_description: string }
      assert.strictEqual(body.error, "invalid_request")
      assert.include(body.error_description, "signed")
      const saw = yield* authleteSaw
      assert.deepStrictEqual({ failed: saw.failed, issued: saw.issued }, { failed: ["SERVER_ERROR"], issued: 0 })
    }).pipe(Effect.provide(ServerWith(FapiCiba.layer()))))

  it.scoped("the default checks take the same request", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* unsigned).status, 200)
    }).pipe(Effect.provide(ServerWith(BackchannelChecks.layer()))))

  it("is the defaults with the FAPI profile, and keeps the checks you give", () => {
    const checks = Effect.runSync(
      BackchannelChecks.BackchannelChecks.pipe(
        Effect.provide(FapiCiba.layer({ isUserCodeValid: () => Effect.succeed(true) }))
      )
    )
    assert.deepStrictEqual(checks.profile, {
      signedRequestRequired: true,
      bindingMessageRequired: true,
      deliveryModes: ["POLL", "PING"]
    })
    assert.isTrue(Effect.runSync(checks.isUserCodeValid("user-1", "0000")))
    assert.strictEqual(checks.isBindingMessageValid, BackchannelChecks.defaults.isBindingMessageValid)
  })
})

describe("the device page's reading of authorization_details", () => {
  it("writes each element's type and members as lines, amounts as amount and currency", () => {
    const read = readableDetails([
      {
        type: "payment_initiation",
        actions: ["initiate", "status"],
        locations: ["https://bank.example/payments"],
        otherFields: JSON.stringify({
          instructedAmount: { currency: "EUR", amount: "123.50" },
          creditorName: "Merchant <b>A</b>",
          remittance_information: ["Ref 42"]
        })
      },
      { type: "agent_action", privileges: [], identifier: "order-7", otherFields: "not json" }
    ])
    assert.deepStrictEqual(read, [
      {
        type: "payment_initiation",
        lines: [
          "Actions: initiate, status",
          "Locations: https://bank.example/payments",
          "Instructed amount: 123.50 EUR",
          "Creditor name: Merchant <b>A</b>",
          "Remittance information: Ref 42"
        ]
      },
      { type: "agent_action", lines: ["Identifier: order-7", "Other fields: not json"] }
    ])
  })

  it("cuts a member longer than 200 characters, and reads none when there are none", () => {
    const [detail] = readableDetails([{ type: "t", identifier: "x".repeat(500) }])
    assert.strictEqual(detail!.lines[0]!.length, 200)
    assert.isTrue(detail!.lines[0]!.endsWith("…"))
    assert.deepStrictEqual(readableDetails(undefined), [])
  })
})
