/**
 * The tagged service through which an Effect application reaches Authlete.
 *
 * @since 0.1.0
 */
import { HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import {
  Clock,
  Config,
  ConfigError,
  Context,
  Duration,
  Effect,
  Either,
  Layer,
  Option,
  ParseResult,
  Redacted,
  Ref,
  Schedule
} from "effect"
import {
  AuthleteApiError,
  type AuthleteError,
  AuthleteResponseError,
  AuthleteTransportError,
  AuthleteValidationError,
  formatPath,
  MAX_ERROR_BODY_LENGTH
} from "./AuthleteError.js"
import type {
  BackchannelAuthenticationRequest,
  BackchannelAuthenticationResponse
} from "./BackchannelAuthentication.js"
import type { BackchannelAuthenticationCompleteRequest } from "./BackchannelAuthenticationCompleteRequest.js"
import type { BackchannelAuthenticationCompleteResponse } from "./BackchannelAuthenticationCompleteResponse.js"
import type {
  BackchannelAuthenticationFailRequest,
  BackchannelAuthenticationFailResponse
} from "./BackchannelAuthenticationFail.js"
import type {
  BackchannelAuthenticationIssueRequest,
  BackchannelAuthenticationIssueResponse
} from "./BackchannelAuthenticationIssue.js"
import * as Endpoints from "./internal/endpoints.js"
import * as Http from "./internal/http.js"

/**
 * What `AuthleteClient` offers. Every method validates its request before sending it, and fails only
 * with `AuthleteError`.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthleteClientService {
  /**
   * Hands a client's backchannel authentication request to Authlete (`/backchannel/authentication`),
   * which answers `USER_IDENTIFICATION` with a ticket, or an error to return to the client.
   */
  readonly backchannelAuthentication: (
    request: BackchannelAuthenticationRequest
  ) => Effect.Effect<BackchannelAuthenticationResponse, AuthleteError>
  /** Issues the `auth_req_id` for a ticket (`/backchannel/authentication/issue`). */
  readonly backchannelAuthenticationIssue: (
    request: BackchannelAuthenticationIssueRequest
  ) => Effect.Effect<BackchannelAuthenticationIssueResponse, AuthleteError>
  /** Refuses a request before `/issue` (`/backchannel/authentication/fail`), deleting its ticket. */
  readonly backchannelAuthenticationFail: (
    request: BackchannelAuthenticationFailRequest
  ) => Effect.Effect<BackchannelAuthenticationFailResponse, AuthleteError>
  /**
   * Tells Authlete how the user decided (`/backchannel/authentication/complete`). Takes the class
   * instance or a plain object of its shape; a plain object that breaks a rule fails with
   * `AuthleteValidationError` and nothing is sent.
   */
  readonly backchannelAuthenticationComplete: (
    request: BackchannelAuthenticationCompleteRequest
  ) => Effect.Effect<BackchannelAuthenticationCompleteResponse, AuthleteError>
}

/**
 * Which errors are retried, and on what schedule. The schedule's input is the error.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicy {
  readonly schedule?: Schedule.Schedule<unknown, AuthleteError> | undefined
  readonly while?: ((error: AuthleteError) => boolean) | undefined
}

interface CommonOptions {
  readonly baseUrl: string
  /** Per attempt, reading the body included. Default 30 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** `"none"`, or a policy that widens or replaces the default (see `AuthleteClient.isSafeToRetry`). */
  readonly retry?: "none" | RetryPolicy | undefined
  /** Ours: the largest answer read, in bytes. Default 1 MiB; a larger one fails without being read. */
  readonly maxResponseBytes?: number | undefined
  /** An escape hatch to adjust the `HttpClient` (proxies, extra headers, logging). */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
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

const RETRY_BUDGET = Duration.seconds(60)

/**
 * The default retry rule (`AuthleteClient.isSafeToRetry`): only what Authlete provably did not process. `/complete` is not
 * repeatable (in PUSH mode it mints tokens), so a refused connection, 429 and 503 are retried, and
 * 500, 502, 504, timeouts and broken connections are not.
 *
 * @since 0.1.0
 * @category retries
 */
const isSafeToRetry = (error: AuthleteError): boolean =>
  (error._tag === "AuthleteTransportError" && error.reason === "Connect") ||
  (error._tag === "AuthleteApiError" && (error.status === 429 || error.status === 503))

