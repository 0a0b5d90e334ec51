/**
 * What a relying party checks in an ID token, with `node:crypto` only: the ES256 signature against
 * a key of the authorization server's JWK Set (`jwks_uri`), and the claims OpenID Connect Core
 * 3.1.3.7 and CIBA Core 7.4 and 10.3.1 name.
 */
import * as Crypto from "node:crypto"
import { halfHash } from "../../simulator/internal/crypto.js"

/** One check and how it came out. */
export interface IdTokenCheck {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

/** The ID token taken apart, and the checks. `valid` when every check passed. */
export interface IdTokenReport {
  readonly header: { readonly [name: string]: unknown }
  readonly claims: { readonly [name: string]: unknown }
  readonly checks: ReadonlyArray<IdTokenCheck>
  readonly valid: boolean
}

/** What the ID token must match. */
export interface IdTokenExpectations {
  readonly issuer: string
  readonly clientId: string
  readonly jwksUri: string
  readonly jwks: unknown
  /** Seconds since the epoch. */
  readonly now: number
  /** The access token issued with it: `at_hash` must match. */
  readonly accessToken?: string | undefined
  /** The refresh token issued with it (pushed tokens): `urn:openid:params:jwt:claim:rt_hash` must match. */
  readonly refreshToken?: string | undefined
  /** For pushed tokens: `urn:openid:params:jwt:claim:auth_req_id` must match. */
  readonly authReqId?: string | undefined
}

const AUTH_REQ_ID_CLAIM = "urn:openid:params:jwt:claim:auth_req_id"
const RT_HASH_CLAIM = "urn:openid:params:jwt:claim:rt_hash"
const CLOCK_SKEW_SECONDS = 30

type JsonObject = { readonly [name: string]: unknown }

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const decodePart = (part: string | undefined): JsonObject | undefined => {
  if (part === undefined || !/^[A-Za-z0-9_-]*$/.test(part)) return undefined
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"))
    return isObject(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** The key the header names (by `kid`), or the only EC P-256 signing key when it names none. */
const selectKey = (jwks: unknown, kid: unknown): JsonObject | string => {
  const keys = isObject(jwks) && Array.isArray(jwks.keys) ? jwks.keys.filter(isObject) : []
  const usable = keys.filter((key) =>
    key.kty === "EC" && key.crv === "P-256" && (key.use === undefined || key.use === "sig") &&
    (key.alg === undefined || key.alg === "ES256")
  )
  if (typeof kid === "string") {
    return usable.find((key) => key.kid === kid) ?? `no ES256 key with kid ${kid} in the JWK Set`
  }
  return usable.length === 1 ? usable[0]! : `the header names no kid and the JWK Set has ${usable.length} ES256 keys`
}

const verifySignature = (token: string, header: JsonObject, expected: IdTokenExpectations): IdTokenCheck => {
  const name = "signature"
  if (header.alg !== "ES256") return { name, ok: false, detail: `alg ${String(header.alg)} is not ES256` }
  const key = selectKey(expected.jwks, header.kid)
  if (typeof key === "string") return { name, ok: false, detail: key }
  if (typeof key.x !== "string" || typeof key.y !== "string") {
    return { name, ok: false, detail: "the key has no x or y" }
  }
  const [encodedHeader, payload, signature] = token.split(".") as [string, string, string]
  try {
    const publicKey = Crypto.createPublicKey({ key: { kty: "EC", crv: "P-256", x: key.x, y: key.y }, format: "jwk" })
    const ok = Crypto.verify(
      "sha256",
      Buffer.from(`${encodedHeader}.${payload}`),
      { key: publicKey, dsaEncoding: "ieee-p1363" },
      Buffer.from(signature, "base64url")
    )
    return {
      name,
      ok,
      detail: ok
        ? `ES256, verified with key ${String(key.kid ?? "(no kid)")} from ${expected.jwksUri}`
        : `ES256 signature does not verify with key ${String(key.kid ?? "(no kid)")} from ${expected.jwksUri}`
    }
  } catch (error) {
    return { name, ok: false, detail: `the key cannot be used: ${error instanceof Error ? error.message : "?"}` }
  }
}

const hashCheck = (name: string, claim: unknown, token: string): IdTokenCheck => {
  const expected = halfHash(token)
  return claim === expected
    ? { name, ok: true, detail: "matches the token issued with it" }
    : { name, ok: false, detail: claim === undefined ? "missing" : "does not match the token issued with it" }
}

/** Takes the token apart and checks it; a token that is not a compact JWS fails the first check. */
export const inspectIdToken = (token: string, expected: IdTokenExpectations): IdTokenReport => {
  const parts = token.split(".")
  const header = parts.length === 3 ? decodePart(parts[0]) : undefined
  const claims = parts.length === 3 ? decodePart(parts[1]) : undefined
  if (header === undefined || claims === undefined) {
    return {
      header: header ?? {},
      claims: claims ?? {},
      checks: [{ name: "format", ok: false, detail: "not a compact JWS of three base64url parts" }],
      valid: false
    }
  }
  const audiences = typeof claims.aud === "string" ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : []
  const checks: Array<IdTokenCheck> = [
    verifySignature(token, header, expected),
    claims.iss === expected.issuer
      ? { name: "iss", ok: true, detail: `is the issuer, ${expected.issuer}` }
      : { name: "iss", ok: false, detail: `${String(claims.iss)} is not the issuer ${expected.issuer}` },
    audiences.includes(expected.clientId) && (audiences.length === 1 || claims.azp === expected.clientId)
      ? { name: "aud", ok: true, detail: `names this client, ${expected.clientId}` }
      : { name: "aud", ok: false, detail: `does not name this client, ${expected.clientId}` },
    typeof claims.exp === "number" && claims.exp > expected.now - CLOCK_SKEW_SECONDS
      ? { name: "exp", ok: true, detail: `in ${Math.round(claims.exp - expected.now)} s` }
      : { name: "exp", ok: false, detail: "missing or in the past" },
    typeof claims.iat === "number"
      ? { name: "iat", ok: true, detail: `${Math.round(expected.now - claims.iat)} s ago` }
      : { name: "iat", ok: false, detail: "missing" },
    typeof claims.sub === "string" && claims.sub !== ""
      ? { name: "sub", ok: true, detail: claims.sub }
      : { name: "sub", ok: false, detail: "missing" }
  ]
  if (expected.accessToken !== undefined) checks.push(hashCheck("at_hash", claims.at_hash, expected.accessToken))
  if (expected.refreshToken !== undefined) {
    checks.push(hashCheck("rt_hash", claims[RT_HASH_CLAIM], expected.refreshToken))
  }
  if (expected.authReqId !== undefined) {
    checks.push(
      claims[AUTH_REQ_ID_CLAIM] === expected.authReqId
        ? { name: "auth_req_id", ok: true, detail: "is this request's" }
        : { name: "auth_req_id", ok: false, detail: "is not this request's" }
    )
  }
  return { header, claims, checks, valid: checks.every((check) => check.ok) }
}
