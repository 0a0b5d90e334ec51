/**
 * The client certificate of a mutual TLS request (RFC 8705), and where the routes find it: on the TLS
 * connection itself, when the server terminates TLS (Node's `https` server with `requestCert: true`),
 * or in a header that a TLS-terminating proxy adds, read only when the connection comes from one of
 * the proxies the operator names. Every certificate is handed on in PEM, the client's own
 * (`clientCertificate`) apart from the rest of its chain (`clientCertificatePath`), as Authlete takes
 * them.
 *
 * Nothing here imports a runtime's module, so the root entry still loads anywhere: the TLS socket is
 * read through the methods Node's `tls.TLSSocket` has, and a header's certificate is checked with
 * Node's `crypto.X509Certificate` where the runtime has one (`process.getBuiltinModule`), and with a
 * check of its DER structure everywhere.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { nodeBuiltin } from "./internal/nodeBuiltin.js"

/**
 * Where the certificate is read from. With neither `fromTls` nor `header`, nowhere.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientCertificateOptions {
  /**
   * Read it from the TLS connection: the peer certificate of Node's `tls.TLSSocket` (an `https` server
   * created with `requestCert: true`; `rejectUnauthorized: false` lets self-signed certificates through
   * to Authlete, which then judges them), and its chain as far as the first self-signed certificate,
   * which is a trust anchor and is left out. A connection that is not TLS carries none.
   */
  readonly fromTls?: boolean | undefined
  /**
   * The header a TLS-terminating proxy puts the certificate in, read only on a connection from one of
   * `trustedProxies` (from anyone else it is ignored, and logged at DEBUG). Its value may be PEM
   * (newlines or spaces between the lines), URL-encoded PEM (nginx's `$ssl_client_escaped_cert`), an
   * `x-forwarded-client-cert` value (Envoy, HAProxy: `Cert="..."` and `Chain="..."` of the last
   * element, the one the proxy next to the server added), RFC 9440 byte sequences (`:MIIC...:`) or
   * base64 DER; empty or `(null)` (a misconfigured Apache) is no certificate. A value that holds no
   * X.509 certificate is `MalformedClientCertificate`. Needs `trustedProxies`.
   */
  readonly header?: string | undefined
  /**
   * Headers that hold the rest of the chain, in order (Authlete's Java handlers read `X-Ssl-Cert` then
   * `X-Ssl-Cert-Chain-1` to `-4`), each read like `header` and only with it.
   */
  readonly chainHeaders?: ReadonlyArray<string> | undefined
  /**
   * The addresses of the proxies whose headers are trusted: exact IPv4 or IPv6 addresses (an IPv4-mapped
   * IPv6 address, `::ffff:10.0.0.1`, is the IPv4 one); no ranges, no names. A connection without a
   * remote address (a Unix socket) is no proxy's.
   */
  readonly trustedProxies?: ReadonlyArray<string> | undefined
}

/**
 * A certificate and the rest of its chain, each in PEM (`-----BEGIN CERTIFICATE-----`, 64 characters a
 * line, a newline at the end), as `ClientCredentials` carries them.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientCertificate {
  readonly clientCertificate: string
  readonly clientCertificatePath?: ReadonlyArray<string> | undefined
}

/**
 * What the certificate is read from: the request's headers (lower-case names), the address of the
 * connection's peer (the socket's, never one a header claims) and the runtime's socket.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientConnection {
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly remoteAddress: string | undefined
  readonly socket: unknown
}

/**
 * A trusted proxy's header that holds no certificate: the answer is 400 `invalid_request`. The reason
 * names the rule broken, never the value.
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedClientCertificate extends Schema.TaggedError<MalformedClientCertificate>(
  "effect-authlete/MalformedClientCertificate"
)("MalformedClientCertificate", { header: Schema.String, reason: Schema.String }) {
  override get message(): string {
    return `The ${this.header} header holds no X.509 certificate: ${this.reason}.`
  }
}

/**
 * The connection of an `@effect/platform` server request: on Node, its `IncomingMessage`'s socket and
 * that socket's remote address (which `HttpMiddleware.xForwardedHeaders` cannot change); elsewhere the
 * request's `remoteAddress`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connectionOf = (request: {
  readonly source: unknown
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly remoteAddress: Option.Option<string>
}): ClientConnection => {
  const socket = typeof request.source === "object" && request.source !== null
    ? (request.source as { readonly socket?: unknown }).socket
    : undefined
  const address = typeof socket === "object" && socket !== null
    ? (socket as { readonly remoteAddress?: unknown }).remoteAddress
    : undefined
  return {
    headers: request.headers,
    remoteAddress: typeof address === "string" ? address : Option.getOrUndefined(request.remoteAddress),
    socket
  }
}

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`)
const HEX_GROUP = /^[0-9a-f]{1,4}$/

/**
 * An IP address in one spelling, to compare addresses: IPv4 as it is, IPv6 as eight groups, an
 * IPv4-mapped IPv6 address as its IPv4 address; `undefined` for anything else (a zone too).
 *
 * @since 0.1.0
 * @category addresses
 */
