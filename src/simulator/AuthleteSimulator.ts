/**
 * An embedded Authlete for CIBA: a real HTTP server on loopback that answers the four v3 CIBA APIs
 * for one service, for tests and demos.
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Cause from "effect/Cause"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as AuthleteClient from "../AuthleteClient.js"
import { UndiciTransport } from "../undici/index.js"
import type { ClientJwks } from "./internal/clientKeys.js"
import { generateSigningKey, type PublicJwk, randomDigits, randomToken } from "./internal/crypto.js"
import { makeApis, type SimulatedApiName } from "./internal/engine.js"
import { makeFaults } from "./internal/faults.js"
import { defaultClients, seconds, withEndpoint } from "./internal/options.js"
import { makeRecorder } from "./internal/record.js"
import * as Codes from "./internal/resultCodes.js"
import { makeApp } from "./internal/server.js"
import { makeState, type ServiceSettings } from "./internal/state.js"

/**
 * How a client authenticates, in Authlete's names (`ClientAuthMethod`; RFC 6749, 7523, 8705).
 *
 * @since 0.1.0
 * @category models
 */
export type ClientAuthMethod =
  | "CLIENT_SECRET_BASIC"
  | "CLIENT_SECRET_POST"
  | "PRIVATE_KEY_JWT"
  | "TLS_CLIENT_AUTH"
  | "SELF_SIGNED_TLS_CLIENT_AUTH"

/**
 * A client registered with the simulated service. The secret is compared in constant time. The
 * optional members after `userCodeRequired` are Authlete's client settings of the same names (its
 * `Client` DTO), for FAPI-CIBA clients; left out, a client behaves as before they existed.
 *
 * Where Authlete does not document what it does, the simulator chose (each choice is repeated where
 * it is made):
 * - a registered `tokenAuthMethod` is enforced: a client registered for `CLIENT_SECRET_BASIC` that
 *   sends its secret in the form fails, and a client registered for a key or a certificate method
 *   fails when it also sends a secret;
 * - a client assertion's `aud` may be the issuer, the token endpoint or (at the backchannel
 *   endpoint) the backchannel endpoint; its `jti` is refused when seen before, and while
 *   `maxClientAssertionIds` unexpired ones are remembered a new assertion is refused, not an old
 *   `jti` forgotten;
 * - `tlsClientAuthSubjectDn` is compared as Java's `X500Principal.equals` compares: RFC 4514 order
 *   (most specific RDN first, as in Authlete's console example `CN=client.example.org, O=Client,
 *   L=Chiyoda-ku, ST=Tokyo, C=JP`), attribute types by name or OID, values without regard to case
 *   or repeated spaces; the certificate's chain and dates are the TLS terminator's to check;
 * - a bad request object is `invalid_request` (CIBA Core 13 has no `invalid_request_object`, and the
 *   OpenID conformance suite expects `invalid_request` for each request-object test of FAPI-CIBA);
 *   its `jti` must be there but is not checked for replay; no clock skew is allowed;
 * - a `fapi` client in PUSH mode is refused `unauthorized_client`; one registered for a secret
 *   cannot authenticate; `fapi` alone does not require signed requests (the current FAPI-CIBA
 *   draft allows unsigned ones: set `requestObjectRequired` for ID1's rule);
 * - a certificate-bound client's token request without a certificate is `BAD_REQUEST` `invalid_request`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedClient {
  readonly clientId: number
  readonly clientIdAlias?: string | undefined
  /** Used by the secret methods only: a client registered for another method never sends it. */
  readonly clientSecret: string
  readonly clientName?: string | undefined
  readonly deliveryMode: "POLL" | "PING" | "PUSH"
  /** Where the authorization server POSTs PING and PUSH notifications (reported by `/complete`). */
  readonly clientNotificationEndpoint?: string | undefined
  /** `true` makes `user_code` mandatory (the client's and the service's settings combined). */
  readonly userCodeRequired?: boolean | undefined
  /**
   * The one way the client authenticates. Left out: a secret, by HTTP Basic or in the form. A
   * `PRIVATE_KEY_JWT` client sends `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`
   * and a `client_assertion` signed PS256 or ES256 by a key of `jwks` (`iss` = `sub` = its ID or
   * alias, `aud`, `exp` in the future, a fresh `jti`); a `TLS_CLIENT_AUTH` client presents
   * (`clientCertificate`) a certificate whose subject is `tlsClientAuthSubjectDn`; a
   * `SELF_SIGNED_TLS_CLIENT_AUTH` client one whose public key is in `jwks`.
   */
  readonly tokenAuthMethod?: ClientAuthMethod | undefined
  /** The one algorithm its client assertions may use (otherwise PS256 or ES256). */
  readonly tokenAuthSignAlg?: "PS256" | "ES256" | undefined
  /** Its public JWK Set: JSON text, as Authlete keeps it, or the object. */
  readonly jwks?: ClientJwks | undefined
  /** The RFC 4514 subject DN of its certificate, for `TLS_CLIENT_AUTH`. */
  readonly tlsClientAuthSubjectDn?: string | undefined
  /**
   * Its access tokens are bound to the certificate it presents at `/auth/token` (which it must),
   * `cnf.x5t#S256` (RFC 8705 3); `/auth/introspection` refuses them without that certificate.
   */
  readonly tlsClientCertificateBoundAccessTokens?: boolean | undefined
  /** Its backchannel authentication requests must be signed request objects (`request`). */
  readonly requestObjectRequired?: boolean | undefined
  /** The one algorithm its request objects may use; set, its requests must be signed (CIBA Core 4). */
  readonly bcRequestSignAlg?: "PS256" | "ES256" | undefined
  /**
   * Its requests are FAPI-CIBA requests (at Authlete, the service's FAPI profile and the client's or
   * the scopes' settings decide): key or certificate authentication only, no PUSH, and
   * `binding_message` required unless `backchannelBindingMessageRequiredInFapi` is `false`.
   */
  readonly fapi?: boolean | undefined
}

