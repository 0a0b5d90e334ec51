/**
 * `jose`, loaded the first time a client needs it (a client assertion, a request object, a
 * self-signed certificate): simulators whose clients use secrets only never load it, so the
 * simulator still starts where `jose` is not installed.
 */
import * as Effect from "effect/Effect"

/** The `jose` module's type (a type only: nothing is loaded for it). */
export type Jose = typeof import("jose")

/** The signature algorithms FAPI-CIBA allows: PS256 and ES256 (RS256 and `none` are refused). */
export const FAPI_ALGORITHMS: ReadonlyArray<string> = ["PS256", "ES256"]

let loaded: Promise<Jose> | undefined

/** The `jose` module; its absence is a defect naming the package to install. */
export const loadJose: Effect.Effect<Jose> = Effect.suspend(() => {
  loaded ??= import("jose")
  return Effect.tryPromise({
    try: () => loaded!,
    catch: (error) => error
  }).pipe(
    Effect.catchAll((error) => {
      loaded = undefined
      return Effect.dieMessage(
        "AuthleteSimulator: client assertions, request objects and self-signed certificates need jose " +
          `(npm install jose): ${String(error)}`
      )
    })
  )
})

/** Why `jose` refused a JWS, as a sentence for a result message. */
export const joseProblem = (error: unknown): string => {
  if (typeof error !== "object" || error === null) return String(error)
  const { code, message } = error as { code?: unknown; message?: unknown }
  switch (code) {
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return "its signature does not verify with the client's registered keys"
    case "ERR_JWT_EXPIRED":
      return "it has expired ('exp')"
    default:
      return typeof message === "string" ? message : String(error)
  }
}
