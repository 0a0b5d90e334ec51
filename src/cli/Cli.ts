/**
 * The `effect-authlete` commands: `complete` sends one completion to Authlete (configured from the
 * `AUTHLETE_*` environment), `simulate` runs the CIBA simulator in the foreground, `playground` runs
 * the simulator with an authorization server built from this library, and `demo` runs every flow
 * through them with openid-client as the client (what `npm start` runs).
 */
import { Command, Options, ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Option } from "effect"
import {
  AuthleteClient,
  BackchannelAuthenticationCompleteResult,
  ClientNotifier,
  completeBackchannelAuthentication,
  type CompleteBackchannelAuthenticationInput
} from "../index.js"
import { pages, pageUrls, Playground, type PlaygroundInfo } from "../playground/index.js"
import { UndiciTransport } from "../undici/index.js"
import { list, listening, optionalInteger, optionalText, port, reportFailure, VARIABLES } from "./CliOptions.js"
import { runDemo } from "./Demo.js"
import { serve } from "./Serve.js"
import { simulate } from "./Simulate.js"

const complete = Command.make(
  "complete",
  {
    ticket: Options.text("ticket").pipe(Options.withDescription("The ticket from /backchannel/authentication")),
    result: Options.choice("result", BackchannelAuthenticationCompleteResult.literals).pipe(
      Options.withDescription("What the user decided")
    ),
    subject: Options.text("subject").pipe(Options.withDescription("The user's unique identifier")),
    sub: optionalText("sub", "The sub claim of the ID token, when it differs from the subject"),
    authTime: optionalInteger("auth-time", "When the user authenticated, in seconds since the epoch"),
    acr: optionalText("acr", "The authentication context class reference"),
    claims: Options.text("claims").pipe(
      Options.withDescription("Claims as a JSON object; repeat to merge several, later ones winning"),
      Options.repeated,
      Options.optional
    ),
    scopes: optionalText("scopes", "Comma-separated scopes replacing the requested ones (must include openid)"),
    consentedClaims: optionalText("consented-claims", "Comma-separated claims the user consented to share"),
    errorDescription: optionalText("error-description", "Why, when the result is not AUTHORIZED"),
    errorUri: optionalText("error-uri", "A page explaining the error, when the result is not AUTHORIZED"),
    accessTokenDuration: optionalInteger("access-token-duration", "Access token lifetime in seconds (PUSH)"),
    refreshTokenDuration: optionalInteger("refresh-token-duration", "Refresh token lifetime in seconds (PUSH)")
  },
  (flags) =>
    Effect.gen(function*() {
      const some = <A, B extends object>(option: Option.Option<A>, make: (value: A) => B): Partial<B> =>
        Option.match(option, { onNone: (): Partial<B> => ({}), onSome: make })
      const claims = Option.getOrElse(flags.claims, () => [])
      const input: CompleteBackchannelAuthenticationInput = {
        ticket: flags.ticket,
        result: flags.result,
        subject: flags.subject,
        ...some(flags.sub, (sub) => ({ sub })),
        ...some(flags.authTime, (authTime) => ({ authTime })),
        ...some(flags.acr, (acr) => ({ acr })),
        ...(claims.length === 0 ? {} : { claims }),
        ...some(flags.scopes, (scopes) => ({ scopes: list(scopes) })),
        ...some(flags.consentedClaims, (names) => ({ consentedClaims: list(names) })),
        ...some(flags.errorDescription, (errorDescription) => ({ errorDescription })),
        ...some(flags.errorUri, (errorUri) => ({ errorUri })),
        ...some(flags.accessTokenDuration, (accessTokenDuration) => ({ accessTokenDuration })),
        ...some(flags.refreshTokenDuration, (refreshTokenDuration) => ({ refreshTokenDuration }))
      }
      const outcome = yield* completeBackchannelAuthentication(input)
      const { action, resultCode, resultMessage } = outcome.response
      yield* Console.log(
        `outcome:     ${outcome._tag === "Notified" ? `Notified (the client answered ${outcome.status})` : "NoAction"}`
      )
      yield* Console.log(`action:      ${action ?? ""}`)
      yield* Console.log(`result code: ${resultCode ?? ""}`)
      yield* Console.log(`message:     ${resultMessage ?? ""}`)
    }).pipe(
      Effect.provide(
        Layer.mergeAll(AuthleteClient.layerConfig(), ClientNotifier.layer()).pipe(Layer.provide(UndiciTransport.layer))
      ),
      reportFailure
    )
).pipe(Command.withDescription(`Send one completion to Authlete, configured from the environment: ${VARIABLES}`))

