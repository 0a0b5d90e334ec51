/**
 * `ClientCertificate` and the routes' `clientCertificate` option on a real Node HTTPS server
 * (`requestCert: true`, `rejectUnauthorized: false`) on loopback: the certificate a client presents
 * in TLS, and its chain, reach Authlete from both endpoints, as PEM; a TLS-terminating proxy's header
 * is read only from a trusted address, in each form proxies write it; a header that holds no
 * certificate, or one that breaks the Authlete client's rules, is a 400 and nothing is sent; a
 * DPoP proof's `htu` names the URL the request came to.
 */
import { HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Either, Layer, Logger, LogLevel } from "effect"
import {
  AuthenticationDevice,
  AuthleteClient,
  BackchannelChecks,
  BackchannelLimits,
  ClientCredentials,
  ClientNotifier,
  Decisions,
  PendingRequestStore,
  UserClaims,
  UserIdentifier
} from "effect-authlete"
import { CibaRoutes } from "effect-authlete/routes"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { UndiciTransport } from "effect-authlete/undici"
import { readFileSync } from "node:fs"
import type * as Http from "node:http"
import * as Https from "node:https"
import * as ClientCertificate from "../src/ClientCertificate.js"

const fixture = (name: string) => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url), "utf8")
const CA = fixture("ca.pem")
const INTERMEDIATE = fixture("intermediate.pem")
const CLIENT_1 = { cert: fixture("client1.pem"), key: fixture("client1.key") }
const CLIENT_2 = { cert: fixture("client2.pem"), key: fixture("client2.key") }
const BIG = fixture("big.pem")

/** PEM as a header can carry it: Apache's spaces for newlines. */
const oneLine = (pem: string) => pem.trim().replace(/\n/g, " ")
const derOf = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64")

// ---------------------------------------------------------------------------------------------
// Pure parts: addresses, the forms of a header, the socket.

describe("ClientCertificate: addresses", () => {
  it("compares IP addresses in one spelling; an IPv4-mapped IPv6 address is its IPv4 address", () => {
    assert.strictEqual(ClientCertificate.canonicalAddress("::ffff:127.0.0.1"), "127.0.0.1")
    assert.strictEqual(ClientCertificate.canonicalAddress("::FFFF:7f00:1"), "127.0.0.1")
    assert.strictEqual(
      ClientCertificate.canonicalAddress("[::1]"),
      ClientCertificate.canonicalAddress("0:0:0:0:0:0:0:1")
    )
    assert.strictEqual(ClientCertificate.canonicalAddress("2001:DB8::0001"), "2001:db8:0:0:0:0:0:1")
    for (
      const wrong of ["10.0.0.0/8", "localhost", "", "1.2.3", "256.1.1.1", "01.2.3.4", "1::2::3", "fe80::1%eth0", "::g"]
    ) {
      assert.isUndefined(ClientCertificate.canonicalAddress(wrong), wrong)
    }
    const isTrusted = ClientCertificate.trustedProxies(["127.0.0.1", "::1"])
    assert.isTrue(isTrusted("::ffff:127.0.0.1"))
    assert.isTrue(isTrusted("0:0:0:0:0:0:0:1"))
    assert.isFalse(isTrusted("127.0.0.2"))
    assert.isFalse(isTrusted(undefined))
    assert.isFalse(ClientCertificate.trustedProxies([])("127.0.0.1"))
  })

  it("a proxy that is no IP address, a header without proxies or a bad base URL throws at construction", () => {
    assert.throws(() => ClientCertificate.trustedProxies(["10.0.0.0/8"]), TypeError, /IP addresses/)
    assert.throws(() => CibaRoutes.router({ clientCertificate: { header: "x-ssl-cert" } }), TypeError, /trustedProxies/)
    assert.throws(
      () => CibaRoutes.router({ clientCertificate: { header: "x-ssl-cert", trustedProxies: ["proxy.internal"] } }),
      TypeError
    )
    assert.throws(() => CibaRoutes.router({ baseUrl: "as.example.com" }), TypeError, /baseUrl/)
    assert.throws(() => CibaRoutes.router({ mtlsBaseUrl: "https://mtls.example.com/?x=1" }), TypeError, /mtlsBaseUrl/)
    assert.doesNotThrow(() =>
      CibaRoutes.router({ clientCertificate: { header: "x-ssl-cert", trustedProxies: ["::1"] } })
    )
  })
})

