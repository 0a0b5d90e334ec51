/**
 * The tagged service through which an Effect application reaches Authlete. Its methods are the APIs
 * of `AuthleteApis`, one each.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import { type AuthleteApi, type AuthleteApiName, AuthleteApis } from "./AuthleteApi.js"
import {
  AuthleteApiError,
  type AuthleteError,
  AuthleteResponseError,
  AuthleteValidationError,
  MAX_ERROR_BODY_LENGTH
} from "./AuthleteError.js"
import { HttpTransport, type HttpTransportResponse } from "./HttpTransport.js"
import * as Api from "./internal/api.js"
import * as Http from "./internal/http.js"
import * as Retry from "./internal/retry.js"
import * as Tracing from "./internal/tracing.js"
import * as Transport from "./internal/transport.js"

/**
 * One method of the service: an API's request in, its decoded answer out. A request without
 * required fields may be left out.
 *
 * @since 0.1.0
 * @category models
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- "every field optional" is what is asked
export type AuthleteMethod<Api> = {} extends AuthleteApi.Request<Api>
  ? (request?: AuthleteApi.Request<Api>) => Effect.Effect<AuthleteApi.Response<Api>, AuthleteError>
  : (request: AuthleteApi.Request<Api>) => Effect.Effect<AuthleteApi.Response<Api>, AuthleteError>

/**
 * What `AuthleteClient` offers: one method per API of `AuthleteApis`. Every method validates its
 * request before sending it (the class instance or a plain object of its shape), and fails only
 * with `AuthleteError`.
 *
 * @since 0.1.0
 * @category models
 */
export type AuthleteClientService = {
  readonly [Name in AuthleteApiName]: AuthleteMethod<typeof AuthleteApis[Name]>
}

/**
 * Which errors are retried, on what schedule, within what budget. The schedule's input is the error.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicy {
  readonly schedule?: Schedule.Schedule<unknown, AuthleteError> | undefined
  readonly while?: ((error: AuthleteError) => boolean) | undefined
  /** Attempts and waits together; default 60 seconds. */
  readonly budget?: Duration.DurationInput | undefined
}

interface CommonOptions {
  readonly baseUrl: string
  /** Per attempt, reading the body included. Default 30 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** `"none"`, or a policy that widens or replaces the default (see `AuthleteClient.isSafeToRetry`). */
  readonly retry?: "none" | RetryPolicy | undefined
  /** Ours: the largest answer read, in bytes, as decoded. Default 1 MiB; a larger one fails without being read. */
  readonly maxResponseBytes?: number | undefined
}

/**
 * API v3 (the default): a service id and its access token.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthleteClientOptionsV3 extends CommonOptions {
  readonly apiVersion?: "V3" | undefined
  readonly serviceId: string
  readonly accessToken: Redacted.Redacted<string>
}

/**
 * API v2 (legacy): the service API key and secret, sent with HTTP Basic authentication.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthleteClientOptionsV2 extends CommonOptions {
  readonly apiVersion: "V2"
  readonly apiKey: string
  readonly apiSecret: Redacted.Redacted<string>
}

/**
 * @since 0.1.0
 * @category models
 */
export type AuthleteClientOptions = AuthleteClientOptionsV3 | AuthleteClientOptionsV2

/** Ours: the default cap on an answer's size. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576

const DEFAULT_BUDGET_MILLIS = 60_000

/**
 * The default retry rule (`AuthleteClient.isSafeToRetry`): only what Authlete provably did not
 * process. `/complete` is not repeatable (in PUSH mode it mints tokens), so a refused connection, 429
 * and 503 are retried, and 500, 502, 504, timeouts and broken connections are not.
 *
 * @since 0.1.0
 * @category retries
 */
const isSafeToRetry = (error: AuthleteError): boolean =>
  (error._tag === "AuthleteTransportError" && error.reason === "Connect") ||
  (error._tag === "AuthleteApiError" && (error.status === 429 || error.status === 503))

/**
 * The rule for APIs that change nothing (`repeatable`): also 5xx, timeouts and broken connections.
 *
 * @since 0.1.0
 * @category retries
 */
