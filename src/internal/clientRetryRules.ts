/**
 * Which of Authlete's failures `AuthleteClient` tries again by default, and after how long: the
 * rules the client's options fall back to, offered to applications as `AuthleteClient`'s statics.
 */
import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"
import type * as AuthleteError from "../AuthleteError.js"

/**
 * The default retry rule (`AuthleteClient.isSafeToRetry`): only what Authlete provably did not
 * process. `/complete` is not repeatable (in PUSH mode it mints tokens), so a refused connection, 429
 * and 503 are retried, and 500, 502, 504, timeouts and broken connections are not.
 *
 * @since 0.1.0
 * @category retries
 */
export const isSafeToRetry = (error: AuthleteError.AuthleteError): boolean =>
  (error._tag === "AuthleteTransportError" && error.reason === "Connect") ||
  (error._tag === "AuthleteApiError" && (error.status === 429 || error.status === 503))

/**
 * The rule for APIs that change nothing (`repeatable`): also 5xx, timeouts and broken connections.
 *
 * @since 0.1.0
 * @category retries
 */
export const isSafeToRepeat = (error: AuthleteError.AuthleteError): boolean =>
  isSafeToRetry(error) ||
  (error._tag === "AuthleteTransportError" && (error.reason === "Timeout" || error.reason === "Transport")) ||
  (error._tag === "AuthleteApiError" && error.status >= 500)

const requestedDelay = (error: AuthleteError.AuthleteError): Duration.Duration | undefined =>
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
export const defaultRetrySchedule: Schedule.Schedule<unknown, AuthleteError.AuthleteError> = Schedule.identity<
  AuthleteError.AuthleteError
>().pipe(
  Schedule.intersect(Schedule.exponential("500 millis").pipe(Schedule.jittered)),
  Schedule.modifyDelay(([error], backoff) => requestedDelay(error) ?? backoff),
  Schedule.intersect(Schedule.recurs(3)),
  Schedule.asVoid
)
