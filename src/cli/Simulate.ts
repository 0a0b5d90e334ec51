/**
 * `effect-authlete simulate`: the CIBA simulator in the foreground, for local authorization servers
 * (`effect-authlete serve`) and tests: a fixed service id and token when asked, a POLL, a PING and
 * a PUSH client with the notification endpoints given, the interval, the URLs the discovery
 * document names, and a journal of every API call it carried out.
 */
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { createHash, randomBytes } from "node:crypto"
import { appendFileSync } from "node:fs"
import { AuthleteSimulator } from "../simulator/index.js"
import { listening, runCommand } from "./CliOptions.js"
import type { ValuesOf } from "./internal/args.js"

/** POLL 3001, PING 3002 and PUSH 3003, with fresh secrets, the endpoints given, and user codes where asked. */
const clientsOf = (
  endpoints: { readonly ping: string | undefined; readonly push: string | undefined },
  userCodeRequired: ReadonlyArray<"POLL" | "PING" | "PUSH">
) =>
  (["POLL", "PING", "PUSH"] as const).map((deliveryMode, i): AuthleteSimulator.SimulatedClient => {
    const endpoint = deliveryMode === "PING"
      ? endpoints.ping
      : deliveryMode === "PUSH"
      ? endpoints.push
      : undefined
    return {
      clientId: 3001 + i,
      clientIdAlias: `${deliveryMode.toLowerCase()}-client`,
      clientSecret: randomBytes(32).toString("base64url"),
      clientName: `Simulated ${deliveryMode} client`,
      deliveryMode,
      ...(userCodeRequired.includes(deliveryMode) ? { userCodeRequired: true } : {}),
      ...(endpoint === undefined ? {} : { clientNotificationEndpoint: endpoint })
    }
  })

const field = (value: unknown, name: string): unknown =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>)[name] : undefined

const text = (value: unknown): string | undefined => typeof value === "string" ? value : undefined

/** A ticket as the journal shows it: a digest, enough to follow it from call to call. */
const digest = (ticket: string | undefined) =>
  ticket === undefined ? undefined : createHash("sha256").update(ticket).digest("base64url").slice(0, 22)

/**
 * One journal line: which API, when, the ticket's digest, the auth_req_id, the result asked for,
 * whether a client certificate came with the request, and the answer's status, result code and
 * action. No token, secret or ticket is written.
 */
const journalLine = (exchange: AuthleteSimulator.SimulatedExchange, at: number): string =>
  JSON.stringify({
    at,
    api: exchange.api,
    ticket: digest(text(field(exchange.request, "ticket")) ?? text(field(exchange.body, "ticket"))),
    authReqId: text(field(exchange.body, "authReqId")),
    result: text(field(exchange.request, "result")),
    // Whether the authorization server passed a client certificate (mutual TLS), not the certificate.
    clientCertificate: text(field(exchange.request, "clientCertificate")) !== undefined,
    status: exchange.status,
    resultCode: text(field(exchange.body, "resultCode")),
    action: text(field(exchange.body, "action"))
  })

/**
 * The `simulate` command's program.
 */
export const program = (flags: ValuesOf<"simulate">) => {
  const optional = <K extends keyof AuthleteSimulator.AuthleteSimulatorOptions>(
    key: K,
    value: AuthleteSimulator.AuthleteSimulatorOptions[K] | undefined
  ) => (value === undefined ? {} : { [key]: value }) as Partial<AuthleteSimulator.AuthleteSimulatorOptions>
  const journal = flags.journal
  const options: AuthleteSimulator.AuthleteSimulatorOptions = {
    port: flags.port,
    clients: clientsOf({ ping: flags.pingEndpoint, push: flags.pushEndpoint }, flags.userCode),
    ...optional("serviceId", flags.serviceId),
    ...optional("accessToken", flags.accessToken === undefined ? undefined : Redacted.make(flags.accessToken)),
    ...optional("interval", flags.interval),
    ...optional("authReqIdLifetime", flags.authReqIdLifetime),
    ...optional("issuer", flags.issuer),
    ...optional("tokenEndpoint", flags.tokenEndpoint),
    ...optional("backchannelAuthenticationEndpoint", flags.backchannelEndpoint),
    ...optional("jwksUri", flags.jwksUri),
    ...(journal === undefined ? {} : {
      onAnswer: (exchange: AuthleteSimulator.SimulatedExchange) =>
        Effect.sync(() => appendFileSync(journal, `${journalLine(exchange, Date.now())}\n`))
    })
  }
  return Effect.gen(function*() {
    const simulator = yield* AuthleteSimulator.AuthleteSimulator
    const clients = yield* simulator.clients
    if (flags.latency !== undefined) yield* simulator.delay(Duration.millis(flags.latency))
    // Printing the token is the point here: another local server is to use it. It is the simulator's own.
    const token = Redacted.value(simulator.accessToken)
    if (flags.json) {
      yield* Console.log(JSON.stringify({
        baseUrl: simulator.baseUrl,
        serviceId: simulator.serviceId,
        accessToken: token,
        clients: clients.map((client) => ({
          clientId: String(client.clientId),
          clientSecret: client.clientSecret,
          deliveryMode: client.deliveryMode,
          notificationEndpoint: client.clientNotificationEndpoint
        }))
      }))
      return yield* Effect.never
    }
    yield* Console.log("The Authlete CIBA simulator is running (a simulator of documented behaviour, not Authlete).")
    yield* Console.log(`AUTHLETE_BASE_URL=${simulator.baseUrl}`)
    yield* Console.log(`AUTHLETE_SERVICE_APIKEY=${simulator.serviceId}`)
    yield* Console.log(`AUTHLETE_SERVICE_ACCESSTOKEN=${token}`)
    for (const client of clients) {
      yield* Console.log(
        `client ${client.clientId} (${client.deliveryMode}): secret ${client.clientSecret}${
          client.clientNotificationEndpoint === undefined
            ? ""
            : `, notifications to ${client.clientNotificationEndpoint}`
        }`
      )
    }
    yield* Console.log("For a whole CIBA flow on this machine, run `effect-authlete playground`. Ctrl-C stops.")
    return yield* Effect.never
  }).pipe(Effect.provide(AuthleteSimulator.layer(options)), listening(flags.port))
}

/**
 * The `simulate` command.
 */
export const run = (flags: ValuesOf<"simulate">): void => runCommand("simulate", program(flags))
