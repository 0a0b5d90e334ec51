/**
 * The client authentication a request to the authorization server carries outside its form body: an
 * `Authorization: Basic` header (RFC 6749 2.3.1), the mutual TLS client certificate (RFC 8705), and
 * the `OAuth-Client-Attestation` headers. One schema, which the models of Authlete's backchannel and
 * token requests include; one reader of an HTTP request's headers, which the routes use and which
 * checks what it read against that schema (the rules the Authlete client would apply, before anything
 * is sent); one `pick`, with which the endpoint programs pass them on. Credentials in the form body
 * (`client_secret_post`, `client_assertion`) stay in the parameters, where Authlete reads them.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { AuthleteValidationError } from "./AuthleteError.js"
import * as Rules from "./internal/rules.js"

/**
 * The credentials, each optional.
 *
 * @since 0.1.0
 * @category models
 */
export const ClientCredentials = Schema.Struct({
  clientId: Schema.optional(Rules.NonEmptyText),
  clientSecret: Schema.optional(Rules.NonEmptyText),
  /** The client certificate of the mutual TLS connection, in PEM format. */
  clientCertificate: Schema.optional(Rules.NonEmptyText),
  /** The rest of the client's certificate chain, each in PEM format. */
  clientCertificatePath: Schema.optional(Rules.array(Rules.NonEmptyText)),
  /** The `OAuth-Client-Attestation` header value. */
  oauthClientAttestation: Schema.optional(Rules.NonEmptyText),
  /** The `OAuth-Client-Attestation-PoP` header value. */
  oauthClientAttestationPop: Schema.optional(Rules.NonEmptyText)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ClientCredentials = typeof ClientCredentials.Type

/**
 * The credentials of `input`, and nothing else of it (an endpoint's input carries more).
 *
 * @since 0.1.0
 * @category constructors
 */
export const pick = (input: ClientCredentials): ClientCredentials => ({
  clientId: input.clientId,
  clientSecret: input.clientSecret,
  clientCertificate: input.clientCertificate,
  clientCertificatePath: input.clientCertificatePath,
  oauthClientAttestation: input.oauthClientAttestation,
  oauthClientAttestationPop: input.oauthClientAttestationPop
})

/**
 * An `Authorization: Basic` header that cannot be read: the client gets `invalid_client` (401).
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedAuthorization extends Schema.TaggedError<MalformedAuthorization>(
  "effect-authlete/MalformedAuthorization"
)("MalformedAuthorization", {}) {
  override get message(): string {
    return "The Authorization header cannot be read."
  }
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
 * The client id and secret of an `Authorization: Basic` header, each half form-urlencoded before
 * base64 as RFC 6749 2.3.1 says (so `%3A` in an id is a colon): nothing when there is no Basic
 * header (another scheme is not client authentication), `MalformedAuthorization` when there is one
 * that cannot be read (not base64, no colon, not UTF-8, a broken `%` escape). Halves that can be read
 * are returned as they are, empty or long: `fromHeaders` judges them with the schema.
 *
 * @since 0.1.0
 * @category parsing
 */
export const fromBasic = (
  authorization: string | undefined
): Either.Either<{ readonly clientId: string; readonly clientSecret: string } | undefined, MalformedAuthorization> => {
  if (authorization === undefined) return Either.right(undefined)
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization)
  if (match === null) {
    return /^Basic\b/i.test(authorization) ? Either.left(new MalformedAuthorization()) : Either.right(undefined)
  }
  let decoded: string
  try {
    decoded = utf8.decode(Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0)))
  } catch {
    return Either.left(new MalformedAuthorization())
  }
  const colon = decoded.indexOf(":")
  if (colon === -1) return Either.left(new MalformedAuthorization())
  const clientId = formDecode(decoded.slice(0, colon))
  const clientSecret = formDecode(decoded.slice(colon + 1))
  return clientId === undefined || clientSecret === undefined
    ? Either.left(new MalformedAuthorization())
    : Either.right({ clientId, clientSecret })
}

const decode = Schema.decodeUnknownEither(ClientCredentials, { errors: "all", onExcessProperty: "error" })

/**
 * The credentials an HTTP request's headers carry (names in lower case, as `@effect/platform` gives
 * them): Basic, and the attestation and its proof of possession, checked with the `ClientCredentials`
 * schema, the rules the Authlete client applies to them (not empty, at most 8,192 characters). A
 * Basic header that cannot be read is `MalformedAuthorization`; values that break a rule are an
 * `AuthleteValidationError` naming the fields (`clientId`, `clientSecret`, `oauthClientAttestation`,
 * `oauthClientAttestationPop`, `clientCertificate`, `clientCertificatePath`) and the rules, never the
 * values. An empty secret (`Basic` of `1001:`) is refused: Authlete issues no client an empty secret,
 * so such a client cannot authenticate (RFC 6749 2.3.1). An empty attestation header is refused too,
 * not read as absent. The certificate of a mutual TLS connection is not in the client's headers: the
 * caller reads it (`ClientCertificate`, from the TLS connection or a trusted proxy's header) and
 * passes it as `certificate`, to be judged with the rest (each PEM at most 8,192 characters, at most
 * 1,000 in the chain).
 *
 * @since 0.1.0
 * @category parsing
 */
export const fromHeaders = (
  headers: Readonly<Record<string, string | undefined>>,
  certificate?: {
    readonly clientCertificate: string
    readonly clientCertificatePath?: ReadonlyArray<string> | undefined
  } | undefined
): Either.Either<ClientCredentials, MalformedAuthorization | AuthleteValidationError> =>
  Either.flatMap(fromBasic(headers["authorization"]), (basic) => {
    const read: Record<string, unknown> = { ...basic }
    const attestation = headers["oauth-client-attestation"]
    const pop = headers["oauth-client-attestation-pop"]
    if (attestation !== undefined) read.oauthClientAttestation = attestation
    if (pop !== undefined) read.oauthClientAttestationPop = pop
    if (certificate !== undefined) read.clientCertificate = certificate.clientCertificate
    if (certificate?.clientCertificatePath !== undefined) read.clientCertificatePath = certificate.clientCertificatePath
    return Either.mapLeft(decode(read), AuthleteValidationError.fromParseError)
  })
