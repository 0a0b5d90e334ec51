/**
 * The four CIBA APIs of the simulator, as functions from a decoded body to an answer. Tickets live in
 * a `Ref`; time comes from the `Clock` the simulator was built with.
 */
import { Effect, Ref } from "effect"
import type { Clock } from "effect"
import type { AuthleteApi, AuthleteApiName, AuthleteApis } from "../../AuthleteApi.js"
import type {
  BackchannelAuthenticationRequest,
  BackchannelAuthenticationResponse
} from "../../BackchannelAuthentication.js"
import type { BackchannelAuthenticationCompleteRequest } from "../../BackchannelAuthenticationCompleteRequest.js"
import type { BackchannelAuthenticationCompleteResponse } from "../../BackchannelAuthenticationCompleteResponse.js"
import type {
  BackchannelAuthenticationFailReason,
  BackchannelAuthenticationFailResponse
} from "../../BackchannelAuthenticationFail.js"
import type { BackchannelAuthenticationIssueResponse } from "../../BackchannelAuthenticationIssue.js"
import type { SimulatedClient } from "../AuthleteSimulator.js"
import { halfHash, randomToken, secretsEqual, type SigningKey, signJws, verifyJws } from "./crypto.js"
import * as Codes from "./resultCodes.js"

/** What an API answers: an HTTP status and a JSON body. */
export interface Answer {
  readonly status: number
  readonly body: unknown
}

export interface EngineConfig {
  readonly issuer: string
  readonly key: SigningKey
  readonly ticketLifetime: number
  readonly authReqIdLifetime: number
  readonly interval: number
  readonly accessTokenDuration: number
  readonly refreshTokenDuration: number
  readonly idTokenDuration: number
  readonly idTokenAudType: "array" | "string"
  readonly completeServerErrorStatus: number
}

interface TicketRecord {
  readonly clientId: number
  readonly clientIdAliasUsed: boolean
  readonly scopes: ReadonlyArray<string>
  readonly clientNotificationToken: string | undefined
  readonly requestedExpiry: number
  /** Milliseconds since the epoch, from the simulator's `Clock`. */
  readonly createdAt: number
  readonly issued?: Issued | undefined
}

interface Issued {
  readonly authReqId: string
  /** Milliseconds since the epoch. */
  readonly expiresAt: number
}

type Tickets = ReadonlyMap<string, TicketRecord>

/** The result of an atomic step on the tickets: refused with a result code, or done. */
type Outcome<A> = { readonly _tag: "Refused"; readonly cause: Codes.Result } | {
  readonly _tag: "Done"
  readonly value: A
}

const refused = (cause: Codes.Result): Outcome<never> => ({ _tag: "Refused", cause })

/** OpenID Connect Core 5.4: the claims each standard scope stands for. */
const CLAIMS_OF_SCOPE: { readonly [scope: string]: ReadonlyArray<string> } = {
  profile: [
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at"
  ],
  email: ["email", "email_verified"],
  address: ["address"],
  phone: ["phone_number", "phone_number_verified"]
}

/** Parameters a client must not repeat (RFC 6749 3.1, 3.2). */
const SINGLE_PARAMETERS = [
  "scope",
  "client_id",
  "client_secret",
  "login_hint",
  "id_token_hint",
  "login_hint_token",
  "binding_message",
  "user_code",
  "requested_expiry",
  "acr_values",
  "client_notification_token"
] as const

const HINTS = [
  ["LOGIN_HINT", "login_hint"],
  ["ID_TOKEN_HINT", "id_token_hint"],
  ["LOGIN_HINT_TOKEN", "login_hint_token"]
] as const

const MAX_INT32 = 2_147_483_647

/** The CIBA error code and the action `/backchannel/authentication/fail` answers each reason with. */
const FAILURES: {
  readonly [R in BackchannelAuthenticationFailReason]: {
    readonly action: "BAD_REQUEST" | "FORBIDDEN" | "INTERNAL_SERVER_ERROR"
    readonly error: string
  }
} = {
  ACCESS_DENIED: { action: "FORBIDDEN", error: "access_denied" },
  EXPIRED_LOGIN_HINT_TOKEN: { action: "BAD_REQUEST", error: "expired_login_hint_token" },
  INVALID_BINDING_MESSAGE: { action: "BAD_REQUEST", error: "invalid_binding_message" },
  INVALID_TARGET: { action: "BAD_REQUEST", error: "invalid_target" },
  INVALID_USER_CODE: { action: "BAD_REQUEST", error: "invalid_user_code" },
  MISSING_USER_CODE: { action: "BAD_REQUEST", error: "missing_user_code" },
  SERVER_ERROR: { action: "INTERNAL_SERVER_ERROR", error: "server_error" },
  UNAUTHORIZED_CLIENT: { action: "BAD_REQUEST", error: "unauthorized_client" },
  UNKNOWN_USER_ID: { action: "BAD_REQUEST", error: "unknown_user_id" }
}

