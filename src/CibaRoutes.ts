/**
 * The authorization server's CIBA endpoints as `@effect/platform` routes, for an application to
 * mount in its own server under a path it chooses:
 *
 * ```ts
 * import { HttpRouter } from "@effect/platform"
 * import { CibaRoutes } from "effect-authlete/routes"
 *
 * const app = HttpRouter.empty.pipe(HttpRouter.mount("/as", CibaRoutes.router()))
 * ```
 *
 * **A client's mistake is a 4xx.** Every value the routes take from the request is checked, before
 * anything is sent to Authlete, with the schemas the Authlete client itself applies (the rules are
 * not written twice): the client credentials of `Authorization: Basic` (RFC 6749 2.3.1, each half
 * form-urlencoded) and the `OAuth-Client-Attestation` headers with `ClientCredentials.fromHeaders`,
 * the `DPoP` header and the form body with the fields of `TokenRequest` and
 * `BackchannelAuthenticationRequest`. A Basic header that cannot be read, or whose client ID or
 * secret breaks a rule (empty, over 8,192 characters), is 401 `invalid_client` with `WWW-Authenticate:
 * Basic realm="backchannel"` (or `"token"`), RFC 6749 5.2; an empty secret (`1001:`) is refused so
 * too, as Authlete issues no client an empty secret. A `DPoP` or attestation header that breaks a
 * rule, a body that is not `application/x-www-form-urlencoded` or breaks the rule of `parameters`, is
 * 400 `invalid_request`; a body over `maxFormBytes` is 413 `invalid_request`. The `error_description`
 * names the field and the rule, never the value; such refusals are logged at INFO, without the value.
 * An `AuthleteValidationError` that still reaches a route is 400 `invalid_request` too; only a failure
 * to reach Authlete or the store (transport errors, Authlete's errors) is logged as an error and
 * answered 500 `server_error`.
 *
 * **HTTP as proxies expect.** Another method on an endpoint is 405 with `Allow` (`POST`, or `GET,
 * HEAD` for discovery and the JWKS). A path is matched exactly, case-sensitively and without a
 * trailing-slash alias: `/TOKEN`, `/token/`, `//token` and `/tok%65n` are 404 (`RouteNotFound`). The
 * router's own matching (find-my-way, configured by `HttpRouter.currentRouterConfig`, read when the
 * outermost router is first run) ignores case and a trailing slash by default, and `HttpRouter.mount`
 * copies these routes into the application's router, under the application's configuration; so each
 * route checks the path the request arrived with (its original URL) against the path it was mounted
 * at, whatever that configuration, and nothing is asked of the application. (A middleware that
 * rewrites URLs before the routes must leave the routes' part of the path as it came.) To make the
 * application's own routes as strict, provide `HttpRouter.setRouterConfig({ caseSensitive: true,
 * ignoreTrailingSlash: false, ignoreDuplicateSlashes: false })` to the server. Every answer of these
 * routes carries `X-Content-Type-Options: nosniff`.
 *
 * **FAPI-CIBA.** Both endpoints pass Authlete the mutual TLS client certificate (RFC 8705) found where
 * `clientCertificate` says, checked with the rules of `ClientCredentials`; a trusted proxy's header that
 * holds no X.509 certificate is 400 `invalid_request`, before Authlete. The token endpoint passes a
 * `DPoP` proof's `htm` and `htu` (see `baseUrl`). Every answer of both endpoints, errors and 405 too,
 * carries `x-fapi-interaction-id`: the request's when it is a UUID, else a fresh one.
 *
 * @since 0.1.0
 */
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as AuthleteError from "./AuthleteError.js"
import { BackchannelAuthenticationRequest, MAX_PARAMETERS_LENGTH } from "./BackchannelAuthentication.js"
import type * as BackchannelAuthenticationEndpoint from "./BackchannelAuthenticationEndpoint.js"
import { handleBackchannelAuthentication } from "./BackchannelAuthenticationEndpoint.js"
import * as ClientCertificate from "./ClientCertificate.js"
import * as ClientCredentials from "./ClientCredentials.js"
import * as Decisions from "./Decisions.js"
import { handleDiscoveryWith, handleJwks } from "./Discovery.js"
import * as Endpoint from "./EndpointResponse.js"
import { annotateFlow } from "./internal/digest.js"
import { baseUrlOf, pathOf, targetUri } from "./internal/requestTarget.js"
import { TokenRequest } from "./Token.js"
import { handleTokenRequest } from "./TokenEndpoint.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface CibaRoutesOptions {
  /** Where each endpoint is, below the mount point. */
  readonly paths?: {
    readonly backchannelAuthentication?: string | undefined
    readonly token?: string | undefined
    readonly discovery?: string | undefined
    readonly jwks?: string | undefined
  } | undefined
  /** The largest form body read. Default 1 MiB (request objects and hint tokens can be long). */
  readonly maxFormBytes?: number | undefined
  /**
   * Adds the automated approval endpoint of the OpenID conformance suite: `POST
   * {path}/{auth_req_id}/{action}`, `action` being `allow` or `deny`. Off by default: anyone who can
   * reach it decides for the user. For tests and local tools only.
   */
  readonly automatedApproval?: string | undefined
  /**
   * Where the client certificate of mutual TLS is found (RFC 8705: `tls_client_auth`,
   * `self_signed_tls_client_auth`, certificate-bound tokens), for both endpoints to pass it to Authlete
   * as `clientCertificate` and `clientCertificatePath`. Nowhere by default. `{ fromTls: true }` reads it
   * from the TLS connection, when the server listens with Node's `https` and `requestCert: true` (the
   * routes take the socket from the request; nothing is read on another runtime). Behind a proxy that
   * terminates TLS, `{ header: "x-ssl-cert", chainHeaders: ["x-ssl-cert-chain-1", ...], trustedProxies:
   * ["10.0.0.5"] }` reads the proxy's header (PEM, URL-encoded PEM as nginx's `$ssl_client_escaped_cert`,
   * `x-forwarded-client-cert`'s `Cert` and `Chain`, RFC 9440 byte sequences), only on a connection from
   * one of `trustedProxies` (exact IP addresses); from anyone else the header is ignored. The same
   * proxies are trusted with `X-Forwarded-Proto` and `X-Forwarded-Host` (see `baseUrl`). A `header`
   * without `trustedProxies`, or a proxy that is no IP address, throws a `TypeError` here.
   */
  readonly clientCertificate?: ClientCertificate.ClientCertificateOptions | undefined
  /**
   * The URL clients reach the routes' mount point at (`https://as.example.com/as`): the token
   * endpoint's URL below it is the `htu` Authlete checks a `DPoP` proof against (RFC 9449 4.3). Without
   * it, the URL is the request's own: `https` on a TLS connection (or the trusted proxy's
   * `X-Forwarded-Proto`), the `Host` header (or the trusted proxy's `X-Forwarded-Host`) and the path the
   * request came to; a client chooses its `Host`, so a server that answers any host should set it.
   */
  readonly baseUrl?: string | undefined
  /**
   * The URL of the mount point on the mutual TLS host, when the mTLS endpoints are on another host (RFC
   * 8705 5): discovery's `mtls_endpoint_aliases` gets the token and backchannel endpoints below it, and
   * a request to that host gets its token endpoint as `htu`.
   */
  readonly mtlsBaseUrl?: string | undefined
}

