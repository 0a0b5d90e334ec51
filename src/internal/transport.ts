/**
 * What every `HttpTransport` does the same way, written once: which requests may leave (header
 * values, destination addresses), the deadline, what a failure is called and what its text may show.
 * The portable transport (`HttpTransport.layer`) and the undici one (`effect-authlete/undici`) differ
 * only in how bytes move.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Runtime from "effect/Runtime"
import { AuthleteTransportError } from "../AuthleteError.js"
import type { HttpTransportRequest } from "../HttpTransport.js"

/** Node's timers fire at once past this many milliseconds (about 24.9 days). */
export const MAX_TIMEOUT_MILLIS = 2_147_483_647

/**
 * A timeout option as milliseconds, or why it is refused: positive, finite, and within what a timer
 * can wait.
 */
export const timeoutMillisOf = (input: unknown, name: string): Either.Either<number, string> => {
  let duration: Duration.Duration
  try {
    duration = Duration.decode(input as Duration.DurationInput)
  } catch {
    return Either.left(`${name} must be a duration such as "30 seconds" or a number of milliseconds`)
  }
  const millis = Duration.toMillis(duration)
  if (!Duration.isFinite(duration) || !(millis >= 1)) return Either.left(`${name} must be a positive, finite duration`)
  if (millis > MAX_TIMEOUT_MILLIS) {
    return Either.left(`${name} must be at most ${MAX_TIMEOUT_MILLIS} ms (about 24.8 days)`)
  }
  return Either.right(Math.ceil(millis))
}

/** Where a client-chosen URL may lead. */
export interface DestinationPolicy {
  /** `127.0.0.0/8`, `::1` and `localhost`. */
  readonly allowLoopback: boolean
  /** Private, link-local, shared and unspecified ranges (cloud metadata services live there). */
  readonly allowPrivate: boolean
}

type AddressClass = "public" | "loopback" | "private"

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

const ipv4Class = (a: number, b: number): AddressClass => {
  if (a === 127) return "loopback"
  if (
    a === 0 || a === 10 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  ) return "private"
  return "public"
}

/** The 16-bit groups of an IPv6 address, or `undefined`. */
const ipv6Groups = (address: string): Array<number> | undefined => {
  let text = address.toLowerCase()
  const zone = text.indexOf("%")
  if (zone !== -1) text = text.slice(0, zone)
  // A dotted IPv4 tail (`::ffff:169.254.169.254`) is two groups.
  const tail = IPV4.exec(text.slice(text.lastIndexOf(":") + 1))
  if (tail !== null) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, text.lastIndexOf(":") + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const halves = text.split("::")
  if (halves.length > 2) return undefined
  const parse = (part: string) => part === "" ? [] : part.split(":").map((group) => parseInt(group, 16))
  const head = parse(halves[0]!)
  const rest = halves.length === 2 ? parse(halves[1]!) : []
  const missing = 8 - head.length - rest.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...rest]
  return groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined
}

/** What kind of address a literal IP is, or `undefined` when it is not one. */
export const addressClass = (address: string): AddressClass | undefined => {
  const v4 = IPV4.exec(address)
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    return a > 255 || b > 255 || c > 255 || d > 255 ? undefined : ipv4Class(a, b)
  }
  const groups = ipv6Groups(address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address)
  if (groups === undefined) return undefined
  const [g0, , , , , g5, g6] = groups as [number, number, number, number, number, number, number, number]
  const zeroUntil = (n: number) => groups.slice(0, n).every((group) => group === 0)
  if (zeroUntil(7) && groups[7] === 1) return "loopback"
  if (zeroUntil(8)) return "private"
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address.
  const embedded = (zeroUntil(5) && (g5 === 0xffff || g5 === 0)) ||
    (g0 === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((group) => group === 0))
  if (embedded) return ipv4Class(g6 >> 8, g6 & 0xff)
  if ((g0 & 0xfe00) === 0xfc00 || (g0 & 0xffc0) === 0xfe80 || (g0 & 0xff00) === 0xff00) return "private"
  return "public"
}

const refusalOf = (kind: AddressClass, policy: DestinationPolicy): string | undefined =>
  kind === "loopback" && !policy.allowLoopback
    ? "a loopback address"
    : kind === "private" && !policy.allowPrivate
    ? "a private, link-local or otherwise non-public address"
    : undefined

/**
 * Why a host may not be reached under the policy, judged on what the URL names when it is an IP
 * literal; a DNS name (`localhost` included) is judged on its addresses when the connection is made
 * (`addressRefusal`).
 */
export const hostRefusal = (hostname: string, policy: DestinationPolicy): string | undefined => {
  const kind = addressClass(hostname)
  return kind === undefined ? undefined : refusalOf(kind, policy)
}

/** Why a resolved address may not be connected to under the policy. */
export const addressRefusal = (address: string, policy: DestinationPolicy): string | undefined => {
  const kind = addressClass(address)
  return kind === undefined ? "an address that cannot be classified" : refusalOf(kind, policy)
}

