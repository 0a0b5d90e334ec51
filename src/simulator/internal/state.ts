/**
 * What the simulated service keeps between API calls, and what several APIs share: the tickets of
 * backchannel requests, the grants of issued `auth_req_id`s, the registered clients, client
 * authentication and token minting. Maps are changed in place, each change in one synchronous step
 * (a fiber never yields inside one), so concurrent calls see each change whole.
 */
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type * as BackchannelAuthenticationCompleteRequest from "../../BackchannelAuthenticationCompleteRequest.js"
import type { SimulatedClient } from "../AuthleteSimulator.js"
import { halfHash, randomToken, secretsEqual, type SigningKey, signJws } from "./crypto.js"

/** What an API answers: an HTTP status and a JSON body. */
export interface Answer {
  readonly status: number
  readonly body: unknown
}

export const ok = (body: unknown): Answer => ({ status: 200, body })

/** Drops `undefined` members so the JSON holds only what was set. */
export const compact = <A extends object>(value: A): A =>
  Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as A

/** The wire JSON of a response, every field optional and writable (the simulator builds them). */
export type Json<A extends { readonly [x: string]: unknown }> = { -readonly [K in keyof A]?: A[K] | undefined }

/** Service settings that Authlete keeps per service (its discovery document names them). */
export interface ServiceSettings {
  readonly issuer: string
  readonly tokenEndpoint: string
  readonly backchannelAuthenticationEndpoint: string
  readonly jwksUri: string
  /** More metadata for the discovery document, merged over the simulator's. */
  readonly metadata: { readonly [name: string]: unknown }
}

