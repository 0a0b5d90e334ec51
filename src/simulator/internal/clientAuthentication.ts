/**
 * Client authentication at the simulated `/backchannel/authentication` and `/auth/token`, as
 * Authlete does it from what the authorization server passes on: `clientId`/`clientSecret` (taken
 * from an `Authorization: Basic` header), the form's `client_id`/`client_secret` or client
 * assertion, and `clientCertificate` (mutual TLS). A client is held to its registered
 * `tokenAuthMethod`; one registered with none keeps the simulator's first behaviour, a secret by
 * either Basic or the form.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Ref from "effect/Ref"
import type { JWK } from "jose"
import type * as Crypto from "node:crypto"
import type { ClientAuthMethod, SimulatedClient } from "../AuthleteSimulator.js"
import { certificateKeyRegistered, readCertificate, subjectMatches } from "./certificates.js"
import { keysOf } from "./clientKeys.js"
import { secretsEqual } from "./crypto.js"
import { FAPI_ALGORITHMS, joseProblem, loadJose } from "./jose.js"
import type { State } from "./state.js"

/** RFC 7523 2.2. */
export const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/** Why client authentication failed, in Authlete's words; or the client, and how it authenticated. */
export type ClientAuthentication =
  | { readonly _tag: "Conflict" }
  | { readonly _tag: "Failed"; readonly detail: string }
  | {
    readonly _tag: "Authenticated"
    readonly client: SimulatedClient
    readonly aliasUsed: boolean
    readonly method: ClientAuthMethod
    /** The mutual TLS certificate, when the request carried a readable one (whatever the method). */
    readonly certificate: Crypto.X509Certificate | undefined
  }

/** What the authorization server passed on besides the form. */
export interface PresentedCredentials {
  readonly clientId?: string | undefined
  readonly clientSecret?: string | undefined
  readonly clientCertificate?: string | undefined
}

/** The endpoint the client called: a client assertion's `aud` may name it. */
export type ClientEndpoint = "backchannel" | "token"

/**
 * The `jti`s of client assertions seen, each kept until its assertion's `exp` (after which `jose`
 * refuses the assertion anyway), at most `maxEntries` at once. When it is full of unexpired ones a
 * new assertion is refused rather than an old `jti` forgotten: forgetting one would let it replay.
 */
export interface ReplayCache {
  /** `remember: false` only looks (a request checked before it is processed). */
  readonly use: (key: string, expiresAt: number, now: number, remember: boolean) => "fresh" | "replayed" | "full"
}

/** An empty replay cache of at most `maxEntries` `jti`s. */
export const makeReplayCache = (maxEntries: number): ReplayCache => {
  const seen = new Map<string, number>()
  return {
    use: (key, expiresAt, now, remember) => {
      const known = seen.get(key)
      if (known !== undefined && known > now) return "replayed"
      if (!remember) return "fresh"
      if (seen.size >= maxEntries) {
        for (const [entry, until] of seen) if (until <= now) seen.delete(entry)
      }
      if (seen.size >= maxEntries) return "full"
      seen.set(key, expiresAt)
      return "fresh"
    }
  }
}

const SECRET_METHODS: ReadonlySet<ClientAuthMethod | undefined> = new Set([
  undefined,
  "CLIENT_SECRET_BASIC",
  "CLIENT_SECRET_POST"
])

const failed = (detail: string): ClientAuthentication => ({ _tag: "Failed", detail })

/** The unverified `sub` of an assertion: the client it claims to be, when the form names none. */
const assertionSubject = (assertion: string) =>
  Effect.map(loadJose, (jose) => {
    try {
      const sub = jose.decodeJwt(assertion).sub
      return typeof sub === "string" ? sub : undefined
    } catch {
      return undefined
    }
  })

/** `private_key_jwt` (RFC 7523 3, OpenID Connect Core 9): the problem, or `undefined` when it passes. */
const checkAssertion = (
  state: State,
  client: SimulatedClient,
  assertion: string,
  endpoint: ClientEndpoint,
  remember: boolean
): Effect.Effect<string | undefined> =>
  Effect.gen(function*() {
    const keys = keysOf(client.jwks)
    if (keys === undefined) return "the client has no registered JWK Set (jwks)."
    const jose = yield* loadJose
    let alg: unknown
    try {
      alg = jose.decodeProtectedHeader(assertion).alg
    } catch {
      return "the client assertion is not a JWS."
    }
    if (typeof alg !== "string" || !FAPI_ALGORITHMS.includes(alg)) {
      return `the client assertion is signed with '${String(alg)}'; only PS256 and ES256 are accepted.`
    }
    if (client.tokenAuthSignAlg !== undefined && alg !== client.tokenAuthSignAlg) {
      return `the client assertion is signed with '${alg}', not the registered '${client.tokenAuthSignAlg}'.`
    }
    const service = yield* Ref.get(state.service)
    const now = yield* state.now
    // The issuer or the endpoint called; the token endpoint at the backchannel endpoint too, since
    // CIBA Core 7.1 has the client authenticate there "as at the token endpoint".
    const audiences = endpoint === "token"
      ? [service.issuer, service.tokenEndpoint]
      : [service.issuer, service.tokenEndpoint, service.backchannelAuthenticationEndpoint]
    const verified = yield* Effect.either(Effect.tryPromise(() =>
      jose.jwtVerify(assertion, jose.createLocalJWKSet({ keys: keys as Array<JWK> }), {
        algorithms: [...FAPI_ALGORITHMS],
        issuer: [String(client.clientId), ...(client.clientIdAlias === undefined ? [] : [client.clientIdAlias])],
        audience: audiences,
        requiredClaims: ["iss", "sub", "aud", "exp", "jti"],
        currentDate: new Date(now)
      })
    ))
    if (Either.isLeft(verified)) {
      return `the client assertion is invalid: ${joseProblem(verified.left.error)}.`
    }
    const { exp, iss, jti, sub } = verified.right.payload
    if (sub !== iss) {
      return "the 'sub' of the client assertion is not its 'iss'."
    }
    if (typeof jti !== "string" || jti === "") {
      return "the 'jti' of the client assertion must be a non-empty string."
    }
    switch (state.assertionIds.use(`${client.clientId} ${jti}`, exp! * 1000, now, remember)) {
      case "replayed":
        return "the client assertion has been used before (its 'jti' was seen)."
      case "full":
        return "too many unexpired client assertions are remembered; try again once some expire."
      case "fresh":
        return undefined
    }
  })

