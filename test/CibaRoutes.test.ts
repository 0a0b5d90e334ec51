/**
 * `CibaRoutes` over HTTP on a real loopback server: a client's mistake is a 4xx refused before
 * anything reaches Authlete (each field of each endpoint too long, empty and malformed), never a 500
 * nor an ERROR in the log, and never echoed; other methods are 405 with `Allow`; paths are exact and
 * case-sensitive, mounted or not; every answer carries `X-Content-Type-Options: nosniff`; the CIBA
 * endpoints' every answer carries `x-fapi-interaction-id`; a DPoP proof's `htu` is the URL the request
 * came to, or the configured one; discovery passes Authlete's FAPI metadata through and adds the
 * configured mutual TLS aliases. (The client certificate: `ClientCertificate.test.ts`.)
 */
import { HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Logger } from "effect"
import {
  AuthenticationDevice,
  AuthleteClient,
  AuthleteError,
  BackchannelChecks,
  BackchannelLimits,
  ClientNotifier,
  Decisions,
  PendingRequestStore,
  UserClaims,
  UserIdentifier
} from "effect-authlete"
import { Playground } from "effect-authlete/playground"
import { CibaRoutes } from "effect-authlete/routes"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { UndiciTransport } from "effect-authlete/undici"
import * as Http from "node:http"

// ---------------------------------------------------------------------------------------------
// What the test sees: the answers, the calls the routes made to the Authlete client, the log.

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
}

const send = (url: string, init: RequestInit = {}) =>
  Effect.promise(async (): Promise<Answer> => {
    const response = await fetch(url, { redirect: "manual", ...init })
    return { status: response.status, headers: response.headers, text: await response.text() }
  })

/** The answer, or `"closed"` when the server closed the connection before answering. */
const sendOrClosed = (url: string, init: RequestInit) =>
  Effect.promise(() =>
    fetch(url, init).then(
      async (response): Promise<Answer | "closed"> => ({
        status: response.status,
        headers: response.headers,
        text: await response.text()
      }),
      (error: { cause?: { code?: string } }) => {
        if (error.cause?.code === "UND_ERR_SOCKET") return "closed" as const
        throw error
      }
    )
  )

const oauth = (answer: Answer) => JSON.parse(answer.text) as { error?: string; error_description?: string }

/** Every call made to the Authlete client, by method name, in order. */
const calls: Array<string> = []

/** Every line logged by the servers, with its level. */
const logged: Array<{ readonly level: string; readonly text: string }> = []

const CaptureLogs = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ logLevel, message }) => {
    logged.push({ level: logLevel.label, text: Array.isArray(message) ? message.join(" ") : String(message) })
  })
)

