/**
 * The whole CIBA flow on one machine: the Authlete simulator, and an authorization server assembled
 * from this library's programs and routes in front of it, on 127.0.0.1. It registers a POLL, a PING
 * and a PUSH client (`client_secret_basic`), a few users with claims, and the conformance suite's
 * automated approval endpoint.
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Http from "node:http"
import * as Https from "node:https"
import * as AuthenticationDevice from "../AuthenticationDevice.js"
import * as AuthleteClient from "../AuthleteClient.js"
import * as BackchannelChecks from "../BackchannelChecks.js"
import * as BackchannelLimits from "../BackchannelLimits.js"
import * as CibaRoutes from "../CibaRoutes.js"
import * as ClientNotifier from "../ClientNotifier.js"
import * as Decisions from "../Decisions.js"
import { failOverdueRequests } from "../DeviceDecision.js"
import * as FapiCiba from "../FapiCiba.js"
import * as PendingRequestStore from "../PendingRequestStore.js"
import { AuthleteSimulator } from "../simulator/index.js"
import { UndiciTransport } from "../undici/index.js"
import * as UserClaims from "../UserClaims.js"
import * as UserIdentifier from "../UserIdentifier.js"
import { type FapiSetup, makeFapiSetup, mtlsAliasesOf, plainClients, simulatedClients } from "./internal/fapi.js"
import { PING_CALLBACK_PATH, PUSH_CALLBACK_PATH } from "./internal/paths.js"
import { resource, RESOURCE_PATH } from "./internal/resource.js"

/**
 * A user of the playground: claims (keys may carry a language tag), the login hints that name them,
 * and a user code for clients that require one.
 *
 * @since 0.1.0
 * @category models
 */
export interface PlaygroundUser {
  readonly claims: { readonly [claim: string]: unknown }
  readonly loginHints: ReadonlyArray<string>
  readonly userCode: string
}

/**
 * Users as an authorization server knows them: the user code is optional (a client that does not
 * require one never asks).
 *
 * @since 0.1.0
 * @category models
 */
export type PlaygroundUsers = {
  readonly [subject: string]: Omit<PlaygroundUser, "userCode"> & { readonly userCode?: string | undefined }
}

/**
 * What a set of users stands for in an authorization server: their claims (`UserClaims`), their
 * subjects and login hints (`UserIdentifier`), and their user codes (`BackchannelChecks`).
 *
 * @since 0.1.0
 * @category users
 */
export const usersLayer = (
  users: PlaygroundUsers,
  profile: BackchannelChecks.BackchannelProfile = BackchannelChecks.openProfile
): Layer.Layer<UserClaims.UserClaims | UserIdentifier.UserIdentifier | BackchannelChecks.BackchannelChecks> =>
  Layer.mergeAll(
    UserClaims.layerFromRecord(
      Object.fromEntries(Object.entries(users).map(([subject, user]) => [subject, user.claims]))
    ),
    UserIdentifier.layerFromRecord(users),
    BackchannelChecks.layer({
      profile,
      isUserCodeValid: (subject, userCode) =>
        Effect.succeed(users[subject]?.userCode !== undefined && users[subject]?.userCode === userCode)
    })
  )

/** Where the conformance suite's automated approval is posted: `{APPROVAL_PATH}/{auth_req_id}/{allow|deny}`. */
export const APPROVAL_PATH = "/ciba/approve"

/**
 * The default users: Taro with Japanese names too (so the locale handling shows), Alice and Bob.
 *
 * @since 0.1.0
 * @category users
 */
