/**
 * `AuthleteApis`: every API declared once, and served by everything derived from the declaration
 * (a client method, a simulator route decoding with the API's schema).
 */
import { FetchHttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { AuthleteApi, AuthleteClient } from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { call } from "./utils/ciba.js"

describe("one declaration per API", () => {
  it.scoped("the client has a method, and the simulator a route decoding with the API's schema, for every API", () =>
    Effect.gen(function*() {
      const client = yield* AuthleteClient.AuthleteClient
      for (
        const [name, api] of Object.entries(AuthleteApi.AuthleteApis) as Array<
          [keyof typeof AuthleteApi.AuthleteApis, AuthleteApi.AuthleteApi]
        >
      ) {
        assert.strictEqual(typeof client[name], "function", name)
        // An empty body breaks every API's schema: the simulator answers with that API's own code.
        const answer = yield* call(api.path, {}, { method: api.method })
        // `/fail` with wrong parameters is the action INTERNAL_SERVER_ERROR, as Authlete documents.
        const expected = api.method === "GET" || name === "backchannelAuthenticationFail" ? 200 : 400
        assert.strictEqual(answer.status, expected, name)
        if (api.method === "POST") {
          assert.strictEqual(
            (answer.json as { resultCode?: string }).resultCode,
            `A${String(api.apiNumber).padStart(3, "0")}201`,
            name
          )
        }
      }
    }).pipe(Effect.provide(Layer.mergeAll(AuthleteSimulator.layerClient(), FetchHttpClient.layer))))
})
