/**
 * HTTP details shared by the Authlete client and the client notifier: which hosts may use plain
 * HTTP, what a transport failure means, reading a body under a cap, the server's retry hints, and
 * keeping secrets out of what errors carry.
 */
import { FetchHttpClient, type HttpClientResponse } from "@effect/platform"
import { Chunk, Effect, Option, Stream } from "effect"

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

// Error codes that prove the request never left this machine, so it cannot have been processed.
const NEVER_SENT_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT"
])

/**
 * Walks an error's `cause` chain (fetch nests the system error two levels deep, undici one) and
 * tells a connection that was never made (`Connect`) from one that broke in flight (`Transport`).
 */
export const transportFailureReason = (error: unknown): "Connect" | "Transport" => {
  let current: unknown = error
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string" && NEVER_SENT_CODES.has(code)) return "Connect"
    const errors = (current as { readonly errors?: unknown }).errors
    if (Array.isArray(errors) && errors.some((inner) => transportFailureReason(inner) === "Connect")) return "Connect"
    current = (current as { readonly cause?: unknown }).cause
  }
  return "Transport"
}

/** A body read under a cap: `tooLarge` when the server sent more than the cap (the rest is not read). */
export interface CappedBody {
  readonly text: string
  readonly tooLarge: boolean
}

const decoder = new TextDecoder()

/**
 * Reads a response body, but never more than `maxBytes`: a declared `Content-Length` over the cap is
 * refused before reading, and a stream that grows past it is cut (its finaliser aborts the request).
 */
export const readCappedBody = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number
) => {
  const declared = Number(response.headers["content-length"])
  if (Number.isFinite(declared) && response.headers["content-length"] !== undefined) {
    if (declared > maxBytes) {
      // Open the stream and close it at once: its finaliser cancels the body, and the connection with it.
      return Effect.as(Effect.ignore(Stream.runHead(response.stream)), { text: "", tooLarge: true } as CappedBody)
    }
    return Effect.map(response.text, (text): CappedBody => ({ text, tooLarge: false }))
  }
  return response.stream.pipe(
    Stream.runFoldWhile(
      { chunks: Chunk.empty<Uint8Array>(), size: 0 },
      (acc) => acc.size <= maxBytes,
      (acc, chunk) => ({ chunks: Chunk.append(acc.chunks, chunk), size: acc.size + chunk.length })
    ),
    Effect.map(({ chunks, size }): CappedBody => {
      if (size > maxBytes) return { text: "", tooLarge: true }
      const bytes = new Uint8Array(size)
      let offset = 0
      for (const chunk of chunks) {
        bytes.set(chunk, offset)
        offset += chunk.length
      }
      return { text: decoder.decode(bytes), tooLarge: false }
    }),
    // fetch gives a 204 no body at all; that is an empty body, not an error.
    Effect.catchIf(
      (error) => error._tag === "ResponseError" && error.reason === "EmptyBody",
      () => Effect.succeed<CappedBody>({ text: "", tooLarge: false })
    )
  )
}

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
    const date = Date.parse(retryAfter)
    if (!Number.isNaN(date)) return Math.max(0, date - nowMillis)
  }
  const reset = (headers["ratelimit-reset"] ?? headers["x-ratelimit-reset"])?.trim()
  if (reset !== undefined && /^\d+$/.test(reset)) {
    const seconds = Number(reset)
    return seconds > 1_000_000_000 ? Math.max(0, seconds * 1000 - nowMillis) : seconds * 1000
  }
  return undefined
}

export const REDACTED = "<redacted>"

/** Replaces every occurrence of a known secret in a text. Short values are left: they prove nothing. */
export const scrubSecrets = (text: string, secrets: ReadonlyArray<string | undefined>): string => {
  let out = text
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 8) out = out.split(secret).join(REDACTED)
  }
  return out
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

/**
 * fetch follows redirects unless told not to, and a followed redirect would carry the credentials to
 * another host: ask for the redirect itself (other clients never follow, and ignore this setting).
 */
export const withoutRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(
    Effect.serviceOption(FetchHttpClient.RequestInit),
    (init) =>
      Effect.provideService(effect, FetchHttpClient.RequestInit, {
        ...Option.getOrElse(init, () => ({})),
        redirect: "manual"
      })
  )

/** The message of whatever a transport failed with, for an error's text. */
export const errorText = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "string" ? cause : "no detail"
