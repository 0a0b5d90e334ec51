/**
 * The client's errors: a guard that tells them from others, and messages computed from the fields.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  AuthleteTransportError,
  AuthleteValidationError,
  ClientNotificationError,
  isAuthleteError
} from "effect-authlete"

describe("errors", () => {
  it("isAuthleteError tells the client's errors from others", () => {
    assert.isTrue(isAuthleteError(AuthleteValidationError.single(["ticket"], "must not be empty")))
    assert.isTrue(isAuthleteError(new AuthleteTransportError({ reason: "Timeout", detail: "late" })))
    assert.isFalse(isAuthleteError(new ClientNotificationError({ reason: "Status", endpoint: "", detail: "x" })))
    assert.isFalse(isAuthleteError(new Error("AuthleteApiError")))
    assert.isFalse(isAuthleteError({ _tag: "AuthleteApiError" }))
  })

  it("messages are computed from the fields, and an error keeps at most 100 issues, counting the rest", () => {
    const error = AuthleteValidationError.fromRefusal({
      issues: Array.from({ length: 100 }, (_, i) => ({ path: [`field${i}`], message: "is wrong" })),
      total: 250
    })
    assert.strictEqual(error.issues.length, 100)
    assert.strictEqual(error.omitted, 150)
    assert.match(error.message, /\(250 problems\)/)
    assert.match(error.message, /and 150 more$/)
  })
})
