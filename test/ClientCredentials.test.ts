/**
 * `ClientCredentials`: the credentials a client's request carries outside its form body, read from
 * the headers once and passed on to Authlete by both endpoints.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"
import { ClientCredentials } from "effect-authlete"
import { Playground } from "effect-authlete/playground"
import { AuthleteSimulator } from "effect-authlete/simulator"

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`

describe("ClientCredentials.fromBasic", () => {
  it("reads each half form-urlencoded (RFC 6749 2.3.1): %3A is a colon, + a space", () => {
    assert.deepStrictEqual(
      ClientCredentials.fromBasic(basic("client%3Aone", "a+secret%25")),
      Either.right({ clientId: "client:one", clientSecret: "a secret%" })
    )
  })

  it("reads halves that break the rules as they are: fromHeaders judges them", () => {
    assert.deepStrictEqual(
      ClientCredentials.fromBasic(basic("1001", "")),
      Either.right({ clientId: "1001", clientSecret: "" })
    )
    assert.deepStrictEqual(
      ClientCredentials.fromBasic(basic("", "secret")),
      Either.right({ clientId: "", clientSecret: "secret" })
    )
  })

  it("no header, or another scheme, is no credential", () => {
    assert.deepStrictEqual(ClientCredentials.fromBasic(undefined), Either.right(undefined))
    assert.deepStrictEqual(ClientCredentials.fromBasic("Bearer abc"), Either.right(undefined))
  })

  it("a Basic header that cannot be read is MalformedAuthorization", () => {
    for (
      const header of [
        "Basic",
        "Basic !!!",
        `Basic ${Buffer.from("no-colon").toString("base64")}`,
        basic("%E0%A4%A", "secret"),
        `Basic ${Buffer.from([0x31, 0x3a, 0xff]).toString("base64")}`
      ]
    ) {
      const read = ClientCredentials.fromBasic(header)
      assert.isTrue(Either.isLeft(read), header)
      if (Either.isLeft(read)) assert.strictEqual(read.left._tag, "MalformedAuthorization")
    }
  })
})

describe("ClientCredentials.fromHeaders", () => {
  it("reads Basic and the attestation headers; an empty attestation is none", () => {
    assert.deepStrictEqual(
      ClientCredentials.fromHeaders({
        authorization: basic("1001", "s"),
        "oauth-client-attestation": "eyJ.a.b",
        "oauth-client-attestation-pop": "eyJ.c.d"
      }),
      Either.right({
        clientId: "1001",
        clientSecret: "s",
        oauthClientAttestation: "eyJ.a.b",
        oauthClientAttestationPop: "eyJ.c.d"
      })
    )
    assert.deepStrictEqual(ClientCredentials.fromHeaders({}), Either.right({}))
  })

  it("checks what it read with the ClientCredentials schema: the fields and rules, never the values", () => {
    const long = "L".repeat(8_193)
    const cases: ReadonlyArray<readonly [Record<string, string>, ReadonlyArray<readonly [string, string]>]> = [
      [{ authorization: basic("1001", "") }, [["clientSecret", "must not be empty"]]],
      [{ authorization: basic("", "s") }, [["clientId", "must not be empty"]]],
      [{ authorization: basic(long, "s") }, [["clientId", "must be at most 8,192 characters"]]],
      [{ authorization: basic("1001", long) }, [["clientSecret", "must be at most 8,192 characters"]]],
      // An empty attestation header is refused, not read as absent.
      [{ "oauth-client-attestation": "" }, [["oauthClientAttestation", "must not be empty"]]],
      [
        { "oauth-client-attestation": "eyJ.a.b", "oauth-client-attestation-pop": long },
        [["oauthClientAttestationPop", "must be at most 8,192 characters"]]
      ]
    ]
    for (const [headers, expected] of cases) {
      const read = ClientCredentials.fromHeaders(headers)
      assert.isTrue(Either.isLeft(read), JSON.stringify(expected))
      if (Either.isRight(read) || read.left._tag !== "AuthleteValidationError") continue
      assert.deepStrictEqual(
        read.left.issues.map((issue) => [issue.path.join("."), issue.message]),
        expected.map(([path, message]) => [path, message])
      )
      assert.notInclude(read.left.message, "LLLL")
    }
  })

  it("a Basic header that cannot be read stays MalformedAuthorization", () => {
    const read = ClientCredentials.fromHeaders({ authorization: "Basic !!!", "oauth-client-attestation": "" })
    assert.isTrue(Either.isLeft(read) && read.left._tag === "MalformedAuthorization")
  })
})

describe("the routes read the credentials once, for both endpoints", () => {
  const withServer = <A, E>(
    body: (
      issuer: string,
      simulator: AuthleteSimulator.AuthleteSimulatorService,
      info: Playground.PlaygroundInfo
    ) => Effect.Effect<A, E>
  ) =>
    Effect.scoped(Effect.gen(function*() {
      const context = yield* Layer.build(Playground.layer({ interval: 1 })).pipe(Effect.orDie)
      const info = yield* Effect.provide(Playground.Playground, context)
      const simulator = yield* Effect.provide(AuthleteSimulator.AuthleteSimulator, context)
      return yield* body(info.issuer, simulator, info)
    }))

  it.live("a malformed Basic header is 401 invalid_client with the endpoint's realm; Authlete is not called", () =>
    withServer((issuer, simulator) =>
      Effect.gen(function*() {
        const before = (yield* simulator.requests).length
        for (const [path, realm] of [["/backchannel", "backchannel"], ["/token", "token"]] as const) {
          const response = yield* Effect.promise(() =>
            fetch(`${issuer}${path}`, {
              method: "POST",
              headers: { "content-type": "application/x-www-form-urlencoded", authorization: "Basic !!!" },
              body: "scope=openid&login_hint=user-1"
            })
          )
          assert.strictEqual(response.status, 401, path)
          assert.strictEqual(response.headers.get("www-authenticate"), `Basic realm="${realm}"`)
          assert.strictEqual(
            (yield* Effect.promise(() => response.json() as Promise<{ error?: string }>)).error,
            "invalid_client"
          )
        }
        assert.strictEqual((yield* simulator.requests).length, before)
      })
    ))

  it.live("the attestation headers reach Authlete from the backchannel endpoint and the token endpoint", () =>
    withServer((issuer, simulator, info) =>
      Effect.gen(function*() {
        // The client's own secret: the simulator records only requests whose client authenticated.
        const client = info.clients[0]!
        const headers = {
          "content-type": "application/x-www-form-urlencoded",
          authorization: basic(client.clientId, client.clientSecret),
          "oauth-client-attestation": "attestation.jwt.value",
          "oauth-client-attestation-pop": "attestation.pop.value"
        }
        for (const [path, body] of [["/backchannel", "scope=openid&login_hint=user-1"], ["/token", "grant_type=x"]]) {
          yield* Effect.promise(() => fetch(`${issuer}${path}`, { method: "POST", headers, body }))
        }
        const sent = (yield* simulator.requests).filter((request) =>
          request.path.endsWith("/backchannel/authentication") || request.path.endsWith("/auth/token")
        )
        assert.strictEqual(sent.length, 2)
        for (const request of sent) {
          const json = request.body as Record<string, unknown>
          assert.strictEqual(json["clientId"], client.clientId, request.path)
          assert.strictEqual(json["oauthClientAttestation"], "attestation.jwt.value", request.path)
          assert.strictEqual(json["oauthClientAttestationPop"], "attestation.pop.value", request.path)
        }
      })
    ))
})
