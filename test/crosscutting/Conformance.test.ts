/**
 * Where Authlete's OpenAPI document and its Java reference are clear, the models, the client and the
 * simulator agree with them; and the test layers refuse what the live layers refuse.
 */
import { FetchHttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Redacted, Schema } from "effect"
import {
  AuthleteApi,
  AuthleteClient,
  AuthleteError,
  BackchannelAuthentication,
  BackchannelAuthenticationCompleteRequest,
  ClientNotifier,
  Property
} from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { codecsOf } from "../../src/internal/api.js"
import { call, complete, readyTicket } from "../utils/ciba.js"

const base = { ticket: "ticket-0123456789abcdef", result: "AUTHORIZED", subject: "user-1" } as const
const encodeComplete = codecsOf(AuthleteApi.AuthleteApis.backchannelAuthenticationComplete).encodeRequest
const json = (text: string | undefined): Record<string, unknown> => JSON.parse(text ?? "{}")

describe("models against the OpenAPI document and the Java DTOs", () => {
  it("idTokenAudType: null is left off the wire (the service's setting), as the string-typed field allows", () => {
    const wire = Either.getOrThrow(encodeComplete({ ...base, idTokenAudType: null }))
    assert.isFalse("idTokenAudType" in wire)
    assert.strictEqual(Either.getOrThrow(encodeComplete({ ...base, idTokenAudType: "array" })).idTokenAudType, "array")
    assert.notInclude(
      JSON.stringify(
        Schema.encodeSync(BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest)(
          new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
            ...base,
            idTokenAudType: null
          })
        )
      ),
      "idTokenAudType"
    )
  })

  it("the backchannel authentication response keeps attestationChallenge", () => {
    const decoded = Either.getOrThrow(
      codecsOf(AuthleteApi.AuthleteApis.backchannelAuthentication).decodeResponse({
        action: "USER_IDENTIFICATION",
        attestationChallenge: "challenge-123"
      })
    )
    assert.instanceOf(decoded, BackchannelAuthentication.BackchannelAuthenticationResponse)
    assert.strictEqual(decoded.attestationChallenge, "challenge-123")
  })

  it("properties: every character Gson escapes counts as Gson writes it (U+2028, U+2029, HTML-safe)", () => {
    // 12,000 U+2028 are 36,000 UTF-8 bytes raw but 72,000 as Gson's \u2028 escapes: past 65,535 once encrypted.
    const separators = [new Property.Property({ key: "k", value: "\u2028".repeat(12_000) })]
    assert.isAbove(Property.storedPropertiesSize(separators), 65_535)
    assert.throws(() =>
      new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
        ...base,
        properties: separators
      })
    )
    const html = [new Property.Property({ key: "k", value: "<".repeat(100) })]
    const plain = [new Property.Property({ key: "k", value: "a".repeat(100) })]
    assert.isAbove(Property.storedPropertiesSize(html), Property.storedPropertiesSize(plain) + 400)
  })

  it("the constructor reports every broken rule at once, readably", () => {
    try {
      new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest({
        ticket: "",
        result: "MAYBE" as never,
        subject: "",
        scopes: ["profile"]
      })
      assert.fail("the constructor accepted a broken request")
    } catch (error) {
      assert.instanceOf(error, AuthleteError.AuthleteValidationError)
      const validation = error as AuthleteError.AuthleteValidationError
      assert.deepStrictEqual(validation.issues.map((issue) => issue.path.join(".")).sort(), [
        "result",
        "scopes",
        "subject",
        "ticket"
      ])
      assert.match(
        validation.message,
        /^Invalid input, the request was not built \(4 problems\): ticket: must not be empty/
      )
      assert.strictEqual(validation.refused, "Build")
      assert.notInclude(validation.message, "readonly")
    }
  })

  it.effect("errors say what the broken rules stopped: building, sending, or nothing (a check)", () =>
    Effect.gen(function*() {
      const broken = { ticket: "", result: "AUTHORIZED", subject: "john" }
      const checked = yield* Effect.flip(BackchannelAuthenticationCompleteRequest.validateCompleteRequest(broken))
      assert.match(checked.message, /^Invalid input \(1 problem\): ticket: must not be empty$/)
      const client = yield* AuthleteClient.AuthleteClient
      const sent = yield* Effect.flip(client.backchannelAuthenticationComplete(broken as never))
      assert.strictEqual(sent._tag, "AuthleteValidationError")
      assert.match(sent.message, /^Invalid input, the request was not sent \(1 problem\): ticket: must not be empty$/)
    }).pipe(Effect.provide(AuthleteClient.layerTest({}))))
})

describe("the simulator against the javadoc", () => {
  const withSimulator = Effect.provide(Layer.mergeAll(AuthleteSimulator.layer(), FetchHttpClient.layer))

  it.scoped("PUSH: the non-hidden properties are top-level entries of the pushed token response", () =>
    Effect.gen(function*() {
      const { ticket } = yield* readyTicket("PUSH")
      const { response } = yield* complete({
        ...base,
        ticket,
        properties: [
          { key: "example_parameter", value: "example_value" },
          { key: "hidden_parameter", value: "hidden_value", hidden: true },
          { key: "access_token", value: "cannot-replace-the-token" }
        ]
      })
      const pushed = json(response.responseContent)
      assert.strictEqual(pushed.example_parameter, "example_value")
      assert.isUndefined(pushed.hidden_parameter)
      assert.strictEqual(pushed.access_token, response.accessToken)
    }).pipe(withSimulator))

  it.scoped("/fail with wrong parameters is the action INTERNAL_SERVER_ERROR", () =>
    Effect.gen(function*() {
      const answer = yield* call("/backchannel/authentication/fail", { ticket: "t", reason: "NOT_A_REASON" })
      assert.strictEqual(answer.status, 200)
      const body = answer.json as { action: string; resultCode: string; responseContent: string }
      assert.strictEqual(body.action, "INTERNAL_SERVER_ERROR")
      assert.strictEqual(body.resultCode, "A185201")
      assert.strictEqual(json(body.responseContent).error, "server_error")
    }).pipe(withSimulator))
})

describe("test layers refuse what live layers refuse", () => {
  const notify = (endpoint: string) =>
    Effect.flatMap(
      ClientNotifier.ClientNotifier,
      (notifier) => notifier.notify({ endpoint, token: Redacted.make("client-notification-token-0123"), body: "{}" })
    )

  it.effect("ClientNotifier.layerTest: plain http to a public host, and loopback unless allowed", () =>
    Effect.gen(function*() {
      const http = yield* Effect.flip(
        notify("http://client.example.com/cb").pipe(Effect.provide(ClientNotifier.layerTest()))
      )
      assert.strictEqual(http.reason, "InvalidEndpoint")
      const loopback = yield* Effect.flip(
        notify("http://127.0.0.1:8080/cb").pipe(Effect.provide(ClientNotifier.layerTest()))
      )
      assert.strictEqual(loopback.reason, "ForbiddenAddress")
      const metadata = yield* Effect.flip(
        notify("https://169.254.169.254/").pipe(Effect.provide(ClientNotifier.layerTest()))
      )
      assert.strictEqual(metadata.reason, "ForbiddenAddress")
      const allowed = yield* notify("http://127.0.0.1:8080/cb").pipe(
        Effect.provide(ClientNotifier.layerTest(() => 204, { allowLoopback: true }))
      )
      assert.strictEqual(allowed.status, 204)
      const https = yield* notify("https://client.example.com/cb").pipe(Effect.provide(ClientNotifier.layerTest()))
      assert.strictEqual(https.status, 204)
    }))
})