const isSafeToRepeat = (error: AuthleteError): boolean =>
  isSafeToRetry(error) ||
  (error._tag === "AuthleteTransportError" && (error.reason === "Timeout" || error.reason === "Transport")) ||
  (error._tag === "AuthleteApiError" && error.status >= 500)

const requestedDelay = (error: AuthleteError): Duration.Duration | undefined =>
  error._tag === "AuthleteApiError" && error.retryAfterMillis !== undefined
    ? Duration.millis(error.retryAfterMillis)
    : undefined

/**
 * The default retry schedule (`AuthleteClient.defaultRetrySchedule`): wait as long as the server
 * asked (`Retry-After`, `RateLimit-Reset`), otherwise exponential backoff with jitter from 500 ms; at
 * most 3 retries. The budget (60 seconds by default, attempts included) is kept apart from it.
 *
 * @since 0.1.0
 * @category retries
 */
const defaultRetrySchedule: Schedule.Schedule<unknown, AuthleteError> = Schedule.identity<AuthleteError>().pipe(
  Schedule.intersect(Schedule.exponential("500 millis").pipe(Schedule.jittered)),
  Schedule.modifyDelay(([error], backoff) => requestedDelay(error) ?? backoff),
  Schedule.intersect(Schedule.recurs(3)),
  Schedule.asVoid
)

