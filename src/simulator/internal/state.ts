/**
 * What the simulated service keeps between API calls, and what several APIs share: the tickets of
 * backchannel requests, the grants of issued `auth_req_id`s, the tokens issued, the registered clients
 * and the client assertions seen. Maps are changed in place, each change in one synchronous step
 * (a fiber never yields inside one), so concurrent calls see each change whole.
 */
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type * as BackchannelAuthenticationCompleteRequest from "../../BackchannelAuthenticationCompleteRequest.js"
import type { SimulatedClient } from "../AuthleteSimulator.js"
import type { AuthorizationDetail } from "./authorizationDetails.js"
import { makeReplayCache, type ReplayCache } from "./clientAuthentication.js"
import type { SigningKey } from "./crypto.js"

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
  /** Authlete's service setting: FAPI-CIBA requests must carry `binding_message`. */
  readonly backchannelBindingMessageRequiredInFapi: boolean
  /** Set: access tokens are also issued as JWTs (`jwtAccessToken`) signed with the service key. */
  readonly accessTokenSignAlg: "ES256" | undefined
  /** The most unexpired client assertion `jti`s remembered at once. */
  readonly maxClientAssertionIds: number
  /** The most access and refresh tokens remembered at once (the oldest are forgotten first). */
  readonly maxTokens: number
}

/** A backchannel request between `/backchannel/authentication` and `/complete`. */
export interface TicketRecord {
  readonly clientId: number
  readonly clientIdAliasUsed: boolean
  readonly scopes: ReadonlyArray<string>
  readonly clientNotificationToken: string | undefined
  readonly requestedExpiry: number
  readonly authorizationDetails: ReadonlyArray<AuthorizationDetail> | undefined
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
    readonly authorizationDetails: ReadonlyArray<AuthorizationDetail> | undefined
  } | undefined
  /** The tokens went out already: redeemed at the token endpoint, or pushed. */
  used: boolean
  /** When the client last asked the token endpoint, and how long it must wait between asks. */
  lastPollAt?: number | undefined
  intervalSeconds: number
}

/** What an access or refresh token stands for, as `/auth/introspection` and the refresh grant see it. */
export interface TokenRecord {
  readonly clientId: number
  readonly clientIdAliasUsed: boolean
  readonly subject: string
  readonly scopes: ReadonlyArray<string>
  /** Milliseconds since the epoch. */
  readonly expiresAt: number
  /** `x5t#S256` of the certificate an access token is bound to. */
  readonly certificateThumbprint: string | undefined
  readonly authorizationDetails: ReadonlyArray<AuthorizationDetail> | undefined
  readonly properties: BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest["properties"]
  /** An access token's refresh token, while it is usable. */
  readonly refreshToken: string | undefined
}

export interface State {
  readonly config: EngineConfig
  readonly service: Ref.Ref<ServiceSettings>
  readonly clients: Ref.Ref<ReadonlyArray<SimulatedClient>>
  readonly tickets: Map<string, TicketRecord>
  readonly grants: Map<string, Grant>
  /** By token value (a JWT access token too, when they are issued). */
  readonly accessTokens: Map<string, TokenRecord>
  readonly refreshTokens: Map<string, TokenRecord>
  readonly assertionIds: ReplayCache
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
  accessTokens: new Map(),
  refreshTokens: new Map(),
  assertionIds: makeReplayCache(config.maxClientAssertionIds),
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
  for (const tokens of [state.accessTokens, state.refreshTokens]) {
    for (const [token, record] of tokens) {
      if (at >= record.expiresAt + EXPIRED_KEPT_MILLIS) tokens.delete(token)
    }
  }
}

/** Remembers a token, forgetting the oldest beyond `maxTokens` (a forgotten one reads as unknown). */
export const rememberToken = (state: State, tokens: Map<string, TokenRecord>, token: string, record: TokenRecord) => {
  tokens.set(token, record)
  while (tokens.size > state.config.maxTokens) tokens.delete(tokens.keys().next().value!)
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
