/**
 * Client certificates (RFC 8705), read with Node's `X509Certificate`: the subject DN check of
 * `tls_client_auth`, the registered-key check of `self_signed_tls_client_auth`, and the SHA-256
 * thumbprint certificate-bound access tokens carry (`cnf.x5t#S256`).
 */
import type { JWK } from "jose"
import * as Crypto from "node:crypto"
import type { ClientJwk } from "./clientKeys.js"
import type { Jose } from "./jose.js"

/**
 * The certificate the authorization server passed on (`clientCertificate`): PEM, as Authlete takes
 * it; `undefined` when absent or unreadable. The TLS terminator validated it (chain, dates), as with
 * Authlete, so only its content is read here.
 */
export const readCertificate = (pem: string | undefined): Crypto.X509Certificate | undefined => {
  if (pem === undefined || pem.trim() === "") return undefined
  try {
    return new Crypto.X509Certificate(pem)
  } catch {
    return undefined
  }
}

/** base64url(SHA-256(DER)): the `x5t#S256` confirmation of RFC 8705 3.1. */
export const certificateThumbprint = (certificate: Crypto.X509Certificate): string =>
  Crypto.createHash("sha256").update(certificate.raw).digest("base64url")

/** Attribute type names as OpenSSL prints them and as people write them, to one spelling. */
const TYPE_ALIASES: { readonly [name: string]: string } = {
  "2.5.4.3": "CN",
  COMMONNAME: "CN",
  "2.5.4.6": "C",
  COUNTRYNAME: "C",
  "2.5.4.7": "L",
  LOCALITYNAME: "L",
  "2.5.4.8": "ST",
  S: "ST",
  STATEORPROVINCENAME: "ST",
  "2.5.4.10": "O",
  ORGANIZATIONNAME: "O",
  "2.5.4.11": "OU",
  ORGANIZATIONALUNITNAME: "OU",
  "2.5.4.5": "SERIALNUMBER",
  "2.5.4.9": "STREET",
  "2.5.4.97": "ORGANIZATIONIDENTIFIER",
  "2.5.4.15": "BUSINESSCATEGORY",
  "1.3.6.1.4.1.311.60.2.1.3": "JURISDICTIONC",
  "0.9.2342.19200300.100.1.25": "DC",
  "0.9.2342.19200300.100.1.1": "UID",
  USERID: "UID",
  "1.2.840.113549.1.9.1": "EMAILADDRESS",
  E: "EMAILADDRESS"
}

const normalType = (type: string): string => {
  const upper = type.trim().replace(/^OID\./i, "").toUpperCase()
  return TYPE_ALIASES[upper] ?? upper
}

/** Case and runs of spaces do not count (X.520 caseIgnoreMatch, as Java's canonical form has it). */
const normalValue = (value: string): string => value.trim().replace(/\s+/g, " ").toLowerCase()

/** Splits on `separator` where it is not escaped by a backslash nor inside double quotes. */
const splitUnescaped = (text: string, separator: RegExp): Array<string> => {
  const parts: Array<string> = []
  let current = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!
    if (char === "\\" && i + 1 < text.length) {
      current += char + text[++i]
    } else if (char === "\"") {
      quoted = !quoted
      current += char
    } else if (!quoted && separator.test(char)) {
      parts.push(current)
      current = ""
    } else {
      current += char
    }
  }
  parts.push(current)
  return parts
}

/** RFC 4514 value unescaping: `\,` and the like, `\HH` hex pairs (UTF-8), and RFC 1779 quotes. */
const unescapeValue = (raw: string): string => {
  const value = raw.trim()
  if (value.length >= 2 && value.startsWith("\"") && value.endsWith("\"")) return value.slice(1, -1)
  const bytes: Array<number> = []
  for (let i = 0; i < value.length; i++) {
    if (value[i] === "\\" && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16))
      i += 2
    } else if (value[i] === "\\" && i + 1 < value.length) {
      bytes.push(...Buffer.from(value[++i]!))
    } else {
      bytes.push(...Buffer.from(value[i]!))
    }
  }
  return Buffer.from(bytes).toString("utf8")
}

/** One RDN: its `TYPE=value` pairs, normalised and sorted (a multi-valued RDN is a set). */
const rdnOf = (text: string, separator: RegExp): string | undefined => {
  const pairs: Array<string> = []
  for (const ava of splitUnescaped(text, separator)) {
    const equals = ava.indexOf("=")
    if (equals <= 0) return undefined
    pairs.push(`${normalType(ava.slice(0, equals))}=${normalValue(unescapeValue(ava.slice(equals + 1)))}`)
  }
  return pairs.sort().join("+")
}

/**
 * A registered DN (RFC 4514, as Authlete's console example `CN=client.example.org, O=Client,
 * L=Chiyoda-ku, ST=Tokyo, C=JP`), most specific RDN first, as normalised RDNs.
 */
const registeredRdns = (dn: string): ReadonlyArray<string> | undefined => {
  const rdns: Array<string> = []
  for (const text of splitUnescaped(dn, /[,;]/)) {
    const rdn = rdnOf(text, /\+/)
    if (rdn === undefined) return undefined
    rdns.push(rdn)
  }
  return rdns
}

/** The certificate's subject as normalised RDNs, in RFC 4514 order (Node lists them the other way). */
const subjectRdns = (certificate: Crypto.X509Certificate): ReadonlyArray<string> | undefined => {
  const rdns: Array<string> = []
  for (const line of certificate.subject.split("\n")) {
    // Node prints one RDN a line, the values of a multi-valued one joined by " + ".
    const rdn = rdnOf(line.replace(/ \+ /g, "+"), /\+/)
    if (rdn === undefined) return undefined
    rdns.push(rdn)
  }
  return rdns.reverse()
}

/**
 * `tls_client_auth` (RFC 8705 2.1.2): whether the certificate's subject is the registered DN.
 * Authlete does not document its comparison; the simulator's is what Java's `X500Principal.equals`
 * does: the RDNs in RFC 4514 order (most specific first), attribute types by name or OID, values
 * without regard to case or repeated spaces. A DN written the other way round (`C=JP, ..., CN=...`)
 * does not match.
 */
export const subjectMatches = (certificate: Crypto.X509Certificate, registeredDn: string): boolean => {
  const expected = registeredRdns(registeredDn)
  const actual = subjectRdns(certificate)
  return expected !== undefined && actual !== undefined && expected.length === actual.length &&
    expected.every((rdn, i) => rdn === actual[i])
}

/**
 * `self_signed_tls_client_auth` (RFC 8705 2.2): whether the certificate's public key is one of the
 * client's registered keys, compared by RFC 7638 thumbprint (a registered key with `x5c` carries
 * the same public key members, so it matches too).
 */
export const certificateKeyRegistered = async (
  jose: Jose,
  certificate: Crypto.X509Certificate,
  keys: ReadonlyArray<ClientJwk>
): Promise<boolean> => {
  const presented = await jose.calculateJwkThumbprint(certificate.publicKey.export({ format: "jwk" }) as JWK)
  for (const key of keys) {
    try {
      if (await jose.calculateJwkThumbprint(key as JWK) === presented) return true
    } catch {
      // A registered key without the members a thumbprint needs matches nothing.
    }
  }
  return false
}
