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
 * Form bodies are read once, under a size cap; client credentials come from `Authorization: Basic`
 * (RFC 6749 2.3.1) or stay in the form; a failure to reach Authlete is logged and answered 500.
 *
 * @since 0.1.0
 */
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as AuthenticationDevice from "./AuthenticationDevice.js"
import type * as AuthleteClient from "./AuthleteClient.js"
import { MAX_PARAMETERS_LENGTH } from "./BackchannelAuthentication.js"
import { handleBackchannelAuthentication } from "./BackchannelAuthenticationEndpoint.js"
import type * as BackchannelChecks from "./BackchannelChecks.js"
import * as ClientCredentials from "./ClientCredentials.js"
import * as Decisions from "./Decisions.js"
import { handleDiscovery, handleJwks } from "./Discovery.js"
import * as Endpoint from "./EndpointResponse.js"
import type * as PendingRequestStore from "./PendingRequestStore.js"
import { handleTokenRequest } from "./TokenEndpoint.js"
import type * as UserIdentifier from "./UserIdentifier.js"

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
}

/**
 * What the routes need: the services of the endpoint programs.
 *
 * @since 0.1.0
 * @category models
 */
export type CibaRoutesRequirements =
  | AuthleteClient.AuthleteClient
  | UserIdentifier.UserIdentifier
  | BackchannelChecks.BackchannelChecks
  | PendingRequestStore.PendingRequestStore
  | Decisions.Decisions
  | AuthenticationDevice.AuthenticationDevice

const toHttp = (response: Endpoint.EndpointResponse) =>
  HttpServerResponse.text(response.body, {
    status: response.status,
    headers: response.headers,
    contentType: response.headers["content-type"] ?? "application/json"
  })

const serverError = Endpoint.oauthError(500, "server_error")

/** Runs an endpoint program; a failure to reach Authlete or the store is logged and answered 500. */
const answer = <E extends { readonly message: string }, R>(program: Effect.Effect<Endpoint.EndpointResponse, E, R>) =>
  program.pipe(
    Effect.catchAll((error) =>
      Effect.as(Effect.logError(`The endpoint could not answer: ${error.message}`), serverError)
    ),
    Effect.map(toHttp)
  )

const FORM = /^application\/x-www-form-urlencoded\b/i

/** The form body and the client credentials of a POST, or the answer that refuses it. */
const readForm = (maxFormBytes: number, realm: string) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (!FORM.test(request.headers["content-type"] ?? "")) {
      return yield* Effect.fail(
        Endpoint.oauthError(400, "invalid_request", "The body must be application/x-www-form-urlencoded.")
      )
    }
    const declared = Number(request.headers["content-length"])
    const text = Number.isFinite(declared) && declared > maxFormBytes
      ? undefined
      : yield* HttpIncomingMessage.withMaxBodySize(request.text, Option.some(maxFormBytes)).pipe(
        Effect.map((text): string | undefined => text),
        Effect.orElseSucceed(() => undefined)
      )
    if (text === undefined) {
      return yield* Effect.fail(Endpoint.oauthError(413, "invalid_request", "The body is too large."))
    }
    const credentials = ClientCredentials.fromHeaders(request.headers)
    if (Either.isLeft(credentials)) {
      return yield* Effect.fail(
        Endpoint.oauthError(401, "invalid_client", credentials.left.message, {
          "www-authenticate": `Basic realm="${realm}"`
        })
      )
    }
    return { parameters: text, ...credentials.right, headers: request.headers }
  })

/**
 * The routes: `POST /backchannel` (the backchannel authentication endpoint), `POST /token`,
 * `GET /.well-known/openid-configuration` and `GET /jwks` (paths configurable), and the automated
 * approval endpoint when asked for.
 *
 * @since 0.1.0
 * @category routes
 */
export const router = (options: CibaRoutesOptions = {}): HttpRouter.HttpRouter<never, CibaRoutesRequirements> => {
  const paths = {
    backchannelAuthentication: options.paths?.backchannelAuthentication ?? "/backchannel",
    token: options.paths?.token ?? "/token",
    discovery: options.paths?.discovery ?? "/.well-known/openid-configuration",
    jwks: options.paths?.jwks ?? "/jwks"
  }
  const maxFormBytes = options.maxFormBytes ?? MAX_PARAMETERS_LENGTH
  const routes = HttpRouter.empty.pipe(
    HttpRouter.post(
      paths.backchannelAuthentication as HttpRouter.PathInput,
      Effect.flatMap(readForm(maxFormBytes, "backchannel"), (form) => answer(handleBackchannelAuthentication(form)))
        .pipe(Effect.catchAll((refused) => Effect.succeed(toHttp(refused))))
    ),
    HttpRouter.post(
      paths.token as HttpRouter.PathInput,
      Effect.flatMap(readForm(maxFormBytes, "token"), (form) =>
        answer(handleTokenRequest({
          ...form,
          dpop: form.headers["dpop"],
          htm: form.headers["dpop"] === undefined ? undefined : "POST"
        }))).pipe(Effect.catchAll((refused) => Effect.succeed(toHttp(refused))))
    ),
    HttpRouter.get(paths.discovery as HttpRouter.PathInput, answer(handleDiscovery)),
    HttpRouter.get(paths.jwks as HttpRouter.PathInput, answer(handleJwks))
  )
  if (options.automatedApproval === undefined) return routes
  return HttpRouter.post(
    `${options.automatedApproval}/:authReqId/:action` as HttpRouter.PathInput,
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
        Effect.catchAll((error) =>
          Effect.as(Effect.logError(`The decision could not be completed: ${error.message}`), toHttp(serverError))
        )
      )
    })
  )(routes)
}
