/**
 * The tagged service through which an Effect application reaches Authlete. Its methods are the APIs
 * of `AuthleteApis`, one each.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Record from "effect/Record"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Schedule from "effect/Schedule"
import * as AuthleteApi from "./AuthleteApi.js"
import * as AuthleteError from "./AuthleteError.js"
import * as CibaMetrics from "./CibaMetrics.js"
import * as HttpTransport from "./HttpTransport.js"
import * as Api from "./internal/api.js"
import * as Exchange from "./internal/authleteExchange.js"
import * as ClientConfig from "./internal/clientConfig.js"
import * as RetryRules from "./internal/clientRetryRules.js"
import * as Settings from "./internal/clientSettings.js"
import * as Retry from "./internal/retry.js"
import * as Tracing from "./internal/tracing.js"

/**
 * One method of the service: an API's request in, its decoded answer out. A request without
 * required fields may be left out.
 *
 * @since 0.1.0
 * @category models
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- "every field optional" is what is asked
export type AuthleteMethod<Api> = {} extends AuthleteApi.AuthleteApi.Request<Api> ? (
    request?: AuthleteApi.AuthleteApi.Request<Api>
  ) => Effect.Effect<AuthleteApi.AuthleteApi.Response<Api>, AuthleteError.AuthleteError>
  : (
    request: AuthleteApi.AuthleteApi.Request<Api>
  ) => Effect.Effect<AuthleteApi.AuthleteApi.Response<Api>, AuthleteError.AuthleteError>

/**
 * What `AuthleteClient` offers: one method per API of `AuthleteApis`. Every method validates its
 * request before sending it (the class instance or a plain object of its shape), and fails only
 * with `AuthleteError`.
 *
 * @since 0.1.0
 * @category models
 */
export type AuthleteClientService = {
  readonly [Name in AuthleteApi.AuthleteApiName]: AuthleteMethod<typeof AuthleteApi.AuthleteApis[Name]>
}

/**
 * Which errors are retried, on what schedule, within what budget. The schedule's input is the error.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicy {
  readonly schedule?: Schedule.Schedule<unknown, AuthleteError.AuthleteError> | undefined
  readonly while?: ((error: AuthleteError.AuthleteError) => boolean) | undefined
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
export const DEFAULT_MAX_RESPONSE_BYTES = Settings.DEFAULT_MAX_RESPONSE_BYTES

/** How a call to Authlete failed, in a word, for `CibaMetrics.authleteCallDuration`. */
const outcomeOf = (cause: Cause.Cause<AuthleteError.AuthleteError>): string => {
  const failure = Cause.failureOption(cause)
  if (failure._tag === "None") return Cause.isInterruptedOnly(cause) ? "interrupted" : "defect"
  const error = failure.value
  switch (error._tag) {
    case "AuthleteTransportError":
      return error.reason === "ForbiddenAddress" ? "forbidden_address" : error.reason.toLowerCase()
    case "AuthleteApiError":
      return "api_error"
    case "AuthleteResponseError":
      return "bad_response"
    default:
      return "invalid_request"
  }
}

/** A method before it is given its API's types: the API's codecs check its request and answer at run time. */
type UntypedMethod = (request?: unknown) => Effect.Effect<unknown, AuthleteError.AuthleteError>

/** The service: one method per API of `AuthleteApis`, made by the live client or by `layerTest`. */
const serviceOf = (
  method: (name: AuthleteApi.AuthleteApiName, api: AuthleteApi.AuthleteApi) => UntypedMethod
): AuthleteClientService =>
  // Each method answers what its own API's codecs decode; TypeScript cannot follow that pairing
  // through a mapping over `AuthleteApis`, so the service's type is asserted here, once.
  Record.map(AuthleteApi.AuthleteApis, (api, name) => method(name, api)) as AuthleteClientService