type Json<A extends { readonly [x: string]: unknown }> = { -readonly [K in keyof A]?: A[K] | undefined }
type AuthenticationJson = Json<typeof BackchannelAuthenticationResponse.Encoded>
type IssueJson = Json<typeof BackchannelAuthenticationIssueResponse.Encoded>
type FailJson = Json<typeof BackchannelAuthenticationFailResponse.Encoded>
type CompleteJson = Json<typeof BackchannelAuthenticationCompleteResponse.Encoded>

const ok = (body: unknown): Answer => ({ status: 200, body })

/** Drops `undefined` members so the JSON holds only what was set. */
const compact = <A extends object>(value: A): A =>
  Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as A

/**
 * What an API answers to a body that breaks its schema, where Authlete documents more than a 400:
 * `/fail` with wrong parameters is the action `INTERNAL_SERVER_ERROR` (javadoc of
 * BackchannelAuthenticationFailResponse).
 */
export const malformedAnswers: { readonly [Name in AuthleteApiName]?: (problems: string) => Answer } = {
  backchannelAuthenticationFail: (problems) => {
    const cause = Codes.malformedRequest(185, problems)
    return ok(
      {
        ...cause,
        action: "INTERNAL_SERVER_ERROR",
        responseContent: Codes.oauthError("server_error", cause)
      } satisfies FailJson
    )
  }
}

/** What the simulator does for each API, given the request its declaration decoded. */
export type Engine = {
  readonly [Name in AuthleteApiName]: (
    request: AuthleteApi.Request<typeof AuthleteApis[Name]>
  ) => Effect.Effect<Answer>
}