/** The client, counting each call before it is made. */
const counted = (client: AuthleteClient.AuthleteClientService): AuthleteClient.AuthleteClientService =>
  Object.fromEntries(
    Object.entries(client).map(([name, method]) => [
      name,
      (...args: Array<unknown>) =>
        Effect.suspend(() => {
          calls.push(name)
          return (method as (...args: Array<unknown>) => Effect.Effect<unknown, unknown>)(...args)
        })
    ])
  ) as unknown as AuthleteClient.AuthleteClientService

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`
const FORM = { "content-type": "application/x-www-form-urlencoded" }
const TOKEN_BODY = "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id=unknown"
const BACKCHANNEL_BODY = "scope=openid&login_hint=user-1"

/** A request with headers `fetch` does not send as given (`Host`), over `node:http`. */
const sendRaw = (
  url: string,
  init: { readonly method: string; readonly headers: Record<string, string>; body: string }
) =>
  Effect.async<Answer>((resume) => {
    const request = Http.request(url, { method: init.method, headers: init.headers, agent: false }, (response) => {
      let text = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (text += chunk))
      response.on("end", () => {
        const headers = new Headers()
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) headers.set(name, String(value))
        }
        resume(Effect.succeed({ status: response.statusCode ?? 0, headers, text }))
      })
    })
    request.on("error", (error) => resume(Effect.die(error)))
    request.end(init.body)
  })

// ---------------------------------------------------------------------------------------------
// An application's own server: the routes at its root, again mounted under /as with a larger body
// cap, and under /fapi with its public and mutual TLS URLs configured, under the router configuration
// every application has by default (case-insensitive, trailing slash ignored); Authlete is the
// simulator, with FAPI metadata.

const FAPI = { baseUrl: "https://as.example.com/fapi", mtlsBaseUrl: "https://mtls.as.example.com/fapi/" }

const app = HttpRouter.empty.pipe(
  HttpRouter.concat(CibaRoutes.router({ automatedApproval: "/approve" })),
  HttpRouter.mount("/as", CibaRoutes.router({ maxFormBytes: 3_000_000 })),
  HttpRouter.mount("/fapi", CibaRoutes.router(FAPI))
)

/** What a FAPI service at Authlete adds to its discovery document. */
const FAPI_METADATA = {
  tls_client_certificate_bound_access_tokens: true,
  backchannel_authentication_request_signing_alg_values_supported: ["PS256", "ES256"],
  mtls_endpoint_aliases: {
    token_endpoint: "https://mtls.authlete.example/token",
    userinfo_endpoint: "https://mtls.authlete.example/userinfo"
  }
}

const serverWith = <E, R>(client: Layer.Layer<AuthleteClient.AuthleteClient, E, R>) =>
  HttpServer.serve(app).pipe(
    Layer.provide(Decisions.layer),
    Layer.provideMerge(Layer.mergeAll(
      client,
      UserIdentifier.layerFromRecord({ "user-1": {} }),
      UserClaims.layerFromRecord({ "user-1": { name: "User One" } }),
      BackchannelChecks.layer(),
      BackchannelLimits.layerMemory(),
      PendingRequestStore.layerMemory,
      AuthenticationDevice.layerNoop,
      ClientNotifier.layerTest()
    )),
    Layer.provideMerge(NodeHttpServer.layer(() => Http.createServer(), { port: 0, host: "127.0.0.1" })),
    Layer.provide(CaptureLogs)
  )

const CountedClient = Layer.effect(
  AuthleteClient.AuthleteClient,
  Effect.gen(function*() {
    const simulator = yield* AuthleteSimulator.AuthleteSimulator
    return counted(
      yield* AuthleteClient.make({
        baseUrl: simulator.baseUrl,
        serviceId: simulator.serviceId,
        accessToken: simulator.accessToken
      })
    )
  })
).pipe(Layer.provide(UndiciTransport.layer))

const Simulated = serverWith(CountedClient).pipe(
  Layer.provideMerge(AuthleteSimulator.layer({ metadata: FAPI_METADATA }))
)

const baseUrl = Effect.map(
  HttpServer.HttpServer,
  (server) => server.address._tag === "TcpAddress" ? `http://127.0.0.1:${server.address.port}` : ""
)

/** What reached Authlete so far: the client's calls, and the requests the simulator recorded. */
const reached = Effect.gen(function*() {
  const simulator = yield* AuthleteSimulator.AuthleteSimulator
  return { calls: calls.length, recorded: (yield* simulator.requests).length }
})

const assertNosniff = (answer: Answer, what: string) =>
  assert.strictEqual(answer.headers.get("x-content-type-options"), "nosniff", what)

/** One bad value of one field, and how it must be refused. */
interface BadInput {
  readonly field: string
  readonly variant: string
  readonly headers: Record<string, string>
  readonly body?: RequestInit["body"]
  /** `false`: the request goes without the form's content type. */
  readonly form?: false
  readonly path?: string
  readonly status: number
  readonly error: string
  /** What `error_description` says: the field and the rule. */
  readonly says: ReadonlyArray<string>
  /** A piece of the value, which no answer and no log may hold. */
  readonly marker?: string
}

const LONG = 8_193