describe("ClientCertificate: a trusted proxy's headers", () => {
  const read = (headers: Record<string, string>, chainHeaders: ReadonlyArray<string> = []) =>
    ClientCertificate.fromProxyHeaders(headers, "x-cert", chainHeaders)
  const ok = (certificate: ClientCertificate.ClientCertificate | undefined) =>
    Either.right(certificate) as Either.Either<ClientCertificate.ClientCertificate | undefined, never>

  it("reads PEM, URL-encoded PEM, RFC 9440 byte sequences and base64 DER, as canonical PEM", () => {
    const forms = [
      oneLine(CLIENT_1.cert),
      CLIENT_1.cert.replace(/\n/g, "\n\t"),
      encodeURIComponent(CLIENT_1.cert),
      `:${derOf(CLIENT_1.cert).toString("base64")}:`,
      derOf(CLIENT_1.cert).toString("base64")
    ]
    for (const form of forms) {
      assert.deepStrictEqual(read({ "x-cert": form }), ok({ clientCertificate: CLIENT_1.cert }), form.slice(0, 30))
    }
  })

  it("reads the chain from the header itself and from the chain headers, skipping empty and (null)", () => {
    assert.deepStrictEqual(
      read({ "x-cert": encodeURIComponent(CLIENT_2.cert + INTERMEDIATE) }),
      ok({ clientCertificate: CLIENT_2.cert, clientCertificatePath: [INTERMEDIATE] })
    )
    assert.deepStrictEqual(
      read({ "x-cert": oneLine(CLIENT_2.cert), "x-chain-1": oneLine(INTERMEDIATE), "x-chain-2": "(null)" }, [
        "X-Chain-1",
        "x-chain-2",
        "x-chain-3"
      ]),
      ok({ clientCertificate: CLIENT_2.cert, clientCertificatePath: [INTERMEDIATE] })
    )
    // No certificate of the client: none at all, whatever the chain headers hold.
    assert.deepStrictEqual(
      read({ "x-cert": "(null)", "x-chain-1": oneLine(INTERMEDIATE) }, ["x-chain-1"]),
      ok(undefined)
    )
    assert.deepStrictEqual(read({ "x-cert": "" }), ok(undefined))
    assert.deepStrictEqual(read({}), ok(undefined))
  })

  it("reads x-forwarded-client-cert: Cert and Chain (the client's left out of it) of the last element", () => {
    const element = (cert: string, chain?: string) =>
      `By=spiffe://as.example/proxy;Hash=0f1e;Cert="${encodeURIComponent(cert)}"${
        chain === undefined ? "" : `;Chain="${encodeURIComponent(chain)}"`
      };Subject="CN=client, O=\\"Example\\"";URI=`
    assert.deepStrictEqual(
      read({ "x-cert": element(CLIENT_2.cert, CLIENT_2.cert + INTERMEDIATE) }),
      ok({ clientCertificate: CLIENT_2.cert, clientCertificatePath: [INTERMEDIATE] })
    )
    assert.deepStrictEqual(
      read({ "x-cert": `${element(CLIENT_2.cert)},${element(CLIENT_1.cert)}` }),
      ok({ clientCertificate: CLIENT_1.cert })
    )
    assert.deepStrictEqual(read({ "x-cert": "By=spiffe://as.example/proxy;Hash=0f1e" }), ok(undefined))
  })

  it("a value that holds no X.509 certificate is MalformedClientCertificate, naming the header, never the value", () => {
    const keyBody = fixture("client1.key").replace(/-----[A-Z ]+-----/g, "")
    const wrong = [
      "not a certificate",
      "%E0%A4%A",
      `-----BEGIN CERTIFICATE----- ${keyBody} -----END CERTIFICATE-----`,
      "-----BEGIN CERTIFICATE----- QUJD -----END CERTIFICATE-----",
      `${oneLine(CLIENT_1.cert)} trailing`,
      `${oneLine(CLIENT_1.cert).slice(0, 300)}-----END CERTIFICATE-----`,
      ":QUJD:",
      `Hash=1;Cert="${encodeURIComponent(CLIENT_1.cert).slice(0, 200)}"`
    ]
    for (const value of wrong) {
      const result = read({ "x-cert": value })
      assert.isTrue(Either.isLeft(result), value)
      const error = Either.isLeft(result) ? result.left : undefined
      assert.strictEqual(error?._tag, "MalformedClientCertificate", value)
      assert.include(error?.message ?? "", "x-cert header", value)
      assert.notInclude(error?.message ?? "", value.slice(0, 12), value)
    }
    const chain = read({ "x-cert": oneLine(CLIENT_2.cert), "x-chain-1": "garbage" }, ["x-chain-1"])
    assert.strictEqual(Either.isLeft(chain) ? chain.left.header : undefined, "x-chain-1")
  })

  it("the certificate is judged with ClientCredentials' rules (at most 8,192 characters)", () => {
    const big = read({ "x-cert": encodeURIComponent(BIG) })
    assert.deepStrictEqual(big, ok({ clientCertificate: BIG }))
    const judged = ClientCredentials.fromHeaders({}, { clientCertificate: BIG })
    assert.isTrue(Either.isLeft(judged))
    const issues = Either.isLeft(judged) && judged.left._tag === "AuthleteValidationError" ? judged.left.issues : []
    assert.deepStrictEqual(issues.map((issue) => issue.path), [["clientCertificate"]])
    assert.deepStrictEqual(
      ClientCredentials.fromHeaders({}, { clientCertificate: CLIENT_2.cert, clientCertificatePath: [INTERMEDIATE] }),
      Either.right({ clientCertificate: CLIENT_2.cert, clientCertificatePath: [INTERMEDIATE] })
    )
  })

  it.effect("the reader trusts the header only from a trusted proxy; a socket that is no TLS carries none", () =>
    Effect.gen(function*() {
      const headers = { "x-ssl-cert": oneLine(CLIENT_1.cert) }
      const read = ClientCertificate.reader({ header: "X-Ssl-Cert", trustedProxies: ["127.0.0.1"] })
      const from = (remoteAddress: string | undefined, socket: unknown = {}) => read({ headers, remoteAddress, socket })
      assert.deepStrictEqual(yield* from("::ffff:127.0.0.1"), { clientCertificate: CLIENT_1.cert })
      assert.isUndefined(yield* from("10.0.0.1"))
      assert.isUndefined(yield* from(undefined))
      const tls = ClientCertificate.reader({ fromTls: true })
      const peer = { raw: derOf(CLIENT_1.cert), fingerprint256: "A" }
      const socket = (encrypted: boolean) => ({ encrypted, getPeerCertificate: () => peer })
      assert.deepStrictEqual(yield* tls({ headers, remoteAddress: "127.0.0.1", socket: socket(true) }), {
        clientCertificate: CLIENT_1.cert
      })
      assert.isUndefined(yield* tls({ headers, remoteAddress: "127.0.0.1", socket: socket(false) }))
      assert.isUndefined(ClientCertificate.fromSocket({ encrypted: true, getPeerCertificate: () => ({}) }))
      assert.strictEqual(ClientCertificate.toPem(derOf(BIG)), BIG)
    }))
})

