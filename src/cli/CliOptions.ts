/**
 * What the commands share: their options (ports, optional values), and how a failure is told (one
 * paragraph, a failing exit code, never a stack).
 */
import { Options, ValidationError } from "@effect/cli"
import { Cause, ConfigError, Console, Effect } from "effect"

export const VARIABLES = "AUTHLETE_BASE_URL, AUTHLETE_API_VERSION (V3 unless V2), AUTHLETE_SERVICE_APIKEY " +
  "(the service id in v3), AUTHLETE_SERVICE_ACCESSTOKEN (v3), AUTHLETE_SERVICE_APISECRET (v2)"

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
const explain = (error: unknown): string => {
  if (ConfigError.isConfigError(error)) {
    const missing = [...new Set(missingVariables(error))]
    return missing.length > 0
      ? `Authlete is not configured: set ${missing.join(", ")} (AUTHLETE_API_VERSION=V2 uses ` +
        "AUTHLETE_SERVICE_APIKEY and AUTHLETE_SERVICE_APISECRET instead of the access token)."
      : `Authlete's configuration is invalid: ${String(error).replace(/^\(?ConfigError\)?:?\s*/, "")}`
  }
  return error instanceof Error ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}` : String(error)
}

/** Prints the failure and sets a failing exit code, instead of a stack trace. */
export const reportFailure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchAllCause(effect, (cause) =>
    Cause.isInterruptedOnly(cause) ? Effect.void : Effect.zipRight(
      Console.error(`effect-authlete: ${explain(Cause.squash(cause))}`),
      Effect.sync(() => {
        process.exitCode = 1
      })
    ))

export const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)
export const optionalInteger = (name: string, description: string) =>
  Options.integer(name).pipe(Options.withDescription(description), Options.optional)

/** A TCP port, 0 meaning "any free one". */
export const port = (description: string) =>
  Options.integer("port").pipe(
    Options.withDescription(description),
    Options.withDefault(0),
    Options.mapEffect((value) =>
      Number.isSafeInteger(value) && value >= 0 && value <= 65_535
        ? Effect.succeed(value)
        : Effect.fail(ValidationError.invalidValue({
          _tag: "Paragraph",
          value: { _tag: "Text", value: `port must be 0–65535, not ${value}` }
        } as never))
    )
  )

/** The `code` of an error or of one in its `cause` chain (`EADDRINUSE`, ...). */
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