const badInputs = (endpoint: "backchannel" | "token", client: { id: string; secret: string }) => {
  const good = basic(client.id, client.secret)
  const credential = (
    field: string,
    variant: string,
    authorization: string,
    says: ReadonlyArray<string>,
    marker?: string
  ) => ({
    field,
    variant,
    headers: { authorization },
    status: 401,
    error: "invalid_client",
    says,
    ...(marker === undefined ? {} : { marker })
  })
  const header = (name: string, label: string, marker: string): ReadonlyArray<BadInput> => [
    {
      field: label,
      variant: "too long",
      headers: { authorization: good, [name]: marker.repeat(9_000) },
      status: 400,
      error: "invalid_request",
      says: [label, "must be at most 8,192 characters"],
      marker: marker.repeat(16)
    },
    {
      field: label,
      variant: "empty",
      headers: { authorization: good, [name]: "" },
      status: 400,
      error: "invalid_request",
      says: [label, "must not be empty"]
    },
    {
      field: label,
      variant: "malformed (blank: HTTP reads it as empty)",
      headers: { authorization: good, [name]: "   " },
      status: 400,
      error: "invalid_request",
      says: [label, "must not be empty"]
    }
  ]
  const cases: Array<BadInput> = [
    credential("Basic client ID", "too long", basic("I".repeat(LONG), client.secret), [
      "client ID",
      "must be at most 8,192 characters"
    ], "IIIIIIIIIIIIIIII"),
    credential("Basic client ID", "empty", basic("", client.secret), ["client ID", "must not be empty"]),
    credential("Basic client ID", "malformed (a broken % escape)", basic("%E0%A4%A", client.secret), [
      "Authorization header cannot be read"
    ]),
    credential("Basic client secret", "too long", basic(client.id, "S".repeat(LONG)), [
      "client secret",
      "must be at most 8,192 characters"
    ], "SSSSSSSSSSSSSSSS"),
    // RFC 6749 2.3.1: Authlete issues no client an empty secret, so `1001:` cannot authenticate.
    credential("Basic client secret", "empty", basic(client.id, ""), ["client secret", "must not be empty"]),
    credential(
      "Basic client secret",
      "malformed (not UTF-8)",
      `Basic ${Buffer.concat([Buffer.from(`${client.id}:`), Buffer.from([0xff, 0xfe])]).toString("base64")}`,
      ["Authorization header cannot be read"]
    ),
    credential("Basic", "malformed (not base64)", "Basic !!!", ["Authorization header cannot be read"]),
    credential("Basic", "malformed (no colon)", `Basic ${Buffer.from(client.id).toString("base64")}`, [
      "Authorization header cannot be read"
    ]),
    ...header("oauth-client-attestation", "OAuth-Client-Attestation header", "A"),
    ...header("oauth-client-attestation-pop", "OAuth-Client-Attestation-PoP header", "P"),
    ...(endpoint === "token" ? header("dpop", "DPoP header", "D") : []),
    {
      field: "form body",
      variant: "too large (Content-Length)",
      headers: { authorization: good },
      body: `a=${"B".repeat(1_048_575)}`,
      status: 413,
      error: "invalid_request",
      says: ["too large"],
      marker: "BBBBBBBBBBBBBBBB"
    },
    {
      field: "form body",
      variant: "breaks the rule of parameters (under a larger cap, mounted)",
      path: `/as/${endpoint}`,
      headers: { authorization: good },
      body: `a=${"E".repeat(1_048_575)}`,
      status: 400,
      error: "invalid_request",
      says: ["form body", "must be at most 1,048,576 characters"],
      marker: "EEEEEEEEEEEEEEEE"
    },
    {
      field: "form body",
      variant: "not form-encoded",
      headers: { authorization: good, "content-type": "application/json" },
      body: "{\"scope\":\"openid\"}",
      status: 400,
      error: "invalid_request",
      says: ["application/x-www-form-urlencoded"]
    },
    {
      field: "form body",
      variant: "no content type",
      headers: { authorization: good },
      form: false,
      body: new TextEncoder().encode(BACKCHANNEL_BODY),
      status: 400,
      error: "invalid_request",
      says: ["application/x-www-form-urlencoded"]
    }
  ]
  return cases
}