const requestedDelay = (error: AuthleteError): Duration.Duration | undefined =>
  error._tag === "AuthleteApiError" && error.retryAfterMillis !== undefined
    ? Duration.millis(error.retryAfterMillis)
    : undefined

/**
 * The default retry schedule (`AuthleteClient.defaultRetrySchedule`): wait as long as the server asked (`Retry-After`, `RateLimit-Reset`),
 * otherwise exponential backoff with jitter from 500 ms; at most 3 retries and 60 seconds in all.
 *
 * @since 0.1.0
 * @category retries
 */
const defaultRetrySchedule: Schedule.Schedule<unknown, AuthleteError> = Schedule.identity<AuthleteError>().pipe(
  Schedule.intersect(Schedule.exponential("500 millis").pipe(Schedule.jittered)),
  Schedule.intersect(Schedule.elapsed),
  Schedule.whileOutput(([[error, backoff], elapsed]) =>
    Duration.lessThanOrEqualTo(Duration.sum(elapsed, requestedDelay(error) ?? backoff), RETRY_BUDGET)
  ),
  Schedule.modifyDelay(([[error]], backoff) => requestedDelay(error) ?? backoff),
  Schedule.intersect(Schedule.recurs(3)),
  Schedule.asVoid
)

interface Settings {
  readonly apiUrl: string
  readonly servicePath: string
  readonly authorize: (request: HttpClientRequest.HttpClientRequest) => HttpClientRequest.HttpClientRequest
  readonly secrets: ReadonlyArray<string>
  readonly timeout: Duration.Duration
  readonly maxResponseBytes: number
  readonly retry: Option.Option<
    { readonly schedule: Schedule.Schedule<unknown, AuthleteError>; readonly while: (error: AuthleteError) => boolean }
  >
}

const invalid = (path: string, message: string) => ConfigError.InvalidData([path], message)

/** Checks the options once, when the layer is built: a bad base URL never reaches a request. */
const settingsFrom = (options: AuthleteClientOptions): Either.Either<Settings, ConfigError.ConfigError> => {
  let url: URL
  try {
    url = new URL(options.baseUrl)
  } catch {
    return Either.left(invalid("baseUrl", "baseUrl must be an absolute URL such as https://us.authlete.com"))
  }
  const unsafe = Http.unsafeUrlReason(url)
  if (unsafe !== undefined) return Either.left(invalid("baseUrl", `baseUrl ${unsafe}`))
  if (url.search !== "" || url.hash !== "") {
    return Either.left(invalid("baseUrl", "baseUrl must not have a query or a fragment"))
  }
  const timeout = Duration.decode(options.timeout ?? "30 seconds")
  if (!Duration.isFinite(timeout) || Duration.toMillis(timeout) <= 0) {
    return Either.left(invalid("timeout", "timeout must be a positive, finite duration"))
  }
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1) {
    return Either.left(invalid("maxResponseBytes", "maxResponseBytes must be a positive whole number"))
  }
  const apiUrl = `${url.origin}${url.pathname.replace(/\/+$/, "")}/api`
  const retry = options.retry === "none" ? Option.none() : Option.some({
    schedule: options.retry?.schedule ?? defaultRetrySchedule,
    while: options.retry?.while ?? isSafeToRetry
  })
  const common = { apiUrl, timeout, maxResponseBytes, retry }
  if (options.apiVersion === "V2") {
    if (options.apiKey === "") return Either.left(invalid("apiKey", "apiKey must not be empty"))
    const secret = Redacted.value(options.apiSecret)
    return Either.right({
      ...common,
      servicePath: "",
      authorize: HttpClientRequest.basicAuth(options.apiKey, options.apiSecret),
      secrets: [secret]
    })
  }
  // Percent-encoding keeps `/` inside the segment, but URL parsing still folds "." and ".." segments
  // (even encoded ones), so those are refused outright.
  if (options.serviceId === "" || /^(\.|%2e)+$/i.test(options.serviceId)) {
    return Either.left(invalid("serviceId", "serviceId must be a service id, not empty or dots"))
  }
  return Either.right({
    ...common,
    servicePath: `/${encodeURIComponent(options.serviceId)}`,
    authorize: HttpClientRequest.bearerToken(options.accessToken),
    secrets: [Redacted.value(options.accessToken)]
  })
}

const describeParseError = (error: ParseResult.ParseError): string =>
  AuthleteValidationError.fromParseError(error).issues
    .map((issue) => issue.path.length === 0 ? issue.message : `${formatPath(issue.path)}: ${issue.message}`)
    .join("; ")