export const makeEngine = (
  config: EngineConfig,
  clients: Ref.Ref<ReadonlyArray<SimulatedClient>>,
  clock: Clock.Clock
): Effect.Effect<Engine> =>
  Effect.gen(function*() {
    const tickets = yield* Ref.make<Tickets>(new Map())
    const now = clock.currentTimeMillis

    const clientInfo = (client: SimulatedClient, aliasUsed: boolean) => ({
      clientId: client.clientId,
      clientIdAlias: client.clientIdAlias,
      clientIdAliasUsed: aliasUsed,
      clientName: client.clientName,
      deliveryMode: client.deliveryMode
    })

    // ---------------------------------------------------------------- /backchannel/authentication

    const refuse = (
      action: "BAD_REQUEST" | "UNAUTHORIZED",
      error: string,
      cause: Codes.Result,
      client?: SimulatedClient
    ): Answer =>
      ok(compact<AuthenticationJson>({
        ...cause,
        action,
        responseContent: Codes.oauthError(error, cause),
        clientId: client?.clientId,
        clientName: client?.clientName
      }))

    const badRequest = (cause: Codes.Result, client?: SimulatedClient, error = "invalid_request") =>
      Effect.fail(refuse("BAD_REQUEST", error, cause, client))
    const unauthorized = (detail: string) =>
      Effect.fail(refuse("UNAUTHORIZED", "invalid_client", Codes.clientAuthenticationFailed(detail)))

    const authenticateClient = (request: BackchannelAuthenticationRequest, parameters: URLSearchParams) =>
      Effect.gen(function*() {
        const idInBody = parameters.get("client_id") ?? undefined
        const secretInBody = parameters.get("client_secret") ?? undefined
        if (request.clientSecret !== undefined && secretInBody !== undefined) {
          return yield* badRequest(Codes.clientCredentialsConflict)
        }
        if (request.clientId !== undefined && idInBody !== undefined && request.clientId !== idInBody) {
          return yield* unauthorized("the client IDs in the Authorization header and the request body differ.")
        }
        const id = request.clientId ?? idInBody
        if (id === undefined || id === "") return yield* unauthorized("the request does not identify the client.")
        const client = (yield* Ref.get(clients)).find((candidate) =>
          String(candidate.clientId) === id || candidate.clientIdAlias === id
        )
        if (client === undefined) return yield* unauthorized("the client does not exist.")
        const secret = request.clientSecret ?? secretInBody
        if (secret === undefined) return yield* unauthorized("the request does not contain a client secret.")
        if (!secretsEqual(secret, client.clientSecret)) return yield* unauthorized("the client secret is wrong.")
        return {
          client,
          aliasUsed: id !== String(client.clientId),
          method: request.clientSecret === undefined ? "CLIENT_SECRET_POST" : "CLIENT_SECRET_BASIC"
        }
      })

    const authentication = (request: BackchannelAuthenticationRequest): Effect.Effect<Answer> =>
      Effect.gen(function*() {
        const parameters = new URLSearchParams(request.parameters)
        for (const name of SINGLE_PARAMETERS) {
          if (parameters.getAll(name).length > 1) return yield* badRequest(Codes.parameterRepeated(name))
        }
        if (parameters.has("request") || parameters.has("request_uri")) {
          return yield* badRequest(Codes.requestObjectUnsupported)
        }
        const { aliasUsed, client, method } = yield* authenticateClient(request, parameters)

        const scopeText = parameters.get("scope")?.trim() ?? ""
        if (scopeText === "") return yield* badRequest(Codes.scopeMissing, client)
        const scopes = [...new Set(scopeText.split(/\s+/))]
        if (!scopes.includes("openid")) return yield* badRequest(Codes.openidScopeMissing, client, "invalid_scope")

        const hints = HINTS.flatMap(([type, name]) => {
          const value = parameters.get(name)
          return value === null || value === "" ? [] : [{ type, value }]
        })
        if (hints.length === 0) return yield* badRequest(Codes.hintMissing, client)
        if (hints.length > 1) return yield* badRequest(Codes.hintAmbiguous, client)
        const hint = hints[0]!
        let sub: string | undefined
        if (hint.type === "ID_TOKEN_HINT") {
          const claims = verifyJws(config.key, hint.value)
          if (claims === undefined || typeof claims.sub !== "string") {
            return yield* badRequest(Codes.idTokenHintInvalid, client)
          }
          sub = claims.sub
        }

        const clientNotificationToken = parameters.get("client_notification_token") ?? undefined
        if (
          client.deliveryMode !== "POLL" && (clientNotificationToken === undefined || clientNotificationToken === "")
        ) {
          return yield* badRequest(Codes.notificationTokenMissing(client.deliveryMode), client)
        }
        const expiryText = parameters.get("requested_expiry")
        const requestedExpiry = expiryText === null ? 0 : /^[1-9][0-9]{0,9}$/.test(expiryText) ? Number(expiryText) : -1
        if (requestedExpiry < 0 || requestedExpiry > MAX_INT32) {
          return yield* badRequest(Codes.requestedExpiryInvalid, client)
        }
        const userCode = parameters.get("user_code") ?? undefined
        const userCodeRequired = client.userCodeRequired === true
        if (userCodeRequired && (userCode === undefined || userCode === "")) {
          return yield* badRequest(Codes.userCodeMissing, client, "missing_user_code")
        }
        const acrs = parameters.get("acr_values")?.split(/\s+/).filter((acr) => acr !== "")
        const claimNames = [...new Set(scopes.flatMap((scope) => CLAIMS_OF_SCOPE[scope] ?? []))]

        const ticket = randomToken()
        const createdAt = yield* now
        yield* Ref.update(tickets, (all) =>
          new Map(all).set(ticket, {
            clientId: client.clientId,
            clientIdAliasUsed: aliasUsed,
            scopes,
            clientNotificationToken,
            requestedExpiry,
            createdAt
          }))
        return ok(compact<AuthenticationJson>({
          ...Codes.authenticationOk,
          action: "USER_IDENTIFICATION",
          ticket,
          ...clientInfo(client, aliasUsed),
          clientAuthMethod: method,
          scopes: scopes.map((name) => ({ name, defaultEntry: false })),
          claimNames: claimNames.length === 0 ? undefined : claimNames,
          acrs: acrs === undefined || acrs.length === 0 ? undefined : acrs,
          hintType: hint.type,
          hint: hint.value,
          sub,
          bindingMessage: parameters.get("binding_message") ?? undefined,
          userCode,
          userCodeRequired,
          requestedExpiry,
          clientNotificationToken
        }))
      }).pipe(Effect.merge)

    // ---------------------------------------------------------------- /backchannel/authentication/issue

    const invalidTicket = (cause: Codes.Result) =>
      ok(
        {
          ...cause,
          action: "INVALID_TICKET",
          responseContent: Codes.oauthError("server_error", cause)
        } satisfies IssueJson
      )

    const issue = ({ ticket }: { readonly ticket: string }): Effect.Effect<Answer> =>
      Effect.gen(function*() {
        const at = yield* now
        const authReqId = randomToken()
        const outcome = yield* Ref.modify(tickets, (all): readonly [Outcome<{ expiresIn: number }>, Tickets] => {
          const record = all.get(ticket)
          if (record === undefined) return [refused(Codes.issueTicketUnknown), all]
          if (record.issued !== undefined) return [refused(Codes.issueTicketUsed), all]
          if (at >= record.createdAt + config.ticketLifetime * 1000) {
            const rest = new Map(all)
            rest.delete(ticket)
            return [refused(Codes.issueTicketExpired), rest]
          }
          const expiresIn = record.requestedExpiry > 0 ? record.requestedExpiry : config.authReqIdLifetime
          const issued = { authReqId, expiresAt: at + expiresIn * 1000 }
          return [{ _tag: "Done", value: { expiresIn } }, new Map(all).set(ticket, { ...record, issued })]
        })
        if (outcome._tag === "Refused") return invalidTicket(outcome.cause)
        const { expiresIn } = outcome.value
        return ok(
          {
            ...Codes.issueOk,
            action: "OK",
            responseContent: JSON.stringify({
              auth_req_id: authReqId,
              expires_in: expiresIn,
              interval: config.interval
            }),
            authReqId,
            expiresIn,
            interval: config.interval
          } satisfies IssueJson
        )
      }).pipe(Effect.merge)

    // ---------------------------------------------------------------- /backchannel/authentication/fail

    const fail = (request: {
      readonly ticket: string
      readonly reason: BackchannelAuthenticationFailReason
      readonly errorDescription?: string | undefined
      readonly errorUri?: string | undefined
    }): Effect.Effect<Answer> =>
      Effect.gen(function*() {
        yield* Ref.update(tickets, (all) => {
          const rest = new Map(all)
          rest.delete(request.ticket)
          return rest
        })
        const { action, error } = FAILURES[request.reason]
        return ok(
          {
            ...Codes.failOk,
            action,
            responseContent: JSON.stringify(compact({
              error,
              error_description: request.errorDescription,
              error_uri: request.errorUri
            }))
          } satisfies FailJson
        )
      }).pipe(Effect.merge)

    // ---------------------------------------------------------------- /backchannel/authentication/complete

    const serverError = (cause: Codes.Result): Answer => ({
      status: config.completeServerErrorStatus,
      body: { ...cause, action: "SERVER_ERROR" } satisfies CompleteJson
    })

    const mintTokens = (
      request: BackchannelAuthenticationCompleteRequest,
      client: SimulatedClient,
      record: TicketRecord,
      authReqId: string,
      at: number
    ) => {
      const accessToken = request.accessToken ?? randomToken()
      const refreshToken = randomToken()
      const accessTokenDuration = positiveOr(request.accessTokenDuration, config.accessTokenDuration)
      const refreshTokenDuration = positiveOr(request.refreshTokenDuration, config.refreshTokenDuration)
      const audience = record.clientIdAliasUsed && client.clientIdAlias !== undefined
        ? client.clientIdAlias
        : String(client.clientId)
      const issuedAt = Math.floor(at / 1000)
      const idToken = signJws(config.key, request.idtHeaderParams ?? {}, {
        // The caller's claims first, so that the registered claims below always win.
        ...request.claims,
        iss: config.issuer,
        sub: request.sub ?? request.subject,
        aud: (request.idTokenAudType ?? config.idTokenAudType) === "array" ? [audience] : audience,
        exp: issuedAt + config.idTokenDuration,
        iat: issuedAt,
        ...(request.authTime !== undefined && request.authTime > 0 ? { auth_time: request.authTime } : {}),
        ...(request.acr === undefined ? {} : { acr: request.acr }),
        "urn:openid:params:jwt:claim:auth_req_id": authReqId,
        at_hash: halfHash(accessToken),
        "urn:openid:params:jwt:claim:rt_hash": halfHash(refreshToken)
      })
      return {
        accessToken,
        refreshToken,
        idToken,
        accessTokenDuration,
        refreshTokenDuration,
        idTokenDuration: config.idTokenDuration,
        responseContent: JSON.stringify({
          // The non-hidden properties are top-level entries of the token response (javadoc of
          // BackchannelAuthenticationCompleteRequest `properties`); the registered ones win.
          ...visibleProperties(request),
          auth_req_id: authReqId,
          access_token: accessToken,
          token_type: "Bearer",
          refresh_token: refreshToken,
          expires_in: accessTokenDuration,
          id_token: idToken
        })
      }
    }

    const complete = (request: BackchannelAuthenticationCompleteRequest): Effect.Effect<Answer> =>
      Effect.gen(function*() {
        // Taken out atomically: a ticket completes once, even under concurrent calls.
        const taken = yield* Ref.modify(
          tickets,
          (all): readonly [Outcome<{ record: TicketRecord; issued: Issued }>, Tickets] => {
            const record = all.get(request.ticket)
            if (record === undefined) return [refused(Codes.completeTicketUnknown), all]
            if (record.issued === undefined) return [refused(Codes.completeTicketNotIssued), all]
            const rest = new Map(all)
            rest.delete(request.ticket)
            return [{ _tag: "Done", value: { record, issued: record.issued } }, rest]
          }
        )
        if (taken._tag === "Refused") return serverError(taken.cause)
        const { issued, record } = taken.value
        const client = (yield* Ref.get(clients)).find((candidate) => candidate.clientId === record.clientId)
        if (client === undefined) return serverError(Codes.completeTicketUnknown)
        const at = yield* now
        const mode = client.deliveryMode
        const base: CompleteJson = {
          ...clientInfo(client, record.clientIdAliasUsed),
          authReqId: issued.authReqId,
          accessTokenDuration: 0,
          refreshTokenDuration: 0,
          idTokenDuration: 0,
          ...(mode === "POLL" ? {} : {
            clientNotificationEndpoint: client.clientNotificationEndpoint,
            clientNotificationToken: record.clientNotificationToken
          })
        }

        if (at >= issued.expiresAt) {
          // An error found once the ticket's record is loaded: in PING and PUSH it is a NOTIFICATION
          // (javadoc of BackchannelAuthenticationCompleteResponse), whose PING body is the usual one.
          const cause = Codes.completeAuthReqIdExpired
          if (mode === "POLL") return serverError(cause)
          return ok(compact<CompleteJson>({
            ...cause,
            action: "NOTIFICATION",
            ...base,
            responseContent: JSON.stringify(
              mode === "PING"
                ? { auth_req_id: issued.authReqId }
                : { error: "server_error", error_description: cause.resultMessage, auth_req_id: issued.authReqId }
            )
          }))
        }

        const result = Codes.completeOk(mode, request.result)
        if (mode === "POLL") return ok(compact<CompleteJson>({ ...result, action: "NO_ACTION", ...base }))
        if (mode === "PING") {
          return ok(compact<CompleteJson>({
            ...result,
            action: "NOTIFICATION",
            ...base,
            responseContent: JSON.stringify({ auth_req_id: issued.authReqId })
          }))
        }
        if (request.result === "AUTHORIZED") {
          return ok(compact<CompleteJson>({
            ...result,
            action: "NOTIFICATION",
            ...base,
            ...mintTokens(request, client, record, issued.authReqId, at)
          }))
        }
        return ok(compact<CompleteJson>({
          ...result,
          action: "NOTIFICATION",
          ...base,
          responseContent: JSON.stringify(compact({
            error: request.result === "ACCESS_DENIED" ? "access_denied" : "expired_token",
            error_description: request.errorDescription,
            error_uri: request.errorUri,
            auth_req_id: issued.authReqId
          }))
        }))
      }).pipe(Effect.merge)

    return {
      backchannelAuthentication: authentication,
      backchannelAuthenticationIssue: issue,
      backchannelAuthenticationFail: fail,
      backchannelAuthenticationComplete: complete
    }
  })

/** The properties the client may see, as entries of a JSON object. */
const visibleProperties = (request: BackchannelAuthenticationCompleteRequest): Record<string, string> =>
  Object.fromEntries(
    (request.properties ?? []).filter((property) => property.hidden !== true).map((p) => [p.key, p.value])
  )

const positiveOr = (value: number | undefined, fallback: number): number =>
  value !== undefined && value > 0 ? value : fallback