// ---------------------------------------------------------------------------------------------
// A real HTTPS server with the routes, mounted with each way of finding the certificate.

const logged: Array<{ readonly level: string; readonly text: string }> = []
const CaptureLogs = Layer.merge(
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      logged.push({ level: logLevel.label, text: Array.isArray(message) ? message.join(" ") : String(message) })
    })
  ),
  Logger.minimumLogLevel(LogLevel.Debug)
)

const X_SSL = { header: "x-ssl-cert", chainHeaders: ["x-ssl-cert-chain-1", "x-ssl-cert-chain-2"] }

const app = HttpRouter.empty.pipe(
  HttpRouter.concat(CibaRoutes.router({ clientCertificate: { fromTls: true } })),
  HttpRouter.mount("/proxy", CibaRoutes.router({ clientCertificate: { ...X_SSL, trustedProxies: ["127.0.0.1"] } })),
  HttpRouter.mount(
    "/xfcc",
    CibaRoutes.router({
      clientCertificate: { header: "x-forwarded-client-cert", trustedProxies: ["::ffff:127.0.0.1"] }
    })
  ),
  HttpRouter.mount(
    "/elsewhere",
    CibaRoutes.router({ clientCertificate: { ...X_SSL, fromTls: true, trustedProxies: ["10.0.0.1"] } })
  ),
  HttpRouter.mount("/none", CibaRoutes.router())
)

