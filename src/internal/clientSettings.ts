/**
 * `AuthleteClient`'s options, checked once when the layer is built and turned into the settings every
 * call reads: a bad option fails the layer with a `ConfigError` and never reaches a request. The
 * checks also guard the options read from `Config` (`clientConfig`).
 */
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type * as AuthleteApi from "../AuthleteApi.js"
import type { AuthleteClientOptions } from "../AuthleteClient.js"
import type * as AuthleteError from "../AuthleteError.js"
import { defaultRetrySchedule, isSafeToRepeat, isSafeToRetry } from "./clientRetryRules.js"
import * as Http from "./http.js"
import type * as Retry from "./retry.js"
import * as Transport from "./transport.js"

/** Ours: the default cap on an answer's size. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576

const DEFAULT_BUDGET_MILLIS = 60_000

export interface Settings {
  /** `https://us.authlete.com` */
  readonly origin: string
  /** A base URL's own path, without a trailing slash (`""` for Authlete's own hosts). */
  readonly pathPrefix: string
  /** `/{serviceId}` in v3, `""` in v2. */
  readonly servicePath: string
  /** Authorization and Accept (and Content-Type for POSTs), made once: the credential is written into a header here only. */
  readonly getHeaders: Readonly<Record<string, string>>
  readonly postHeaders: Readonly<Record<string, string>>
  /** The credential in every form it could be echoed in, to remove from anything an error shows. */
  readonly secrets: ReadonlyArray<string>
  readonly timeoutMillis: number
  readonly maxResponseBytes: number
  readonly retry: (api: AuthleteApi.AuthleteApi) => Retry.RetryPolicy<AuthleteError.AuthleteError> | undefined
}

// ----------------------------------------------------------------------------------- option checks

type Check<A> = (value: A) => Either.Either<A, string>

const baseUrlCheck: Check<string> = (value) => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return Either.left("must be an absolute URL such as https://us.authlete.com")
  }
  const unsafe = Http.unsafeUrlReason(url)
  if (unsafe !== undefined) return Either.left(unsafe)
  if (url.search !== "" || url.hash !== "") return Either.left("must not have a query or a fragment")
  return Either.right(value)
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

const identifierCheck = (what: string): Check<string> => (value) =>
  typeof value !== "string" || value === ""
    ? Either.left(`must be ${what}, not empty`)
    : LONE_SURROGATE.test(value)
    ? Either.left(`must be ${what} of well-formed Unicode (it holds a lone surrogate)`)
    : Either.right(value)

const serviceIdCheck: Check<string> = (value) =>
  Either.flatMap(identifierCheck("a service id")(value), (id) =>
    // Percent-encoding keeps `/` inside the segment, but URL parsing still folds "." and ".."
    // segments (even encoded ones), so those are refused outright.
    /^(\.|%2e)+$/i.test(id) ? Either.left("must be a service id, not dots") : Either.right(id))

const secretCheck = (what: string): Check<Redacted.Redacted<string>> => (value) => {
  const text = Redacted.isRedacted(value) ? Redacted.value(value) : undefined
  return typeof text !== "string" || text === ""
    ? Either.left(`must be ${what}, not empty`)
    : Transport.invalidHeader({ value: text }) !== undefined || text.includes("\t") || text.trim() !== text
    ? Either.left(`must be ${what} that an HTTP header can carry (no spaces at the ends, no control characters)`)
    : Either.right(value)
}

/** The options a check guards, each with its type. */
export interface CheckedOptions {
  readonly baseUrl: string
  readonly serviceId: string
  readonly apiKey: string
  readonly accessToken: Redacted.Redacted<string>
  readonly apiSecret: Redacted.Redacted<string>
}

export type CheckedOption = keyof CheckedOptions