layer(Simulated, { excludeTestServices: true })("an application's server with the routes", (it) => {
  const clientOf = Effect.map(
    Effect.flatMap(AuthleteSimulator.AuthleteSimulator, (simulator) => simulator.clientFor("POLL")),
    (client) => ({ id: String(client.clientId), secret: client.clientSecret })
  )

  for (const endpoint of ["backchannel", "token"] as const) {
    it.effect(`/${endpoint}: each field too long, empty and malformed is a 4xx, before Authlete`, () =>
      Effect.gen(function*() {
        const url = yield* baseUrl
        const client = yield* clientOf
        const realm = endpoint
        const firstLog = logged.length
        const markers: Array<string> = []
        for (const bad of badInputs(endpoint, client)) {
          const what = `${bad.field}, ${bad.variant}`
          const before = yield* reached
          const answer = yield* send(`${url}${bad.path ?? `/${endpoint}`}`, {
            method: "POST",
            headers: bad.form === false ? bad.headers : { ...FORM, ...bad.headers },
            body: bad.body ?? (endpoint === "token" ? TOKEN_BODY : BACKCHANNEL_BODY)
          })
          assert.strictEqual(answer.status, bad.status, what)
          const body = oauth(answer)
          assert.strictEqual(body.error, bad.error, what)
          for (const said of bad.says) assert.include(body.error_description ?? "", said, what)
          assert.strictEqual(
            answer.headers.get("www-authenticate"),
            bad.status === 401 ? `Basic realm="${realm}"` : null,
            what
          )
          assertNosniff(answer, what)
          if (bad.marker !== undefined) {
            assert.notInclude(answer.text, bad.marker, what)
            markers.push(bad.marker)
          }
          assert.deepStrictEqual(yield* reached, before, `${what}: nothing reached Authlete`)
        }
        const lines = logged.slice(firstLog)
        assert.deepStrictEqual(lines.filter((line) => line.level !== "INFO" && line.level !== "DEBUG"), [])
        assert.isAtLeast(lines.filter((line) => line.text.startsWith("Refused a request")).length, 10)
        for (const marker of markers) assert.isFalse(lines.some((line) => line.text.includes(marker)), marker)
      }))
  }

  it.effect("a chunked body past the cap: the platform closes the connection, no 500 and nothing sent", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const client = yield* clientOf
      const firstLog = logged.length
      for (const endpoint of ["/backchannel", "/token"]) {
        const before = yield* reached
        // @effect/platform-node destroys a request whose body outgrows the cap as it is read, so no
        // answer can be written: the client sees the connection close (a 413 if that changes).
        const answer = yield* sendOrClosed(`${url}${endpoint}`, {
          method: "POST",
          headers: { ...FORM, authorization: basic(client.id, client.secret) },
          body: new Blob([`a=${"C".repeat(1_048_575)}`]).stream(),
          duplex: "half"
        } as RequestInit)
        if (answer !== "closed") {
          assert.strictEqual(answer.status, 413, endpoint)
          assert.strictEqual(oauth(answer).error, "invalid_request")
        }
        assert.deepStrictEqual(yield* reached, before, endpoint)
      }
      const lines = logged.slice(firstLog)
      assert.deepStrictEqual(lines.filter((line) => line.level !== "INFO" && line.level !== "DEBUG"), [])
      assert.isFalse(lines.some((line) => line.text.includes("CCCCCCCCCCCCCCCC")))
    }))

  it.effect("what the rules accept reaches Authlete, which judges the rest (a DPoP that is no JWT is no 500)", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const client = yield* clientOf
      for (const path of ["/token", "/as/token"]) {
        const before = yield* reached
        const answer = yield* send(`${url}${path}`, {
          method: "POST",
          headers: {
            ...FORM,
            authorization: basic(client.id, client.secret),
            dpop: "not-a-jwt",
            "oauth-client-attestation": "attestation.jwt.value",
            "oauth-client-attestation-pop": "attestation.pop.value"
          },
          body: TOKEN_BODY
        })
        assert.strictEqual(answer.status, 400, path)
        assert.strictEqual(oauth(answer).error, "invalid_grant", path)
        assertNosniff(answer, path)
        const after = yield* reached
        assert.strictEqual(after.calls, before.calls + 1, path)
        assert.strictEqual(after.recorded, before.recorded + 1, path)
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const sent = (yield* simulator.requests).at(-1)?.body as Record<string, unknown>
        assert.strictEqual(sent["dpop"], "not-a-jwt")
        assert.strictEqual(sent["htm"], "POST")
        assert.strictEqual(sent["htu"], `${url}${path}`)
        assert.strictEqual(sent["oauthClientAttestationPop"], "attestation.pop.value")
      }
    }))

  it.effect("htu: the configured URL (the mTLS one for its host), else the request's; X-Forwarded-* of no proxy ignored", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const client = yield* clientOf
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const port = new URL(url).port
      const cases = [
        ["/fapi/token", {}, "https://as.example.com/fapi/token"],
        ["/fapi/token", { host: "mtls.as.example.com" }, "https://mtls.as.example.com/fapi/token"],
        ["/fapi/token", { host: "evil.example" }, "https://as.example.com/fapi/token"],
        ["/token", { host: `localhost:${port}` }, `http://localhost:${port}/token`],
        ["/token", { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" }, `${url}/token`],
        ["/as/token", { host: "bad host" }, undefined]
      ] as const
      for (const [path, headers, htu] of cases) {
        const before = (yield* simulator.requests).length
        const answer = yield* sendRaw(`${url}${path}`, {
          method: "POST",
          headers: { ...FORM, authorization: basic(client.id, client.secret), dpop: "not-a-jwt", ...headers },
          body: TOKEN_BODY
        })
        const what = `${path} ${JSON.stringify(headers)}`
        assert.strictEqual(answer.status, 400, what)
        const sent = (yield* simulator.requests).slice(before).at(-1)?.body as Record<string, unknown> | undefined
        assert.isDefined(sent, what)
        assert.strictEqual(sent?.["htu"], htu, what)
      }
      // The URL is judged with TokenRequest's rule for htu, before Authlete.
      const before = (yield* simulator.requests).length
      const long = yield* sendRaw(`${url}/token`, {
        method: "POST",
        headers: {
          ...FORM,
          authorization: basic(client.id, client.secret),
          dpop: "not-a-jwt",
          host: "h".repeat(9_000)
        },
        body: TOKEN_BODY
      })
      assert.strictEqual(long.status, 400)
      assert.include(oauth(long).error_description ?? "", "(its Host header) must be at most 8,192 characters")
      assert.strictEqual((yield* simulator.requests).length, before)
    }))

  it.effect("x-fapi-interaction-id: echoed when a UUID, else fresh, on every answer of both endpoints", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const client = yield* clientOf
      const good = { ...FORM, authorization: basic(client.id, client.secret) }
      const answers = [
        ["backchannel 200", "/backchannel", "POST", good, `${BACKCHANNEL_BODY}&binding_message=W4SCT`, 200],
        ["token 400", "/token", "POST", good, TOKEN_BODY, 400],
        ["token 400 (a rule)", "/as/token", "POST", { ...good, dpop: "" }, TOKEN_BODY, 400],
        ["token 401", "/token", "POST", { ...FORM, authorization: basic(client.id, "") }, TOKEN_BODY, 401],
        ["backchannel 401", "/fapi/backchannel", "POST", { ...FORM, authorization: "Basic !!!" }, "", 401],
        ["token 405", "/token", "GET", {}, undefined, 405],
        ["backchannel 405", "/backchannel", "PUT", {}, "", 405]
      ] as const
      const fresh = new Set<string>()
      for (const [what, path, method, headers, body, status] of answers) {
        const sent = crypto.randomUUID().toUpperCase()
        const given = (id?: string) =>
          send(`${url}${path}`, {
            method,
            headers: id === undefined ? headers : { ...headers, "x-fapi-interaction-id": id },
            ...(body === undefined ? {} : { body })
          })
        const echoed = yield* given(sent)
        assert.strictEqual(echoed.status, status, what)
        assert.strictEqual(echoed.headers.get("x-fapi-interaction-id"), sent, what)
        // A 200 leaves a pending request for user-1 (at most 5 may wait): two of those are enough.
        for (const id of status === 200 ? [undefined] : [undefined, "not-a-uuid", `${sent}0`]) {
          const answer = yield* given(id)
          assert.strictEqual(answer.status, status, `${what} ${id}`)
          const made = answer.headers.get("x-fapi-interaction-id") ?? ""
          assert.match(made, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, `${what} ${id}`)
          fresh.add(made)
        }
      }
      assert.strictEqual(fresh.size, answers.length * 3 - 2)
      // Discovery is no CIBA endpoint: no id there.
      assert.isNull((yield* send(`${url}/.well-known/openid-configuration`)).headers.get("x-fapi-interaction-id"))
    }))

  it.effect("discovery: Authlete's FAPI metadata passes through; mtlsBaseUrl adds its aliases over Authlete's", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const plain = JSON.parse((yield* send(`${url}/.well-known/openid-configuration`)).text) as Record<string, unknown>
      for (const [name, value] of Object.entries(FAPI_METADATA)) assert.deepStrictEqual(plain[name], value, name)
      const fapi = JSON.parse((yield* send(`${url}/fapi/.well-known/openid-configuration`)).text) as Record<
        string,
        unknown
      >
      assert.deepStrictEqual(fapi["mtls_endpoint_aliases"], {
        token_endpoint: "https://mtls.as.example.com/fapi/token",
        userinfo_endpoint: "https://mtls.authlete.example/userinfo",
        backchannel_authentication_endpoint: "https://mtls.as.example.com/fapi/backchannel"
      })
      assert.isTrue(fapi["tls_client_certificate_bound_access_tokens"])
      assert.deepStrictEqual(fapi["issuer"], plain["issuer"])
    }))

  it.effect("another method is 405 with Allow, before Authlete", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const before = yield* reached
      const cases: ReadonlyArray<readonly [string, ReadonlyArray<string>, string]> = [
        ["/token", ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"], "POST"],
        ["/backchannel", ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"], "POST"],
        ["/as/token", ["GET", "PUT"], "POST"],
        ["/.well-known/openid-configuration", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"], "GET, HEAD"],
        ["/jwks", ["POST", "PUT", "DELETE"], "GET, HEAD"],
        ["/approve/some-id/allow", ["GET", "PUT", "DELETE"], "POST"]
      ]
      for (const [path, methods, allow] of cases) {
        for (const method of methods) {
          const answer = yield* send(`${url}${path}`, { method })
          assert.strictEqual(answer.status, 405, `${method} ${path}`)
          assert.strictEqual(answer.headers.get("allow"), allow, `${method} ${path}`)
          assertNosniff(answer, `${method} ${path}`)
          if (method !== "HEAD") assert.strictEqual(oauth(answer).error, "invalid_request")
        }
      }
      assert.deepStrictEqual(yield* reached, before)
    }))

  it.effect("discovery and the JWKS answer GET and HEAD", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      for (const path of ["/.well-known/openid-configuration", "/jwks", "/as/jwks"]) {
        const get = yield* send(`${url}${path}`)
        assert.strictEqual(get.status, 200, path)
        assertNosniff(get, path)
        assert.isObject(JSON.parse(get.text))
        const head = yield* send(`${url}${path}`, { method: "HEAD" })
        assert.strictEqual(head.status, 200, `HEAD ${path}`)
        assert.strictEqual(head.text, "")
        assertNosniff(head, `HEAD ${path}`)
      }
    }))

  it.effect("paths are exact and case-sensitive, mounted or not: no trailing slash, no other spelling", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const client = yield* clientOf
      const before = yield* reached
      const paths = [
        "/TOKEN",
        "/Token",
        "/token/",
        "//token",
        "/tok%65n",
        "/BACKCHANNEL",
        "/backchannel/",
        "/JWKS",
        "/jwks/",
        "/.well-known/OpenID-Configuration",
        "/.well-known/openid-configuration/",
        "/Approve/some-id/allow",
        "/approve/some-id/allow/",
        "/AS/token",
        "/As/backchannel",
        "/as/TOKEN",
        "/as/token/",
        "/as//token",
        "/as/JWKS"
      ]
      for (const path of paths) {
        for (const method of ["GET", "POST"]) {
          const answer = yield* send(`${url}${path}`, {
            method,
            ...(method === "POST"
              ? { headers: { ...FORM, authorization: basic(client.id, client.secret) }, body: TOKEN_BODY }
              : {})
          })
          assert.strictEqual(answer.status, 404, `${method} ${path}`)
        }
      }
      assert.deepStrictEqual(yield* reached, before)
      // The exact paths still answer, with a query too.
      assert.strictEqual((yield* send(`${url}/jwks?x=1`)).status, 200)
      assert.strictEqual((yield* send(`${url}/as/.well-known/openid-configuration`)).status, 200)
    }))
})

