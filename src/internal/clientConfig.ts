/**
 * `AuthleteClient`'s options read from Effect `Config`: the `AUTHLETE_*` variables of Authlete's SDKs,
 * or the application's own configs. Each option passes its check as it is read, so that an error
 * names the variable that held the bad value.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type { AuthleteClientOptions, AuthleteClientOptionsV2, AuthleteClientOptionsV3 } from "../AuthleteClient.js"
import { type CheckedOption, type CheckedOptions, checkedOptions, checkOption } from "./clientSettings.js"

/** A config whose value must pass an option check; the error names the variable. */
const checked = <Name extends CheckedOption>(
  config: Config.Config<CheckedOptions[Name]>,
  name: Name
): Config.Config<CheckedOptions[Name]> =>
  Config.mapOrFail(config, (value) =>
    Either.mapLeft(
      checkOption(name, value),
      (message) => ConfigError.InvalidData([], message)
    ))

/** A secret read as text, so that its check keeps the variable's name; it is redacted at once. */
const secretVariable = (
  variable: string,
  name: "accessToken" | "apiSecret"
): Config.Config<Redacted.Redacted<string>> =>
  Config.mapOrFail(Config.string(variable), (text) =>
    Either.mapLeft(
      checkOption(name, Redacted.make(text)),
      (message) => ConfigError.InvalidData([], message)
    ))

/** Whether a config error is about `AUTHLETE_API_VERSION` holding another version. */
const isOtherVersion = (error: ConfigError.ConfigError): boolean => {
  switch (error._op) {
    case "And":
    case "Or":
      return isOtherVersion(error.left) || isOtherVersion(error.right)
    case "InvalidData":
      return error.path[error.path.length - 1] === "AUTHLETE_API_VERSION"
    default:
      return false
  }
}

const environmentConfigV3: Config.Config<AuthleteClientOptionsV3> = Config.all({
  apiVersion: Config.literal("V3")("AUTHLETE_API_VERSION").pipe(Config.withDefault("V3" as const)),
  baseUrl: checked(Config.string("AUTHLETE_BASE_URL"), "baseUrl"),
  serviceId: checked(Config.string("AUTHLETE_SERVICE_APIKEY"), "serviceId"),
  accessToken: secretVariable("AUTHLETE_SERVICE_ACCESSTOKEN", "accessToken")
})

const environmentConfigV2: Config.Config<AuthleteClientOptionsV2> = Config.all({
  apiVersion: Config.literal("V2")("AUTHLETE_API_VERSION"),
  baseUrl: checked(Config.string("AUTHLETE_BASE_URL"), "baseUrl"),
  apiKey: checked(Config.string("AUTHLETE_SERVICE_APIKEY"), "apiKey"),
  apiSecret: secretVariable("AUTHLETE_SERVICE_APISECRET", "apiSecret")
})

/**
 * The options from the environment names of Authlete's Java and Python SDKs
 * (`AuthleteClient.environmentConfig`): `AUTHLETE_BASE_URL`, `AUTHLETE_API_VERSION` (`V3` unless
 * `V2`), `AUTHLETE_SERVICE_APIKEY` (the service id in v3), `AUTHLETE_SERVICE_ACCESSTOKEN` (v3) and
 * `AUTHLETE_SERVICE_APISECRET` (v2). Nest it for several tenants:
 * `Config.nested(AuthleteClient.environmentConfig, "TENANT_A")` reads `TENANT_A_AUTHLETE_BASE_URL`...
 */
export const environmentConfig: Config.Config<AuthleteClientOptions> = Config.orElseIf(environmentConfigV3, {
  if: isOtherVersion,
  orElse: () => environmentConfigV2
})

/** Wraps each given field's config in its check, so that an error names that field's variable. */
export const checkedWrap = (
  config: Config.Config.Wrap<AuthleteClientOptions>
): Config.Config<AuthleteClientOptions> => {
  if (Config.isConfig(config)) return config as Config.Config<AuthleteClientOptions>
  const fields: Record<string, unknown> = { ...(config as Record<string, unknown>) }
  for (const name of checkedOptions) {
    const field = fields[name]
    // A field of `Config.Wrap<AuthleteClientOptions>` reads its option's type.
    if (Config.isConfig(field)) fields[name] = checked(field as Config.Config<never>, name)
  }
  return Config.unwrap(fields as Config.Config.Wrap<AuthleteClientOptions>)
}
