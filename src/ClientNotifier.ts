/**
 * Delivers a CIBA notification (PING or PUSH) to the client's notification endpoint, as CIBA Core
 * 10.2 and 10.3 say: the `responseContent` Authlete produced, unchanged, with the client's
 * notification token as a bearer token. The endpoint is chosen by the OAuth client, so it is not
 * trusted: it must be `https:`, and it may not lead to a loopback or private address unless the
 * application allows it.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as CibaMetrics from "./CibaMetrics.js"
import * as HttpTransport from "./HttpTransport.js"
import * as Http from "./internal/http.js"
import * as Retry from "./internal/retry.js"
import * as Tracing from "./internal/tracing.js"
import * as Transport from "./internal/transport.js"

/**
 * The client's notification endpoint did not take the notification: it is not a URL this library
 * sends to (`InvalidEndpoint`), it leads to a loopback or private address (`ForbiddenAddress`), the
 * token cannot go in a header (`InvalidToken`), it answered a redirect (`Redirect`, never followed) or
 * another non-2xx status (`Status`), the connection failed (`Transport`) or the attempt ran out of
 * time (`Timeout`). `endpoint` shows the URL without its query; the token is never part of it.
 *
 * @since 0.1.0
 * @category errors
 */
export class ClientNotificationError extends Schema.TaggedError<ClientNotificationError>(
  "effect-authlete/ClientNotificationError"
)("ClientNotificationError", {
  reason: Schema.Literal(
    "InvalidEndpoint",
    "ForbiddenAddress",
    "InvalidToken",
    "Redirect",
    "Status",
    "Transport",
    "Timeout"
  ),
  status: Schema.optional(Schema.Number),
  endpoint: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/**
 * One notification: where, with which token, and the body to send as it is.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientNotification {
  readonly endpoint: string
  readonly token: Redacted.Redacted<string>
  readonly body: string
}

/**
 * The endpoint took it: its status (204 expected, 200 accepted; the body is ignored).
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientNotificationDelivered {
  readonly status: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ClientNotifierService {
  readonly notify: (
    notification: ClientNotification
  ) => Effect.Effect<ClientNotificationDelivered, ClientNotificationError>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ClientNotifierOptions {
  /** Per attempt, reading the answer included. Default 10 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * `"none"`, or which failures to retry on what schedule within what budget. By default a broken
   * connection and a 5xx are retried twice with backoff, within 30 seconds: the body is the same each
   * time, and clients deduplicate by `auth_req_id`.
   */
  readonly retry?:
    | "none"
    | {
      readonly schedule?: Schedule.Schedule<unknown, ClientNotificationError> | undefined
      readonly while?: ((error: ClientNotificationError) => boolean) | undefined
      /** Attempts and waits together; default 30 seconds. */
      readonly budget?: Duration.DurationInput | undefined
    }
    | undefined
  /** Send to loopback endpoints (and plain `http:` on loopback): for local tools and tests. Default false. */
  readonly allowLoopback?: boolean | undefined
  /** Send to private, link-local and other non-public addresses (inside a private network). Default false. */
  readonly allowPrivateNetworks?: boolean | undefined
}

/** The most of an endpoint's answer that is read before it is ignored. */
const MAX_IGNORED_BODY_BYTES = 65_536

const isRetriedByDefault = (error: ClientNotificationError): boolean =>
  error.reason === "Transport" || (error.reason === "Status" && error.status !== undefined && error.status >= 500)

const defaultSchedule: Schedule.Schedule<unknown, ClientNotificationError> = Schedule.exponential("200 millis").pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(2)),
  Schedule.asVoid
)

/** An endpoint as errors show it: origin and path, never a query that might carry a credential. */
const shownEndpoint = (url: URL): string => `${url.origin}${url.pathname}`

interface Checked {
  readonly url: URL
  readonly endpoint: string
  readonly token: string
}

/**
 * What the live notifier and the test notifier both refuse before sending: an endpoint that is not
 * an absolute `https:` URL without credentials (plain `http:` only on loopback, when allowed), one
 * that names a loopback or private address the policy refuses, and a token a header cannot carry.
 */