/**
 * What the routes need: the services of the endpoint programs.
 *
 * @since 0.1.0
 * @category models
 */
export type CibaRoutesRequirements = BackchannelAuthenticationEndpoint.BackchannelAuthenticationRequirements

const toHttp = (response: Endpoint.EndpointResponse) =>
  HttpServerResponse.text(response.body, {
    status: response.status,
    // A JSON error may echo the request: no browser may take it for anything else.
    headers: { ...response.headers, "x-content-type-options": "nosniff" },
    contentType: response.headers["content-type"] ?? "application/json"
  })

/** The automated approval's answer when the decision is made but its notification was refused. */
const undelivered = toHttp(Endpoint.json(200, "{\"notification\":\"undelivered\"}"))

const serverError = Endpoint.oauthError(500, "server_error")

/**
 * Runs an endpoint program. A request the Authlete client refused to build or send broke one of its
 * rules: the client's mistake, 400. Anything else is a failure to reach Authlete or the store: logged
 * as an error and answered 500.
 */
const answer = <E extends { readonly message: string }, R>(program: Effect.Effect<Endpoint.EndpointResponse, E, R>) =>
  program.pipe(
    Effect.catchAll((error) =>
      error instanceof AuthleteError.AuthleteValidationError
        ? Effect.as(
          Effect.logInfo(`Refused a request that breaks a rule of the Authlete client: ${error.rules}`),
          Endpoint.oauthError(400, "invalid_request", `The request breaks a rule: ${error.rules}.`)
        )
        : Effect.as(Effect.logError(`The endpoint could not answer: ${error.message}`), serverError)
    ),
    Effect.map(toHttp)
  )