const statusesWithResultBody: ReadonlySet<number> = new Set([400, 401, 403, 500])

/** Builds the service over the application's `HttpClient` (`AuthleteClient.make`). */
const make = (
  options: AuthleteClientOptions
): Effect.Effect<AuthleteClientService, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const settings = yield* settingsFrom(options)
    const transform = options.transformClient ?? ((client: HttpClient.HttpClient) => client)
    const httpClient = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest((request) =>
        settings.authorize(HttpClientRequest.acceptJson(HttpClientRequest.prependUrl(request, settings.apiUrl)))
      ),
      // Authlete is a third party: no trace context leaves for it.
      HttpClient.withTracerPropagation(false),
      // The transport's own span would keep the failed request, Authorization header included, in its
      // exit; this client's span (one per call) carries what matters instead.
      HttpClient.withTracerDisabledWhen(() => true),
      transform
    )

    const serverAddress = new URL(settings.apiUrl).host

    /** Turns an answer into the decoded response or the error it stands for. */
    const interpret = <A>(
      response: HttpClientResponse.HttpClientResponse,
      body: Http.CappedBody,
      decode: (json: unknown) => Either.Either<A, ParseResult.ParseError>,
      secrets: () => ReadonlyArray<string | undefined>,
      now: number
    ): Either.Either<A, AuthleteError> => {
      const status = response.status
      const keep = (text: string) => Http.bodyForError(text, secrets(), MAX_ERROR_BODY_LENGTH)
      if (status >= 200 && status < 300) {
        if (body.tooLarge) {
          return Either.left(
            new AuthleteResponseError({
              status,
              body: "",
              message: `Authlete's answer is larger than the ${settings.maxResponseBytes}-byte cap; it was not read`
            })
          )
        }
        let json: unknown
        try {
          json = JSON.parse(body.text)
        } catch {
          return Either.left(
            new AuthleteResponseError({ status, body: keep(body.text), message: "Authlete's answer is not JSON" })
          )
        }
        return Either.mapLeft(decode(json), (error) =>
          new AuthleteResponseError({
            status,
            body: keep(body.text),
            message: `Authlete's answer does not decode: ${describeParseError(error)}`
          }))
      }
      let json: unknown = undefined
      try {
        json = JSON.parse(body.text)
      } catch {
        // Proxies answer with HTML; the text is kept as the body.
      }
      const hasResultBody = statusesWithResultBody.has(status) ||
        Option.isSome(Http.jsonStringField(json, "resultCode"))
      const resultCode = hasResultBody ? Option.getOrUndefined(Http.jsonStringField(json, "resultCode")) : undefined
      const resultMessage = hasResultBody
        ? Option.getOrUndefined(
          Option.map(Http.jsonStringField(json, "resultMessage"), (message) => Http.scrubSecrets(message, secrets()))
        )
        : undefined
      const retryAfterMillis = Http.requestedRetryDelayMillis(response.headers, now)
      return Either.left(
        new AuthleteApiError({
          status,
          ...(resultCode === undefined ? {} : { resultCode }),
          ...(resultMessage === undefined ? {} : { resultMessage }),
          ...(retryAfterMillis === undefined ? {} : { retryAfterMillis }),
          body: body.tooLarge ? "" : keep(body.text)
        })
      )
    }

    /** One POST with the JSON body, under the timeout, retried by the policy. */
    const post = <A>(
      path: string,
      body: unknown,
      decode: (json: unknown) => Either.Either<A, ParseResult.ParseError>,
      callSecrets: () => ReadonlyArray<string | undefined>
    ): Effect.Effect<A, AuthleteError> => {
      // Only an error needs the list, so it is made only then.
      let secretsMemo: ReadonlyArray<string | undefined> | undefined
      const secrets = () => (secretsMemo ??= [...settings.secrets, ...callSecrets()])
      const spanTarget = {
        "http.request.method": "POST",
        "server.address": serverAddress,
        "url.path": `/api${settings.servicePath}${path}`
      }
      const request = HttpClientRequest.post(settings.servicePath + path).pipe(HttpClientRequest.bodyUnsafeJson(body))
      const attempt = Effect.flatMap(Ref.make(0), (attempts) => {
        const once = Ref.update(attempts, (n) => n + 1).pipe(
          Effect.zipRight(Http.withoutRedirects(httpClient.execute(request))),
          Effect.flatMap((response) =>
            Effect.map(Http.readCappedBody(response, settings.maxResponseBytes), (body) => [response, body] as const)
          ),
          Effect.timeoutFail({
            duration: settings.timeout,
            onTimeout: () =>
              new AuthleteTransportError({
                reason: "Timeout",
                message: `No complete answer from Authlete within ${Duration.format(settings.timeout)}`
              })
          }),
          Effect.catchTags({
            RequestError: (error) =>
              Effect.fail(
                new AuthleteTransportError({
                  reason: Http.transportFailureReason(error.cause),
                  message: `The request to Authlete failed: ${
                    Http.scrubSecrets(Http.errorText(error.cause), secrets())
                  }`
                })
              ),
            ResponseError: (error) =>
              Effect.fail(
                new AuthleteTransportError({
                  reason: "Transport",
                  message: `Authlete's answer broke off: ${Http.scrubSecrets(Http.errorText(error.cause), secrets())}`
                })
              )
          }),
          Effect.flatMap(([response, body]) =>
            Effect.annotateCurrentSpan("http.response.status_code", response.status).pipe(
              Effect.zipRight(Clock.currentTimeMillis),
              Effect.flatMap((now) => interpret(response, body, decode, secrets, now))
            )
          ),
          Effect.tap(annotateResult),
          Effect.tapError(annotateResult)
        )
        const retried = Option.match(settings.retry, {
          onNone: () => once,
          onSome: (policy) => Effect.retry(once, policy)
        })
        return Effect.annotateCurrentSpan(spanTarget).pipe(
          Effect.zipRight(retried),
          Effect.ensuring(Effect.flatMap(Ref.get(attempts), (n) => Effect.annotateCurrentSpan("authlete.attempts", n)))
        )
      })
      return attempt
    }

    /** One method of the service: validate and encode, POST, decode; one span per call. */
    const method = <Request, RequestJson, Response>(
      name: keyof AuthleteClientService,
      endpoint: Endpoints.Endpoint<Request, RequestJson, Response>
    ) =>
      Effect.fn(`AuthleteClient.${name}`)(function*(request: Request) {
        const body = yield* Effect.mapError(endpoint.encode(request), AuthleteValidationError.fromParseError)
        return yield* post(endpoint.path, body, endpoint.decodeResponse, () => endpoint.secretsOf(request))
      })

    return {
      backchannelAuthentication: method("backchannelAuthentication", Endpoints.backchannelAuthentication),
      backchannelAuthenticationIssue: method(
        "backchannelAuthenticationIssue",
        Endpoints.backchannelAuthenticationIssue
      ),
      backchannelAuthenticationFail: method("backchannelAuthenticationFail", Endpoints.backchannelAuthenticationFail),
      backchannelAuthenticationComplete: method(
        "backchannelAuthenticationComplete",
        Endpoints.backchannelAuthenticationComplete
      )
    } satisfies AuthleteClientService
  })

