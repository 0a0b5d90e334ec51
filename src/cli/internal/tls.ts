/**
 * The TLS flags, shared by `serve` and `playground`: HTTPS with the server's certificate and key,
 * client certificates requested on the same listener (mutual TLS, verified by Authlete, as FAPI
 * deployments do), or, behind a TLS-terminating proxy, the header it puts the client's certificate
 * in and the proxies trusted to. Read into the Node server's options and `CibaRoutes`' certificate
 * source; nothing here loads at `--help`.
 */
import type { Flag } from "./commands.js"

export const TLS_FLAGS = [
  {
    name: "tls-cert",
    type: "string",
    value: "FILE",
    description: "Serve HTTPS with this certificate (PEM, with its chain)"
  },
  { name: "tls-key", type: "string", value: "FILE", description: "The certificate's private key (PEM)" },
  {
    name: "client-ca",
    type: "string",
    value: "FILE",
    description: "Ask clients for certificates issued by these CAs (PEM); Authlete verifies them (mutual TLS)"
  },
  {
    name: "client-certificate-header",
    type: "string",
    value: "NAME",
    description: "Behind a TLS-terminating proxy: the header with the client's certificate (PEM or URL-encoded PEM)"
  },
  {
    name: "trusted-proxy",
    type: "strings",
    value: "ADDRESS",
    description: "An address whose --client-certificate-header is believed (repeatable)"
  }
] as const satisfies ReadonlyArray<Flag>

export interface TlsFlags {
  readonly tlsCert?: string | undefined
  readonly tlsKey?: string | undefined
  readonly clientCa?: string | undefined
  readonly clientCertificateHeader?: string | undefined
  readonly trustedProxy: ReadonlyArray<string>
}

/** What the flags ask for, or every problem with them. */
export const tlsProblems = (flags: TlsFlags): ReadonlyArray<string> => {
  const problems: Array<string> = []
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    problems.push("--tls-cert and --tls-key go together")
  }
  if (flags.clientCa !== undefined && flags.tlsCert === undefined) {
    problems.push("--client-ca needs --tls-cert and --tls-key (mutual TLS is on the HTTPS listener)")
  }
  if ((flags.clientCertificateHeader === undefined) !== (flags.trustedProxy.length === 0)) {
    problems.push(
      "--client-certificate-header and --trusted-proxy go together: a header is believed only from the proxies named"
    )
  }
  return problems
}
