#!/usr/bin/env node
/**
 * The `effect-authlete` command line: `complete` sends one completion to Authlete (configured from
 * the `AUTHLETE_*` environment), `simulate` runs the CIBA simulator in the foreground, `serve` runs
 * one node of a durable authorization server, and `demo` runs the whole CIBA flow against the
 * simulator (what `npm start` runs).
 */
import { Command, Options } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, ConfigError, Console, Effect, Layer, Option } from "effect"
import {
  AuthleteClient,
  BackchannelAuthenticationCompleteResult,
  ClientNotifier,
  completeBackchannelAuthentication,
  type CompleteBackchannelAuthenticationInput
} from "../index.js"
import { UndiciTransport } from "../undici/index.js"
import { DemoLive, runDemo } from "./Demo.js"
import { serve } from "./Serve.js"
import { simulate } from "./Simulate.js"

const list = (value: string): ReadonlyArray<string> =>
  value.split(",").map((item) => item.trim()).filter((item) => item !== "")

/** The names of the variables a `ConfigError` says are missing. */
const missingVariables = (error: ConfigError.ConfigError): ReadonlyArray<string> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...missingVariables(error.left), ...missingVariables(error.right)]
    case "MissingData":
      return [error.path.join("_")]
    default:
      return []
  }
}

/** A failure as one readable paragraph, never with a stack (and never with a secret: errors hold none). */
const explain = (error: unknown): string => {
  if (ConfigError.isConfigError(error)) {
    const missing = missingVariables(error)
    return missing.length > 0
      ? `Authlete is not configured: set ${missing.join(", ")} (AUTHLETE_API_VERSION=V2 uses ` +
        "AUTHLETE_SERVICE_APIKEY and AUTHLETE_SERVICE_APISECRET instead of the access token)."
      : `Authlete's configuration is invalid: ${String(error).replace(/^\(?ConfigError\)?:?\s*/, "")}`
  }
  return error instanceof Error ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}` : String(error)
}

/** Prints the failure and sets a failing exit code, instead of a stack trace. */
const reportFailure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchAllCause(effect, (cause) =>
    Effect.zipRight(
      Console.error(`effect-authlete: ${explain(Cause.squash(cause))}`),
      Effect.sync(() => {
        process.exitCode = 1
      })
    ))

const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)
const optionalInteger = (name: string, description: string) =>
  Options.integer(name).pipe(Options.withDescription(description), Options.optional)

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
      Options.repeated
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
      const input: CompleteBackchannelAuthenticationInput = {
        ticket: flags.ticket,
        result: flags.result,
        subject: flags.subject,
        ...Option.match(flags.sub, { onNone: () => ({}), onSome: (sub) => ({ sub }) }),
        ...Option.match(flags.authTime, { onNone: () => ({}), onSome: (authTime) => ({ authTime }) }),
        ...Option.match(flags.acr, { onNone: () => ({}), onSome: (acr) => ({ acr }) }),
        ...(flags.claims.length === 0 ? {} : { claims: flags.claims }),
        ...Option.match(flags.scopes, { onNone: () => ({}), onSome: (scopes) => ({ scopes: list(scopes) }) }),
        ...Option.match(flags.consentedClaims, {
          onNone: () => ({}),
          onSome: (claims) => ({ consentedClaims: list(claims) })
        }),
        ...Option.match(flags.errorDescription, { onNone: () => ({}), onSome: (text) => ({ errorDescription: text }) }),
        ...Option.match(flags.errorUri, { onNone: () => ({}), onSome: (errorUri) => ({ errorUri }) }),
        ...Option.match(flags.accessTokenDuration, { onNone: () => ({}), onSome: (n) => ({ accessTokenDuration: n }) }),
        ...Option.match(flags.refreshTokenDuration, {
          onNone: () => ({}),
          onSome: (n) => ({ refreshTokenDuration: n })
        })
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
        Layer.mergeAll(AuthleteClient.layerConfig(), ClientNotifier.layer()).pipe(
          Layer.provide(UndiciTransport.layer)
        )
      ),
      reportFailure
    )
).pipe(Command.withDescription("Send one completion to Authlete, configured from the AUTHLETE_* environment"))

const demo = Command.make("demo", {}, () => runDemo.pipe(Effect.provide(DemoLive), reportFailure)).pipe(
  Command.withDescription("Run every CIBA delivery mode and result against the simulator, and check them")
)

const cli = Command.make("effect-authlete").pipe(
  Command.withDescription("Authlete CIBA completion from the command line"),
  Command.withSubcommands([
    complete,
    simulate.pipe(Command.transformHandler(reportFailure)),
    serve.pipe(Command.transformHandler(reportFailure)),
    demo
  ])
)

Command.run(cli, { name: "effect-authlete", version: "0.1.0" })(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: false })
)