/** Span attributes: Authlete's action and result code (never a token, a secret or the ticket). */
const annotateResult = (outcome: unknown) => {
  const result = outcome as { readonly action?: unknown; readonly resultCode?: unknown }
  return Effect.annotateCurrentSpan({
    ...(typeof result.action === "string" ? { "authlete.action": result.action } : {}),
    ...(typeof result.resultCode === "string" ? { "authlete.result_code": result.resultCode } : {})
  })
}

/** The options read from the environment names Authlete's SDKs use (`AuthleteClient.environmentConfig`). */
const environmentConfig: Effect.Effect<AuthleteClientOptions, ConfigError.ConfigError> = Effect.flatMap(
  Config.literal("V3", "V2")("AUTHLETE_API_VERSION").pipe(Config.withDefault("V3" as const)),
  (apiVersion): Effect.Effect<AuthleteClientOptions, ConfigError.ConfigError> =>
    apiVersion === "V2"
      ? Config.all({
        apiVersion: Config.succeed("V2" as const),
        baseUrl: Config.string("AUTHLETE_BASE_URL"),
        apiKey: Config.string("AUTHLETE_SERVICE_APIKEY"),
        apiSecret: Config.redacted("AUTHLETE_SERVICE_APISECRET")
      })
      : Config.all({
        baseUrl: Config.string("AUTHLETE_BASE_URL"),
        serviceId: Config.string("AUTHLETE_SERVICE_APIKEY"),
        accessToken: Config.redacted("AUTHLETE_SERVICE_ACCESSTOKEN")
      })
)