/**
 * A request the simulator received and authenticated (the service access token and, for
 * `/backchannel/authentication` and `/auth/token`, the client), before any other processing. The
 * `Authorization` header's value is replaced by `"<redacted>"`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceivedRequest {
  readonly method: string
  readonly path: string
  /** Lower-case names. */
  readonly headers: { readonly [name: string]: string }
  /** The parsed JSON body, the raw text when it is not a JSON object, or `undefined` when empty. */
  readonly body: unknown
}

/**
 * Besides the four CIBA APIs, `/auth/token` and the service APIs, the simulator answers
 * `POST /api/{serviceId}/auth/introspection` (`{token, scopes?, subject?, clientCertificate?}`), as
 * Authlete documents it: `BAD_REQUEST` without a token, `UNAUTHORIZED` for an unknown or expired one,
 * `FORBIDDEN` (`insufficient_scope`, or `invalid_request` for another subject), else `OK` with
 * `certificateThumbprint` for a bound token. Not documented by Authlete, and chosen here: a bound
 * token presented without its certificate is `UNAUTHORIZED` `invalid_token` (RFC 8705 3); the
 * result codes of this API are the simulator's own (A903xxx); `/auth/token` also takes the refresh
 * grant, which rotates the refresh token and refuses another client's (`invalid_grant`); tokens
 * pushed by `/complete` are never certificate-bound (no certificate reaches it);
 * `authorization_details` types are not checked against supported ones. ID tokens stay ES256 with
 * the key's `kid` (FAPI-CIBA allows PS256 or ES256), and carry `acr` only when `/complete` gives one,
 * as Authlete documents: the authorization server reports the ACR it satisfied.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthleteSimulatorOptions {
  /** Default: 12 random digits. */
  readonly serviceId?: string | undefined
  /** The service access token callers must present. Default: 43 random base64url characters. */
  readonly accessToken?: Redacted.Redacted<string> | undefined
  /** Default 0: a free port. The server listens on 127.0.0.1 only. */
  readonly port?: number | undefined
  /** Default: one POLL, one PING and one PUSH client with random secrets and no notification endpoints. */
  readonly clients?: ReadonlyArray<SimulatedClient> | undefined
  /**
   * The authorization server this service stands behind: `iss` of the ID tokens and the endpoint
   * URLs of its discovery document (service settings at Authlete). Default: the simulator's base
   * URL, with `/token`, `/backchannel` and `/jwks` below it. `updateService` changes them later.
   */
  readonly issuer?: string | undefined
  readonly tokenEndpoint?: string | undefined
  readonly backchannelAuthenticationEndpoint?: string | undefined
  readonly jwksUri?: string | undefined
  /** More metadata for the discovery document (`/service/configuration`). */
  readonly metadata?: { readonly [name: string]: unknown } | undefined
  /** Seconds a ticket stays usable before `/issue`. Default 600. */
  readonly ticketLifetime?: number | undefined
  /** Seconds an `auth_req_id` lives when the client asked for no `requested_expiry` (`expiresIn`). Default 600. */
  readonly authReqIdLifetime?: number | undefined
  /** Seconds between polls (`interval`). Default 5. */
  readonly interval?: number | undefined
  /** Default 3600. */
  readonly accessTokenDuration?: number | undefined
  /** Default 86400. */
  readonly refreshTokenDuration?: number | undefined
  /** Default 3600. */
  readonly idTokenDuration?: number | undefined
  /** The service's `aud` shape, used when `/complete` does not choose. Default `"string"`. */
  readonly idTokenAudType?: "array" | "string" | undefined
  /**
   * The HTTP status sent with `/complete`'s `SERVER_ERROR` answers. Authlete's is unconfirmed; the
   * default is 200 (the action carries the error). Set 400 or 500 to test the other reading.
   */
  readonly completeServerErrorStatus?: number | undefined
  /** The largest request body read; a larger one is answered 413 unread. Default 4 MiB. */
  readonly maxBodyBytes?: number | undefined
  /** How many requests `requests` keeps, the latest. Default 10,000. */
  readonly maxRecordedRequests?: number | undefined
  /**
   * How many bytes of requests `requests` keeps, the latest: each counted as its body's bytes as
   * they came plus the characters of its method, path and headers; the oldest are dropped to make
   * room. A request larger than this alone is kept without its body. Default 16 MiB.
   */
  readonly maxRecordedBytes?: number | undefined
  /**
   * Authlete's service setting: a FAPI-CIBA request (a `fapi` client's) without `binding_message` is
   * `BAD_REQUEST` `invalid_request`. Default `true` (the simple way to meet FAPI-CIBA 5.2.2 2).
   */
  readonly backchannelBindingMessageRequiredInFapi?: boolean | undefined
  /**
   * Authlete's service setting: set, access tokens are also issued as JWTs (`jwtAccessToken` of
   * `/auth/token`, the `access_token` the client gets), signed with the service key, whose `cnf`
   * carries a bound token's `x5t#S256`; that is where Authlete reports the binding, which
   * `/auth/introspection` (`certificateThumbprint`) reports in any case. Default: not issued.
   */
  readonly accessTokenSignAlg?: "ES256" | undefined
  /** How many unexpired client assertion `jti`s are remembered (for replay). Default 10,000. */
  readonly maxClientAssertionIds?: number | undefined
  /**
   * How many access and refresh tokens `/auth/introspection` and the refresh grant remember, the
   * latest (an older one reads as unknown). Default 100,000.
   */
  readonly maxTokens?: number | undefined
  /**
   * Told of every API call the simulator carried out: the API, the decoded request and the answer
   * (bodies included, tokens too: whoever records them decides what to keep). Faults, refused
   * credentials and undecodable bodies are not told.
   */
  readonly onAnswer?: ((exchange: SimulatedExchange) => Effect.Effect<void>) | undefined
}