const SimulatedClient = Layer.effect(
  AuthleteClient.AuthleteClient,
  Effect.flatMap(AuthleteSimulator.AuthleteSimulator, (simulator) =>
    AuthleteClient.make({
      baseUrl: simulator.baseUrl,
      serviceId: simulator.serviceId,
      accessToken: simulator.accessToken
    }))
).pipe(Layer.provide(UndiciTransport.layer))

const HttpsServer = HttpServer.serve(app).pipe(
  Layer.provide(Decisions.layer),
  Layer.provideMerge(Layer.mergeAll(
    SimulatedClient,
    UserIdentifier.layerFromRecord({ "user-1": {} }),
    UserClaims.layerFromRecord({ "user-1": { name: "User One" } }),
    BackchannelChecks.layer(),
    // Many requests of one client for one user: no limit may refuse one before Authlete.
    BackchannelLimits.layerNone,
    PendingRequestStore.layerMemory,
    AuthenticationDevice.layerNoop,
    ClientNotifier.layerTest()
  )),
  Layer.provideMerge(NodeHttpServer.layer(
    () =>
      Https.createServer({
        key: fixture("server.key"),
        cert: fixture("server.pem"),
        requestCert: true,
        rejectUnauthorized: false
      }) as unknown as Http.Server,
    { port: 0, host: "127.0.0.1" }
  )),
  Layer.provide(CaptureLogs),
  Layer.provideMerge(AuthleteSimulator.layer())
)

interface Answer {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly text: string
}

const portOf = Effect.map(
  HttpServer.HttpServer,
  (server) => server.address._tag === "TcpAddress" ? server.address.port : 0
)