/** What the request's fields are called in an answer, by their name in Authlete's request models. */
const FIELD_NAMES: Readonly<Record<string, string>> = {
  clientId: "The client ID of the Authorization header",
  clientSecret: "The client secret of the Authorization header",
  oauthClientAttestation: "The OAuth-Client-Attestation header",
  oauthClientAttestationPop: "The OAuth-Client-Attestation-PoP header",
  clientCertificate: "The client certificate",
  clientCertificatePath: "The client certificate's chain",
  dpop: "The DPoP header",
  htu: "The URL the request came to (its Host header)",
  parameters: "The form body"
}

/** The fields of client authentication proper: breaking their rules is `invalid_client`. */
const AUTHENTICATION = new Set<unknown>(["clientId", "clientSecret"])

/** The broken rules as a sentence per field: names and rules, never the values. */
const describe = (issues: ReadonlyArray<AuthleteError.ValidationIssue>): string =>
  issues.map((issue) => `${FIELD_NAMES[String(issue.path[0])] ?? "A field"} ${issue.message}.`).join(" ")

/** Refuses the request: the answer, and a line at INFO that says why without the value. */
const refuse = (response: Endpoint.EndpointResponse, why: string) =>
  Effect.zipRight(Effect.logInfo(`Refused a request (${response.status}): ${why}`), Effect.fail(response))

/** RFC 6749 5.2: 401 with the scheme the client authenticated with. */
const invalidClient = (why: string, realm: string) =>
  refuse(Endpoint.oauthError(401, "invalid_client", why, { "www-authenticate": `Basic realm="${realm}"` }), why)

const invalidRequest = (why: string, status = 400) => refuse(Endpoint.oauthError(status, "invalid_request", why), why)

const FORM = /^application\/x-www-form-urlencoded\b/i

/** The fields of each endpoint's request model the routes fill from the request, besides credentials. */
const backchannelFields = Schema.decodeUnknownEither(
  Schema.Struct({ parameters: BackchannelAuthenticationRequest.fields.parameters }),
  { errors: "all" }
)
const tokenFields = Schema.decodeUnknownEither(
  Schema.Struct({
    parameters: TokenRequest.fields.parameters,
    dpop: TokenRequest.fields.dpop,
    htu: TokenRequest.fields.htu
  }),
  { errors: "all" }
)

type CertificateReader = ReturnType<typeof ClientCertificate.reader>

/** A trusted proxy's certificate header that holds no certificate: the log says which header and why. */
const UNREADABLE_CERTIFICATE = Endpoint.oauthError(400, "invalid_request", "The client certificate cannot be read.")

/**
 * The form body, the client credentials and the client certificate of a POST, and the endpoint's other
 * fields (`fields`), each checked with the Authlete client's rules; or the answer that refuses them.
 */