/**
 * One API call the simulator carried out, as `onAnswer` is told of it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedExchange {
  /** An API of `AuthleteApis`, or `"introspection"` (`/auth/introspection`, which the simulator adds). */
  readonly api: SimulatedApiName
  /** The request as the API's schema decoded it. */
  readonly request: unknown
  readonly status: number
  /** The JSON answer. */
  readonly body: unknown
}

/**
 * What the simulator offers a test.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthleteSimulatorService {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string
  readonly serviceId: string
  readonly accessToken: Redacted.Redacted<string>
  /** `iss` of the ID tokens it signs, as the service settings say now. */
  readonly issuer: string
  /** The service settings its discovery document is built from. */
  readonly service: Effect.Effect<ServiceSettings>
  /** Changes service settings (the authorization server's URLs, once it listens). */
  readonly updateService: (settings: Partial<ServiceSettings>) => Effect.Effect<void>
  /** The public key of the ID tokens (ES256), as a JWK Set. */
  readonly jwks: { readonly keys: ReadonlyArray<PublicJwk> }
  readonly clients: Effect.Effect<ReadonlyArray<SimulatedClient>>
  /** The first registered client with that delivery mode. */
  readonly clientFor: (
    deliveryMode: SimulatedClient["deliveryMode"]
  ) => Effect.Effect<SimulatedClient, Cause.NoSuchElementException>
  /** Sets (or with `undefined` removes) a client's notification endpoint. */
  readonly setClientNotificationEndpoint: (
    clientId: number,
    endpoint: string | undefined
  ) => Effect.Effect<void, Cause.NoSuchElementException>
  /**
   * The authenticated requests received so far, oldest first: the latest `maxRecordedRequests`,
   * within `maxRecordedBytes`.
   */
  readonly requests: Effect.Effect<ReadonlyArray<ReceivedRequest>>
  /** Adds latency to every answer until `reset`. */
  readonly delay: (duration: Duration.DurationInput) => Effect.Effect<void>
  /** Answers the next `n` requests with `status` and `body` (default Authlete's A001101), unprocessed. */
  readonly failNext: (n: number, status: number, body?: unknown) => Effect.Effect<void>
  /** Answers the next `n` requests with 429 and `Retry-After: retryAfterSeconds`, unprocessed. */
  readonly rateLimitNext: (n: number, retryAfterSeconds: number) => Effect.Effect<void>
  /** Clears the delay and any queued faults. */
  readonly reset: Effect.Effect<void>
}