export const canonicalAddress = (address: string): string | undefined => {
  let text = address.trim().toLowerCase()
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1)
  if (IPV4.test(text)) return text
  if (!text.includes(":")) return undefined
  const lastColon = text.lastIndexOf(":")
  const tail = text.slice(lastColon + 1)
  if (tail.includes(".")) {
    if (!IPV4.test(tail)) return undefined
    const [a, b, c, d] = tail.split(".").map(Number) as [number, number, number, number]
    text = `${text.slice(0, lastColon + 1)}${(a * 256 + b).toString(16)}:${(c * 256 + d).toString(16)}`
  }
  const halves = text.split("::")
  if (halves.length > 2) return undefined
  const groups = (part: string) => part === "" ? [] : part.split(":")
  const head = groups(halves[0]!)
  const rest = halves.length === 2 ? groups(halves[1]!) : []
  const missing = 8 - head.length - rest.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined
  const all = [...head, ...Array.from({ length: halves.length === 2 ? missing : 0 }, () => "0"), ...rest]
  if (!all.every((group) => HEX_GROUP.test(group))) return undefined
  const words = all.map((group) => parseInt(group, 16))
  if (words.slice(0, 5).every((word) => word === 0) && words[5] === 0xffff) {
    const [high, low] = [words[6]!, words[7]!]
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`
  }
  return words.map((word) => word.toString(16)).join(":")
}

/**
 * Whether a connection's remote address is one of `addresses`, compared in one spelling. An entry that
 * is no IP address throws a `TypeError`, once, here.
 *
 * @since 0.1.0
 * @category addresses
 */
export const trustedProxies = (addresses: ReadonlyArray<string>): (remoteAddress: string | undefined) => boolean => {
  const trusted = new Set<string>()
  for (const address of addresses) {
    const canonical = canonicalAddress(address)
    if (canonical === undefined) {
      throw new TypeError(
        `ClientCertificate: trustedProxies must hold IP addresses (no ranges, no names), not ${JSON.stringify(address)}`
      )
    }
    trusted.add(canonical)
  }
  return (remoteAddress) => {
    if (remoteAddress === undefined || trusted.size === 0) return false
    const canonical = canonicalAddress(remoteAddress)
    return canonical !== undefined && trusted.has(canonical)
  }
}

/**
 * A certificate's DER in PEM, as `openssl` writes it: 64 characters a line and a newline at the end.
 *
 * @since 0.1.0
 * @category certificates
 */
export const toPem = (der: Uint8Array): string => {
  const binary = Array.from(der, (byte) => String.fromCharCode(byte)).join("")
  return `-----BEGIN CERTIFICATE-----\n${btoa(binary).replace(/.{64}(?=.)/g, "$&\n")}\n-----END CERTIFICATE-----\n`
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

const fromBase64 = (text: string): Uint8Array | undefined => {
  const compact = text.replace(/\s+/g, "")
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined
  return Uint8Array.from(atob(compact), (c) => c.charCodeAt(0))
}

/** The DER element at `offset`: its tag and where its contents start and end. */
const element = (der: Uint8Array, offset: number) => {
  if (offset + 2 > der.length) return undefined
  let length = der[offset + 1]!
  let start = offset + 2
  if (length >= 0x80) {
    const count = length - 0x80
    if (count === 0 || count > 4 || start + count > der.length) return undefined
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!
    start += count
  }
  return start + length > der.length ? undefined : { tag: der[offset]!, start, end: start + length }
}

/** An X.509 certificate's outline (RFC 5280 4.1): a SEQUENCE of two SEQUENCEs and a BIT STRING, and nothing else. */
const isCertificateOutline = (der: Uint8Array): boolean => {
  const outer = element(der, 0)
  if (outer?.tag !== 0x30 || outer.end !== der.length) return false
  const tbs = element(der, outer.start)
  const algorithm = tbs?.tag === 0x30 ? element(der, tbs.end) : undefined
  const signature = algorithm?.tag === 0x30 ? element(der, algorithm.end) : undefined
  return signature?.tag === 0x03 && signature.end === outer.end
}

/** Node's `crypto.X509Certificate` where the runtime has it (Node, Bun, Deno), without an import. */
const X509Certificate = nodeBuiltin<{ readonly X509Certificate?: new(der: Uint8Array) => unknown }>("node:crypto")
  ?.X509Certificate

/** Whether `der` is an X.509 certificate: its outline everywhere, and Node's parser where there is one. */
const isCertificate = (der: Uint8Array): boolean => {
  if (!isCertificateOutline(der)) return false
  if (X509Certificate === undefined) return true
  try {
    new X509Certificate(der)
    return true
  } catch {
    return false
  }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g
const XFCC = /(?:^|[;,])\s*(?:by|hash|cert|chain|subject|uri|dns)\s*=/i

/** The elements of an `x-forwarded-client-cert` value: `,` between elements, `;` between pairs, `"` quotes. */
const xfccElements = (value: string): Array<Map<string, string>> => {
  const elements: Array<Map<string, string>> = [new Map()]
  let pair = ""
  let quoted = false
  const endPair = () => {
    const equals = pair.indexOf("=")
    if (equals !== -1) elements.at(-1)!.set(pair.slice(0, equals).trim().toLowerCase(), pair.slice(equals + 1).trim())
    pair = ""
  }
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!
    if (quoted && c === "\\" && i + 1 < value.length) pair += value[++i]
    else if (c === "\"") quoted = !quoted
    else if (!quoted && c === ";") endPair()
    else if (!quoted && c === ",") {
      endPair()
      elements.push(new Map())
    } else pair += c
  }
  endPair()
  return elements
}