interface Settings {
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
  readonly retry: (api: AuthleteApi) => Retry.RetryPolicy<AuthleteError> | undefined
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

const optionChecks = {
  baseUrl: baseUrlCheck,
  serviceId: serviceIdCheck,
  apiKey: identifierCheck("the service API key"),
  accessToken: secretCheck("the service access token"),
  apiSecret: secretCheck("the service API secret")
} as const

const invalid = (path: string, message: string) => ConfigError.InvalidData([path], `${path} ${message}`)

/** Checks the options once, when the layer is built: a bad option never reaches a request. */
const settingsFrom = (options: AuthleteClientOptions): Either.Either<Settings, ConfigError.ConfigError> => {
  const check = <A>(name: keyof typeof optionChecks, value: A) =>
    Either.mapLeft((optionChecks[name] as unknown as Check<A>)(value), (message) => invalid(name, message))
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
    const narrow: Retry.RetryPolicy<AuthleteError> = { schedule, while: policy?.while ?? isSafeToRetry, budgetMillis }
    const wide: Retry.RetryPolicy<AuthleteError> = { schedule, while: policy?.while ?? isSafeToRepeat, budgetMillis }
    const common = {
      origin: url.origin,
      pathPrefix: url.pathname.replace(/\/+$/, ""),
      timeoutMillis,
      maxResponseBytes,
      retry: (api: AuthleteApi) => options.retry === "none" ? undefined : api.repeatable ? wide : narrow
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

// ------------------------------------------------------------------------------------ the answer

const statusesWithResultBody: ReadonlySet<number> = new Set([400, 401, 403, 500])

/** Turns an answer into the decoded response or the error it stands for. */
const interpret = <A>(
  response: HttpTransportResponse,
  decode: (json: unknown) => Either.Either<A, { readonly issues: ReadonlyArray<unknown>; readonly total: number }>,
  secrets: () => ReadonlyArray<string>,
  maxResponseBytes: number
): Effect.Effect<A, AuthleteError> => {
  const { body, status } = response
  const keep = (text: string) => Http.bodyForError(text, secrets(), MAX_ERROR_BODY_LENGTH)
  if (status >= 200 && status < 300) {
    if (body === undefined) {
      return Effect.fail(
        new AuthleteResponseError({
          status,
          body: "",
          detail: `Authlete's answer is larger than the ${maxResponseBytes}-byte cap; it was not read`
        })
      )
    }
    let json: unknown
    try {
      // No body at all (a 204, as /service/jwks/get gives for a service without keys) is no fields.
      json = body === "" ? {} : JSON.parse(body)
    } catch {
      // A 2xx that does not parse may still hold fresh tokens, which no scrubbing could find: not kept.
      return Effect.fail(
        new AuthleteResponseError({
          status,
          body: "",
          detail: `Authlete's answer is not JSON (${body.length} characters, not kept: it may hold tokens)`
        })
      )
    }
    const decoded = decode(json)
    return Either.isRight(decoded) ? Effect.succeed(decoded.right) : Effect.fail(
      new AuthleteResponseError({
        status,
        body: keep(body),
        detail: `Authlete's answer does not decode: ${AuthleteValidationError.fromRefusal(decoded.left as never).rules}`
      })
    )
  }
  return Effect.map(Clock.currentTimeMillis, (now) => {
    let json: unknown = undefined
    try {
      json = JSON.parse(body ?? "")
    } catch {
      // Proxies answer with HTML; the text is kept as the body.
    }
    const hasResultBody = statusesWithResultBody.has(status) ||
      Option.isSome(Http.jsonStringField(json, "resultCode"))
    const field = (name: string) =>
      hasResultBody
        ? Option.getOrUndefined(
          Option.map(Http.jsonStringField(json, name), (value) => Transport.scrubSecrets(value, secrets()))
        )
        : undefined
    const resultCode = field("resultCode")
    const resultMessage = field("resultMessage")
    const retryAfterMillis = Http.requestedRetryDelayMillis(response.headers, now)
    return new AuthleteApiError({
      status,
      ...(resultCode === undefined ? {} : { resultCode }),
      ...(resultMessage === undefined ? {} : { resultMessage }),
      ...(retryAfterMillis === undefined ? {} : { retryAfterMillis }),
      body: body === undefined ? "" : keep(body)
    })
  }).pipe(Effect.flip)
}

/** Span attributes: Authlete's action and result code (never a token, a secret or the ticket). */
const annotateResult = (outcome: unknown) => {
  const result = outcome as { readonly action?: unknown; readonly resultCode?: unknown }
  return Effect.annotateCurrentSpan({
    ...(typeof result.action === "string" ? { "authlete.action": result.action } : {}),
    ...(typeof result.resultCode === "string" ? { "authlete.result_code": result.resultCode } : {})
  })
}

/** The query of a GET: the request's fields, as Authlete reads them. */
const queryOf = (json: unknown): string => {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (value !== undefined) params.set(name, String(value))
  }
  const query = params.toString()
  return query === "" ? "" : `?${query}`
}

/** Builds the service over the application's `HttpTransport` (`AuthleteClient.make`). */
const make = (
  options: AuthleteClientOptions
): Effect.Effect<AuthleteClientService, ConfigError.ConfigError, HttpTransport> =>
  Effect.gen(function*() {
    const settings = yield* settingsFrom(options)
    const transport = yield* HttpTransport
    const serverAddress = new URL(settings.origin).host

    const method = (name: AuthleteApiName, api: AuthleteApi) => {
      const codecs = Api.codecsOf(api)
      const path = `/api${settings.servicePath}${api.path}`
      const url = `${settings.origin}${settings.pathPrefix}${path}`
      const spanName = `AuthleteClient.${name}`
      const spanOptions = {
        kind: "client" as const,
        attributes: { "http.request.method": api.method, "server.address": serverAddress, "url.path": path }
      }
      const headers = api.method === "POST" ? settings.postHeaders : settings.getHeaders
      const policy = settings.retry(api)
      return (request: unknown = {}): Effect.Effect<unknown, AuthleteError> => {
        const encoded = codecs.encodeRequest(request)
        if (Either.isLeft(encoded)) return Effect.fail(AuthleteValidationError.fromRefusal(encoded.left, "Send"))
        const wire = encoded.right
        const target = api.method === "POST" ? url : `${url}${queryOf(wire)}`
        const body = api.method === "POST" ? JSON.stringify(wire) : undefined
        // Only an error needs the list, so it is made only then.
        let secretsMemo: ReadonlyArray<string> | undefined
        const secrets = () => (secretsMemo ??= [...settings.secrets, ...codecs.secretsOf(wire)])
        // Written out field by field: `{ ...outgoing, timeoutMillis }` takes V8's slow path (µs per call).
        const send = (timeoutMillis: number) =>
          transport.send({
            method: api.method,
            url: target,
            headers,
            body,
            timeoutMillis,
            maxResponseBytes: settings.maxResponseBytes
          })
        const answer = (response: HttpTransportResponse) =>
          interpret(response, codecs.decodeResponse, secrets, settings.maxResponseBytes)
        return Tracing.spanned(spanName, spanOptions, (recording) => {
          if (!recording) {
            return Retry.retrying(
              (timeoutMillis) => Effect.flatMap(send(timeoutMillis), answer),
              settings.timeoutMillis,
              policy
            )
          }
          let attempts = 0
          const annotated = (timeoutMillis: number) =>
            Effect.suspend(() => {
              attempts++
              return Effect.flatMap(send(timeoutMillis), (response) =>
                Effect.zipRight(
                  Effect.annotateCurrentSpan("http.response.status_code", response.status),
                  answer(response)
                ))
            }).pipe(Effect.tap(annotateResult), Effect.tapError(annotateResult))
          return Retry.retrying(annotated, settings.timeoutMillis, policy).pipe(
            Effect.ensuring(Effect.suspend(() => Effect.annotateCurrentSpan("authlete.attempts", attempts)))
          )
        })
      }
    }

    return Object.fromEntries(
      Object.entries(AuthleteApis).map(([name, api]) => [name, method(name as AuthleteApiName, api)])
    ) as unknown as AuthleteClientService
  })

// ------------------------------------------------------------------------------------- configuration

/** A config whose value must pass an option check; the error names the variable. */
const checked = <A>(config: Config.Config<A>, name: keyof typeof optionChecks): Config.Config<A> =>
  Config.mapOrFail(config, (value) =>
    Either.mapLeft(
      (optionChecks[name] as unknown as Check<A>)(value),
      (message) => ConfigError.InvalidData([], `${name} ${message}`)
    ))

/** A secret read as text, so that its check keeps the variable's name; it is redacted at once. */
const secretVariable = (
  variable: string,
  name: "accessToken" | "apiSecret"
): Config.Config<Redacted.Redacted<string>> =>
  Config.mapOrFail(Config.string(variable), (text) =>
    Either.mapLeft(
      optionChecks[name](Redacted.make(text)),
      (message) => ConfigError.InvalidData([], `${name} ${message}`)
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
const environmentConfig: Config.Config<AuthleteClientOptions> = Config.orElseIf(environmentConfigV3, {
  if: isOtherVersion,
  orElse: () => environmentConfigV2
})

/** Wraps each given field's config in its check, so that an error names that field's variable. */
const checkedWrap = (config: Config.Config.Wrap<AuthleteClientOptions>): Config.Config<AuthleteClientOptions> => {
  if (Config.isConfig(config)) return config as Config.Config<AuthleteClientOptions>
  const fields: Record<string, unknown> = { ...(config as Record<string, unknown>) }
  for (const name of Object.keys(optionChecks) as Array<keyof typeof optionChecks>) {
    const field = fields[name]
    if (Config.isConfig(field)) fields[name] = checked(field, name)
  }
  return Config.unwrap(fields as Config.Config.Wrap<AuthleteClientOptions>)
}

/**
 * The tag of the Authlete client.
 *
 * @example
 * ```ts
 * import { Layer, Redacted } from "effect"
 * import { AuthleteClient } from "effect-authlete"
 * import { UndiciTransport } from "effect-authlete/undici"
 *
 * const AuthleteLive = AuthleteClient.layer({
 *   baseUrl: "https://us.authlete.com",
 *   serviceId: "715948317",
 *   accessToken: Redacted.make(process.env.TOKEN!)
 * }).pipe(Layer.provide(UndiciTransport.layer))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class AuthleteClient extends Context.Tag("effect-authlete/AuthleteClient")<
  AuthleteClient,
  AuthleteClientService
>() {
  /**
   * The live client over the application's `HttpTransport`. A bad option (a base URL that is not
   * `https:` except on a loopback host, an empty token, ...) fails the layer with a `ConfigError`.
   */
  static readonly layer = (
    options: AuthleteClientOptions
  ): Layer.Layer<AuthleteClient, ConfigError.ConfigError, HttpTransport> => Layer.effect(AuthleteClient, make(options))

  /**
   * The live client configured from Effect `Config`: by default `AuthleteClient.environmentConfig`
   * (the `AUTHLETE_*` variables), or your own `Config` (or record of configs) of the options. Every
   * check's error names the variable it read.
   */
  static readonly layerConfig = (
    config: Config.Config.Wrap<AuthleteClientOptions> = environmentConfig
  ): Layer.Layer<AuthleteClient, ConfigError.ConfigError, HttpTransport> =>
    Layer.effect(AuthleteClient, Effect.flatMap(checkedWrap(config), make))

  /**
   * A client for your own tests: it validates each request as the live client does, records it,
   * and answers from your handlers (a function alone answers `backchannelAuthenticationComplete`).
   * A method without a handler fails with `AuthleteApiError` 501.
   */
  static readonly layerTest = (
    handlers: AuthleteTestHandlers | NonNullable<AuthleteTestHandlers["backchannelAuthenticationComplete"]>
  ): Layer.Layer<AuthleteClient | AuthleteClientRecorder> =>
    Layer.effectContext(Effect.gen(function*() {
      const all: AuthleteTestHandlers = typeof handlers === "function"
        ? { backchannelAuthenticationComplete: handlers }
        : handlers
      const recorded = yield* Ref.make<ReadonlyArray<RecordedRequest>>([])
      const method = (name: AuthleteApiName, api: AuthleteApi) => {
        const codecs = Api.codecsOf(api)
        const handler = all[name] as ((request: unknown) => Effect.Effect<unknown, AuthleteError>) | undefined
        return (request: unknown = {}): Effect.Effect<unknown, AuthleteError> =>
          Tracing.spanned(`AuthleteClient.${name}`, { kind: "client" }, () =>
            Effect.gen(function*() {
              const body = yield* Either.mapLeft(
                codecs.encodeRequest(request),
                (refusal) => AuthleteValidationError.fromRefusal(refusal, "Send")
              )
              // What the wire would hold, read back: the handler sees exactly what Authlete would.
              const sent = yield* Effect.orDie(
                Either.mapLeft(codecs.decodeRequest(body), AuthleteValidationError.fromRefusal)
              )
              yield* Ref.update(recorded, (all) => [...all, { method: name, request: sent, body } as RecordedRequest])
              if (handler === undefined) {
                return yield* new AuthleteApiError({
                  status: 501,
                  resultMessage: `AuthleteClient.layerTest has no handler for ${name}`,
                  body: ""
                })
              }
              return yield* handler(sent)
            }))
      }
      const service = Object.fromEntries(
        Object.entries(AuthleteApis).map(([name, api]) => [name, method(name as AuthleteApiName, api)])
      ) as unknown as AuthleteClientService
      return Context.make(AuthleteClient, service).pipe(
        Context.add(AuthleteClientRecorder, { requests: Ref.get(recorded) })
      )
    }))

  /** Builds the service over the application's `HttpTransport`. */
  static readonly make = make
  /** The options read from the `AUTHLETE_*` environment variables. */
  static readonly environmentConfig = environmentConfig
  /** @since 0.1.0 */
  static readonly isSafeToRetry = isSafeToRetry
  /** @since 0.1.0 */
  static readonly isSafeToRepeat = isSafeToRepeat
  /** @since 0.1.0 */
  static readonly defaultRetrySchedule = defaultRetrySchedule
}

/**
 * Answers for `AuthleteClient.layerTest`, one per method; each receives the validated request.
 *
 * @since 0.1.0
 * @category testing
 */
export type AuthleteTestHandlers = {
  readonly [Name in AuthleteApiName]?: (
    request: AuthleteApi.Request<typeof AuthleteApis[Name]>
  ) => Effect.Effect<AuthleteApi.Response<typeof AuthleteApis[Name]>, AuthleteError>
}

/**
 * A request `AuthleteClient.layerTest` accepted: the method, the validated request, and the JSON that
 * would have been sent.
 *
 * @since 0.1.0
 * @category testing
 */
export type RecordedRequest = {
  readonly [Name in AuthleteApiName]: {
    readonly method: Name
    readonly request: AuthleteApi.Request<typeof AuthleteApis[Name]>
    readonly body: AuthleteApi.RequestJson<typeof AuthleteApis[Name]>
  }
}[AuthleteApiName]

/**
 * What `AuthleteClient.layerTest` saw.
 *
 * @since 0.1.0
 * @category testing
 */
export class AuthleteClientRecorder extends Context.Tag("effect-authlete/AuthleteClientRecorder")<
  AuthleteClientRecorder,
  { readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>> }
>() {}
