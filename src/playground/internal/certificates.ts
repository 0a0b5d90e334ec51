/**
 * The playground's own public key infrastructure for the FAPI-CIBA profile: a certificate authority
 * made at start, a server certificate for 127.0.0.1 and localhost, and client certificates for mutual
 * TLS. Keys come from Node's `crypto`; `node-forge` (an optional peer, loaded only here) writes the
 * X.509 certificates, which Node cannot. Nothing here is for production: the CA's key lives in the
 * process and is forgotten when it ends.
 */
import * as Crypto from "node:crypto"

/** A certificate and its private key, both PEM. */
export interface Issued {
  readonly certificate: string
  readonly privateKey: string
}

/** The CA with what it issued. */
export interface PlaygroundPki {
  readonly ca: Issued
  readonly server: Issued
  /** Client certificates, by the common name asked for. */
  readonly clients: Readonly<Record<string, Issued>>
}

type Forge = typeof import("node-forge")

const rsaKeys = () =>
  Crypto.generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" }
  })

/** Validity: from an hour ago (clocks differ) for a week (the playground is not left running longer). */
const VALIDITY_MILLIS = 7 * 24 * 60 * 60 * 1000

const issue = (
  forge: Forge,
  options: {
    readonly commonName: string
    readonly serial: number
    readonly issuer?: { readonly certificate: import("node-forge").pki.Certificate; readonly privateKey: string }
    readonly extensions: ReadonlyArray<object>
  }
): Issued & { readonly forgeCertificate: import("node-forge").pki.Certificate } => {
  const keys = rsaKeys()
  const certificate = forge.pki.createCertificate()
  certificate.publicKey = forge.pki.publicKeyFromPem(keys.publicKey)
  // Serial numbers are positive: a leading 0x01 keeps the random bytes from reading as negative.
  certificate.serialNumber = `01${Crypto.randomBytes(15).toString("hex")}${
    options.serial.toString(16).padStart(2, "0")
  }`
  certificate.validity.notBefore = new Date(Date.now() - 60 * 60 * 1000)
  certificate.validity.notAfter = new Date(Date.now() + VALIDITY_MILLIS)
  const subject = [{ name: "commonName", value: options.commonName }, {
    name: "organizationName",
    value: "effect-authlete playground"
  }]
  certificate.setSubject(subject)
  certificate.setIssuer(options.issuer === undefined ? subject : options.issuer.certificate.subject.attributes)
  certificate.setExtensions([...options.extensions])
  const signer = options.issuer?.privateKey ?? keys.privateKey
  certificate.sign(forge.pki.privateKeyFromPem(signer), forge.md.sha256.create())
  return {
    certificate: forge.pki.certificateToPem(certificate),
    privateKey: keys.privateKey,
    forgeCertificate: certificate
  }
}

/** Makes a CA, a server certificate for 127.0.0.1 and localhost, and one client certificate per common name. */
export const makePki = async (clientNames: ReadonlyArray<string>): Promise<PlaygroundPki> => {
  const forge = (await import("node-forge")).default as Forge
  const ca = issue(forge, {
    commonName: "effect-authlete playground CA",
    serial: 1,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true }
    ]
  })
  const issuer = { certificate: ca.forgeCertificate, privateKey: ca.privateKey }
  const server = issue(forge, {
    commonName: "127.0.0.1",
    serial: 2,
    issuer,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }, { type: 2, value: "localhost" }] }
    ]
  })
  const clients: Record<string, Issued> = {}
  for (const [index, name] of clientNames.entries()) {
    const client = issue(forge, {
      commonName: name,
      serial: 3 + index,
      issuer,
      extensions: [{ name: "basicConstraints", cA: false }, { name: "extKeyUsage", clientAuth: true }]
    })
    clients[name] = { certificate: client.certificate, privateKey: client.privateKey }
  }
  return {
    ca: { certificate: ca.certificate, privateKey: ca.privateKey },
    server: { certificate: server.certificate, privateKey: server.privateKey },
    clients
  }
}
