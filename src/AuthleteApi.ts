/**
 * The Authlete APIs this library speaks, each declared once: method, path, request and response
 * schemas, which request values are secrets, Authlete's API number, and whether it is safe to repeat.
 * `AuthleteClient` (its type, the live client, `layerTest`, span names) and the simulator (routing,
 * request decoding, result codes) are derived from `AuthleteApis`.
 *
 * @since 0.1.0
 */
import type * as Schema from "effect/Schema"
import { BackchannelAuthenticationRequest, BackchannelAuthenticationResponse } from "./BackchannelAuthentication.js"
import * as BackchannelAuthenticationCompleteRequest from "./BackchannelAuthenticationCompleteRequest.js"
import * as BackchannelAuthenticationCompleteResponse from "./BackchannelAuthenticationCompleteResponse.js"
import {
  BackchannelAuthenticationFailRequest,
  BackchannelAuthenticationFailResponse
} from "./BackchannelAuthenticationFail.js"
import {
  BackchannelAuthenticationIssueRequest,
  BackchannelAuthenticationIssueResponse
} from "./BackchannelAuthenticationIssue.js"
import * as ServiceConfiguration from "./ServiceConfiguration.js"
import * as ServiceJwks from "./ServiceJwks.js"
import { TokenRequest, TokenResponse } from "./Token.js"

/**
 * One Authlete API.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthleteApi<Request = any, RequestJson = any, Response = any> {
  /** `POST` sends the request as a JSON body; `GET` sends its fields as the query. */
  readonly method: "GET" | "POST"
  /** Below `/api/{serviceId}` (v3) or `/api` (v2). */
  readonly path: string
  /** Authlete's number for the API, which its result codes carry (`A198001`: API 198). */
  readonly apiNumber: number
  readonly request: Schema.Schema<Request, RequestJson>
  readonly response: Schema.Schema<Response, any>
  /** Request fields whose values are secrets (kept out of every error). */
  readonly secretFields: ReadonlyArray<string>
  /** Parameters of the form-encoded `parameters` field whose values are secrets. */
  readonly secretFormParameters: ReadonlyArray<string>
  /**
   * Safe to send again after a 5xx or a timeout (it changes nothing). An API that issues tokens or
   * consumes a ticket is not: it is retried only when Authlete provably did not process it.
   */
  readonly repeatable: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace AuthleteApi {
  /** The request an API takes in the program. */
  export type Request<Api> = Api extends AuthleteApi<infer Request, any, any> ? Request : never
  /** The request as it goes on the wire. */
  export type RequestJson<Api> = Api extends AuthleteApi<any, infer RequestJson, any> ? RequestJson : never
  /** The decoded answer. */
  export type Response<Api> = Api extends AuthleteApi<any, any, infer Response> ? Response : never
}

const api = <Request, RequestJson, Response, ResponseJson>(declaration: {
  readonly method: "GET" | "POST"
  readonly path: string
  readonly apiNumber: number
  readonly request: Schema.Schema<Request, RequestJson>
  readonly response: Schema.Schema<Response, ResponseJson>
  readonly secretFields?: ReadonlyArray<keyof RequestJson & string> | undefined
  readonly secretFormParameters?: ReadonlyArray<string> | undefined
  readonly repeatable: boolean
}): AuthleteApi<Request, RequestJson, Response> => ({
  ...declaration,
  secretFields: declaration.secretFields ?? [],
  secretFormParameters: declaration.secretFormParameters ?? []
})

/**
 * Every API `AuthleteClient` offers, by method name.
 *
 * @since 0.1.0
 * @category apis
 */
export const AuthleteApis = {
  /**
   * Hands a client's backchannel authentication request to Authlete (`/backchannel/authentication`),
   * which answers `USER_IDENTIFICATION` with a ticket, or an error to return to the client.
   */
  backchannelAuthentication: api({
    method: "POST",
    path: "/backchannel/authentication",
    apiNumber: 179,
    request: BackchannelAuthenticationRequest,
    response: BackchannelAuthenticationResponse,
    secretFields: ["clientSecret"],
    secretFormParameters: [
      "client_secret",
      "login_hint_token",
      "id_token_hint",
      "client_notification_token",
      "request"
    ],
    repeatable: false
  }),
  /** Issues the `auth_req_id` for a ticket (`/backchannel/authentication/issue`). */
  backchannelAuthenticationIssue: api({
    method: "POST",
    path: "/backchannel/authentication/issue",
    apiNumber: 183,
    request: BackchannelAuthenticationIssueRequest,
    response: BackchannelAuthenticationIssueResponse,
    secretFields: ["ticket"],
    repeatable: false
  }),
  /** Refuses a request before `/issue` (`/backchannel/authentication/fail`), deleting its ticket. */
  backchannelAuthenticationFail: api({
    method: "POST",
    path: "/backchannel/authentication/fail",
    apiNumber: 185,
    request: BackchannelAuthenticationFailRequest,
    response: BackchannelAuthenticationFailResponse,
    secretFields: ["ticket"],
    repeatable: false
  }),
  /**
   * Tells Authlete how the user decided (`/backchannel/authentication/complete`). Takes the class
   * instance or a plain object of its shape; input that breaks a rule fails with
   * `AuthleteValidationError` and nothing is sent. In PUSH mode it mints tokens: never repeated.
   */
  backchannelAuthenticationComplete: api({
    method: "POST",
    path: "/backchannel/authentication/complete",
    apiNumber: 198,
    request: BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest,
    response: BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse,
    secretFields: ["ticket", "accessToken"],
    repeatable: false
  }),
  /**
   * Hands a client's token request to Authlete (`/auth/token`), which answers with the tokens (CIBA:
   * once the user decided), the error to return, or a grant the server handles itself. It issues
   * tokens: never repeated.
   */
  token: api({
    method: "POST",
    path: "/auth/token",
    apiNumber: 50,
    request: TokenRequest,
    response: TokenResponse,
    secretFields: ["clientSecret", "accessToken", "dpop"],
    secretFormParameters: ["client_secret", "code", "refresh_token", "password", "auth_req_id", "client_assertion"],
    repeatable: false
  }),
  /** The service's OpenID Provider metadata (`/service/configuration`), for the discovery endpoint. */
  serviceConfiguration: api({
    method: "GET",
    path: "/service/configuration",
    // Authlete publishes no number for this API: the simulator's own.
    apiNumber: 901,
    request: ServiceConfiguration.ServiceConfigurationRequest,
    response: ServiceConfiguration.ServiceConfiguration,
    repeatable: true
  }),
  /** The service's JWK Set (`/service/jwks/get`), for the `jwks_uri`. */
  serviceJwks: api({
    method: "GET",
    path: "/service/jwks/get",
    // Authlete publishes no number for this API: the simulator's own.
    apiNumber: 902,
    request: ServiceJwks.ServiceJwksRequest,
    response: ServiceJwks.ServiceJwks,
    repeatable: true
  })
} as const

/**
 * The names of the APIs (`AuthleteClient`'s methods).
 *
 * @since 0.1.0
 * @category apis
 */
export type AuthleteApiName = keyof typeof AuthleteApis
