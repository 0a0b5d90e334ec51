/**
 * Token minting: access and refresh tokens (256 random bits each, `crypto.randomBytes`), the ID
 * token of a CIBA grant, and their records for `/auth/introspection` and the refresh grant. An
 * access token of a client with `tlsClientCertificateBoundAccessTokens` is bound to the SHA-256
 * thumbprint of the certificate presented at `/auth/token` (RFC 8705 3); with `accessTokenSignAlg`
 * set it is also issued as a JWT (`jwtAccessToken`, the `access_token` the client gets) whose `cnf`
 * carries that thumbprint, as Authlete reports the binding.
 */
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type * as BackchannelAuthenticationCompleteRequest from "../../BackchannelAuthenticationCompleteRequest.js"
import type { SimulatedClient } from "../AuthleteSimulator.js"
import type { AuthorizationDetail } from "./authorizationDetails.js"
import { halfHash, randomToken, signJws } from "./crypto.js"
import { loadJose } from "./jose.js"
import { rememberToken, type State, type TokenRecord } from "./state.js"

type CompleteRequest = BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest

/** What a set of tokens stands for. */
export interface TokenGrant {
  readonly client: SimulatedClient
  readonly aliasUsed: boolean
  readonly subject: string
  readonly scopes: ReadonlyArray<string>
  readonly authorizationDetails: ReadonlyArray<AuthorizationDetail> | undefined
  readonly properties: CompleteRequest["properties"]
  /** `x5t#S256` of the certificate the access token is bound to. */
  readonly certificateThumbprint: string | undefined
}

const positiveOr = (value: number | undefined, fallback: number): number =>
  value !== undefined && value > 0 ? value : fallback

/** The properties the client may see, as entries of a JSON object. */
const visibleProperties = (properties: CompleteRequest["properties"]): Record<string, string> =>
  Object.fromEntries((properties ?? []).filter((property) => property.hidden !== true).map((p) => [p.key, p.value]))

/** The `at+jwt` (RFC 9068) form of an access token, signed with the service key by `jose`. */
const jwtAccessToken = (state: State, grant: TokenGrant, issuedAt: number, expiresAt: number) =>
  Effect.gen(function*() {
    const jose = yield* loadJose
    const { issuer } = yield* Ref.get(state.service)
    const { key } = state.config
    return yield* Effect.promise(() =>
      new jose.SignJWT({
        client_id: String(grant.client.clientId),
        scope: grant.scopes.join(" "),
        ...(grant.certificateThumbprint === undefined ? {} : { cnf: { "x5t#S256": grant.certificateThumbprint } }),
        ...(grant.authorizationDetails === undefined ? {} : { authorization_details: grant.authorizationDetails })
      })
        .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: key.publicJwk.kid })
        .setIssuer(issuer)
        .setSubject(grant.subject)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .setJti(randomToken(16))
        .sign(key.privateKey)
    )
  })

/**
 * An access token and a refresh token for `grant`, remembered for introspection and refreshing, and
 * the token response members that carry them.
 */
export const issueTokens = (
  state: State,
  grant: TokenGrant,
  durations: { readonly accessToken?: number | undefined; readonly refreshToken?: number | undefined },
  chosenAccessToken?: string | undefined
) =>
  Effect.gen(function*() {
    const { config } = state
    const at = yield* state.now
    const accessToken = chosenAccessToken ?? randomToken()
    const refreshToken = randomToken()
    const accessTokenDuration = positiveOr(durations.accessToken, config.accessTokenDuration)
    const refreshTokenDuration = positiveOr(durations.refreshToken, config.refreshTokenDuration)
    const accessTokenExpiresAt = at + accessTokenDuration * 1000
    const refreshTokenExpiresAt = at + refreshTokenDuration * 1000
    const record = (expiresAt: number, refresh: string | undefined): TokenRecord => ({
      clientId: grant.client.clientId,
      clientIdAliasUsed: grant.aliasUsed,
      subject: grant.subject,
      scopes: grant.scopes,
      expiresAt,
      certificateThumbprint: grant.certificateThumbprint,
      authorizationDetails: grant.authorizationDetails,
      properties: grant.properties,
      refreshToken: refresh
    })
    const jwt = config.accessTokenSignAlg === undefined
      ? undefined
      : yield* jwtAccessToken(state, grant, Math.floor(at / 1000), Math.floor(accessTokenExpiresAt / 1000))
    const accessRecord = record(accessTokenExpiresAt, refreshToken)
    rememberToken(state, state.accessTokens, accessToken, accessRecord)
    if (jwt !== undefined) rememberToken(state, state.accessTokens, jwt, accessRecord)
    rememberToken(state, state.refreshTokens, refreshToken, record(refreshTokenExpiresAt, undefined))
    return {
      accessToken,
      jwtAccessToken: jwt,
      refreshToken,
      accessTokenDuration,
      refreshTokenDuration,
      accessTokenExpiresAt,
      refreshTokenExpiresAt,
      /** The token response's members (RFC 6749 5.1, RFC 9396 7). */
      responseMembers: {
        // The non-hidden properties are top-level entries of the token response (javadoc of
        // BackchannelAuthenticationCompleteRequest `properties`); the registered ones win.
        ...visibleProperties(grant.properties),
        access_token: jwt ?? accessToken,
        token_type: "Bearer",
        refresh_token: refreshToken,
        expires_in: accessTokenDuration,
        ...(grant.authorizationDetails === undefined ? {} : { authorization_details: grant.authorizationDetails })
      }
    }
  })

/**
 * Access, refresh and ID tokens for a decided CIBA request, and the token response that carries
 * them. The ID token holds the claims given to `/complete`; pushed ones (CIBA Core 10.3.1) also bind
 * the `auth_req_id` and the refresh token. It is ES256 with the service key's `kid`, as FAPI-CIBA
 * asks (PS256 or ES256 with a `kid`); `acr` is there when `/complete` gives one, which is Authlete's
 * documented behaviour (the authorization server passes the ACR it satisfied).
 */
export const mintTokens = (
  state: State,
  options: {
    readonly request: CompleteRequest
    readonly client: SimulatedClient
    readonly aliasUsed: boolean
    readonly authReqId: string
    readonly scopes: ReadonlyArray<string>
    readonly authorizationDetails: ReadonlyArray<AuthorizationDetail> | undefined
    readonly certificateThumbprint: string | undefined
    readonly pushed: boolean
  }
) =>
  Effect.gen(function*() {
    const { aliasUsed, authReqId, client, pushed, request } = options
    const { config } = state
    const { issuer } = yield* Ref.get(state.service)
    const at = yield* state.now
    const scopes = request.scopes ?? options.scopes
    const tokens = yield* issueTokens(
      state,
      {
        client,
        aliasUsed,
        subject: request.subject,
        scopes,
        authorizationDetails: options.authorizationDetails,
        properties: request.properties,
        certificateThumbprint: options.certificateThumbprint
      },
      { accessToken: request.accessTokenDuration, refreshToken: request.refreshTokenDuration },
      request.accessToken
    )
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
      at_hash: halfHash(tokens.responseMembers.access_token),
      ...(pushed
        ? {
          "urn:openid:params:jwt:claim:auth_req_id": authReqId,
          "urn:openid:params:jwt:claim:rt_hash": halfHash(tokens.refreshToken)
        }
        : {})
    })
    return {
      ...tokens,
      idToken,
      idTokenDuration: config.idTokenDuration,
      scopes,
      responseContent: JSON.stringify({
        ...tokens.responseMembers,
        ...(pushed ? { auth_req_id: authReqId } : {}),
        id_token: idToken
      })
    }
  })
