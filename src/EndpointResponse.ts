/**
 * What the authorization server's endpoint programs produce: the HTTP answer to give, and what they
 * take from the HTTP request (client credentials of RFC 6749 2.3.1).
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"

/**
 * An HTTP answer: status, headers (lower-case names) and the body text (JSON unless the headers
 * say otherwise).
 *
 * @since 0.1.0
 * @category models
 */
export interface EndpointResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** RFC 6749 5.1: no answer that may carry a token is cached. */
const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" } as const

/**
 * A JSON answer that no cache keeps (`Cache-Control: no-store`, `Pragma: no-cache`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const json = (
  status: number,
  body: string,
  headers: Readonly<Record<string, string | undefined>> = {}
): EndpointResponse => {
  const extra: Record<string, string> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined) extra[name] = value
  }
  return { status, headers: { "content-type": "application/json", ...NO_STORE, ...extra }, body }
}

/**
 * An OAuth error answer (RFC 6749 5.2) the server writes itself.
 *
 * @since 0.1.0
 * @category constructors
 */
export const oauthError = (
  status: number,
  error: string,
  description?: string,
  headers?: Readonly<Record<string, string | undefined>>
): EndpointResponse =>
  json(
    status,
    JSON.stringify(description === undefined ? { error } : { error, error_description: description }),
    headers
  )

/**
 * Client credentials taken from an `Authorization: Basic` header.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientCredentials {
  readonly clientId: string
  readonly clientSecret: string
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

// application/x-www-form-urlencoded decoding of one value: `+` is a space.
const formDecode = (value: string): string | undefined => {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "))
  } catch {
    return undefined
  }
}

/**
 * The client credentials of an `Authorization: Basic` header, each half form-urlencoded before
 * base64 as RFC 6749 2.3.1 says (so `%3A` in an id is a colon): `None` when there is no Basic
 * header, `"Malformed"` when there is one that cannot be read.
 *
 * @since 0.1.0
 * @category parsing
 */
export const basicCredentials = (
  authorization: string | undefined
): Option.Option<ClientCredentials | "Malformed"> => {
  if (authorization === undefined) return Option.none()
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization)
  if (match === null) return /^Basic\b/i.test(authorization) ? Option.some("Malformed") : Option.none()
  let decoded: string
  try {
    decoded = utf8.decode(Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0)))
  } catch {
    return Option.some("Malformed")
  }
  const colon = decoded.indexOf(":")
  if (colon === -1) return Option.some("Malformed")
  const clientId = formDecode(decoded.slice(0, colon))
  const clientSecret = formDecode(decoded.slice(colon + 1))
  return clientId === undefined || clientSecret === undefined || clientId === ""
    ? Option.some("Malformed")
    : Option.some({ clientId, clientSecret })
}