/**
 * The tag of the Authlete client.
 *
 * @example
 * ```ts
 * const AuthleteLive = AuthleteClient.layer({
 *   baseUrl: "https://us.authlete.com",
 *   serviceId: "715948317",
 *   accessToken: Redacted.make(process.env.TOKEN!)
 * }).pipe(Layer.provide(FetchHttpClient.layer))
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
   * The live client over the application's `HttpClient`. A base URL that is not `https:` (except a
   * loopback host) fails the layer with a `ConfigError`.
   */
  static readonly layer = (
    options: AuthleteClientOptions
  ): Layer.Layer<AuthleteClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
    Layer.effect(AuthleteClient, make(options))

  /**
   * The live client configured from Effect `Config`, by default from the environment variables
   * Authlete's SDKs read: `AUTHLETE_BASE_URL`, `AUTHLETE_API_VERSION` (`V3` unless `V2`),
   * `AUTHLETE_SERVICE_APIKEY` (the service id in v3), `AUTHLETE_SERVICE_ACCESSTOKEN` (v3) and
   * `AUTHLETE_SERVICE_APISECRET` (v2).
   */
  static readonly layerConfig = (
    config: Effect.Effect<AuthleteClientOptions, ConfigError.ConfigError> = environmentConfig
  ): Layer.Layer<AuthleteClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
    Layer.effect(AuthleteClient, Effect.flatMap(config, make))

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
      const method = <Request, RequestJson, Response>(
        name: RecordedRequest["method"],
        endpoint: Endpoints.Endpoint<Request, RequestJson, Response>,
        handler: ((request: Request) => Effect.Effect<Response, AuthleteError>) | undefined
      ) =>
        Effect.fn(`AuthleteClient.${name}`)(function*(request: Request) {
          const body = yield* Effect.mapError(endpoint.encode(request), AuthleteValidationError.fromParseError)
          // What the wire would hold, read back: the handler sees exactly what Authlete would.
          const sent = yield* Effect.orDie(endpoint.decodeRequest(body))
          yield* Ref.update(recorded, (all) => [...all, { method: name, request: sent, body } as RecordedRequest])
          if (handler === undefined) {
            return yield* new AuthleteApiError({
              status: 501,
              resultMessage: `AuthleteClient.layerTest has no handler for ${name}`,
              body: ""
            })
          }
          return yield* handler(sent)
        })
      const service: AuthleteClientService = {
        backchannelAuthentication: method(
          "backchannelAuthentication",
          Endpoints.backchannelAuthentication,
          all.backchannelAuthentication
        ),
        backchannelAuthenticationIssue: method(
          "backchannelAuthenticationIssue",
          Endpoints.backchannelAuthenticationIssue,
          all.backchannelAuthenticationIssue
        ),
        backchannelAuthenticationFail: method(
          "backchannelAuthenticationFail",
          Endpoints.backchannelAuthenticationFail,
          all.backchannelAuthenticationFail
        ),
        backchannelAuthenticationComplete: method(
          "backchannelAuthenticationComplete",
          Endpoints.backchannelAuthenticationComplete,
          all.backchannelAuthenticationComplete
        )
      }
      return Context.make(AuthleteClient, service).pipe(
        Context.add(AuthleteClientRecorder, { requests: Ref.get(recorded) })
      )
    }))

  /** Builds the service over the application's `HttpClient`. */
  static readonly make = make
  /** The options read from the `AUTHLETE_*` environment variables. */
  static readonly environmentConfig = environmentConfig
  /** @since 0.1.0 */
  static readonly isSafeToRetry = isSafeToRetry
  /** @since 0.1.0 */
  static readonly defaultRetrySchedule = defaultRetrySchedule
}

/**
 * Answers for `AuthleteClient.layerTest`, one per method; each receives the validated request.
 *
 * @since 0.1.0
 * @category testing
 */
export type AuthleteTestHandlers = { readonly [Method in keyof AuthleteClientService]?: AuthleteClientService[Method] }

/**
 * A request `AuthleteClient.layerTest` accepted: the method, the validated request, and the JSON that
 * would have been sent.
 *
 * @since 0.1.0
 * @category testing
 */
export type RecordedRequest = {
  readonly [Method in keyof AuthleteClientService]: {
    readonly method: Method
    readonly request: Parameters<AuthleteClientService[Method]>[0]
    readonly body: unknown
  }
}[keyof AuthleteClientService]

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