export const defaultUsers: { readonly [subject: string]: PlaygroundUser } = {
  "user-1": {
    loginHints: ["taro@example.com"],
    userCode: "1111",
    claims: {
      name: "Taro Yamada",
      "name#ja": "山田 太郎",
      given_name: "Taro",
      "given_name#ja": "太郎",
      family_name: "Yamada",
      "family_name#ja": "山田",
      email: "taro@example.com",
      email_verified: true,
      locale: "ja-JP"
    }
  },
  "user-2": {
    loginHints: ["alice@example.com"],
    userCode: "2222",
    claims: {
      name: "Alice Smith",
      given_name: "Alice",
      family_name: "Smith",
      email: "alice@example.com",
      email_verified: true,
      locale: "en-US"
    }
  },
  "user-3": {
    loginHints: ["bob@example.com"],
    userCode: "3333",
    claims: { name: "Bob Jones", given_name: "Bob", family_name: "Jones", email: "bob@example.com" }
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PlaygroundOptions {
  /** The authorization server's port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number | undefined
  /** Seconds a client waits between polls. Default 5. */
  readonly interval?: number | undefined
  /** Seconds an `auth_req_id` lives. Default 120. */
  readonly expiresIn?: number | undefined
  /** The PING client's notification endpoint. Default: the consumption device's, `{issuer}/client/callback/ping`. */
  readonly pingEndpoint?: string | undefined
  /** The PUSH client's notification endpoint. Default: the consumption device's, `{issuer}/client/callback/push`. */
  readonly pushEndpoint?: string | undefined
  /** The clients that require a `user_code` (CIBA Core 7.1). Default: none. */
  readonly userCodeRequired?: ReadonlyArray<"POLL" | "PING" | "PUSH"> | undefined
  readonly users?: { readonly [subject: string]: PlaygroundUser } | undefined
  /** The most requests waiting for a decision at once (`PendingRequestStore.layerMemoryWith`). Default 10,000. */
  readonly maxPendingRequests?: number | undefined
  /**
   * `"fapi-ciba"`: the whole FAPI-CIBA setup on loopback: a CA and server certificate made at start,
   * HTTPS with mutual TLS (certificates requested, verified by the simulator as Authlete would), the
   * `FapiCiba` checks, and four FAPI clients (POLL and PING, each with `private_key_jwt` and with
   * `tls_client_auth`; signed requests, certificate-bound tokens). Needs `node-forge` and `jose`.
   * Default `"plain"`: HTTP, and POLL, PING and PUSH clients with secrets.
   */
  readonly profile?: "plain" | "fapi-ciba" | undefined
  /**
   * HTTPS with this certificate and key (PEM) instead of HTTP, or of the FAPI profile's own; with
   * `clientCa`, client certificates are asked for (mutual TLS, judged by the simulator).
   */
  readonly tls?:
    | { readonly certificate: string; readonly privateKey: string; readonly clientCa?: string | undefined }
    | undefined
  /** Where the routes find the client certificate (`CibaRoutes.router`). Default: the TLS connection, with mutual TLS. */
  readonly clientCertificate?: CibaRoutes.CibaRoutesOptions["clientCertificate"]
  /** The abuse limits (`BackchannelLimits.layerMemory`). Default: `BackchannelLimits.defaults`. */
  readonly limits?: BackchannelLimits.BackchannelLimitsOptions | undefined
  /** Extra routes served by the same server (the device pages mount here). */
  readonly routes?: HttpRouter.HttpRouter<never, PlaygroundServices> | undefined
}

/**
 * What the playground tells its users: where everything is.
 *
 * @since 0.1.0
 * @category models
 */
export interface PlaygroundInfo {
  readonly issuer: string
  /** The authorization server's endpoints, as its discovery document names them. */
  readonly backchannelAuthenticationEndpoint: string
  readonly tokenEndpoint: string
  readonly jwksUri: string
  readonly clients: ReadonlyArray<{
    readonly clientId: string
    /** The secret of a plain client; a FAPI client's is registered but refused (`authMethod` says how it authenticates). */
    readonly clientSecret: string
    readonly deliveryMode: "POLL" | "PING" | "PUSH"
    readonly notificationEndpoint?: string | undefined
    /** Whether the client's requests must carry a `user_code` (`PlaygroundOptions.userCodeRequired`). */
    readonly requiresUserCode: boolean
    /** How it authenticates: `client_secret_basic` (plain), `private_key_jwt` or `tls_client_auth` (FAPI). */
    readonly authMethod: "client_secret_basic" | "private_key_jwt" | "tls_client_auth"
    /** FAPI: its ES256 private JWK, for client assertions and request objects. */
    readonly privateJwk?: Readonly<Record<string, unknown>> | undefined
    /** FAPI: its certificate and private key (PEM), for mutual TLS. */
    readonly certificate?: string | undefined
    readonly privateKey?: string | undefined
  }>
  /** FAPI: the playground CA's certificate (PEM), which issued the server's and the clients' certificates. */
  readonly caCertificate?: string | undefined
  /** FAPI: a resource server (`GET`, `Authorization: Bearer`) that takes a token only with the certificate it is bound to. */
  readonly resourceUrl?: string | undefined
  /** FAPI: discovery's `mtls_endpoint_aliases` (the same listener: the same URLs). */
  readonly mtlsEndpointAliases?: {
    readonly token_endpoint: string
    readonly backchannel_authentication_endpoint: string
  } | undefined
  /** Each user's subject, login hints, `name` claim and user code. */
  readonly users: ReadonlyArray<{
    readonly subject: string
    readonly loginHints: ReadonlyArray<string>
    readonly name?: string | undefined
    readonly userCode: string
  }>
  /** `POST` here, with `{auth_req_id}` and `{action}` (allow or deny) replaced, decides for the user. */
  readonly automatedApprovalUrl: string
  /** The simulated Authlete the authorization server talks to. */
  readonly authleteBaseUrl: string
}

/**
 * The tag of a running playground's `PlaygroundInfo`, and its layer (`Playground.layer`).
 *
 * @since 0.1.0
 * @category tags
 */
export class Playground extends Context.Tag("effect-authlete/Playground")<Playground, PlaygroundInfo>() {}

/** What the playground's routes can use. */
export type PlaygroundServices =
  | CibaRoutes.CibaRoutesRequirements
  | AuthleteSimulator.AuthleteSimulator
  | AuthenticationDevice.AuthenticationDeviceFeed
  | Playground
  | PendingRequestStore.PendingRequestStore

/** The Node server under the playground's `HttpServer`, to end its connections when it closes. */
class NodeServer extends Context.Tag("effect-authlete/Playground/NodeServer")<NodeServer, Http.Server>() {}

/** The FAPI setup of a build of the layer, when the profile is FAPI-CIBA. */
class FapiSetupTag
  extends Context.Tag("effect-authlete/Playground/FapiSetup")<FapiSetupTag, Option.Option<FapiSetup>>()
{}

/**
 * Everything, on 127.0.0.1, for the lifetime of the layer. The authorization server's routes are
 * at the root of its origin (the issuer): `/backchannel`, `/token`, `/.well-known/openid-configuration`,
 * `/jwks`, and `/ciba/approve/{auth_req_id}/{action}`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: PlaygroundOptions = {}
): Layer.Layer<
  | Playground
  | AuthleteSimulator.AuthleteSimulator
  | PendingRequestStore.PendingRequestStore
  | AuthenticationDevice.AuthenticationDeviceFeed,
  HttpServerError.ServeError | ConfigError.ConfigError
> => {
  const users = options.users ?? defaultUsers
  const fapi = options.profile === "fapi-ciba"
  // The FAPI setup (keys and certificates) is made once per build of the layer, before the server.
  const setupLayer = Layer.effect(
    FapiSetupTag,
    fapi
      ? Effect.map(Effect.promise(makeFapiSetup), Option.some)
      : Effect.succeed(Option.none<FapiSetup>())
  )
  // One Node server per build of the layer: HTTPS with client certificates requested for FAPI.
  const serverLayer = Layer.unwrapEffect(Effect.map(FapiSetupTag, (setup) => {
    const { tls } = options
    const pki = Option.getOrUndefined(setup)?.pki
    const clientCas = [
      ...(tls?.clientCa === undefined ? [] : [tls.clientCa]),
      ...(pki === undefined ? [] : [pki.ca.certificate])
    ]
    const nodeServer = tls === undefined && pki === undefined
      ? Http.createServer()
      : Https.createServer({
        cert: tls?.certificate ?? pki!.server.certificate,
        key: tls?.privateKey ?? pki!.server.privateKey,
        // Asked for, not checked here: Authlete (the simulator) judges the certificate, as FAPI deployments do.
        ...(clientCas.length === 0 ? {} : { ca: clientCas, requestCert: true, rejectUnauthorized: false })
      }) as unknown as Http.Server
    return Layer.merge(
      NodeHttpServer.layer(() => nodeServer, { port: options.port ?? 0, host: "127.0.0.1" }),
      Layer.succeed(NodeServer, nodeServer)
    )
  })).pipe(Layer.provideMerge(setupLayer))

  const assembled = Layer.unwrapScoped(Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const setup = yield* FapiSetupTag
    const address = server.address
    const scheme = Option.isSome(setup) || options.tls !== undefined ? "https" : "http"
    const issuer = address._tag === "TcpAddress" ? `${scheme}://127.0.0.1:${address.port}` : `${scheme}://127.0.0.1`
    const endpointOf = (mode: "POLL" | "PING" | "PUSH") =>
      mode === "PING"
        ? options.pingEndpoint ?? `${issuer}${PING_CALLBACK_PATH}`
        : mode === "PUSH"
        ? options.pushEndpoint ?? `${issuer}${PUSH_CALLBACK_PATH}`
        : undefined
    const simulatorLayer = AuthleteSimulator.layer({
      issuer,
      tokenEndpoint: `${issuer}/token`,
      backchannelAuthenticationEndpoint: `${issuer}/backchannel`,
      jwksUri: `${issuer}/jwks`,
      interval: options.interval ?? 5,
      authReqIdLifetime: options.expiresIn ?? 120,
      clients: Option.match(setup, {
        onNone: () => plainClients(options.userCodeRequired ?? [], endpointOf),
        onSome: (setup) => simulatedClients(setup, endpointOf)
      }),
      ...(Option.isSome(setup)
        ? {
          // Access tokens as JWTs too: their `cnf.x5t#S256` shows the certificate they are bound to.
          accessTokenSignAlg: "ES256" as const,
          metadata: {
            mtls_endpoint_aliases: mtlsAliasesOf(issuer),
            tls_client_certificate_bound_access_tokens: true,
            backchannel_token_delivery_modes_supported: ["poll", "ping"]
          }
        }
        : {})
    })
    const services = Layer.mergeAll(
      Layer.unwrapEffect(Effect.map(AuthleteSimulator.AuthleteSimulator, (simulator) =>
        AuthleteClient.layer({
          baseUrl: simulator.baseUrl,
          serviceId: simulator.serviceId,
          accessToken: simulator.accessToken
        }))),
      // A local tool: the clients' endpoints are on this machine.
      ClientNotifier.layer({ allowLoopback: true, allowPrivateNetworks: true }),
      usersLayer(users, Option.isSome(setup) ? FapiCiba.profile : undefined),
      PendingRequestStore.layerMemoryWith({ maxRequests: options.maxPendingRequests }),
      BackchannelLimits.layerMemory(options.limits),
      AuthenticationDevice.layerFeed
    ).pipe(
      // FAPI: the notification endpoints are the playground's own, on HTTPS with its CA.
      Layer.provide(UndiciTransport.layerWith({
        extraCaCertificates: Option.match(setup, { onNone: () => [], onSome: ({ pki }) => [pki.ca.certificate] })
      })),
      Layer.provideMerge(simulatorLayer)
    )
    const withDecisions = Layer.provideMerge(Decisions.layer, services)

    const info = Layer.effect(
      Playground,
      Effect.gen(function*() {
        const simulator = yield* AuthleteSimulator.AuthleteSimulator
        const clients = yield* simulator.clients
        return {
          issuer,
          backchannelAuthenticationEndpoint: `${issuer}/backchannel`,
          tokenEndpoint: `${issuer}/token`,
          jwksUri: `${issuer}/jwks`,
          clients: clients.map((client) => {
            const fapiClient = Option.getOrUndefined(setup)?.clients.find(({ clientId }) =>
              clientId === client.clientId
            )
            return {
              clientId: String(client.clientId),
              clientSecret: client.clientSecret,
              deliveryMode: client.deliveryMode,
              ...(client.clientNotificationEndpoint === undefined
                ? {}
                : { notificationEndpoint: client.clientNotificationEndpoint }),
              requiresUserCode: client.userCodeRequired === true,
              authMethod: fapiClient?.authMethod ?? "client_secret_basic",
              ...(fapiClient === undefined ? {} : {
                privateJwk: fapiClient.privateJwk,
                certificate: fapiClient.certificate,
                privateKey: fapiClient.privateKey
              })
            }
          }),
          ...Option.match(setup, {
            onNone: () => ({}),
            onSome: ({ pki }) => ({
              caCertificate: pki.ca.certificate,
              mtlsEndpointAliases: mtlsAliasesOf(issuer),
              resourceUrl: `${issuer}${RESOURCE_PATH}`
            })
          }),
          users: Object.entries(users).map(([subject, user]) => ({
            subject,
            loginHints: [subject, ...user.loginHints],
            ...(typeof user.claims.name === "string" ? { name: user.claims.name } : {}),
            userCode: user.userCode
          })),
          automatedApprovalUrl: `${issuer}${APPROVAL_PATH}/{auth_req_id}/{action}`,
          authleteBaseUrl: simulator.baseUrl
        }
      })
    ).pipe(Layer.provide(withDecisions))

    const app = CibaRoutes.router({
      automatedApproval: APPROVAL_PATH,
      ...(options.clientCertificate !== undefined
        ? { clientCertificate: options.clientCertificate }
        : Option.isSome(setup) || options.tls?.clientCa !== undefined
        ? { clientCertificate: { fromTls: true } }
        : {}),
      ...(Option.isSome(setup) ? { baseUrl: issuer } : {})
    }).pipe(
      // FAPI: a resource server that takes only tokens bound to the certificate they come with.
      Option.isSome(setup) ? HttpRouter.get(RESOURCE_PATH, resource) : (router) => router,
      HttpRouter.concat(options.routes ?? HttpRouter.empty)
    )
    const nodeServer = yield* NodeServer
    const serve = Layer.scopedDiscard(Effect.gen(function*() {
      // Open event streams (the pages') would keep the server's close waiting for ever: end them first.
      yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
      yield* HttpServer.serveEffect(app)
      // Requests nobody decides in time are failed before their auth_req_id expires.
      yield* Effect.forkScoped(
        failOverdueRequests.pipe(Effect.catchAll(() => Effect.void), Effect.repeat(Schedule.spaced("1 second")))
      )
    }))
    return serve.pipe(Layer.provideMerge(info), Layer.provideMerge(withDecisions))
  }))
  return assembled.pipe(Layer.provide(serverLayer))
}
