/**
 * What every `HttpTransport` does the same way, written once: which requests may leave (header
 * values, destination addresses), the deadline, what a failure is called and what its text may show.
 * The portable transport (`HttpTransport.layer`) and the undici one (`effect-authlete/undici`) differ
 * only in how bytes move.
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
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
  /**
   * Every other address that is not globally reachable: private, shared, link-local, unspecified,
   * documentation, benchmarking, multicast and reserved ranges (cloud metadata services live there).
   */
  readonly allowPrivate: boolean
}

type AddressClass = "public" | "loopback" | "private"

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** A range as an address with the bits of its prefix kept, and the mask of that prefix. */
interface Range {
  readonly base: number
  readonly mask: number
  readonly kind: AddressClass
}

/** An IPv4 address as an unsigned 32-bit number. */
const ipv4Number = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0

const ipv4Range = (cidr: string, kind: AddressClass): Range => {
  const [address, prefix] = cidr.split("/") as [string, string]
  const [a, b, c, d] = address.split(".").map(Number) as [number, number, number, number]
  const mask = Number(prefix) === 0 ? 0 : (0xffffffff << (32 - Number(prefix))) >>> 0
  return { base: (ipv4Number(a, b, c, d) & mask) >>> 0, mask, kind }
}

/**
 * The IPv4 special-purpose blocks that are not globally reachable (RFC 6890; IANA's IPv4
 * Special-Purpose Address Registry, "Globally Reachable" False), and multicast. The first that holds
 * an address decides: the two globally reachable anycast addresses of `192.0.0.0/24` come first.
 */
const IPV4_RANGES: ReadonlyArray<Range> = [
  ipv4Range("192.0.0.9/32", "public"), // Port Control Protocol anycast (RFC 7723)
  ipv4Range("192.0.0.10/32", "public"), // TURN anycast (RFC 8155)
  ipv4Range("0.0.0.0/8", "private"), // "this network" (RFC 791)
  ipv4Range("10.0.0.0/8", "private"), // private use (RFC 1918)
  ipv4Range("100.64.0.0/10", "private"), // shared address space, carrier-grade NAT (RFC 6598)
  ipv4Range("127.0.0.0/8", "loopback"),
  ipv4Range("169.254.0.0/16", "private"), // link-local, cloud metadata (RFC 3927)
  ipv4Range("172.16.0.0/12", "private"), // private use
  ipv4Range("192.0.0.0/24", "private"), // IETF protocol assignments (RFC 6890)
  ipv4Range("192.0.2.0/24", "private"), // TEST-NET-1, documentation (RFC 5737)
  ipv4Range("192.168.0.0/16", "private"), // private use
  ipv4Range("198.18.0.0/15", "private"), // benchmarking (RFC 2544)
  ipv4Range("198.51.100.0/24", "private"), // TEST-NET-2
  ipv4Range("203.0.113.0/24", "private"), // TEST-NET-3
  ipv4Range("224.0.0.0/4", "private"), // multicast (RFC 5771)
  ipv4Range("240.0.0.0/4", "private") // reserved (RFC 1112), 255.255.255.255 (limited broadcast) included
]