/** `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705 2): the problem, if any. */
const checkCertificate = (
  client: SimulatedClient,
  method: "TLS_CLIENT_AUTH" | "SELF_SIGNED_TLS_CLIENT_AUTH",
  certificate: Crypto.X509Certificate | undefined
): Effect.Effect<string | undefined> =>
  Effect.gen(function*() {
    if (certificate === undefined) return "the request carries no readable client certificate (clientCertificate)."
    if (method === "TLS_CLIENT_AUTH") {
      if (client.tlsClientAuthSubjectDn === undefined) return "the client has no registered tlsClientAuthSubjectDn."
      return subjectMatches(certificate, client.tlsClientAuthSubjectDn)
        ? undefined
        : "the subject of the client certificate is not the client's registered subject DN."
    }
    const keys = keysOf(client.jwks)
    if (keys === undefined) return "the client has no registered JWK Set (jwks)."
    const jose = yield* loadJose
    return (yield* Effect.promise(() => certificateKeyRegistered(jose, certificate, keys)))
      ? undefined
      : "the public key of the client certificate is not in the client's registered JWK Set."
  })

/**
 * Authenticates the client of a request. `remember: false` verifies without recording the client
 * assertion's `jti`: the server checks a request once before processing it (to decide whether to
 * record it), and that look must not make the real processing see a replay.
 */
export const authenticateClient = (
  state: State,
  credentials: PresentedCredentials,
  form: URLSearchParams,
  endpoint: ClientEndpoint,
  remember = true
): Effect.Effect<ClientAuthentication> =>
  Effect.gen(function*() {
    const idInBody = form.get("client_id") ?? undefined
    const secretInBody = form.get("client_secret") ?? undefined
    const assertion = form.get("client_assertion") ?? undefined
    if (credentials.clientSecret !== undefined && secretInBody !== undefined) return { _tag: "Conflict" } as const
    if (credentials.clientId !== undefined && idInBody !== undefined && credentials.clientId !== idInBody) {
      return failed("the client IDs in the Authorization header and the request body differ.")
    }
    let id = credentials.clientId ?? idInBody
    // RFC 7523 3: the assertion's `sub` identifies the client when `client_id` is left out.
    if ((id === undefined || id === "") && assertion !== undefined) id = yield* assertionSubject(assertion)
    if (id === undefined || id === "") return failed("the request does not identify the client.")
    const clients = yield* Ref.get(state.clients)
    const client = clients.find((candidate) => String(candidate.clientId) === id || candidate.clientIdAlias === id)
    if (client === undefined) return failed("the client does not exist.")
    const registered = client.tokenAuthMethod
    const certificate = readCertificate(credentials.clientCertificate)
    const authenticated = (method: ClientAuthMethod): ClientAuthentication => ({
      _tag: "Authenticated",
      client,
      aliasUsed: id !== String(client.clientId),
      method,
      certificate
    })
    if (client.fapi === true && SECRET_METHODS.has(registered)) {
      return failed("FAPI-CIBA allows private_key_jwt, tls_client_auth and self_signed_tls_client_auth only.")
    }

    const secret = credentials.clientSecret ?? secretInBody
    if (registered === undefined || registered === "CLIENT_SECRET_BASIC" || registered === "CLIENT_SECRET_POST") {
      if (secret === undefined) return failed("the request does not contain a client secret.")
      const used = credentials.clientSecret === undefined ? "CLIENT_SECRET_POST" : "CLIENT_SECRET_BASIC"
      if (registered !== undefined && registered !== used) {
        return failed(`the client is registered for ${registered}, but the request used ${used}.`)
      }
      return secretsEqual(secret, client.clientSecret) ? authenticated(used) : failed("the client secret is wrong.")
    }
    if (secret !== undefined) return failed(`the client is registered for ${registered}, which takes no client secret.`)

    if (registered === "PRIVATE_KEY_JWT") {
      if (assertion === undefined) return failed("the request does not contain 'client_assertion'.")
      if (form.get("client_assertion_type") !== JWT_BEARER_ASSERTION) {
        return failed(`'client_assertion_type' must be '${JWT_BEARER_ASSERTION}'.`)
      }
      const problem = yield* checkAssertion(state, client, assertion, endpoint, remember)
      return problem === undefined ? authenticated(registered) : failed(problem)
    }
    if (assertion !== undefined) {
      return failed(`the client is registered for ${registered}, but the request carries a client assertion.`)
    }
    const problem = yield* checkCertificate(client, registered, certificate)
    return problem === undefined ? authenticated(registered) : failed(problem)
  })
