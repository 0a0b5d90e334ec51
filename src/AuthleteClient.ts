/**
 * The tagged service through which an Effect application reaches Authlete.
 *
 * @since 0.1.0
 */
import { HttpClient } from "@effect/platform"
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
  AuthleteValidationError,
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
import * as Transport from "./internal/transport.js"

/** The tracer Effect runs with when the application installed none: it records nothing. */
const nativeTracer = Effect.runSync(Effect.tracer)

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
  /** `https://us.authlete.com` */
  readonly origin: string
  /** A base URL's own path, without a trailing slash (`""` for Authlete's own hosts). */
  readonly pathPrefix: string
  /** `/{serviceId}` in v3, `""` in v2. */
  readonly servicePath: string
  /** Authorization, Accept and Content-Type, made once: the credential is written into a header here only. */
  readonly headers: Readonly<Record<string, string>>
  /** The credential, as given and as sent, to remove from anything an error shows. */
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
  const pathPrefix = url.pathname.replace(/\/+$/, "")
  const retry = options.retry === "none" ? Option.none() : Option.some({
    schedule: options.retry?.schedule ?? defaultRetrySchedule,
    while: options.retry?.while ?? isSafeToRetry
  })
  const common = { origin: url.origin, pathPrefix, timeout, maxResponseBytes, retry }
  if (options.apiVersion === "V2") {
    if (options.apiKey === "") return Either.left(invalid("apiKey", "apiKey must not be empty"))
    const secret = Redacted.value(options.apiSecret)
    // HTTP Basic over the UTF-8 bytes (btoa alone refuses characters beyond Latin-1).
    const authorization = `Basic ${
      btoa(String.fromCharCode(...new TextEncoder().encode(`${options.apiKey}:${secret}`)))
    }`
    return Either.right({
      ...common,
      servicePath: "",
      headers: { authorization, accept: "application/json", "content-type": "application/json" },
      secrets: [secret, authorization]
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
    headers: {
      authorization: `Bearer ${Redacted.value(options.accessToken)}`,
      accept: "application/json",
      "content-type": "application/json"
    },
    secrets: [Redacted.value(options.accessToken)]
  })
}

const statusesWithResultBody: ReadonlySet<number> = new Set([400, 401, 403, 500])

