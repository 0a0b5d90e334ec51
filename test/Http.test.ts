/**
 * The HTTP details the client's retry policy and error bodies rest on.
 */
import { assert, describe, it } from "@effect/vitest"
import { bodyForError, isLoopbackHost, requestedRetryDelayMillis } from "../src/internal/http.js"
import { transportFailureReason } from "../src/internal/transport.js"

const NOW = Date.parse("2026-11-26T12:00:00Z")

describe("requestedRetryDelayMillis", () => {
  it("reads Retry-After in seconds and as an HTTP date", () => {
    assert.strictEqual(requestedRetryDelayMillis({ "retry-after": "7" }, NOW), 7_000)
    assert.strictEqual(requestedRetryDelayMillis({ "retry-after": "Thu, 26 Nov 2026 12:00:30 GMT" }, NOW), 30_000)
    assert.strictEqual(requestedRetryDelayMillis({ "retry-after": "Thu, 26 Nov 2026 11:00:00 GMT" }, NOW), 0)
  })

  it("falls back to RateLimit-Reset and X-RateLimit-Reset, in seconds or as an epoch time", () => {
    assert.strictEqual(requestedRetryDelayMillis({ "ratelimit-reset": "3" }, NOW), 3_000)
    assert.strictEqual(requestedRetryDelayMillis({ "x-ratelimit-reset": "4" }, NOW), 4_000)
    assert.strictEqual(requestedRetryDelayMillis({ "x-ratelimit-reset": String(NOW / 1000 + 12) }, NOW), 12_000)
    assert.strictEqual(requestedRetryDelayMillis({ "retry-after": "2", "ratelimit-reset": "9" }, NOW), 2_000)
  })

  it("gives nothing for absent or unreadable hints", () => {
    assert.isUndefined(requestedRetryDelayMillis({}, NOW))
    assert.isUndefined(requestedRetryDelayMillis({ "retry-after": "soon" }, NOW))
    assert.isUndefined(requestedRetryDelayMillis({ "ratelimit-reset": "-1" }, NOW))
  })
})

describe("transportFailureReason", () => {
  it("tells a connection never made from one broken in flight, at any depth of the cause chain", () => {
    assert.strictEqual(transportFailureReason({ cause: { cause: { code: "ECONNREFUSED" } } }), "Connect")
    assert.strictEqual(transportFailureReason({ code: "ENOTFOUND" }), "Connect")
    assert.strictEqual(transportFailureReason({ errors: [{ code: "ECONNREFUSED" }] }), "Connect")
    assert.strictEqual(transportFailureReason({ cause: { code: "ECONNRESET" } }), "Transport")
    assert.strictEqual(transportFailureReason(new Error("other side closed")), "Transport")
  })
})

describe("isLoopbackHost", () => {
  it("takes localhost, 127.0.0.0/8 and [::1] only", () => {
    for (const host of ["localhost", "127.0.0.1", "127.255.0.9", "[::1]"]) assert.isTrue(isLoopbackHost(host), host)
    for (const host of ["127.0.0.1.example.com", "10.0.0.1", "example.com", "[::2]"]) {
      assert.isFalse(isLoopbackHost(host), host)
    }
  })
})

describe("bodyForError", () => {
  it("removes known secrets and the values of token fields, and cuts long bodies", () => {
    const body = JSON.stringify({ accessToken: "minted-token-123456", resultMessage: "bad secret-value-abcdef" })
    const kept = bodyForError(body, ["secret-value-abcdef"], 4096)
    assert.notInclude(kept, "minted-token-123456")
    assert.notInclude(kept, "secret-value-abcdef")
    assert.include(kept, "<redacted>")
    assert.strictEqual(bodyForError("x".repeat(5000), [], 100).length, 101)
  })
})
