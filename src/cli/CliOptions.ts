/**
 * What the commands share once they run: how a failure is told (one paragraph, a failing exit code,
 * never a stack; a missing optional peer as the one line that installs it), logs on stderr (stdout
 * carries only what the command prints), and the Node runtime (SIGINT and SIGTERM interrupt).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import { installCommand, installedWith, missingPeerOf } from "../internal/peers.js"
import { type CommandName, PROGRAM } from "./internal/args.js"

export const list = (value: string): ReadonlyArray<string> =>
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
export const explain = (error: unknown): string => {
  if (ConfigError.isConfigError(error)) {
    const missing = [...new Set(missingVariables(error))]
    return missing.length > 0
      ? `Authlete is not configured: set ${missing.join(", ")} (AUTHLETE_API_VERSION=V2 uses ` +
        "AUTHLETE_SERVICE_APIKEY and AUTHLETE_SERVICE_APISECRET instead of the access token)."
      : `Authlete's configuration is invalid: ${String(error).replace(/^\(?ConfigError\)?:?\s*/, "")}`
  }
  return error instanceof Error
    ? `${error.name === "Error" || error.name === "ServeError" ? "" : `${error.name}: `}${error.message}`
    : String(error)
}

/** The line that tells a command needs an optional peer that is not installed. */
export const missingPeerLine = (command: CommandName, packageName: string, install: string): string =>
  `${PROGRAM}: ${command} needs ${packageName}, which is not installed: ${install}`

/** The missing optional peer a failure comes down to, if any: a `MissingPeerError`, or a module not found. */
const missingPeer = (command: CommandName, cause: Cause.Cause<unknown>) => {
  for (const failure of Cause.failures(cause)) {
    if (
      typeof failure === "object" && failure !== null && (failure as { _tag?: unknown })._tag === "MissingPeerError"
    ) {
      const { install, packageName } = failure as unknown as { packageName: string; install: string }
      return { packageName, install }
    }
  }
  for (const defect of [...Cause.failures(cause), ...Cause.defects(cause)]) {
    const name = missingPeerOf(defect)
    if (name !== undefined) {
      return { packageName: name, install: installCommand(installedWith(name, command === "serve")) }
    }
  }
  return undefined
}

/**
 * Prints the failure and sets the exit code (2 for a missing optional peer, 1 otherwise) instead of
 * a stack trace. An interruption (Ctrl-C, SIGTERM) is no failure.
 */
export const reportFailure = (command: CommandName) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchAllCause(effect, (cause) => {
    if (Cause.isInterruptedOnly(cause)) return Effect.void
    const peer = missingPeer(command, cause)
    return Effect.zipRight(
      Console.error(
        peer === undefined
          ? `${PROGRAM}: ${explain(Cause.squash(cause))}`
          : missingPeerLine(command, peer.packageName, peer.install)
      ),
      Effect.sync(() => {
        process.exitCode = peer === undefined ? 1 : 2
      })
    )
  })

/** The code of an error or of one in its `cause` chain (`EADDRINUSE`, ...). */
const errorCode = (error: unknown): string | undefined => {
  for (let current = error, depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { readonly cause?: unknown }).cause
  }
  return undefined
}

/** "port N is in use" rather than a listening error without a message. */
export const listening =
  (requested: number) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Error, R> =>
    Effect.catchAllCause(effect, (cause): Effect.Effect<never, E | Error> => {
      const code = errorCode(Cause.squash(cause))
      return code === "EADDRINUSE"
        ? Effect.fail(new Error(`port ${requested} is in use`))
        : code === "EACCES"
        ? Effect.fail(new Error(`port ${requested} needs privileges this process does not have`))
        : Effect.failCause(cause)
    })

const stderrLogger = Logger.prettyLogger({ stderr: true })

/** Every log line on stderr: stdout holds only what a command prints (one JSON line with --json). */
export const logsToStderr = Layer.merge(
  Logger.replace(Logger.defaultLogger, stderrLogger),
  Logger.replace(Logger.prettyLoggerDefault, stderrLogger)
)

/**
 * Runs a command's program until it ends, or until SIGINT or SIGTERM interrupts it; its failures
 * told by `reportFailure`, its logs on stderr.
 */
export const runCommand = (command: CommandName, program: Effect.Effect<unknown, unknown>): void =>
  program.pipe(
    reportFailure(command),
    Effect.provide(logsToStderr),
    NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
  )