/** The certificates of PEM, URL-encoded PEM, RFC 9440 byte sequences or base64 DER, in order. */
const certificatesOfText = (text: string): Either.Either<Array<Uint8Array>, string> => {
  let decoded = text
  if (text.includes("%")) {
    try {
      decoded = decodeURIComponent(text)
    } catch {
      return Either.left("it has a broken % escape")
    }
  }
  let ders: Array<Uint8Array | undefined>
  if (decoded.includes("-----BEGIN")) {
    const blocks = [...decoded.matchAll(PEM_BLOCK)]
    if (blocks.length === 0 || decoded.replace(PEM_BLOCK, "").trim() !== "") {
      return Either.left("it is not PEM (text outside the BEGIN and END CERTIFICATE lines)")
    }
    ders = blocks.map((block) => fromBase64(block[1]!))
  } else {
    ders = decoded.split(",").map((item) => fromBase64(item.trim().replace(/^:([^:]*):$/, "$1")))
  }
  if (ders.some((der) => der === undefined || der.length === 0)) return Either.left("it is not base64")
  if (!ders.every((der) => isCertificate(der!))) return Either.left("it does not parse as an X.509 certificate")
  return Either.right(ders as Array<Uint8Array>)
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i])

/**
 * The certificates a proxy's header value holds, the client's first, in any of the forms `header`
 * takes; none for an empty value or `(null)`; else the rule broken, in words that never hold the value.
 */
const fromHeaderValue = (value: string): Either.Either<ReadonlyArray<Uint8Array>, string> => {
  const text = value.trim()
  if (text === "" || text === "(null)") return Either.right([])
  if (!XFCC.test(text)) return certificatesOfText(text)
  // Each proxy adds an element: the last is the one the proxy next to the server added.
  const last = xfccElements(text).at(-1)!
  const cert = last.get("cert")
  const chain = last.get("chain")
  const read = (text: string | undefined) =>
    text === undefined || text === "" ? Either.right([]) : certificatesOfText(text)
  // Envoy's Chain holds the client's certificate too.
  return Either.flatMap(
    read(cert),
    (leaf) =>
      Either.map(
        read(chain),
        (path) => leaf.length === 0 ? path : [...leaf, ...path.filter((der) => !sameBytes(der, leaf[0]!))]
      )
  )
}

/**
 * The certificate and chain in trusted proxy headers: `header` holds the client's (and maybe more of
 * the chain), each of `chainHeaders` more of the chain. No certificate in `header`, none at all.
 *
 * @since 0.1.0
 * @category certificates
 */
