import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { AuthleteResult, BackchannelAuthenticationCompleteResponse } from "effect-authlete"
import examples from "./fixtures/authlete-examples.json" with { type: "json" }

const completeExamples = examples.paths["/api/{serviceId}/backchannel/authentication/complete"]

const decode = Schema.decodeUnknownEither(
  BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse
)

describe("BackchannelAuthenticationCompleteResponse", () => {
  it("decodes Authlete's documented 200 example", () => {
    const example = completeExamples["200"]
    const response = Either.getOrThrow(decode(example))
    assert.strictEqual(response.action, "NO_ACTION")
    assert.strictEqual(response.deliveryMode, "POLL")
    assert.strictEqual(response.clientId, 26862190133482)
    assert.strictEqual(response.resultCode, "A198001")
    assert.deepStrictEqual(response.serviceAttributes?.map((pair) => pair.key), ["attribute1-key", "attribute2-key"])
  })

  it("decodes the facts file's POLL example", () => {
    const response = Either.getOrThrow(decode({
      resultCode: "A198001",
      resultMessage:
        "[A198001] Successfully updated the database so that the token endpoint can generate tokens (mode = poll, result = AUTHORIZED).",
      action: "NO_ACTION"
    }))
    assert.strictEqual(response.action, "NO_ACTION")
  })

  it("decodes every field the facts file lists", () => {
    const full = {
      resultCode: "A198001",
      resultMessage: "ok",
      action: "NOTIFICATION",
      responseContent: "{\"auth_req_id\":\"abc\"}",
      clientId: 1,
      clientIdAlias: "alias",
      clientIdAliasUsed: true,
      clientName: "c",
      deliveryMode: "PUSH",
      clientNotificationEndpoint: "https://client.example.com/cb",
      clientNotificationToken: "nt",
      authReqId: "abc",
      accessToken: "at",
      refreshToken: "rt",
      idToken: "a.b.c",
      accessTokenDuration: 3600,
      refreshTokenDuration: 86400,
      idTokenDuration: 600,
      jwtAccessToken: "x.y.z",
      resources: ["https://rs.example.com"],
      authorizationDetails: { elements: [{ type: "payment_initiation", actions: ["initiate"] }] },
      serviceAttributes: [{ key: "k", value: "v" }],
      clientAttributes: [{ key: "k2", value: "v2" }],
      grantId: "g",
      clientEntityId: "https://client.example.com",
      clientEntityIdUsed: false,
      metadataDocumentLocation: "https://client.example.com/metadata.json",
      metadataDocumentUsed: true
    }
    const response = Either.getOrThrow(decode(full))
    const encoded = Schema.encodeSync(
      BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse
    )(response)
    assert.deepStrictEqual(JSON.parse(JSON.stringify(encoded)), full)
  })

  it("keeps an action or delivery mode a newer Authlete adds", () => {
    const response = Either.getOrThrow(decode({ action: "ASK_AGAIN_LATER", deliveryMode: "CARRIER_PIGEON" }))
    assert.strictEqual(response.action, "ASK_AGAIN_LATER")
    assert.strictEqual(response.deliveryMode, "CARRIER_PIGEON")
  })

  it("ignores fields it does not know and reads null as absent", () => {
    const response = Either.getOrThrow(decode({ action: "NO_ACTION", somethingNew: { a: 1 }, resources: null }))
    assert.strictEqual(response.action, "NO_ACTION")
    assert.isUndefined(response.resources)
    assert.notProperty(response, "somethingNew")
  })

  it("fails on a field of the wrong type", () => {
    assert.isTrue(Either.isLeft(decode({ action: 5 })))
    assert.isTrue(Either.isLeft(decode({ clientId: "1" })))
    assert.isTrue(Either.isLeft(decode([])))
  })
})

describe("AuthleteResult", () => {
  it("decodes Authlete's error bodies", () => {
    for (const status of ["400", "401", "403", "500"] as const) {
      const result = Schema.decodeUnknownSync(AuthleteResult.AuthleteResult)(completeExamples[status])
      assert.match(result.resultCode ?? "", /^A\d{6}$/, `status ${status}`)
      assert.isString(result.resultMessage)
    }
  })
})
