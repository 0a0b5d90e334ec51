/**
 * The simulator's randomness and signatures, all from `node:crypto`.
 */
import * as Crypto from "node:crypto"

/** `bytes` random bytes as base64url: 32 bytes give 43 characters (256 bits). */
export const randomToken = (bytes = 32): string => Crypto.randomBytes(bytes).toString("base64url")

/** A random decimal identifier of `digits` digits, not starting with 0 (Authlete's ids look like this). */
export const randomDigits = (digits: number): string => {
  let out = String(Crypto.randomInt(1, 10))
  while (out.length < digits) out += String(Crypto.randomInt(0, 10))
  return out
}

/** Compares two secrets in time that does not depend on where they differ. */
export const secretsEqual = (a: string, b: string): boolean =>
  Crypto.timingSafeEqual(
    Crypto.createHash("sha256").update(a).digest(),
    Crypto.createHash("sha256").update(b).digest()
  )

/** A public JSON Web Key as published in a JWK Set. */
export interface PublicJwk {
  readonly kty: string
  readonly crv?: string | undefined
  readonly x?: string | undefined
  readonly y?: string | undefined
  readonly kid: string
  readonly alg: "ES256"
  readonly use: "sig"
}

/** The key pair the simulator signs ID tokens with; made once per simulator. */
export interface SigningKey {
  readonly privateKey: Crypto.KeyObject
  readonly publicKey: Crypto.KeyObject
  readonly publicJwk: PublicJwk
}

export const generateSigningKey = (): SigningKey => {
  const { privateKey, publicKey } = Crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
  const jwk = publicKey.export({ format: "jwk" })
  return {
    privateKey,
    publicKey,
    publicJwk: { kty: jwk.kty!, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: randomToken(12), alg: "ES256", use: "sig" }
  }
}

const base64urlJson = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url")

/** A compact JWS (ES256, JOSE's raw r||s signature encoding). `alg` and `kid` always come from the key. */
export const signJws = (
  key: SigningKey,
  extraHeader: { readonly [x: string]: unknown },
  payload: { readonly [x: string]: unknown }
): string => {
  const header = { typ: "JWT", ...extraHeader, alg: "ES256", kid: key.publicJwk.kid }
  const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`
  const signature = Crypto.sign("sha256", Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: "ieee-p1363" })
  return `${signingInput}.${signature.toString("base64url")}`
}

/** The payload of a compact JWS signed by `key`, or `undefined` when it is not one. */
export const verifyJws = (key: SigningKey, jws: string): { readonly [x: string]: unknown } | undefined => {
  const parts = jws.split(".")
  if (parts.length !== 3) return undefined
  const [header, payload, signature] = parts as [string, string, string]
  try {
    const valid = Crypto.verify(
      "sha256",
      Buffer.from(`${header}.${payload}`),
      { key: key.publicKey, dsaEncoding: "ieee-p1363" },
      Buffer.from(signature, "base64url")
    )
    if (!valid) return undefined
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"))
    return typeof claims === "object" && claims !== null && !Array.isArray(claims)
      ? claims as { readonly [x: string]: unknown }
      : undefined
  } catch {
    return undefined
  }
}

/**
 * `at_hash` / `rt_hash` for ES256 (OpenID Connect Core 3.1.3.6): the left half of the SHA-256 of
 * the token, base64url-encoded.
 */
export const halfHash = (token: string): string =>
  Crypto.createHash("sha256").update(token, "ascii").digest().subarray(0, 16).toString("base64url")