const printInfo = (info: PlaygroundInfo, json: boolean) =>
  json
    ? Console.log(JSON.stringify({
      issuer: info.issuer,
      clients: info.clients,
      users: info.users.map((user) => user.loginHints),
      automatedApprovalUrl: info.automatedApprovalUrl,
      ...pageUrls(info.issuer)
    }))
    : Effect.gen(function*() {
      yield* Console.log("The CIBA playground is running: an authorization server built from effect-authlete,")
      yield* Console.log("in front of the Authlete CIBA simulator (not Authlete).\n")
      const { clientUrl, deviceUrl } = pageUrls(info.issuer)
      yield* Console.log(`  clientUrl     ${clientUrl}   (the consumption device: start a request)`)
      yield* Console.log(`  deviceUrl     ${deviceUrl}   (the authentication device: approve or deny)`)
      yield* Console.log(`  issuer        ${info.issuer}`)
      yield* Console.log(`  discovery     ${info.issuer}/.well-known/openid-configuration`)
      yield* Console.log(`  approval      POST ${info.automatedApprovalUrl}`)
      yield* Console.log("  clients (client_secret_basic):")
      for (const client of info.clients) {
        const endpoint = client.notificationEndpoint === undefined ? "" : ` -> ${client.notificationEndpoint}`
        yield* Console.log(`    ${client.deliveryMode}  ${client.clientId}  secret ${client.clientSecret}${endpoint}`)
      }
      yield* Console.log("  users (login hint, name, user code):")
      for (const user of info.users) {
        yield* Console.log(`    ${user.loginHints.join(" / ")}  ${user.name ?? ""}  ${user.userCode}`)
      }
      yield* Console.log("\nCtrl-C stops.")
    })

const playground = Command.make(
  "playground",
  {
    port: port("The authorization server's port on 127.0.0.1 (0: any free one)"),
    interval: Options.integer("interval").pipe(
      Options.withDescription("Seconds a client waits between polls"),
      Options.withDefault(5)
    ),
    pingEndpoint: optionalText("ping-endpoint", "The PING client's notification endpoint"),
    pushEndpoint: optionalText("push-endpoint", "The PUSH client's notification endpoint"),
    userCode: Options.choice("user-code", ["POLL", "PING", "PUSH"] as const).pipe(
      Options.repeated,
      Options.withDescription("A delivery mode whose client requires a user_code (repeatable; default PING)")
    ),
    json: Options.boolean("json").pipe(Options.withDescription("Print one JSON line with the URLs and clients"))
  },
  (flags) =>
    Effect.gen(function*() {
      const info = yield* Playground
      yield* printInfo(info, flags.json)
      return yield* Effect.never
    }).pipe(
      Effect.provide(Playground.layer({
        port: flags.port,
        interval: flags.interval,
        pingEndpoint: Option.getOrUndefined(flags.pingEndpoint),
        pushEndpoint: Option.getOrUndefined(flags.pushEndpoint),
        userCodeRequired: flags.userCode.length > 0 ? flags.userCode : ["PING"],
        routes: pages()
      })),
      listening(flags.port),
      reportFailure
    )
).pipe(Command.withDescription("Run the simulator and an authorization server built from effect-authlete on loopback"))

const demo = Command.make("demo", {}, () => runDemo.pipe(reportFailure)).pipe(
  Command.withDescription("Run every CIBA delivery mode through the playground with openid-client, and check them")
)

const cli = Command.make("effect-authlete").pipe(
  Command.withDescription("Authlete CIBA for Effect, from the command line"),
  Command.withSubcommands([complete, simulate, serve, playground, demo])
)

// Help and errors are plain text when they do not go to a terminal, or when NO_COLOR asks; usage
// lines name the program.
const plain = !process.stdout.isTTY || (process.env.NO_COLOR ?? "") !== ""
const ANSI = new RegExp(String.raw`\u001b\[[0-9;]*m`, "g")
const tidy = (args: ReadonlyArray<unknown>) =>
  args.map((arg) => {
    if (typeof arg !== "string") return arg
    const text = arg.replace(/^\$ (?!effect-authlete\b)/gm, "$ effect-authlete ")
    return plain ? text.replace(ANSI, "") : text
  })
const tidied = (base: Console.Console): Console.Console => ({
  ...base,
  log: (...args) => base.log(...tidy(args)),
  error: (...args) => base.error(...tidy(args)),
  unsafe: {
    ...base.unsafe,
    log: (...args) => base.unsafe.log(...tidy(args)),
    error: (...args) => base.unsafe.error(...tidy(args))
  }
})

Command.run(cli, { name: "effect-authlete", version: "0.1.0" })(process.argv).pipe(
  // @effect/cli printed what was wrong with the arguments already.
  Effect.catchIf(ValidationError.isValidationError, () =>
    Effect.sync(() => {
      process.exitCode = 1
    })),
  (program) => Effect.flatMap(Effect.console, (base) => Effect.withConsole(program, tidied(base))),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
