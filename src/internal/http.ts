/**
 * HTTP details shared by the Authlete client and the client notifier: which hosts may use plain
 * HTTP, the server's retry hints, and keeping secrets out of what errors carry.
 */
import * as Option from "effect/Option"
import { REDACTED, scrubSecrets } from "./transport.js"

/** `localhost`, `127.0.0.0/8` and `[::1]`: the only hosts reached over plain `http:`. */
export const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" ||
  hostname === "[::1]" ||
  /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)

/** Why a URL may not carry credentials or requests, or `undefined` when it may. */
export const unsafeUrlReason = (url: URL): string | undefined =>
  url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))
    ? "must use https: (plain http: is allowed for loopback hosts only)"
    : url.username !== "" || url.password !== ""
    ? "must not carry credentials in the URL"
    : undefined

const DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
const MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
const TIME = "\\d{2}:\\d{2}:\\d{2}"
/** RFC 9110 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms. */
const HTTP_DATE = new RegExp(
  `^(?:${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT` +
    `|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-${MONTH}-\\d{2} ${TIME} GMT` +
    `|${DAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4})$`
)

/**
 * How long the server asked us to wait: `Retry-After` (seconds or an HTTP date), else
 * `RateLimit-Reset` / `X-RateLimit-Reset` (seconds; a value that can only be an epoch time is read
 * as one).
 */
export const requestedRetryDelayMillis = (
  headers: Readonly<Record<string, string | undefined>>,
  nowMillis: number
): number | undefined => {
  const retryAfter = headers["retry-after"]?.trim()
  if (retryAfter !== undefined && retryAfter !== "") {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000
    // Only what RFC 9110 defines: anything else (`-1`, `1.5`) is ignored, not read as some date.
    if (HTTP_DATE.test(retryAfter)) {
      const date = Date.parse(retryAfter)
      if (!Number.isNaN(date)) return Math.max(0, date - nowMillis)
    }
  }
  const reset = (headers["ratelimit-reset"] ?? headers["x-ratelimit-reset"])?.trim()
  if (reset !== undefined && /^\d+$/.test(reset)) {
    const seconds = Number(reset)
    return seconds > 1_000_000_000 ? Math.max(0, seconds * 1000 - nowMillis) : seconds * 1000
  }
  return undefined
}

// Response fields (Authlete's and OAuth's) whose values are credentials.
const TOKEN_FIELDS: ReadonlySet<string> = new Set([
  "accessToken",
  "refreshToken",
  "idToken",
  "jwtAccessToken",
  "clientNotificationToken",
  "clientSecret",
  "responseContent",
  "access_token",
  "refresh_token",
  "id_token",
  "ticket"
])

const redactTokenFields = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(redactTokenFields)
  if (typeof value !== "object" || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    Object.defineProperty(out, key, {
      value: TOKEN_FIELDS.has(key) && inner !== null ? REDACTED : redactTokenFields(inner),
      enumerable: true,
      writable: true,
      configurable: true
    })
  }
  return out
}

/**
 * The start of a body, fit to keep in an error: known secrets removed, and when it is JSON the
 * values of token fields too (a 2xx that fails to decode may still carry freshly minted tokens).
 */
export const bodyForError = (text: string, secrets: ReadonlyArray<string | undefined>, maxLength: number): string => {
  let safe = text
  try {
    const json: unknown = JSON.parse(text)
    if (typeof json === "object" && json !== null) safe = JSON.stringify(redactTokenFields(json))
  } catch {
    // Not JSON (an HTML page from a proxy, say): keep the text as it is.
  }
  safe = scrubSecrets(safe, secrets)
  return safe.length > maxLength ? `${safe.slice(0, maxLength)}…` : safe
}

/** A JSON object's string field, if the text is JSON and has one. */
export const jsonStringField = (json: unknown, field: string): Option.Option<string> =>
  typeof json === "object" && json !== null && typeof (json as Record<string, unknown>)[field] === "string"
    ? Option.some((json as Record<string, string>)[field])
    : Option.none()