const readForm = <A>(
  maxFormBytes: number,
  realm: string,
  readCertificate: CertificateReader,
  fields: (
    parameters: string,
    request: HttpServerRequest.HttpServerRequest
  ) => Either.Either<A, AuthleteError.AuthleteValidationError>
) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (!FORM.test(request.headers["content-type"] ?? "")) {
      return yield* invalidRequest("The body must be application/x-www-form-urlencoded.")
    }
    const certificate = yield* Effect.catchTag(
      readCertificate(ClientCertificate.connectionOf(request)),
      "MalformedClientCertificate",
      (error) => refuse(UNREADABLE_CERTIFICATE, error.message)
    )
    const credentials = ClientCredentials.fromHeaders(request.headers, certificate)
    if (Either.isLeft(credentials)) {
      const error = credentials.left
      if (error._tag === "MalformedAuthorization") return yield* invalidClient(error.message, realm)
      const authentication = error.issues.filter((issue) => AUTHENTICATION.has(issue.path[0]))
      return yield* authentication.length > 0
        ? invalidClient(describe(authentication), realm)
        : invalidRequest(describe(error.issues))
    }
    const declared = Number(request.headers["content-length"])
    const text = Number.isFinite(declared) && declared > maxFormBytes
      ? undefined
      : yield* HttpIncomingMessage.withMaxBodySize(request.text, Option.some(maxFormBytes)).pipe(
        Effect.map((text): string | undefined => text),
        Effect.orElseSucceed(() => undefined)
      )
    if (text === undefined) return yield* invalidRequest("The body is too large.", 413)
    const checked = fields(text, request)
    if (Either.isLeft(checked)) return yield* invalidRequest(describe(checked.left.issues))
    return { ...credentials.right, ...checked.right }
  })

const patterns = new Map<string, RegExp>()

/**
 * Whether a request came for a route's path exactly: the same case, no trailing slash, no doubled
 * slash, no `%`-escaped letter; each `:param` one segment. The path may follow a prefix a mounting
 * app took off before the router saw it (`HttpRouter.mountApp`), which never ends with `/`.
 */
const isExactly = (routePath: string, url: string): boolean => {
  let pattern = patterns.get(routePath)
  if (pattern === undefined) {
    const segments = routePath.split("/").map((segment) =>
      segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    )
    pattern = new RegExp(`^(?:.*[^/])?${segments.join("/")}$`)
    patterns.set(routePath, pattern)
  }
  return pattern.test(pathOf(url))
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** FAPI's `x-fapi-interaction-id`: the client's when it is a UUID (RFC 4122's form), else a fresh one. */
const interactionId = (value: string | undefined): string =>
  value !== undefined && UUID.test(value) ? value : globalThis.crypto.randomUUID()

/**
 * An endpoint at an exact path: another path the router took for it is `RouteNotFound` (404), and a
 * method it does not answer is 405 with `Allow`. A FAPI endpoint's every answer carries
 * `x-fapi-interaction-id`.
 */
const endpoint = <E, R>(
  methods: ReadonlyArray<string>,
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  fapi = false
) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const context = yield* HttpRouter.RouteContext
    if (!isExactly(context.route.path, request.originalUrl)) {
      return yield* Effect.fail(new HttpServerError.RouteNotFound({ request }))
    }
    const id = fapi ? interactionId(request.headers["x-fapi-interaction-id"]) : undefined
    const response = !methods.includes(request.method)
      ? toHttp(Endpoint.oauthError(405, "invalid_request", `The method must be ${methods.join(" or ")}.`, {
        allow: methods.join(", ")
      }))
      : yield* (id === undefined ? handler : Effect.annotateLogs(handler, "x-fapi-interaction-id", id))
    return id === undefined ? response : HttpServerResponse.setHeader(response, "x-fapi-interaction-id", id)
  })

const POST = ["POST"]
const GET = ["GET", "HEAD"]

const refused = (response: Endpoint.EndpointResponse) => Effect.succeed(toHttp(response))

/**
 * The routes: `POST /backchannel` (the backchannel authentication endpoint), `POST /token`,
 * `GET /.well-known/openid-configuration` and `GET /jwks` (paths configurable), and the automated
 * approval endpoint when asked for; each at its exact path, and 405 for another method.
 *
 * @since 0.1.0
 * @category routes
 */