/** Builds the service over the application's `HttpTransport` (`AuthleteClient.make`). */
export const make = (
  options: AuthleteClientOptions
): Effect.Effect<AuthleteClientService, ConfigError.ConfigError, HttpTransport.HttpTransport> =>
  Effect.gen(function*() {
    const settings = yield* Settings.settingsFrom(options)
    const transport = yield* HttpTransport.HttpTransport
    const serverAddress = new URL(settings.origin).host

    const method = (name: AuthleteApi.AuthleteApiName, api: AuthleteApi.AuthleteApi) => {
      const codecs = Api.codecsOf(api)
      const path = `/api${settings.servicePath}${api.path}`
      const url = `${settings.origin}${settings.pathPrefix}${path}`
      const spanName = `AuthleteClient.${name}`
      const spanOptions = {
        kind: "client" as const,
        attributes: { "http.request.method": api.method, "server.address": serverAddress, "url.path": path }
      }
      const headers = api.method === "POST" ? settings.postHeaders : settings.getHeaders
      const succeeded = CibaMetrics.withAttributes(CibaMetrics.authleteCallDuration, { api: name, outcome: "ok" })
      const policy = settings.retry(api)
      return (request: unknown = {}): Effect.Effect<unknown, AuthleteError.AuthleteError> => {
        const encoded = codecs.encodeRequest(request)
        if (Either.isLeft(encoded)) {
          return Effect.fail(AuthleteError.AuthleteValidationError.fromRefusal(encoded.left, "Send"))
        }
        const wire = encoded.right
        const target = api.method === "POST" ? url : `${url}${Exchange.queryOf(wire)}`
        const body = api.method === "POST" ? JSON.stringify(wire) : undefined
        // Only an error needs the list, so it is made only then.
        let secretsMemo: ReadonlyArray<string> | undefined
        const secrets = () => (secretsMemo ??= [...settings.secrets, ...codecs.secretsOf(wire)])
        // Written out field by field: `{ ...outgoing, timeoutMillis }` takes V8's slow path.
        const send = (timeoutMillis: number) =>
          transport.send({
            method: api.method,
            url: target,
            headers,
            body,
            timeoutMillis,
            maxResponseBytes: settings.maxResponseBytes
          })
        const answer = (response: HttpTransport.HttpTransportResponse) =>
          Exchange.interpret(response, codecs.decodeResponse, secrets, settings.maxResponseBytes)
        const exchange = Tracing.spanned(spanName, spanOptions, (recording) => {
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
            }).pipe(Effect.tap(Exchange.annotateResult), Effect.tapError(Exchange.annotateResult))
          return Retry.retrying(annotated, settings.timeoutMillis, policy).pipe(
            Effect.ensuring(Effect.suspend(() => Effect.annotateCurrentSpan("authlete.attempts", attempts)))
          )
        })
        // Timed from when the call runs, not when it is made: a caller may run it again. Recorded
        // however it ends, an interruption by the caller included, and in place (`unsafeUpdate`)
        // rather than by another effect: the call is the library's hot path.
        return Effect.suspend(() => {
          const started = performance.now()
          return Effect.onExit(exchange, (exit) => {
            const series = exit._tag === "Success"
              ? succeeded
              : CibaMetrics.withAttributes(CibaMetrics.authleteCallDuration, {
                api: name,
                outcome: outcomeOf(exit.cause)
              })
            series.unsafeUpdate((performance.now() - started) / 1000, [])
            return Effect.void
          })
        })
      }
    }

    return serviceOf(method)
  })

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
>() {}