const check = (
  notification: ClientNotification,
  policy: Transport.DestinationPolicy
): Either.Either<Checked, ClientNotificationError> => {
  const refuse = (reason: ClientNotificationError["reason"], endpoint: string, detail: string) =>
    Either.left(new ClientNotificationError({ reason, endpoint, detail }))
  let url: URL
  try {
    url = new URL(notification.endpoint)
  } catch {
    return refuse("InvalidEndpoint", "", "The client notification endpoint is not an absolute URL")
  }
  const endpoint = shownEndpoint(url)
  const unsafe = Http.unsafeUrlReason(url)
  if (unsafe !== undefined) return refuse("InvalidEndpoint", endpoint, `The client notification endpoint ${unsafe}`)
  const why = Transport.hostRefusal(url.hostname, policy)
  if (why !== undefined) {
    return refuse("ForbiddenAddress", endpoint, `The client notification endpoint ${endpoint} leads to ${why}`)
  }
  const token = Redacted.value(notification.token)
  if (token === "" || Transport.invalidHeader({ token }) !== undefined) {
    return refuse(
      "InvalidToken",
      endpoint,
      "The client notification token cannot be sent: it is empty or holds characters an HTTP header cannot carry"
    )
  }
  return Either.right({ url, endpoint, token })
}

/** How a notification attempt failed, in a word, for `CibaMetrics.notifications`. */
const outcomeOf = (cause: Cause.Cause<ClientNotificationError>): string => {
  const failure = Cause.failureOption(cause)
  if (failure._tag === "None") return Cause.isInterruptedOnly(cause) ? "interrupted" : "defect"
  switch (failure.value.reason) {
    case "Status":
    case "Redirect":
      return "refused"
    case "Timeout":
      return "timeout"
    case "ForbiddenAddress":
      return "forbidden_address"
    default:
      return "unreachable"
  }
}

const policyOf = (options: ClientNotifierOptions): Transport.DestinationPolicy => ({
  allowLoopback: options.allowLoopback === true,
  allowPrivate: options.allowPrivateNetworks === true
})

export const make = (
  options: ClientNotifierOptions = {}
): Effect.Effect<ClientNotifierService, ConfigError.ConfigError, HttpTransport.HttpTransport> =>
  Effect.gen(function*() {
    const timeoutMillis = yield* Either.mapLeft(
      Transport.timeoutMillisOf(options.timeout ?? "10 seconds", "timeout"),
      (message) => ConfigError.InvalidData(["timeout"], message)
    )
    const retry = options.retry === "none" ? undefined : options.retry
    const budgetMillis = retry?.budget === undefined ? 30_000 : yield* Either.mapLeft(
      Transport.timeoutMillisOf(retry.budget, "retry.budget"),
      (message) => ConfigError.InvalidData(["retry", "budget"], message)
    )
    const policy: Retry.RetryPolicy<ClientNotificationError> | undefined = options.retry === "none"
      ? undefined
      : { schedule: retry?.schedule ?? defaultSchedule, while: retry?.while ?? isRetriedByDefault, budgetMillis }
    const destination = policyOf(options)
    const transport = yield* HttpTransport.HttpTransport

    const notify = (notification: ClientNotification) =>
      Effect.suspend(() => {
        const checked = check(notification, destination)
        if (Either.isLeft(checked)) return Effect.fail(checked.left)
        const { endpoint, token, url } = checked.right
        const failed = (reason: ClientNotificationError["reason"], detail: string, status?: number) =>
          new ClientNotificationError({
            reason,
            endpoint,
            detail: Transport.scrubSecrets(detail, [token]),
            ...(status === undefined ? {} : { status })
          })
        // The answer's body means nothing to CIBA; the transport reads it (within a cap) and drops it.
        const answered = ({ status }: HttpTransport.HttpTransportResponse) =>
          status >= 200 && status < 300
            ? Effect.succeed<ClientNotificationDelivered>({ status })
            : Effect.fail(
              status >= 300 && status < 400
                ? failed("Redirect", `${endpoint} answered ${status}; CIBA forbids following it`, status)
                : failed("Status", `${endpoint} answered ${status}`, status)
            )
        const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" }
        // Written out rather than `{ ...request, timeoutMillis }`, which takes V8's slow path.
        const send = (timeoutMillis: number) =>
          transport.send({
            method: "POST",
            url: url.href,
            headers,
            body: notification.body,
            timeoutMillis,
            maxResponseBytes: MAX_IGNORED_BODY_BYTES,
            destination
          }).pipe(
            Effect.catchTag("AuthleteTransportError", (error) =>
              Effect.fail(
                failed(
                  error.reason === "Timeout"
                    ? "Timeout"
                    : error.reason === "ForbiddenAddress"
                    ? "ForbiddenAddress"
                    : "Transport",
                  `Notifying ${endpoint}: ${error.detail}`
                )
              )),
            Effect.flatMap(answered)
          )
        // Every attempt counted by how it ended (`CibaMetrics.notifications`).
        let attempts = 0
        const attempt = (timeoutMillis: number) =>
          Effect.flatMap(FiberRef.get(CibaMetrics.earlierNotificationAttempts), (earlier) => {
            attempts++
            const number = CibaMetrics.attemptLabel(earlier + attempts)
            return Effect.onExit(send(timeoutMillis), (exit) =>
              CibaMetrics.count(CibaMetrics.notifications, {
                outcome: exit._tag === "Success" ? "delivered" : outcomeOf(exit.cause),
                attempt: number
              }))
          })
        return Tracing.spanned(
          "ClientNotifier.notify",
          { kind: "client", attributes: { "http.request.method": "POST", "server.address": url.host } },
          (recording) => {
            if (!recording) return Retry.retrying(attempt, timeoutMillis, policy)
            return Retry.retrying(attempt, timeoutMillis, policy).pipe(
              Effect.tap((delivered) => Effect.annotateCurrentSpan("http.response.status_code", delivered.status)),
              Effect.ensuring(Effect.suspend(() => Effect.annotateCurrentSpan("ciba.notification.attempts", attempts)))
            )
          }
        )
      })

    return { notify } satisfies ClientNotifierService
  })