/** Builds the service over the application's `HttpClient` (`AuthleteClient.make`). */
const make = (
  options: AuthleteClientOptions
): Effect.Effect<AuthleteClientService, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const settings = yield* settingsFrom(options)
    const client = yield* HttpClient.HttpClient
    // A transformed client keeps only the portable path: the transformation must see every request.
    const postJson = options.transformClient === undefined
      ? Transport.postJsonOf(client)
      : Transport.postJsonOver(options.transformClient(client))
    const timeoutMillis = Duration.toMillis(settings.timeout)
    const serverAddress = new URL(settings.origin).host

    /** Turns an answer into the decoded response or the error it stands for. */
    const interpret = <A>(
      exchange: Transport.Exchange,
      decode: (json: unknown) => Either.Either<A, ParseResult.ParseError>,
      secrets: () => ReadonlyArray<string | undefined>
    ): Effect.Effect<A, AuthleteError> => {
      const { body, status } = exchange
      const keep = (text: string) => Http.bodyForError(text, secrets(), MAX_ERROR_BODY_LENGTH)
      if (status >= 200 && status < 300) {
        if (body.tooLarge) {
          return Effect.fail(
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
          return Effect.fail(
            new AuthleteResponseError({ status, body: keep(body.text), message: "Authlete's answer is not JSON" })
          )
        }
        return Either.mapLeft(decode(json), (error) =>
          new AuthleteResponseError({
            status,
            body: keep(body.text),
            message: `Authlete's answer does not decode: ${AuthleteValidationError.fromParseError(error).rules}`
          }))
      }
      return Effect.map(Clock.currentTimeMillis, (now) => {
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
        const retryAfterMillis = Http.requestedRetryDelayMillis(exchange.headers, now)
        return new AuthleteApiError({
          status,
          ...(resultCode === undefined ? {} : { resultCode }),
          ...(resultMessage === undefined ? {} : { resultMessage }),
          ...(retryAfterMillis === undefined ? {} : { retryAfterMillis }),
          body: body.tooLarge ? "" : keep(body.text)
        })
      }).pipe(Effect.flip)
    }

    /** Retries by the policy; the retry machinery is entered only once an attempt failed. */
    const withRetries = <A>(once: Effect.Effect<A, AuthleteError>): Effect.Effect<A, AuthleteError> =>
      Option.match(settings.retry, {
        onNone: () => once,
        onSome: (policy) =>
          Effect.catchAll(once, (first) => {
            if (!policy.while(first)) return Effect.fail(first)
            // `Effect.retry` from the failure at hand: its first run replays it, the next ones try again.
            let replayed = false
            return Effect.retry(
              Effect.suspend(() => {
                if (replayed) return once
                replayed = true
                return Effect.fail(first)
              }),
              policy
            )
          })
      })

    /**
     * One call: POST the JSON body under the timeout, interpret the answer, retry by the policy. When
     * an application installed a tracer, the call is its span, with Authlete's status, action, result
     * code and the number of attempts; with Effect's built-in tracer nothing is recorded, so no span
     * is made.
     */
    const post = <A>(
      url: string,
      path: string,
      body: string,
      decode: (json: unknown) => Either.Either<A, ParseResult.ParseError>,
      callSecrets: () => ReadonlyArray<string | undefined>,
      spanName: string
    ): Effect.Effect<A, AuthleteError> => {
      // Only an error needs the list, so it is made only then.
      let secretsMemo: ReadonlyArray<string | undefined> | undefined
      const secrets = () => (secretsMemo ??= [...settings.secrets, ...callSecrets()])
      const transportOptions = { timeoutMillis, maxBytes: settings.maxResponseBytes, secrets }
      const answer = (exchange: Transport.Exchange) => interpret(exchange, decode, secrets)
      return Effect.tracerWith((tracer) => {
        if (tracer === nativeTracer) {
          return withRetries(postJson(url, settings.headers, body, transportOptions, answer))
        }
        let attempts = 0
        const once = Effect.suspend(() => {
          attempts++
          return postJson(url, settings.headers, body, transportOptions, (exchange) =>
            Effect.zipRight(
              Effect.annotateCurrentSpan("http.response.status_code", exchange.status),
              answer(exchange)
            ))
        }).pipe(
          Effect.tap(annotateResult),
          Effect.tapError(annotateResult)
        )
        return withRetries(once).pipe(
          Effect.ensuring(Effect.suspend(() => Effect.annotateCurrentSpan("authlete.attempts", attempts))),
          Effect.withSpan(spanName, {
            kind: "client",
            attributes: { "http.request.method": "POST", "server.address": serverAddress, "url.path": path }
          })
        )
      })
    }

    /** One method of the service: validate and encode, then POST and decode. */
    const method = <Request, RequestJson, Response>(
      name: keyof AuthleteClientService,
      endpoint: Endpoints.Endpoint<Request, RequestJson, Response>
    ) => {
      const path = `/api${settings.servicePath}${endpoint.path}`
      const url = `${settings.origin}${settings.pathPrefix}${path}`
      const spanName = `AuthleteClient.${name}`
      return (request: Request): Effect.Effect<Response, AuthleteError> =>
        Effect.suspend(() => {
          const encoded = endpoint.encode(request)
          return Either.isLeft(encoded)
            ? Effect.fail(AuthleteValidationError.fromParseError(encoded.left))
            : post(
              url,
              path,
              JSON.stringify(encoded.right),
              endpoint.decodeResponse,
              () => endpoint.secretsOf(request),
              spanName
            )
        })
    }

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