// ---------------------------------------------------------------------------------------------
// A failure of the Authlete client that still reaches a route: a broken rule is 400, a failure to
// reach Authlete 500 (and an ERROR in the log).

const FailingClient = AuthleteClient.layerTest({
  token: (request) => {
    const parameters = new URLSearchParams(request.parameters)
    switch (parameters.get("case")) {
      case "build":
        return Effect.fail(
          new AuthleteError.AuthleteValidationError({
            issues: [{ path: ["ticket"], message: "must not be empty" }],
            refused: "Build"
          })
        )
      case "transport":
        return Effect.fail(new AuthleteError.AuthleteTransportError({ reason: "Connect", detail: "refused" }))
      default:
        return Effect.fail(new AuthleteError.AuthleteApiError({ status: 503, body: "" }))
    }
  }
})

layer(serverWith(FailingClient), { excludeTestServices: true })("the routes over a failing client", (it) => {
  it.effect("AuthleteValidationError is 400 invalid_request; failures to reach Authlete are 500", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const cases = [
        ["build", 400, "invalid_request", "INFO"],
        ["transport", 500, "server_error", "ERROR"],
        ["unavailable", 500, "server_error", "ERROR"]
      ] as const
      for (const [name, status, error, level] of cases) {
        const firstLog = logged.length
        const answer = yield* send(`${url}/token`, {
          method: "POST",
          headers: { ...FORM, authorization: basic("1001", "secret") },
          body: `grant_type=x&case=${name}`
        })
        assert.strictEqual(answer.status, status, name)
        assert.strictEqual(oauth(answer).error, error, name)
        assertNosniff(answer, name)
        assert.match(answer.headers.get("x-fapi-interaction-id") ?? "", /^[0-9a-f-]{36}$/, name)
        const levels = logged.slice(firstLog).map((line) => line.level)
        assert.include(levels, level, name)
        if (level === "INFO") assert.notInclude(levels, "ERROR", name)
      }
    }))
})

