/**
 * The client's errors: a guard that tells them from others, and messages computed from the fields.
 */
import { assert, describe, it } from "@effect/vitest"
import { AuthleteError, ClientNotifier } from "effect-authlete"

describe("errors", () => {
  it("isAuthleteError tells the client's errors from others", () => {
    assert.isTrue(
      AuthleteError.isAuthleteError(AuthleteError.AuthleteValidationError.single(["ticket"], "must not be empty"))
    )
    assert.isTrue(
      AuthleteError.isAuthleteError(new AuthleteError.AuthleteTransportError({ reason: "Timeout", detail: "late" }))
    )
    assert.isFalse(
      AuthleteError.isAuthleteError(
        new ClientNotifier.ClientNotificationError({ reason: "Status", endpoint: "", detail: "x" })
      )
    )
    assert.isFalse(AuthleteError.isAuthleteError(new Error("AuthleteApiError")))
    assert.isFalse(AuthleteError.isAuthleteError({ _tag: "AuthleteApiError" }))
  })

  it("messages are computed from the fields, and an error keeps at most 100 issues, counting the rest", () => {
    const error = AuthleteError.AuthleteValidationError.fromRefusal({
      issues: Array.from({ length: 100 }, (_, i) => ({ path: [`field${i}`], message: "is wrong" })),
      total: 250
    })
    assert.strictEqual(error.issues.length, 100)
    assert.strictEqual(error.omitted, 150)
    assert.match(error.message, /\(250 problems\)/)
    assert.match(error.message, /and 150 more$/)
  })
})