const make = (
  options: AuthleteSimulatorOptions
): Effect.Effect<AuthleteSimulatorService, never, HttpServer.HttpServer | Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const address = server.address
    const baseUrl = address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : "http://127.0.0.1"
    const serviceId = options.serviceId ?? randomDigits(12)
    const accessToken = options.accessToken ?? Redacted.make(randomToken())
    const issuer = options.issuer ?? baseUrl
    const service = yield* Ref.make<ServiceSettings>({
      issuer,
      tokenEndpoint: options.tokenEndpoint ?? `${issuer}/token`,
      backchannelAuthenticationEndpoint: options.backchannelAuthenticationEndpoint ?? `${issuer}/backchannel`,
      jwksUri: options.jwksUri ?? `${issuer}/jwks`,
      metadata: options.metadata ?? {}
    })
    const key = generateSigningKey()
    // Captured once: expiry follows whichever Clock built the simulator (TestClock in tests).
    const clock = yield* Effect.clock
    const clients = yield* Ref.make(options.clients ?? defaultClients())
    const recorder = makeRecorder({
      maxRequests: yield* seconds(options.maxRecordedRequests, 10_000, "maxRecordedRequests"),
      maxBytes: yield* seconds(options.maxRecordedBytes, 16 * 1_048_576, "maxRecordedBytes")
    })
    const faults = yield* makeFaults
    const state = makeState(
      {
        key,
        ticketLifetime: yield* seconds(options.ticketLifetime, 600, "ticketLifetime"),
        authReqIdLifetime: yield* seconds(options.authReqIdLifetime, 600, "authReqIdLifetime"),
        interval: yield* seconds(options.interval, 5, "interval", 0),
        accessTokenDuration: yield* seconds(options.accessTokenDuration, 3600, "accessTokenDuration"),
        refreshTokenDuration: yield* seconds(options.refreshTokenDuration, 86400, "refreshTokenDuration"),
        idTokenDuration: yield* seconds(options.idTokenDuration, 3600, "idTokenDuration"),
        idTokenAudType: options.idTokenAudType ?? "string",
        completeServerErrorStatus: options.completeServerErrorStatus ?? 200,
        backchannelBindingMessageRequiredInFapi: options.backchannelBindingMessageRequiredInFapi ?? true,
        accessTokenSignAlg: options.accessTokenSignAlg,
        maxClientAssertionIds: yield* seconds(options.maxClientAssertionIds, 10_000, "maxClientAssertionIds"),
        maxTokens: yield* seconds(options.maxTokens, 100_000, "maxTokens")
      },
      service,
      clients,
      clock
    )
    yield* HttpServer.serveEffect(makeApp({
      serviceId,
      accessToken,
      apis: makeApis(state),
      faults,
      recorder,
      clock,
      maxBodyBytes: yield* seconds(options.maxBodyBytes, 4 * 1_048_576, "maxBodyBytes"),
      onAnswer: options.onAnswer
    }))

    return {
      baseUrl,
      serviceId,
      accessToken,
      get issuer() {
        return Effect.runSync(Ref.get(service)).issuer
      },
      service: Ref.get(service),
      updateService: (settings) => Ref.update(service, (current) => ({ ...current, ...settings })),
      jwks: { keys: [key.publicJwk] },
      clients: Ref.get(clients),
      clientFor: (deliveryMode) =>
        Effect.flatMap(Ref.get(clients), (all) => {
          const client = all.find((candidate) => candidate.deliveryMode === deliveryMode)
          return client === undefined
            ? Effect.fail(
              new Cause.NoSuchElementException(`AuthleteSimulator: no ${deliveryMode} client is registered`)
            )
            : Effect.succeed(client)
        }),
      setClientNotificationEndpoint: (clientId, endpoint) =>
        Effect.flatMap(
          Ref.modify(clients, (all) =>
            all.some((client) => client.clientId === clientId)
              ? [true, all.map((client) => client.clientId === clientId ? withEndpoint(client, endpoint) : client)]
              : [false, all]),
          (found) =>
            found
              ? Effect.void
              : Effect.fail(new Cause.NoSuchElementException(`AuthleteSimulator: no client with ID ${clientId}`))
        ),
      requests: recorder.all,
      delay: faults.delay,
      failNext: (n, status, body) => faults.enqueue(n, { status, body: body ?? Codes.serverError, headers: {} }),
      rateLimitNext: (n, retryAfterSeconds) =>
        faults.enqueue(n, {
          status: 429,
          body: "Too Many Requests",
          headers: { "retry-after": String(Math.max(0, Math.ceil(retryAfterSeconds))) }
        }),
      reset: faults.reset
    } satisfies AuthleteSimulatorService
  })

