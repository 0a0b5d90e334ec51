/**
 * Delivers a CIBA notification (PING or PUSH) to the client's notification endpoint, as CIBA Core
 * 10.2 and 10.3 say: the `responseContent` Authlete produced, unchanged, with the client's
 * notification token as a bearer token.
 *
 * @since 0.1.0
 */
import { HttpClient } from "@effect/platform"
import { Context, Duration, Effect, Layer, Option, Redacted, Ref, Schedule } from "effect"
import { ClientNotificationError } from "./AuthleteError.js"
import * as Http from "./internal/http.js"
import * as Transport from "./internal/transport.js"

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
   * `"none"`, or which failures to retry on what schedule. By default a broken connection and a 5xx
   * are retried twice with backoff: the body is the same each time, and clients deduplicate by
   * `auth_req_id`.
   */
  readonly retry?:
    | "none"
    | {
      readonly schedule?: Schedule.Schedule<unknown, ClientNotificationError> | undefined
      readonly while?: ((error: ClientNotificationError) => boolean) | undefined
    }
    | undefined
  /** An escape hatch to adjust the `HttpClient`. */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
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

const make = (options: ClientNotifierOptions = {}) =>
  Effect.gen(function*() {
    const timeoutMillis = Duration.toMillis(options.timeout ?? "10 seconds")
    const client = yield* HttpClient.HttpClient
    // The lean JSON POST when the client has one, unless a transformation must see every request.
    const postJson = options.transformClient === undefined
      ? Transport.postJsonOf(client)
      : Transport.postJsonOver(options.transformClient(client))
    const retry = options.retry === "none" ? Option.none() : Option.some({
      schedule: options.retry?.schedule ?? defaultSchedule,
      while: options.retry?.while ?? isRetriedByDefault
    })

    const notify = Effect.fn("ClientNotifier.notify")(function*(notification: ClientNotification) {
      let url: URL
      try {
        url = new URL(notification.endpoint)
      } catch {
        return yield* new ClientNotificationError({
          reason: "InvalidEndpoint",
          endpoint: "",
          message: "The client notification endpoint is not an absolute URL"
        })
      }
      const endpoint = shownEndpoint(url)
      const unsafe = Http.unsafeUrlReason(url)
      if (unsafe !== undefined) {
        return yield* new ClientNotificationError({
          reason: "InvalidEndpoint",
          endpoint,
          message: `The client notification endpoint ${unsafe}`
        })
      }
      const token = Redacted.value(notification.token)
      const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" }
      const transportOptions = { timeoutMillis, maxBytes: MAX_IGNORED_BODY_BYTES, secrets: () => [token] }
      const failed = (reason: ClientNotificationError["reason"], message: string, status?: number) =>
        new ClientNotificationError({
          reason,
          endpoint,
          message: Http.scrubSecrets(message, [token]),
          ...(status === undefined ? {} : { status })
        })
      // The answer's body means nothing to CIBA; the transport reads it (within a cap) and drops it.
      const answered = ({ status }: Transport.Exchange) =>
        status >= 200 && status < 300
          ? Effect.succeed<ClientNotificationDelivered>({ status })
          : Effect.fail(
            status >= 300 && status < 400
              ? failed("Redirect", `${endpoint} answered ${status}; CIBA forbids following it`, status)
              : failed("Status", `${endpoint} answered ${status}`, status)
          )
      let attempts = 0
      const once = Effect.suspend(() => {
        attempts++
        return postJson(url.href, headers, notification.body, transportOptions, answered)
      }).pipe(
        Effect.catchTag("AuthleteTransportError", (error) =>
          Effect.fail(
            failed(error.reason === "Timeout" ? "Timeout" : "Transport", `Notifying ${endpoint}: ${error.message}`)
          ))
      )
      const delivered = yield* Option.match(retry, {
        onNone: () => once,
        onSome: (policy) => Effect.retry(once, policy)
      }).pipe(
        Effect.ensuring(Effect.suspend(() => Effect.annotateCurrentSpan("ciba.notification.attempts", attempts)))
      )
      yield* Effect.annotateCurrentSpan("http.response.status_code", delivered.status)
      return delivered
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
>() {
  /** Builds the notifier over the application's `HttpClient`. */
  static readonly make = make

  /** The live notifier over the application's `HttpClient`. */
  static readonly layer = (
    options?: ClientNotifierOptions
  ): Layer.Layer<ClientNotifier, never, HttpClient.HttpClient> => Layer.effect(ClientNotifier, make(options))

  /**
   * Records notifications instead of sending them, answering with `status` (204 unless told; any
   * other status fails as the live notifier would).
   */
  static readonly layerTest = (
    status: (notification: ClientNotification) => number = () => 204
  ): Layer.Layer<ClientNotifier | ClientNotifierRecorder> =>
    Layer.effectContext(Effect.gen(function*() {
      const recorded = yield* Ref.make<ReadonlyArray<RecordedNotification>>([])
      const notify = (notification: ClientNotification) =>
        Effect.flatMap(Ref.update(recorded, (all) => [...all, notification]), () => {
          const answered = status(notification)
          return answered >= 200 && answered < 300
            ? Effect.succeed({ status: answered })
            : Effect.fail(
              new ClientNotificationError({
                reason: answered >= 300 && answered < 400 ? "Redirect" : "Status",
                status: answered,
                endpoint: notification.endpoint,
                message: `The test notifier answered ${answered}`
              })
            )
        })
      return Context.make(ClientNotifier, { notify }).pipe(
        Context.add(ClientNotifierRecorder, { notifications: Ref.get(recorded) })
      )
    }))
}