/**
 * The live client over the application's `HttpTransport`. A bad option (a base URL that is not
 * `https:` except on a loopback host, an empty token, ...) fails the layer with a `ConfigError`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: AuthleteClientOptions
): Layer.Layer<AuthleteClient, ConfigError.ConfigError, HttpTransport.HttpTransport> =>
  Layer.effect(AuthleteClient, make(options))

/**
 * The live client configured from Effect `Config`: by default `AuthleteClient.environmentConfig`
 * (the `AUTHLETE_*` variables), or your own `Config` (or record of configs) of the options. Every
 * check's error names the variable it read.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<AuthleteClientOptions> = ClientConfig.environmentConfig
): Layer.Layer<AuthleteClient, ConfigError.ConfigError, HttpTransport.HttpTransport> =>
  Layer.effect(AuthleteClient, Effect.flatMap(ClientConfig.checkedWrap(config), make))

/**
 * A client for your own tests: it validates each request as the live client does, records it,
 * and answers from your handlers (a function alone answers `backchannelAuthenticationComplete`).
 * A method without a handler fails with `AuthleteApiError` 501.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTest = (
  handlers: AuthleteTestHandlers | NonNullable<AuthleteTestHandlers["backchannelAuthenticationComplete"]>
): Layer.Layer<AuthleteClient | AuthleteClientRecorder> =>
  Layer.effectContext(Effect.gen(function*() {
    const all: AuthleteTestHandlers = typeof handlers === "function"
      ? { backchannelAuthenticationComplete: handlers }
      : handlers
    const recorded = yield* Ref.make<ReadonlyArray<RecordedRequest>>([])
    const method = (name: AuthleteApi.AuthleteApiName, api: AuthleteApi.AuthleteApi) => {
      const codecs = Api.codecsOf(api)
      const handler = all[name] as
        | ((request: unknown) => Effect.Effect<unknown, AuthleteError.AuthleteError>)
        | undefined
      return (request: unknown = {}): Effect.Effect<unknown, AuthleteError.AuthleteError> =>
        Tracing.spanned(`AuthleteClient.${name}`, { kind: "client" }, () =>
          Effect.gen(function*() {
            const body = yield* Either.mapLeft(
              codecs.encodeRequest(request),
              (refusal) => AuthleteError.AuthleteValidationError.fromRefusal(refusal, "Send")
            )
            // What the wire would hold, read back: the handler sees exactly what Authlete would.
            const sent = yield* Effect.orDie(
              Either.mapLeft(codecs.decodeRequest(body), AuthleteError.AuthleteValidationError.fromRefusal)
            )
            yield* Ref.update(recorded, (all) => [...all, { method: name, request: sent, body } as RecordedRequest])
            if (handler === undefined) {
              return yield* new AuthleteError.AuthleteApiError({
                status: 501,
                resultMessage: `layerTest has no handler for ${name}`,
                body: ""
              })
            }
            return yield* handler(sent)
          }))
    }
    return Context.make(AuthleteClient, serviceOf(method)).pipe(
      Context.add(AuthleteClientRecorder, { requests: Ref.get(recorded) })
    )
  }))

/**
 * The options read from the `AUTHLETE_*` environment variables.
 *
 * @since 0.1.0
 * @category utils
 */
export const environmentConfig = ClientConfig.environmentConfig

/** @since 0.1.0 */
export const isSafeToRetry = RetryRules.isSafeToRetry

/** @since 0.1.0 */
export const isSafeToRepeat = RetryRules.isSafeToRepeat

/** @since 0.1.0 */
export const defaultRetrySchedule = RetryRules.defaultRetrySchedule

/**
 * Answers for `AuthleteClient.layerTest`, one per method; each receives the validated request.
 *
 * @since 0.1.0
 * @category testing
 */
export type AuthleteTestHandlers = {
  readonly [Name in AuthleteApi.AuthleteApiName]?: (
    request: AuthleteApi.AuthleteApi.Request<typeof AuthleteApi.AuthleteApis[Name]>
  ) => Effect.Effect<
    AuthleteApi.AuthleteApi.Response<typeof AuthleteApi.AuthleteApis[Name]>,
    AuthleteError.AuthleteError
  >
}

/**
 * A request `AuthleteClient.layerTest` accepted: the method, the validated request, and the JSON that
 * would have been sent.
 *
 * @since 0.1.0
 * @category testing
 */
export type RecordedRequest = {
  readonly [Name in AuthleteApi.AuthleteApiName]: {
    readonly method: Name
    readonly request: AuthleteApi.AuthleteApi.Request<typeof AuthleteApi.AuthleteApis[Name]>
    readonly body: AuthleteApi.AuthleteApi.RequestJson<typeof AuthleteApi.AuthleteApis[Name]>
  }
}[AuthleteApi.AuthleteApiName]

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
