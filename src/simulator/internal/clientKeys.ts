/**
 * A client's registered public keys (`jwks`), as the simulator reads them. Kept apart from `jose.ts`
 * so that the simulator's public types never name the optional `jose` package.
 */

/** A public JSON Web Key as a client registers it. */
export type ClientJwk = { readonly [member: string]: unknown }

/** A client's registered JWK Set: Authlete keeps it as JSON text (`jwks`); the object is taken too. */
export type ClientJwks = string | { readonly keys: ReadonlyArray<ClientJwk> }

/** The keys of a registered JWK Set, or `undefined` when there is none or it cannot be read. */
export const keysOf = (jwks: ClientJwks | undefined): ReadonlyArray<ClientJwk> | undefined => {
  if (jwks === undefined) return undefined
  let set: unknown = jwks
  if (typeof jwks === "string") {
    try {
      set = JSON.parse(jwks)
    } catch {
      return undefined
    }
  }
  const keys = typeof set === "object" && set !== null ? (set as { keys?: unknown }).keys : undefined
  if (!Array.isArray(keys)) return undefined
  const usable = keys.filter((key): key is ClientJwk => typeof key === "object" && key !== null && !Array.isArray(key))
  return usable.length === 0 ? undefined : usable
}
