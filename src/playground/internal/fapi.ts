/**
 * The playground's clients: the plain profile's, with secrets, and the FAPI-CIBA setup
 * (`--profile fapi-ciba`): its own CA and server certificate for
 * HTTPS with mutual TLS, and four FAPI clients, POLL and PING each with `private_key_jwt` and with
 * `tls_client_auth`. Every client has an ES256 key (its client assertions and request objects) and a
 * certificate (mutual TLS: `tls_client_auth` authenticates with it; every client's access tokens are
 * bound to it), must sign its requests, and is a FAPI client at the simulator.
 */
import * as Crypto from "node:crypto"
import type { AuthleteSimulator } from "../../simulator/index.js"
import { makePki, type PlaygroundPki } from "./certificates.js"

/** A FAPI client as the playground tells it: what a relying party needs to be it. */
export interface FapiClientInfo {
  readonly clientId: number
  readonly deliveryMode: "POLL" | "PING"
  readonly authMethod: "private_key_jwt" | "tls_client_auth"
  /** Its ES256 private key as a JWK (with `kid` and `alg`): client assertions and request objects. */
  readonly privateJwk: Crypto.JsonWebKey & { readonly kid: string; readonly alg: "ES256" }
  /** Its certificate and key (PEM), for mutual TLS. */
  readonly certificate: string
  readonly privateKey: string
}

export interface FapiSetup {
  readonly pki: PlaygroundPki
  readonly clients: ReadonlyArray<FapiClientInfo>
}

const PLAN = [
  { deliveryMode: "POLL", authMethod: "private_key_jwt" },
  { deliveryMode: "PING", authMethod: "private_key_jwt" },
  { deliveryMode: "POLL", authMethod: "tls_client_auth" },
  { deliveryMode: "PING", authMethod: "tls_client_auth" }
] as const

const nameOf = (plan: { readonly deliveryMode: string; readonly authMethod: string }) =>
  `${plan.deliveryMode.toLowerCase()}-${plan.authMethod === "private_key_jwt" ? "jwt" : "mtls"}-client`

/** Makes the CA, the server certificate, and the four clients' keys and certificates. */
export const makeFapiSetup = async (): Promise<FapiSetup> => {
  const pki = await makePki(PLAN.map(nameOf))
  const clients = PLAN.map((plan, index): FapiClientInfo => {
    const { privateKey } = Crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
    const issued = pki.clients[nameOf(plan)]!
    return {
      clientId: 2001 + index,
      deliveryMode: plan.deliveryMode,
      authMethod: plan.authMethod,
      privateJwk: { ...privateKey.export({ format: "jwk" }), kid: `${nameOf(plan)}-key`, alg: "ES256" },
      certificate: issued.certificate,
      privateKey: issued.privateKey
    }
  })
  return { pki, clients }
}

/** The public half of a private JWK. */
const publicJwkOf = ({ d: _d, ...rest }: FapiClientInfo["privateJwk"]) => ({ ...rest, use: "sig" })

/** The clients as the simulator registers them. */
export const simulatedClients = (
  setup: FapiSetup,
  endpointOf: (mode: "POLL" | "PING") => string | undefined
): ReadonlyArray<AuthleteSimulator.SimulatedClient> =>
  setup.clients.map((client) => {
    const endpoint = endpointOf(client.deliveryMode)
    return {
      clientId: client.clientId,
      clientIdAlias: nameOf(client),
      // Registered, never accepted: a key or certificate client that sends a secret fails.
      clientSecret: Crypto.randomBytes(32).toString("base64url"),
      clientName: `Playground FAPI ${client.deliveryMode} client (${client.authMethod})`,
      deliveryMode: client.deliveryMode,
      ...(endpoint === undefined ? {} : { clientNotificationEndpoint: endpoint }),
      tokenAuthMethod: client.authMethod === "private_key_jwt" ? "PRIVATE_KEY_JWT" : "TLS_CLIENT_AUTH",
      jwks: { keys: [publicJwkOf(client.privateJwk)] },
      ...(client.authMethod === "tls_client_auth"
        ? { tlsClientAuthSubjectDn: subjectDnOf(client.certificate) }
        : {}),
      tlsClientCertificateBoundAccessTokens: true,
      requestObjectRequired: true,
      fapi: true
    }
  })

/** The certificate's subject in RFC 4514 order (most specific first), as Authlete's console takes it. */
const subjectDnOf = (certificate: string) =>
  new Crypto.X509Certificate(certificate).subject.split("\n").reverse().join(", ")

/** The same listener serves mutual TLS: the aliases are the endpoints themselves. */
export const mtlsAliasesOf = (issuer: string) => ({
  token_endpoint: `${issuer}/token`,
  backchannel_authentication_endpoint: `${issuer}/backchannel`
})

/** The plain profile's clients: POLL, PING and PUSH with secrets, and user codes where asked. */
export const plainClients = (
  userCodeRequired: ReadonlyArray<"POLL" | "PING" | "PUSH">,
  endpointOf: (mode: "POLL" | "PING" | "PUSH") => string | undefined
): ReadonlyArray<AuthleteSimulator.SimulatedClient> =>
  (["POLL", "PING", "PUSH"] as const).map((deliveryMode, i) => {
    const endpoint = endpointOf(deliveryMode)
    return {
      clientId: 1001 + i,
      clientIdAlias: `${deliveryMode.toLowerCase()}-client`,
      clientSecret: `${deliveryMode.toLowerCase()}-secret-${crypto.randomUUID()}`,
      clientName: `Playground ${deliveryMode} client`,
      deliveryMode,
      ...(endpoint === undefined ? {} : { clientNotificationEndpoint: endpoint }),
      ...(userCodeRequired.includes(deliveryMode) ? { userCodeRequired: true } : {})
    }
  })