export const fromProxyHeaders = (
  headers: Readonly<Record<string, string | undefined>>,
  header: string,
  chainHeaders: ReadonlyArray<string> = []
): Either.Either<ClientCertificate | undefined, MalformedClientCertificate> => {
  const ders: Array<Uint8Array> = []
  for (const name of [header, ...chainHeaders]) {
    const read = fromHeaderValue(headers[name.toLowerCase()] ?? "")
    if (Either.isLeft(read)) return Either.left(new MalformedClientCertificate({ header: name, reason: read.left }))
    if (name === header && read.right.length === 0) return Either.right(undefined)
    ders.push(...read.right)
  }
  return Either.right(certificateOf(ders.map(toPem)))
}

const certificateOf = ([clientCertificate, ...path]: ReadonlyArray<string>): ClientCertificate | undefined =>
  clientCertificate === undefined
    ? undefined
    : path.length === 0
    ? { clientCertificate }
    : { clientCertificate, clientCertificatePath: path }

/** What Node's `tls.TLSSocket.getPeerCertificate(true)` gives, as far as it is read here. */
interface PeerCertificate {
  readonly raw?: Uint8Array | undefined
  readonly fingerprint256?: string | undefined
  readonly issuerCertificate?: PeerCertificate | undefined
}

/** The most certificates read from a TLS chain. */
const MAX_CHAIN = 10

const isSelfSigned = (certificate: PeerCertificate) =>
  certificate.issuerCertificate === certificate ||
  (certificate.fingerprint256 !== undefined &&
    certificate.issuerCertificate?.fingerprint256 === certificate.fingerprint256)

/**
 * The certificate of `getPeerCertificate(true)` (an empty object when the client sent none) and its
 * issuers as far as the first self-signed one, left out: a trust anchor, which the verifier holds.
 */
const fromPeerCertificate = (peer: PeerCertificate | null | undefined): ClientCertificate | undefined => {
  if (!(peer?.raw instanceof Uint8Array) || peer.raw.length === 0) return undefined
  const chain = [toPem(peer.raw)]
  let current = peer
  while (chain.length < MAX_CHAIN && !isSelfSigned(current)) {
    const issuer = current.issuerCertificate
    if (!(issuer?.raw instanceof Uint8Array) || issuer.raw.length === 0 || isSelfSigned(issuer)) break
    chain.push(toPem(issuer.raw))
    current = issuer
  }
  return certificateOf(chain)
}

/**
 * The certificate of a TLS socket (Node's `tls.TLSSocket`: `encrypted`, `getPeerCertificate`); none on
 * another socket.
 *
 * @since 0.1.0
 * @category certificates
 */
export const fromSocket = (socket: unknown): ClientCertificate | undefined => {
  if (typeof socket !== "object" || socket === null) return undefined
  const tls = socket as { readonly encrypted?: unknown; readonly getPeerCertificate?: unknown }
  if (tls.encrypted !== true || typeof tls.getPeerCertificate !== "function") return undefined
  return fromPeerCertificate((tls.getPeerCertificate as (detailed: boolean) => PeerCertificate)(true))
}

/**
 * The reader of `options`: the trusted proxy's header on a connection from a trusted proxy (never the
 * TLS peer's certificate then: that is the proxy's), else the TLS connection's when `fromTls`; a
 * header from anyone else is ignored and logged at DEBUG. A `header` without `trustedProxies`, or an
 * entry of `trustedProxies` that is no IP address, throws a `TypeError`, once, here.
 *
 * @since 0.1.0
 * @category constructors
 */
export const reader = (
  options: ClientCertificateOptions
): (connection: ClientConnection) => Effect.Effect<ClientCertificate | undefined, MalformedClientCertificate> => {
  const isTrusted = trustedProxies(options.trustedProxies ?? [])
  const header = options.header?.toLowerCase()
  const chainHeaders = (options.chainHeaders ?? []).map((name) => name.toLowerCase())
  if (header !== undefined && (options.trustedProxies ?? []).length === 0) {
    throw new TypeError("ClientCertificate: a header is read only from trustedProxies, and there are none")
  }
  const fromTls = options.fromTls === true
  return (connection) => {
    if (header !== undefined) {
      if (isTrusted(connection.remoteAddress)) return fromProxyHeaders(connection.headers, header, chainHeaders)
      if ([header, ...chainHeaders].some((name) => connection.headers[name] !== undefined)) {
        const from = connection.remoteAddress ?? "an unknown address"
        return Effect.as(
          Effect.logDebug(`Ignored the client certificate header ${header} from ${from}, no trusted proxy`),
          fromTls ? fromSocket(connection.socket) : undefined
        )
      }
    }
    return Effect.succeed(fromTls ? fromSocket(connection.socket) : undefined)
  }
}