// ---------------------------------------------------------------------------------------------
// The playground's assembly: the same refusals, seen from the simulator, which records every request
// of a client that authenticated (so one of these, had it been sent, would be there).

layer(Playground.layer({ interval: 1 }), { excludeTestServices: true })("the playground's routes", (it) => {
  it.effect("bad headers and bodies are 4xx and reach no Authlete; a good request does", () =>
    Effect.gen(function*() {
      const info = yield* Playground.Playground
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const client = info.clients[0]!
      const authorization = basic(client.clientId, client.clientSecret)
      const recorded = Effect.map(simulator.requests, (requests) => requests.length)
      const cases: ReadonlyArray<readonly [string, Record<string, string>, string, number, string]> = [
        ["/token", { dpop: "" }, TOKEN_BODY, 400, "invalid_request"],
        ["/token", { dpop: "D".repeat(9_000) }, TOKEN_BODY, 400, "invalid_request"],
        ["/token", { "oauth-client-attestation": "" }, TOKEN_BODY, 400, "invalid_request"],
        [
          "/backchannel",
          { "oauth-client-attestation-pop": "P".repeat(9_000) },
          BACKCHANNEL_BODY,
          400,
          "invalid_request"
        ],
        ["/backchannel", { "content-type": "text/plain" }, BACKCHANNEL_BODY, 400, "invalid_request"],
        ["/backchannel", { authorization: basic(client.clientId, "") }, BACKCHANNEL_BODY, 401, "invalid_client"]
      ]
      for (const [path, headers, body, status, error] of cases) {
        const before = yield* recorded
        const answer = yield* send(`${info.issuer}${path}`, {
          method: "POST",
          headers: { ...FORM, authorization, ...headers },
          body
        })
        assert.strictEqual(answer.status, status, `${path} ${JSON.stringify(Object.keys(headers))}`)
        assert.strictEqual(oauth(answer).error, error)
        assertNosniff(answer, path)
        assert.strictEqual(yield* recorded, before, path)
      }
      const others = [["GET", "/token", 405], ["POST", "/jwks", 405], ["POST", "/Token", 404]] as const
      for (const [method, path, status] of others) {
        assert.strictEqual((yield* send(`${info.issuer}${path}`, { method })).status, status, `${method} ${path}`)
      }
      // The control: the same client's good request is recorded.
      const before = yield* recorded
      const answer = yield* send(`${info.issuer}/token`, {
        method: "POST",
        headers: { ...FORM, authorization },
        body: TOKEN_BODY
      })
      assert.strictEqual(answer.status, 400)
      assert.strictEqual(oauth(answer).error, "invalid_grant")
      assert.strictEqual(yield* recorded, before + 1)
    }))
})