export const forbiddenAddress = (shown: string, why: string) =>
  new AuthleteTransportError({
    reason: "ForbiddenAddress",
    detail: `${shown} leads to ${why}; the request was not sent`
  })

// RFC 9110 field values: visible characters, spaces and tabs (obs-text allowed), never CR, LF or NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

// Header objects already found valid: a service sends the same few objects on every request.
const validHeaders = new WeakSet<object>()

/** The name of the first header whose value HTTP cannot carry (the value is never shown). */
export const invalidHeader = (headers: Readonly<Record<string, string>>): string | undefined => {
  if (validHeaders.has(headers)) return undefined
  for (const name in headers) if (!FIELD_VALUE.test(headers[name]!)) return name
  if (Object.isFrozen(headers)) validHeaders.add(headers)
  return undefined
}

/**
 * What every transport checks before anything leaves: header values, and the destination as the URL
 * names it.
 */
export const refusal = (request: HttpTransportRequest, url: URL): AuthleteTransportError | undefined => {
  const header = invalidHeader(request.headers)
  if (header !== undefined) {
    return new AuthleteTransportError({
      reason: "Transport",
      detail:
        `The request was not sent: the ${header} header holds characters HTTP cannot carry (CR, LF or other control characters)`
    })
  }
  if (request.destination !== undefined) {
    const why = hostRefusal(url.hostname, request.destination)
    if (why !== undefined) return forbiddenAddress(url.host, why)
  }
  return undefined
}

/** The code a guarded DNS lookup fails with when a name leads to an address the policy refuses. */
export const FORBIDDEN_ADDRESS_CODE = "EFORBIDDENADDRESS"

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
export const transportFailureReason = (error: unknown): "Connect" | "Transport" | "ForbiddenAddress" => {
  let current: unknown = error
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (code === FORBIDDEN_ADDRESS_CODE) return "ForbiddenAddress"
    if (typeof code === "string" && NEVER_SENT_CODES.has(code)) return "Connect"
    const errors = (current as { readonly errors?: unknown }).errors
    if (Array.isArray(errors)) {
      for (const inner of errors) {
        const reason = transportFailureReason(inner)
        if (reason !== "Transport") return reason
      }
    }
    current = (current as { readonly cause?: unknown }).cause
  }
  return "Transport"
}

/** The message of whatever a transport failed with, for an error's text. */
const errorText = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "string" ? cause : "no detail"

export const REDACTED = "<redacted>"

/** Replaces every occurrence of a known secret in a text. Short values are left: they prove nothing. */
export const scrubSecrets = (text: string, secrets: ReadonlyArray<string | undefined>): string => {
  let out = text
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 8) out = out.split(secret).join(REDACTED)
  }
  return out
}

/** The values a failure's text must not show: every header value (credentials) and the caller's secrets. */
const secretsOf = (
  headers: Readonly<Record<string, string>>,
  secrets: ReadonlyArray<string> | undefined
): ReadonlyArray<string> => {
  const out: Array<string> = [...(secrets ?? [])]
  for (const name in headers) {
    const value = headers[name]!
    out.push(value)
    // `Bearer x` and `Basic x`: the credential alone too.
    const space = value.indexOf(" ")
    if (space !== -1) out.push(value.slice(space + 1))
  }
  // The longest first, so that a secret inside another is not left half-replaced.
  return out.sort((a, b) => b.length - a.length)
}

/** A failure to get an answer, named and with its text scrubbed. */
export const failureOf = (
  cause: unknown,
  headers: Readonly<Record<string, string>>,
  secrets: ReadonlyArray<string> | undefined,
  what = "The request failed"
): AuthleteTransportError =>
  new AuthleteTransportError({
    reason: transportFailureReason(cause),
    detail: `${what}: ${scrubSecrets(errorText(cause), secretsOf(headers, secrets))}`
  })

export const timeoutFailure = (timeoutMillis: number) =>
  new AuthleteTransportError({
    reason: "Timeout",
    detail: `No complete answer within ${Duration.format(Duration.millis(timeoutMillis))}`
  })

/**
 * Fails with `onTimeout` unless `effect` ends within `millis`, interrupting it. `Effect.timeout`
 * costs about 25 µs a call in Effect 3.22 (it races two fibers); one fiber and a timer do the same.
 */
export const withDeadline = <A, E, R, E2>(
  effect: Effect.Effect<A, E, R>,
  millis: number,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> =>
  Effect.flatMap(Effect.runtime<R>(), (runtime) =>
    Effect.async<A, E | E2>((resume) => {
      let settled = false
      const timer = setTimeout(() => {
        settled = true
        cancel()
        resume(Effect.fail(onTimeout()))
      }, millis)
      // The inner fiber ends with its exit as a value: a failure is the caller's to report, never
      // an "unhandled error" of a fiber nobody joins.
      const cancel = Runtime.runCallback(runtime)(Effect.exit(effect), {
        onExit: (exit) => {
          if (settled || exit._tag === "Failure") return
          settled = true
          clearTimeout(timer)
          resume(exit.value)
        }
      })
      return Effect.sync(() => {
        settled = true
        clearTimeout(timer)
        cancel()
      })
    }))