const ipv4Class = (address: number): AddressClass => {
  for (const range of IPV4_RANGES) if (((address & range.mask) >>> 0) === range.base) return range.kind
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
    if (a > 255 || b > 255 || c > 255 || d > 255) return undefined
    text = `${text.slice(0, text.lastIndexOf(":") + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const halves = text.split("::")
  if (halves.length > 2) return undefined
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((group) => /^[0-9a-f]{1,4}$/.test(group) ? parseInt(group, 16) : NaN)
  const head = parse(halves[0]!)
  const rest = halves.length === 2 ? parse(halves[1]!) : []
  const missing = 8 - head.length - rest.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...rest]
  return groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined
}

/** An IPv6 range: the groups its prefix covers, each with the mask of its bits in the prefix. */
interface Range6 {
  readonly groups: ReadonlyArray<readonly [value: number, mask: number]>
  readonly kind: AddressClass
}

const ipv6Range = (cidr: string, kind: AddressClass): Range6 => {
  const [address, prefix] = cidr.split("/") as [string, string]
  const all = ipv6Groups(address)!
  const groups: Array<readonly [number, number]> = []
  for (let bits = Number(prefix), i = 0; bits > 0; bits -= 16, i++) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff
    groups.push([all[i]! & mask, mask])
  }
  return { groups, kind }
}

/**
 * The IPv6 special-purpose blocks that are not globally reachable (IANA's IPv6 Special-Purpose
 * Address Registry, "Globally Reachable" False, and N/A taken as not), multicast and the deprecated
 * site-local block; the first that holds an address decides. The addresses that carry an IPv4
 * address the traffic goes to (`::ffff:0:0/96`, `64:ff9b::/96`) are judged on it before these.
 */
const IPV6_RANGES: ReadonlyArray<Range6> = [
  // Globally reachable blocks inside 2001::/23.
  ipv6Range("2001:1::1/128", "public"), // Port Control Protocol anycast (RFC 7723)
  ipv6Range("2001:1::2/128", "public"), // TURN anycast (RFC 8155)
  ipv6Range("2001:3::/32", "public"), // AMT (RFC 7450)
  ipv6Range("2001:4:112::/48", "public"), // AS112-v6 (RFC 7535)
  ipv6Range("2001:20::/28", "public"), // ORCHIDv2 (RFC 7343)
  ipv6Range("2001:30::/28", "public"), // drone remote ID entity tags (RFC 9374)
  ipv6Range("::/128", "private"), // unspecified
  ipv6Range("64:ff9b:1::/48", "private"), // local-use IPv4/IPv6 translation (RFC 8215)
  ipv6Range("100::/64", "private"), // discard-only (RFC 6666)
  ipv6Range("100:0:0:1::/64", "private"), // dummy prefix (RFC 9780)
  ipv6Range("2001::/23", "private"), // IETF protocol assignments, Teredo (2001::/32, N/A) and benchmarking included
  ipv6Range("2001:db8::/32", "private"), // documentation (RFC 3849)
  ipv6Range("2002::/16", "private"), // 6to4 (N/A; deprecated, RFC 7526)
  ipv6Range("3fff::/20", "private"), // documentation (RFC 9637)
  ipv6Range("5f00::/16", "private"), // segment routing SIDs (RFC 9602)
  ipv6Range("fc00::/7", "private"), // unique local (RFC 4193)
  ipv6Range("fe80::/10", "private"), // link-local
  ipv6Range("fec0::/10", "private"), // site-local, deprecated (RFC 3879)
  ipv6Range("ff00::/8", "private") // multicast
]

const inRange6 = (groups: ReadonlyArray<number>, range: Range6): boolean => {
  for (let i = 0; i < range.groups.length; i++) {
    const [value, mask] = range.groups[i]!
    if ((groups[i]! & mask) !== value) return false
  }
  return true
}

const ipv6Class = (groups: ReadonlyArray<number>): AddressClass => {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number]
  const zeroUntil4 = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0
  if (zeroUntil4 && g4 === 0 && g5 === 0 && g6 === 0 && g7 === 1) return "loopback"
  // IPv4-mapped (::ffff:a.b.c.d, RFC 4291), IPv4-translated (::ffff:0:a.b.c.d, RFC 2765),
  // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::a.b.c.d, RFC 6052) carry the IPv4
  // address the traffic goes to: judged as it.
  const embedded = (zeroUntil4 &&
    ((g4 === 0 && (g5 === 0xffff || (g5 === 0 && (g6 !== 0 || g7 > 1)))) || (g4 === 0xffff && g5 === 0))) ||
    (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0)
  if (embedded) return ipv4Class(((g6 << 16) | g7) >>> 0)
  for (const range of IPV6_RANGES) if (inRange6(groups, range)) return range.kind
  return "public"
}

/** What kind of address a literal IP is, or `undefined` when it is not one. */
export const addressClass = (address: string): AddressClass | undefined => {
  const v4 = IPV4.exec(address)
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    return a > 255 || b > 255 || c > 255 || d > 255 ? undefined : ipv4Class(ipv4Number(a, b, c, d))
  }
  const groups = ipv6Groups(address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address)
  return groups === undefined ? undefined : ipv6Class(groups)
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
