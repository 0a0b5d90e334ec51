import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck, Schema } from "effect"
import {
  AuthleteError,
  AuthleteResult,
  BackchannelAuthentication,
  BackchannelAuthenticationFail,
  BackchannelAuthenticationIssue
} from "effect-authlete"
import examples from "./fixtures/authlete-examples.json" with { type: "json" }

const authenticationExamples = examples.paths["/api/{serviceId}/backchannel/authentication"]
const issueExamples = examples.paths["/api/{serviceId}/backchannel/authentication/issue"]
const failExamples = examples.paths["/api/{serviceId}/backchannel/authentication/fail"]

const strict = { errors: "all", onExcessProperty: "error" } as const

/** The issues of a rejection, as `path: message` lines. */
const rejection = <A, I>(schema: Schema.Schema<A, I>, input: unknown): ReadonlyArray<string> => {
  const result = Schema.decodeUnknownEither(schema)(input, strict)
  if (Either.isRight(result)) return assert.fail(`expected a rejection of ${JSON.stringify(input)}`)
  const error = AuthleteError.AuthleteValidationError.fromParseError(result.left)
  assert.instanceOf(error, AuthleteError.AuthleteValidationError)
  return error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`)
}

const accepts = <A, I>(schema: Schema.Schema<A, I>, input: unknown): A => {
  const result = Schema.decodeUnknownEither(schema)(input, strict)
  if (Either.isLeft(result)) {
    return assert.fail(AuthleteError.AuthleteValidationError.fromParseError(result.left).message)
  }
  return result.right
}

const rejects = <A, I>(schema: Schema.Schema<A, I>, input: unknown, path: string, rule: RegExp) => {
  const issues = rejection(schema, input)
  const hit = issues.find((line) => line.startsWith(`${path}: `))
  assert.isDefined(hit, `no issue at ${path} in ${JSON.stringify(issues)}`)
  assert.match(hit!, rule)
}

describe("BackchannelAuthenticationRequest", () => {
  it("accepts Authlete's documented example", () => {
    const request = accepts(BackchannelAuthentication.BackchannelAuthenticationRequest, authenticationExamples.request)
    assert.strictEqual(request.clientId, "26862190133482")
    assert.match(request.parameters, /login_hint=john/)
  })

  it("requires parameters and string credentials", () => {
    assert.deepStrictEqual(rejection(BackchannelAuthentication.BackchannelAuthenticationRequest, {}), [
      "parameters: is required"
    ])
    rejects(
      BackchannelAuthentication.BackchannelAuthenticationRequest,
      { parameters: 1 },
      "parameters",
      /must be a string/
    )
    rejects(
      BackchannelAuthentication.BackchannelAuthenticationRequest,
      { parameters: "scope=openid", clientId: 42 },
      "clientId",
      /string/
    )
    rejects(
      BackchannelAuthentication.BackchannelAuthenticationRequest,
      { parameters: "scope=openid", clientSecret: "" },
      "clientSecret",
      /empty/
    )
  })

  it("passes whatever form text the client sent for Authlete to judge, up to 1 MiB", () => {
    // Authlete's reference handlers send an empty or malformed body on purpose: Authlete then writes
    // the client-facing BAD_REQUEST.
    for (const parameters of ["", "scope=openid email", "{\"scope\":\"openid\"}\n", "binding_message=100%"]) {
      accepts(BackchannelAuthentication.BackchannelAuthenticationRequest, { parameters })
    }
    rejects(
      BackchannelAuthentication.BackchannelAuthenticationRequest,
      { parameters: "a".repeat(1_048_577) },
      "parameters",
      /at most 1,048,576/
    )
  })

  it("takes the CIMD options of Authlete's request, booleans only", () => {
    accepts(BackchannelAuthentication.BackchannelAuthenticationRequest, {
      parameters: "scope=openid",
      cimdOptions: { alwaysRetrieved: true }
    })
    rejects(
      BackchannelAuthentication.BackchannelAuthenticationRequest,
      { parameters: "scope=openid", cimdOptions: { httpPermitted: "yes" } },
      "cimdOptions.httpPermitted",
      /boolean/
    )
    rejects(
      BackchannelAuthentication.BackchannelAuthenticationRequest,
      { parameters: "scope=openid", cimdOptions: { other: true } },
      "cimdOptions",
      /unknown field/
    )
  })

  it("refuses unknown fields", () => {
    assert.deepStrictEqual(
      rejection(BackchannelAuthentication.BackchannelAuthenticationRequest, {
        parameters: "scope=openid",
        client_id: "1"
      }),
      [": unknown field `client_id`"]
    )
  })

  it("generates valid requests from its arbitrary", () => {
    FastCheck.assert(
      FastCheck.property(Arbitrary.make(BackchannelAuthentication.BackchannelAuthenticationRequest), (request) => {
        const encoded = Schema.encodeSync(BackchannelAuthentication.BackchannelAuthenticationRequest)(request)
        return Either.isRight(
          Schema.decodeUnknownEither(BackchannelAuthentication.BackchannelAuthenticationRequest)(encoded, strict)
        )
      }),
      { numRuns: 50 }
    )
  })
})

describe("BackchannelAuthenticationResponse", () => {
  const decode = Schema.decodeUnknownEither(BackchannelAuthentication.BackchannelAuthenticationResponse)

  it("decodes Authlete's documented 200 example", () => {
    const response = Either.getOrThrow(decode(authenticationExamples["200"]))
    assert.strictEqual(response.action, "USER_IDENTIFICATION")
    assert.strictEqual(response.resultCode, "A179001")
    assert.strictEqual(response.ticket, "Y1qeCf0A-JUz6caceaBfd2AaBYNZ-X-WGTP5Qv47cQI")
    assert.strictEqual(response.hintType, "LOGIN_HINT")
    assert.strictEqual(response.hint, "john")
    assert.strictEqual(response.deliveryMode, "POLL")
    assert.strictEqual(response.clientId, 26862190133482)
    assert.strictEqual(response.userCode, "my-user-code")
    assert.isFalse(response.userCodeRequired)
    assert.strictEqual(response.requestedExpiry, 0)
    assert.instanceOf(response.scopes?.[0], BackchannelAuthentication.AuthleteScope)
    assert.deepStrictEqual(response.scopes?.map((scope) => [scope.name, scope.defaultEntry]), [["openid", false]])
  })

  it("decodes every field of the OpenAPI schema and encodes it back unchanged", () => {
    const full = {
      resultCode: "A179001",
      resultMessage: "ok",
      action: "USER_IDENTIFICATION",
      responseContent: "{}",
      clientId: 1,
      clientIdAlias: "alias",
      clientIdAliasUsed: true,
      clientName: "c",
      clientAuthMethod: "CLIENT_SECRET_BASIC",
      deliveryMode: "PING",
      scopes: [{
        name: "email",
        defaultEntry: false,
        description: "d",
        descriptions: [{ tag: "ja", value: "メール" }],
        attributes: [{ key: "k", value: "v" }]
      }],
      dynamicScopes: [{ name: "payment", value: "payment:42" }],
      claimNames: ["email", "email_verified"],
      clientNotificationToken: "nt",
      acrs: ["urn:acr:pwd"],
      hintType: "ID_TOKEN_HINT",
      hint: "a.b.c",
      sub: "john",
      bindingMessage: "W4SCT",
      userCode: "1234",
      userCodeRequired: true,
      requestedExpiry: 120,
      requestContext: "{\"location\":\"shop\"}",
      warnings: ["w"],
      ticket: "t",
      resources: ["https://rs.example.com"],
      authorizationDetails: { elements: [{ type: "payment_initiation" }] },
      serviceAttributes: [{ key: "a", value: "b" }],
      clientAttributes: [{ key: "c", value: "d" }],
      gmAction: "MERGE",
      grantId: "g",
      grant: {
        scopes: [{ scope: "email", resource: ["https://rs.example.com"] }],
        claims: ["email"],
        authorizationDetails: { elements: [] }
      },
      grantSubject: "john",
      clientEntityId: "https://client.example.com",
      clientEntityIdUsed: false,
      metadataDocumentLocation: "https://client.example.com/metadata.json",
      metadataDocumentUsed: false
    }
    const response = Either.getOrThrow(decode(full))
    const encoded = Schema.encodeSync(BackchannelAuthentication.BackchannelAuthenticationResponse)(response)
    assert.deepStrictEqual(JSON.parse(JSON.stringify(encoded)), full)
  })

  it("keeps an action, delivery mode or grant management action a newer Authlete adds", () => {
    const response = Either.getOrThrow(decode({ action: "ASK_LATER", deliveryMode: "SMOKE", gmAction: "AMEND" }))
    assert.strictEqual(response.action, "ASK_LATER")
    assert.strictEqual(response.deliveryMode, "SMOKE")
    assert.strictEqual(response.gmAction, "AMEND")
  })

  it("ignores unknown fields, reads null as absent and fails on wrong types", () => {
    const response = Either.getOrThrow(decode({ action: "BAD_REQUEST", novel: 1, scopes: null }))
    assert.isUndefined(response.scopes)
    assert.notProperty(response, "novel")
    assert.isTrue(Either.isLeft(decode({ scopes: ["openid"] })))
    assert.isTrue(Either.isLeft(decode({ requestedExpiry: "60" })))
  })

  it("decodes Authlete's documented error bodies as results", () => {
    for (const status of ["400", "401", "403", "500"] as const) {
      const result = Schema.decodeUnknownSync(AuthleteResult.AuthleteResult)(authenticationExamples[status])
      assert.match(result.resultCode ?? "", /^A\d{6}$/)
    }
  })
})

describe("BackchannelAuthenticationIssueRequest", () => {
  it("accepts Authlete's documented example", () => {
    assert.strictEqual(
      accepts(BackchannelAuthenticationIssue.BackchannelAuthenticationIssueRequest, issueExamples.request).ticket,
      issueExamples.request.ticket
    )
  })

  it("requires a non-empty ticket and nothing else", () => {
    assert.deepStrictEqual(rejection(BackchannelAuthenticationIssue.BackchannelAuthenticationIssueRequest, {}), [
      "ticket: is required"
    ])
    rejects(
      BackchannelAuthenticationIssue.BackchannelAuthenticationIssueRequest,
      { ticket: "" },
      "ticket",
      /must not be empty/
    )
    rejects(
      BackchannelAuthenticationIssue.BackchannelAuthenticationIssueRequest,
      { ticket: 1 },
      "ticket",
      /must be a string/
    )
    assert.deepStrictEqual(
      rejection(BackchannelAuthenticationIssue.BackchannelAuthenticationIssueRequest, { ticket: "t", subject: "john" }),
      [": unknown field `subject`"]
    )
  })
})

describe("BackchannelAuthenticationIssueResponse", () => {
  const decode = Schema.decodeUnknownEither(BackchannelAuthenticationIssue.BackchannelAuthenticationIssueResponse)

  it("decodes Authlete's documented 200 example", () => {
    const response = Either.getOrThrow(decode(issueExamples["200"]))
    assert.strictEqual(response.action, "OK")
    assert.strictEqual(response.resultCode, "A183001")
    assert.strictEqual(response.authReqId, "_mzc-ZQdAhSPuMxTlO-MC_oqaOqYCrdNQ39PVxisaiE")
    assert.strictEqual(response.expiresIn, 3600)
    assert.strictEqual(response.interval, 0)
    assert.isString(response.responseContent)
  })

  it("keeps an unknown action as its name and fails on wrong types", () => {
    assert.strictEqual(Either.getOrThrow(decode({ action: "TICKET_MELTED" })).action, "TICKET_MELTED")
    assert.strictEqual(Either.getOrThrow(decode({ action: "INVALID_TICKET" })).action, "INVALID_TICKET")
    assert.isTrue(Either.isLeft(decode({ expiresIn: "3600" })))
  })
})

describe("BackchannelAuthenticationFailRequest", () => {
  const base = { ticket: "holsZhINBhum6j6MYE4yZefHuQN_kd609veKCst31p0", reason: "ACCESS_DENIED" }

  it("accepts every documented reason, with or without error details", () => {
    for (const reason of BackchannelAuthenticationFail.BackchannelAuthenticationFailReason.literals) {
      accepts(BackchannelAuthenticationFail.BackchannelAuthenticationFailRequest, { ...base, reason })
    }
    const request = accepts(BackchannelAuthenticationFail.BackchannelAuthenticationFailRequest, {
      ...base,
      errorDescription: "The user said no.",
      errorUri: "https://as.example.com/errors/denied"
    })
    assert.strictEqual(request.errorUri, "https://as.example.com/errors/denied")
  })

  it("requires ticket and reason and refuses an unknown reason", () => {
    assert.deepStrictEqual(rejection(BackchannelAuthenticationFail.BackchannelAuthenticationFailRequest, {}), [
      "ticket: is required",
      "reason: is required"
    ])
    rejects(
      BackchannelAuthenticationFail.BackchannelAuthenticationFailRequest,
      { ...base, reason: "DENIED" },
      "reason",
      /must be one of ACCESS_DENIED/
    )
  })

  it("applies the complete request's rules to errorDescription and errorUri", () => {
    rejects(
      BackchannelAuthenticationFail.BackchannelAuthenticationFailRequest,
      { ...base, errorDescription: "say \"no\"" },
      "errorDescription",
      /'"'/
    )
    rejects(
      BackchannelAuthenticationFail.BackchannelAuthenticationFailRequest,
      { ...base, errorUri: "/relative" },
      "errorUri",
      /absolute URI/
    )
  })

  it("reports every broken rule at once", () => {
    const issues = rejection(BackchannelAuthenticationFail.BackchannelAuthenticationFailRequest, {
      ticket: "",
      reason: "NOPE",
      errorUri: "nope",
      extra: true
    })
    assert.strictEqual(issues.length, 4, JSON.stringify(issues))
  })
})

describe("BackchannelAuthenticationFailResponse", () => {
  const decode = Schema.decodeUnknownEither(BackchannelAuthenticationFail.BackchannelAuthenticationFailResponse)

  it("decodes Authlete's documented 200 example", () => {
    const response = Either.getOrThrow(decode(failExamples["200"]))
    assert.strictEqual(response.action, "FORBIDDEN")
    assert.strictEqual(response.resultCode, "A185001")
    assert.include(response.responseContent ?? "", "access_denied")
  })

  it("keeps an unknown action as its name", () => {
    assert.strictEqual(Either.getOrThrow(decode({ action: "TEAPOT" })).action, "TEAPOT")
    assert.isTrue(Either.isLeft(decode({ action: 418 })))
  })
})