export interface EngineConfig {
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

/** A backchannel request between `/backchannel/authentication` and `/complete`. */
export interface TicketRecord {
  readonly clientId: number
  readonly clientIdAliasUsed: boolean
  readonly scopes: ReadonlyArray<string>
  readonly clientNotificationToken: string | undefined
  readonly requestedExpiry: number
  /** Milliseconds since the epoch, from the simulator's `Clock`. */
  readonly createdAt: number
  /** Its `auth_req_id`, once `/issue` gave one. */
  authReqId?: string | undefined
}

/** An issued `auth_req_id`, as the token endpoint sees it. */
export interface Grant {
  readonly authReqId: string
  readonly clientId: number
  readonly clientIdAliasUsed: boolean
  /** Milliseconds since the epoch. */
  readonly expiresAt: number
  /** How the user decided (`/complete`), for POLL and PING. */
  decided?: {
    readonly request: BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest
    readonly scopes: ReadonlyArray<string>
  } | undefined
  /** The tokens went out already: redeemed at the token endpoint, or pushed. */
  used: boolean
  /** When the client last asked the token endpoint, and how long it must wait between asks. */
  lastPollAt?: number | undefined
  intervalSeconds: number
}

export interface State {
  readonly config: EngineConfig
  readonly service: Ref.Ref<ServiceSettings>
  readonly clients: Ref.Ref<ReadonlyArray<SimulatedClient>>
  readonly tickets: Map<string, TicketRecord>
  readonly grants: Map<string, Grant>
  readonly now: Effect.Effect<number>
  /** When `forgetExpired` next looks (milliseconds since the epoch). */
  nextSweepAt: number
}

export const makeState = (
  config: EngineConfig,
  service: Ref.Ref<ServiceSettings>,
  clients: Ref.Ref<ReadonlyArray<SimulatedClient>>,
  clock: Clock.Clock
): State => ({
  config,
  service,
  clients,
  tickets: new Map(),
  grants: new Map(),
  now: clock.currentTimeMillis,
  nextSweepAt: 0
})

/** How long a ticket or an `auth_req_id` is still known once expired (and answered as expired). */
const EXPIRED_KEPT_MILLIS = 60 * 60 * 1000

/**
 * Forgets the tickets and `auth_req_id`s that expired an hour ago or more, so that a long-running
 * simulator does not keep every request it ever saw; it looks at most once a minute.
 */
export const forgetExpired = (state: State, at: number): void => {
  if (at < state.nextSweepAt) return
  state.nextSweepAt = at + 60_000
  const { config, grants, tickets } = state
  for (const [ticket, record] of tickets) {
    const grant = record.authReqId === undefined ? undefined : grants.get(record.authReqId)
    const expiresAt = grant === undefined ? record.createdAt + config.ticketLifetime * 1000 : grant.expiresAt
    if (at >= expiresAt + EXPIRED_KEPT_MILLIS) tickets.delete(ticket)
  }
  for (const [authReqId, grant] of grants) {
    if (at >= grant.expiresAt + EXPIRED_KEPT_MILLIS) grants.delete(authReqId)
  }
}

export const clientInfo = (client: SimulatedClient, aliasUsed: boolean) => ({
  clientId: client.clientId,
  clientIdAlias: client.clientIdAlias,
  clientIdAliasUsed: aliasUsed,
  clientName: client.clientName,
  deliveryMode: client.deliveryMode
})

export const clientById = (state: State, clientId: number) =>
  Effect.map(Ref.get(state.clients), (all) => all.find((client) => client.clientId === clientId))

/** Why client authentication failed, in Authlete's words; or the client, and how it authenticated. */
export type ClientAuthentication =
  | { readonly _tag: "Conflict" }
  | { readonly _tag: "Failed"; readonly detail: string }
  | {
    readonly _tag: "Authenticated"
    readonly client: SimulatedClient
    readonly aliasUsed: boolean
    readonly method: "CLIENT_SECRET_BASIC" | "CLIENT_SECRET_POST"
  }

/**
 * `client_secret_basic` (the endpoint passed the header's credentials as `clientId`/`clientSecret`)
 * or `client_secret_post` (they are in the form); never both.
 */
export const authenticateClient = (
  state: State,
  credentials: { readonly clientId?: string | undefined; readonly clientSecret?: string | undefined },
  form: URLSearchParams
): Effect.Effect<ClientAuthentication> =>
  Effect.map(Ref.get(state.clients), (clients): ClientAuthentication => {
    const idInBody = form.get("client_id") ?? undefined
    const secretInBody = form.get("client_secret") ?? undefined
    if (credentials.clientSecret !== undefined && secretInBody !== undefined) return { _tag: "Conflict" }
    if (credentials.clientId !== undefined && idInBody !== undefined && credentials.clientId !== idInBody) {
      return { _tag: "Failed", detail: "the client IDs in the Authorization header and the request body differ." }
    }
    const id = credentials.clientId ?? idInBody
    if (id === undefined || id === "") return { _tag: "Failed", detail: "the request does not identify the client." }
    const client = clients.find((candidate) => String(candidate.clientId) === id || candidate.clientIdAlias === id)
    if (client === undefined) return { _tag: "Failed", detail: "the client does not exist." }
    const secret = credentials.clientSecret ?? secretInBody
    if (secret === undefined) return { _tag: "Failed", detail: "the request does not contain a client secret." }
    if (!secretsEqual(secret, client.clientSecret)) return { _tag: "Failed", detail: "the client secret is wrong." }
    return {
      _tag: "Authenticated",
      client,
      aliasUsed: id !== String(client.clientId),
      method: credentials.clientSecret === undefined ? "CLIENT_SECRET_POST" : "CLIENT_SECRET_BASIC"
    }
  })

/** The properties the client may see, as entries of a JSON object. */
const visibleProperties = (
  request: BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest
): Record<string, string> =>
  Object.fromEntries(
    (request.properties ?? []).filter((property) => property.hidden !== true).map((p) => [p.key, p.value])
  )

const positiveOr = (value: number | undefined, fallback: number): number =>
  value !== undefined && value > 0 ? value : fallback

/**
 * Access, refresh and ID tokens for a decided request, and the token response that carries them.
 * The ID token holds the claims given to `/complete`; pushed ones (CIBA Core 10.3.1) also bind the
 * `auth_req_id` and the refresh token.
 */
export const mintTokens = (
  state: State,
  options: {
    readonly request: BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest
    readonly client: SimulatedClient
    readonly aliasUsed: boolean
    readonly authReqId: string
    readonly scopes: ReadonlyArray<string>
    readonly pushed: boolean
  }
) =>
  Effect.gen(function*() {
    const { aliasUsed, authReqId, client, pushed, request } = options
    const { config } = state
    const { issuer } = yield* Ref.get(state.service)
    const at = yield* state.now
    const accessToken = request.accessToken ?? randomToken()
    const refreshToken = randomToken()
    const accessTokenDuration = positiveOr(request.accessTokenDuration, config.accessTokenDuration)
    const refreshTokenDuration = positiveOr(request.refreshTokenDuration, config.refreshTokenDuration)
    const audience = aliasUsed && client.clientIdAlias !== undefined ? client.clientIdAlias : String(client.clientId)
    const issuedAt = Math.floor(at / 1000)
    const idToken = signJws(config.key, request.idtHeaderParams ?? {}, {
      // The caller's claims first, so that the registered claims below always win.
      ...request.claims,
      iss: issuer,
      sub: request.sub ?? request.subject,
      aud: (request.idTokenAudType ?? config.idTokenAudType) === "array" ? [audience] : audience,
      exp: issuedAt + config.idTokenDuration,
      iat: issuedAt,
      ...(request.authTime !== undefined && request.authTime > 0 ? { auth_time: request.authTime } : {}),
      ...(request.acr === undefined ? {} : { acr: request.acr }),
      at_hash: halfHash(accessToken),
      ...(pushed
        ? {
          "urn:openid:params:jwt:claim:auth_req_id": authReqId,
          "urn:openid:params:jwt:claim:rt_hash": halfHash(refreshToken)
        }
        : {})
    })
    const scopes = request.scopes ?? options.scopes
    return {
      accessToken,
      refreshToken,
      idToken,
      accessTokenDuration,
      refreshTokenDuration,
      idTokenDuration: config.idTokenDuration,
      accessTokenExpiresAt: at + accessTokenDuration * 1000,
      refreshTokenExpiresAt: at + refreshTokenDuration * 1000,
      scopes,
      responseContent: JSON.stringify({
        // The non-hidden properties are top-level entries of the token response (javadoc of
        // BackchannelAuthenticationCompleteRequest `properties`); the registered ones win.
        ...visibleProperties(request),
        ...(pushed ? { auth_req_id: authReqId } : {}),
        access_token: accessToken,
        token_type: "Bearer",
        refresh_token: refreshToken,
        expires_in: accessTokenDuration,
        id_token: idToken
      })
    }
  })