/**
 * A notification `ClientNotifier.layerTest` received instead of sending it.
 *
 * @since 0.1.0
 * @category testing
 */
export type RecordedNotification = ClientNotification

/**
 * What `ClientNotifier.layerTest` received.
 *
 * @since 0.1.0
 * @category testing
 */
export class ClientNotifierRecorder extends Context.Tag("effect-authlete/ClientNotifierRecorder")<
  ClientNotifierRecorder,
  { readonly notifications: Effect.Effect<ReadonlyArray<RecordedNotification>> }
>() {}

/**
 * The tag of the notifier.
 *
 * @since 0.1.0
 * @category tags
 */
export class ClientNotifier extends Context.Tag("effect-authlete/ClientNotifier")<
  ClientNotifier,
  ClientNotifierService
>() {}

/**
 * The live notifier over the application's `HttpTransport`; a bad option fails with `ConfigError`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: ClientNotifierOptions
): Layer.Layer<ClientNotifier, ConfigError.ConfigError, HttpTransport.HttpTransport> =>
  Layer.effect(ClientNotifier, make(options))

/**
 * Records notifications instead of sending them, answering with `status` (204 unless told; any
 * other status fails as the live notifier would). It refuses what the live notifier refuses before
 * sending (the endpoint, its address as the URL names it, the token), with the same options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTest = (
  status: (notification: ClientNotification) => number = () => 204,
  options: Pick<ClientNotifierOptions, "allowLoopback" | "allowPrivateNetworks"> = {}
): Layer.Layer<ClientNotifier | ClientNotifierRecorder> =>
  Layer.effectContext(Effect.gen(function*() {
    const recorded = yield* Ref.make<ReadonlyArray<RecordedNotification>>([])
    const destination = policyOf(options)
    const notify = (notification: ClientNotification) =>
      Effect.flatMap(check(notification, destination), ({ endpoint }) =>
        Effect.flatMap(Ref.update(recorded, (all) => [...all, notification]), () => {
          const answered = status(notification)
          return answered >= 200 && answered < 300
            ? Effect.succeed({ status: answered })
            : Effect.fail(
              new ClientNotificationError({
                reason: answered >= 300 && answered < 400 ? "Redirect" : "Status",
                status: answered,
                endpoint,
                detail: `The test notifier answered ${answered}`
              })
            )
        }))
    return Context.make(ClientNotifier, { notify }).pipe(
      Context.add(ClientNotifierRecorder, { notifications: Ref.get(recorded) })
    )
  }))
