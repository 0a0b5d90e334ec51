/**
 * `effect-authlete playground`: the simulator and an authorization server built from this library
 * on loopback, with the pages; it prints where everything is (as text, or one JSON line) and serves
 * until SIGINT or SIGTERM.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import { pages, pageUrls } from "../playground/Pages.js"
import * as Playground from "../playground/Playground.js"
import { listening, runCommand } from "./CliOptions.js"
import type { ValuesOf } from "./internal/args.js"
import { limitsOf } from "./internal/limits.js"
import { tlsProblems } from "./internal/tls.js"

/** The one line `--json` prints: every field named, nothing positional. */
export const playgroundJson = (info: Playground.PlaygroundInfo) => {
  const { clientUrl, deviceUrl } = pageUrls(info.issuer)
  return {
    issuer: info.issuer,
    backchannelAuthenticationEndpoint: info.backchannelAuthenticationEndpoint,
    tokenEndpoint: info.tokenEndpoint,
    jwksUri: info.jwksUri,
    deviceUrl,
    clientUrl,
    automatedApprovalUrl: info.automatedApprovalUrl,
    ...(info.mtlsEndpointAliases === undefined ? {} : { mtlsEndpointAliases: info.mtlsEndpointAliases }),
    ...(info.caCertificate === undefined ? {} : { caCertificate: info.caCertificate }),
    ...(info.resourceUrl === undefined ? {} : { resourceUrl: info.resourceUrl }),
    clients: info.clients.map((client) => ({
      clientId: client.clientId,
      authMethod: client.authMethod,
      // A FAPI client's registered secret is refused: it is not told.
      clientSecret: client.authMethod === "client_secret_basic" ? client.clientSecret : null,
      deliveryMode: client.deliveryMode,
      notificationEndpoint: client.notificationEndpoint ?? null,
      requiresUserCode: client.requiresUserCode,
      ...(client.privateJwk === undefined ? {} : { privateJwk: client.privateJwk }),
      ...(client.certificate === undefined ? {} : { certificate: client.certificate, privateKey: client.privateKey })
    })),
    users: info.users.map((user) => ({
      subject: user.subject,
      name: user.name ?? null,
      loginHints: user.loginHints,
      userCode: user.userCode
    }))
  }
}

const printText = (info: Playground.PlaygroundInfo) =>
  Effect.gen(function*() {
    yield* Console.log("The CIBA playground is running: an authorization server built from effect-authlete,")
    yield* Console.log("in front of the Authlete CIBA simulator (not Authlete).\n")
    const { clientUrl, deviceUrl } = pageUrls(info.issuer)
    yield* Console.log(`  clientUrl     ${clientUrl}   (the consumption device: start a request)`)
    yield* Console.log(`  deviceUrl     ${deviceUrl}   (the authentication device: approve or deny)`)
    yield* Console.log(`  issuer        ${info.issuer}`)
    yield* Console.log(`  discovery     ${info.issuer}/.well-known/openid-configuration`)
    yield* Console.log(`  approval      POST ${info.automatedApprovalUrl}`)
    yield* Console.log("  clients:")
    for (const client of info.clients) {
      const endpoint = client.notificationEndpoint === undefined ? "" : ` -> ${client.notificationEndpoint}`
      const userCode = client.requiresUserCode ? " (requires a user_code)" : ""
      const credentials = client.authMethod === "client_secret_basic"
        ? `secret ${client.clientSecret}`
        : `${client.authMethod} (keys and certificates: --json)`
      yield* Console.log(`    ${client.deliveryMode}  ${client.clientId}  ${credentials}${endpoint}${userCode}`)
    }
    yield* Console.log("  users (login hint, name, user code):")
    for (const user of info.users) {
      yield* Console.log(`    ${user.loginHints.join(" / ")}  ${user.name ?? ""}  ${user.userCode}`)
    }
    yield* Console.log("\nCtrl-C stops.")
  })

/** The TLS files the flags name, read; or every problem with them. */
const tlsOf = (flags: ValuesOf<"playground">) => {
  const problems = [...tlsProblems(flags)]
  if (problems.length > 0 || flags.tlsCert === undefined || flags.tlsKey === undefined) {
    return { problems, tls: undefined }
  }
  const read = (flag: string, file: string) => {
    try {
      return readFileSync(file, "utf8")
    } catch (cause) {
      problems.push(`--${flag} ${file} cannot be read: ${(cause as Error).message}`)
      return ""
    }
  }
  const tls = {
    certificate: read("tls-cert", flags.tlsCert),
    privateKey: read("tls-key", flags.tlsKey),
    ...(flags.clientCa === undefined ? {} : { clientCa: read("client-ca", flags.clientCa) })
  }
  return { problems, tls }
}

export const program = (flags: ValuesOf<"playground">) => {
  const limits = limitsOf(flags)
  const { problems, tls } = tlsOf(flags)
  const all = [...(limits._tag === "Left" ? limits.left : []), ...problems]
  if (limits._tag === "Left" || all.length > 0) return Effect.fail(new Error(all.join("; ")))
  return Effect.gen(function*() {
    const info = yield* Playground.Playground
    yield* flags.json ? Console.log(JSON.stringify(playgroundJson(info))) : printText(info)
    return yield* Effect.never
  }).pipe(
    Effect.provide(Playground.layer({
      port: flags.port,
      interval: flags.interval,
      pingEndpoint: flags.pingEndpoint,
      pushEndpoint: flags.pushEndpoint,
      userCodeRequired: flags.noUserCode ? [] : flags.userCode,
      limits: limits.right,
      profile: flags.profile,
      tls,
      ...(flags.clientCertificateHeader === undefined
        ? {}
        : { clientCertificate: { header: flags.clientCertificateHeader, trustedProxies: flags.trustedProxy } }),
      routes: pages()
    })),
    listening(flags.port)
  )
}

export const run = (flags: ValuesOf<"playground">): void => runCommand("playground", program(flags))