export const router = (
  options: CibaRoutesOptions = {}
): HttpRouter.HttpRouter<HttpServerError.RouteNotFound, CibaRoutesRequirements> => {
  const paths = {
    backchannelAuthentication: options.paths?.backchannelAuthentication ?? "/backchannel",
    token: options.paths?.token ?? "/token",
    discovery: options.paths?.discovery ?? "/.well-known/openid-configuration",
    jwks: options.paths?.jwks ?? "/jwks"
  }
  const maxFormBytes = options.maxFormBytes ?? MAX_PARAMETERS_LENGTH
  const readCertificate = ClientCertificate.reader(options.clientCertificate ?? {})
  const isTrusted = ClientCertificate.trustedProxies(options.clientCertificate?.trustedProxies ?? [])
  const urls = { base: baseUrlOf("baseUrl", options.baseUrl), mtls: baseUrlOf("mtlsBaseUrl", options.mtlsBaseUrl) }
  const discovery = handleDiscoveryWith({
    mtlsEndpointAliases: urls.mtls && {
      token_endpoint: urls.mtls.href + paths.token,
      backchannel_authentication_endpoint: urls.mtls.href + paths.backchannelAuthentication
    }
  })
  const routes = HttpRouter.empty.pipe(
    HttpRouter.all(
      paths.backchannelAuthentication as HttpRouter.PathInput,
      endpoint(
        POST,
        readForm(maxFormBytes, "backchannel", readCertificate, (parameters) =>
          Either.mapLeft(
            backchannelFields({ parameters }),
            AuthleteError.AuthleteValidationError.fromParseError
          )).pipe(
            Effect.flatMap((input) => answer(handleBackchannelAuthentication(input))),
            Effect.catchAll(refused)
          ),
        true
      )
    ),
    HttpRouter.all(
      paths.token as HttpRouter.PathInput,
      endpoint(
        POST,
        readForm(maxFormBytes, "token", readCertificate, (parameters, request) => {
          const dpop = request.headers["dpop"]
          const htu = dpop === undefined ? undefined : targetUri(request, urls, paths.token, isTrusted)
          return Either.mapLeft(
            tokenFields({ parameters, dpop, htu }),
            AuthleteError.AuthleteValidationError.fromParseError
          )
        }).pipe(
          Effect.flatMap((input) =>
            answer(handleTokenRequest({ ...input, htm: input.dpop === undefined ? undefined : "POST" }))
          ),
          Effect.catchAll(refused)
        ),
        true
      )
    ),
    HttpRouter.all(paths.discovery as HttpRouter.PathInput, endpoint(GET, answer(discovery))),
    HttpRouter.all(paths.jwks as HttpRouter.PathInput, endpoint(GET, answer(handleJwks)))
  )
  if (options.automatedApproval === undefined) return routes
  return HttpRouter.all(
    `${options.automatedApproval}/:authReqId/:action` as HttpRouter.PathInput,
    endpoint(
      POST,
      Effect.gen(function*() {
        const { action, authReqId } = yield* HttpRouter.params
        if (authReqId === undefined || (action !== "allow" && action !== "deny")) {
          return toHttp(Endpoint.oauthError(400, "invalid_request", "The action must be allow or deny."))
        }
        const decisions = yield* Decisions.Decisions
        return yield* decisions.decide({ authReqId, decision: action }).pipe(
          Effect.as(toHttp(Endpoint.json(200, "{}"))),
          Effect.catchTag("DecisionError", (error) =>
            Effect.succeed(toHttp(Endpoint.oauthError(
              error.reason === "Unknown" ? 404 : error.reason === "Expired" ? 410 : 409,
              "invalid_request",
              error.message
            )))),
          // Decided at Authlete; a client's endpoint that refused the ping is the client's to mend (FAPI-CIBA).
          Effect.catchTag(
            "UndeliveredNotificationError",
            (error) =>
              Effect.as(
                Effect.logWarning(`Decided; the notification was not delivered: ${error.cause.message}`),
                undelivered
              )
          ),
          Effect.catchAll((error) =>
            Effect.as(Effect.logError(`The decision could not be completed: ${error.message}`), toHttp(serverError))
          ),
          annotateFlow(authReqId)
        )
      })
    )
  )(routes)
}