/** A POST over TLS to the server, presenting `client`'s certificate (and `chain`) when given. */
const post = (
  path: string,
  options: {
    readonly client?: { readonly cert: string; readonly key: string } | undefined
    readonly chain?: string | undefined
    readonly headers?: Record<string, string> | undefined
    readonly body: string
  }
) =>
  Effect.flatMap(portOf, (port) =>
    Effect.async<Answer>((resume) => {
      const request = Https.request({
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        agent: false,
        ca: CA,
        ...(options.client === undefined
          ? {}
          : { cert: options.client.cert + (options.chain ?? ""), key: options.client.key }),
        headers: { "content-type": "application/x-www-form-urlencoded", ...options.headers }
      }, (response) => {
        let text = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => (text += chunk))
        response.on(
          "end",
          () => resume(Effect.succeed({ status: response.statusCode ?? 0, headers: response.headers, text }))
        )
      })
      request.on("error", (error) => resume(Effect.die(error)))
      request.end(options.body)
    }))

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`
const TOKEN_BODY = "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id=unknown"
const BACKCHANNEL_BODY = "scope=openid&login_hint=user-1&binding_message=W4SCT"

const ENDPOINTS = [
  { path: "/backchannel", body: BACKCHANNEL_BODY, api: "/backchannel/authentication" },
  { path: "/token", body: TOKEN_BODY, api: "/auth/token" }
] as const

layer(HttpsServer, { excludeTestServices: true })("the routes on an HTTPS server", (it) => {
  const authorization = Effect.map(
    Effect.flatMap(AuthleteSimulator.AuthleteSimulator, (simulator) => simulator.clientFor("POLL")),
    (client) => basic(String(client.clientId), client.clientSecret)
  )

  /** The request each endpoint sent Authlete for one POST, or `undefined` when it sent none. */
  const sentFor = (
    prefix: string,
    options: Omit<Parameters<typeof post>[1], "body">,
    endpoint: (typeof ENDPOINTS)[number]
  ) =>
    Effect.gen(function*() {
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const before = (yield* simulator.requests).length
      const answer = yield* post(`${prefix}${endpoint.path}`, {
        ...options,
        headers: { authorization: yield* authorization, ...options.headers },
        body: endpoint.body
      })
      // The backchannel endpoint goes on to /issue or /fail: the request of the endpoint's own API is the one.
      const requests = (yield* simulator.requests).slice(before)
      const sent = requests.find((request) => request.path.endsWith(endpoint.api))?.body as
        | Record<string, unknown>
        | undefined
      return { answer, sent }
    })

  const certificateOf = (sent: Record<string, unknown> | undefined) =>
    sent === undefined ? "not sent" : { certificate: sent["clientCertificate"], path: sent["clientCertificatePath"] }

  it.effect("the TLS client certificate, and its chain without the self-signed root, reach Authlete from both endpoints", () =>
    Effect.gen(function*() {
      for (const endpoint of ENDPOINTS) {
        const one = yield* sentFor("", { client: CLIENT_1 }, endpoint)
        assert.deepStrictEqual(certificateOf(one.sent), { certificate: CLIENT_1.cert, path: undefined }, endpoint.path)
        const two = yield* sentFor("", { client: CLIENT_2, chain: INTERMEDIATE + CA }, endpoint)
        assert.deepStrictEqual(
          certificateOf(two.sent),
          { certificate: CLIENT_2.cert, path: [INTERMEDIATE] },
          endpoint.path
        )
        const none = yield* sentFor("", {}, endpoint)
        assert.deepStrictEqual(certificateOf(none.sent), { certificate: undefined, path: undefined }, endpoint.path)
        // Not asked for: none read.
        const off = yield* sentFor("/none", { client: CLIENT_1 }, endpoint)
        assert.deepStrictEqual(certificateOf(off.sent), { certificate: undefined, path: undefined }, endpoint.path)
      }
    }))

  it.effect("a trusted proxy's header is read, in each form; the TLS peer behind a proxy is the proxy's", () =>
    Effect.gen(function*() {
      for (const endpoint of ENDPOINTS) {
        const cases = [
          ["/proxy", { "x-ssl-cert": oneLine(CLIENT_1.cert) }, { certificate: CLIENT_1.cert, path: undefined }],
          ["/proxy", { "x-ssl-cert": encodeURIComponent(CLIENT_2.cert), "x-ssl-cert-chain-1": oneLine(INTERMEDIATE) }, {
            certificate: CLIENT_2.cert,
            path: [INTERMEDIATE]
          }],
          ["/proxy", { "x-ssl-cert": "(null)" }, { certificate: undefined, path: undefined }],
          ["/xfcc", {
            "x-forwarded-client-cert": `Hash=ab;Cert="${encodeURIComponent(CLIENT_2.cert)}";Chain="${
              encodeURIComponent(CLIENT_2.cert + INTERMEDIATE)
            }";Subject="CN=client-2"`
          }, { certificate: CLIENT_2.cert, path: [INTERMEDIATE] }]
        ] as const
        for (const [prefix, headers, expected] of cases) {
          const { sent } = yield* sentFor(prefix, { client: CLIENT_1, headers }, endpoint)
          assert.deepStrictEqual(certificateOf(sent), expected, `${prefix}${endpoint.path} ${Object.keys(headers)}`)
        }
      }
    }))

  it.effect("a header from an address that is no trusted proxy, or with no header configured, is ignored (DEBUG)", () =>
    Effect.gen(function*() {
      for (const endpoint of ENDPOINTS) {
        const headers = { "x-ssl-cert": oneLine(CLIENT_2.cert) }
        const firstLog = logged.length
        const ignored = yield* sentFor("/elsewhere", { headers }, endpoint)
        assert.deepStrictEqual(certificateOf(ignored.sent), { certificate: undefined, path: undefined })
        assert.isTrue(
          logged.slice(firstLog).some((line) =>
            line.level === "DEBUG" && line.text.includes("Ignored the client certificate header x-ssl-cert")
          ),
          endpoint.path
        )
        // The TLS certificate still counts there; the header does not replace it.
        const tls = yield* sentFor("/elsewhere", { client: CLIENT_1, headers }, endpoint)
        assert.deepStrictEqual(certificateOf(tls.sent), { certificate: CLIENT_1.cert, path: undefined })
        const unconfigured = yield* sentFor("/none", { headers }, endpoint)
        assert.deepStrictEqual(certificateOf(unconfigured.sent), { certificate: undefined, path: undefined })
      }
    }))

  it.effect("a trusted header that holds no certificate, or breaks a rule, is 400 and nothing is sent", () =>
    Effect.gen(function*() {
      for (const endpoint of ENDPOINTS) {
        const cases = [
          [{ "x-ssl-cert": "not-a-certificate-MARKER" }, "cannot be read"],
          [{ "x-ssl-cert": "-----BEGIN CERTIFICATE----- QUJDRA== -----END CERTIFICATE-----" }, "cannot be read"],
          [{ "x-ssl-cert": oneLine(CLIENT_2.cert), "x-ssl-cert-chain-1": "MARKER%ZZ" }, "cannot be read"],
          [{ "x-ssl-cert": encodeURIComponent(BIG) }, "The client certificate must be at most 8,192 characters"]
        ] as const
        for (const [headers, says] of cases) {
          const firstLog = logged.length
          const { answer, sent } = yield* sentFor("/proxy", { headers }, endpoint)
          const what = `${endpoint.path} ${JSON.stringify(headers).slice(0, 60)}`
          assert.strictEqual(answer.status, 400, what)
          const body = JSON.parse(answer.text) as { error: string; error_description: string }
          assert.strictEqual(body.error, "invalid_request", what)
          assert.include(body.error_description, says, what)
          assert.isUndefined(sent, what)
          assert.match(String(answer.headers["x-fapi-interaction-id"]), /^[0-9a-f-]{36}$/, what)
          const lines = logged.slice(firstLog)
          assert.isTrue(lines.some((line) => line.level === "INFO" && line.text.startsWith("Refused a request")), what)
          assert.isFalse(lines.some((line) => line.text.includes("MARKER")), what)
        }
      }
    }))

  it.effect("htu: https on TLS, the trusted proxy's X-Forwarded-Proto and -Host, never an untrusted one's", () =>
    Effect.gen(function*() {
      const port = yield* portOf
      const token = ENDPOINTS[1]
      const forwarded = { dpop: "not-a-jwt", "x-forwarded-proto": "http", "x-forwarded-host": "as.example.com" }
      const cases = [
        ["", { dpop: "not-a-jwt" }, `https://127.0.0.1:${port}/token`],
        ["/proxy", forwarded, "http://as.example.com/proxy/token"],
        ["/elsewhere", forwarded, `https://127.0.0.1:${port}/elsewhere/token`],
        ["", {}, undefined]
      ] as const
      for (const [prefix, headers, htu] of cases) {
        const { sent } = yield* sentFor(prefix, { headers }, token)
        assert.strictEqual(sent?.["htu"], htu, prefix)
        assert.strictEqual(sent?.["htm"], "dpop" in headers ? "POST" : undefined, prefix)
      }
    }))
})