/**
 * The simulator's tag.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { AuthleteSimulator } from "effect-authlete/simulator"
 *
 * Effect.gen(function*() {
 *   const simulator = yield* AuthleteSimulator.AuthleteSimulator
 *   const client = yield* simulator.clientFor("POLL")
 *   // POST `${simulator.baseUrl}/api/${simulator.serviceId}/backchannel/authentication` ...
 * }).pipe(Effect.provide(AuthleteSimulator.layer()))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class AuthleteSimulator extends Context.Tag("effect-authlete/AuthleteSimulator")<
  AuthleteSimulator,
  AuthleteSimulatorService
>() {}

/**
 * Starts the server on 127.0.0.1 for the lifetime of the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: AuthleteSimulatorOptions = {}
): Layer.Layer<AuthleteSimulator, HttpServerError.ServeError> =>
  Layer.scoped(AuthleteSimulator, make(options)).pipe(
    Layer.provide(NodeHttpServer.layer(() => Http.createServer(), { port: options.port ?? 0, host: "127.0.0.1" }))
  )

/**
 * The simulator together with an `AuthleteClient` pointed at it (over `UndiciTransport`). `client`
 * adjusts the client (timeout, retries, ...).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options: AuthleteSimulatorOptions = {},
  client: Omit<AuthleteClient.AuthleteClientOptionsV3, "apiVersion" | "baseUrl" | "serviceId" | "accessToken"> = {}
): Layer.Layer<
  AuthleteSimulator | AuthleteClient.AuthleteClient,
  HttpServerError.ServeError | ConfigError.ConfigError
> =>
  Layer.unwrapEffect(
    Effect.map(AuthleteSimulator, (simulator) =>
      AuthleteClient.layer({
        ...client,
        baseUrl: simulator.baseUrl,
        serviceId: simulator.serviceId,
        accessToken: simulator.accessToken
      }))
  ).pipe(
    Layer.provide(UndiciTransport.layer),
    Layer.provideMerge(layer(options))
  )