const optionChecks: { readonly [Name in CheckedOption]: Check<CheckedOptions[Name]> } = {
  baseUrl: baseUrlCheck,
  serviceId: serviceIdCheck,
  apiKey: identifierCheck("the service API key"),
  accessToken: secretCheck("the service access token"),
  apiSecret: secretCheck("the service API secret")
}

/** The names of the options a check guards. */
export const checkedOptions = Object.keys(optionChecks) as ReadonlyArray<CheckedOption>

/** Checks one option; the message is a sentence that starts with the option's name. */
export const checkOption = <Name extends CheckedOption>(
  name: Name,
  value: CheckedOptions[Name]
): Either.Either<CheckedOptions[Name], string> =>
  Either.mapLeft(optionChecks[name](value), (message) => `${name} ${message}`)

const invalid = (path: string, message: string) => ConfigError.InvalidData([path], `${path} ${message}`)

// ------------------------------------------------------------------------------------------ settings

/** Checks the options once, when the layer is built: a bad option never reaches a request. */
export const settingsFrom = (options: AuthleteClientOptions): Either.Either<Settings, ConfigError.ConfigError> => {
  const check = <Name extends CheckedOption>(name: Name, value: CheckedOptions[Name]) =>
    Either.mapLeft(checkOption(name, value), (message) => ConfigError.InvalidData([name], message))
  return Either.gen(function*() {
    yield* check("baseUrl", options.baseUrl)
    const url = new URL(options.baseUrl)
    const timeoutMillis = yield* Either.mapLeft(
      Transport.timeoutMillisOf(options.timeout ?? "30 seconds", "timeout"),
      (message) => ConfigError.InvalidData(["timeout"], message)
    )
    const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
    if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1) {
      return yield* Either.left(invalid("maxResponseBytes", "must be a positive whole number"))
    }
    const policy = options.retry === "none" ? undefined : options.retry
    const budgetMillis = policy?.budget === undefined ? DEFAULT_BUDGET_MILLIS : yield* Either.mapLeft(
      Transport.timeoutMillisOf(policy.budget, "retry.budget"),
      (message) => ConfigError.InvalidData(["retry", "budget"], message)
    )
    const schedule = policy?.schedule ?? defaultRetrySchedule
    const narrow: Retry.RetryPolicy<AuthleteError.AuthleteError> = {
      schedule,
      while: policy?.while ?? isSafeToRetry,
      budgetMillis
    }
    const wide: Retry.RetryPolicy<AuthleteError.AuthleteError> = {
      schedule,
      while: policy?.while ?? isSafeToRepeat,
      budgetMillis
    }
    const common = {
      origin: url.origin,
      pathPrefix: url.pathname.replace(/\/+$/, ""),
      timeoutMillis,
      maxResponseBytes,
      retry: (api: AuthleteApi.AuthleteApi) => options.retry === "none" ? undefined : api.repeatable ? wide : narrow
    }
    // Frozen: the transport checks a header object once.
    const headers = (authorization: string) => ({
      getHeaders: Object.freeze({ authorization, accept: "application/json" }),
      postHeaders: Object.freeze({ authorization, accept: "application/json", "content-type": "application/json" })
    })
    if (options.apiVersion === "V2") {
      yield* check("apiKey", options.apiKey)
      yield* check("apiSecret", options.apiSecret)
      const secret = Redacted.value(options.apiSecret)
      // HTTP Basic over the UTF-8 bytes (btoa alone refuses characters beyond Latin-1).
      const credentials = btoa(String.fromCharCode(...new TextEncoder().encode(`${options.apiKey}:${secret}`)))
      return { ...common, ...headers(`Basic ${credentials}`), servicePath: "", secrets: [secret, credentials] }
    }
    yield* check("serviceId", options.serviceId)
    yield* check("accessToken", options.accessToken)
    const token = Redacted.value(options.accessToken)
    return {
      ...common,
      ...headers(`Bearer ${token}`),
      servicePath: `/${encodeURIComponent(options.serviceId)}`,
      secrets: [token]
    }
  })
}
