/**
 * How the steps of the CIBA workflow (`CibaCompletion`) try again. Two mechanisms, for two kinds of
 * failure:
 *
 * - a store that fails inside a step (`persistently`) is retried a little, then the step dies and
 *   the engine restarts the workflow from its history: a database blip is not the request's fate;
 * - Authlete and the client's notification endpoint are sent the request again (`untilExpiry`) after
 *   the failures that may have left it unprocessed, with backoff, as long as the `auth_req_id` lives:
 *   after that, nobody waits for the answer.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schedule from "effect/Schedule"
import type * as AuthleteError from "../../AuthleteError.js"
import type * as BackchannelAuthenticationCompleteResponse from "../../BackchannelAuthenticationCompleteResponse.js"
import type { ClientNotificationError } from "../../ClientNotifier.js"

/**
 * A store that fails inside a step is retried a little (jittered, since every node's steps meet the
 * same database), then the step dies: the engine restarts the workflow, which replays its recorded
 * steps and runs this one again.
 */
export const persistently = <A, E extends { readonly message: string }, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.retry({ schedule: Schedule.exponential("200 millis").pipe(Schedule.jittered), times: 5 }),
    Effect.orDieWith((error) => new Error(error.message))
  )

const FIRST_BACKOFF = Duration.millis(500)
const MAX_BACKOFF = Duration.seconds(10)

/**
 * The backoff of `/complete` and of the notification: 500 ms, doubling up to 10 s, and no attempt
 * that would start at or after `expiresAt` (epoch milliseconds). Its output is the delay before the
 * next attempt; its time is Effect's `Clock`, so `TestClock` drives it.
 */
export const untilExpiry = (expiresAt: number): Schedule.Schedule<Duration.Duration> =>
  Schedule.exponential(FIRST_BACKOFF).pipe(
    Schedule.modifyDelay((_, delay) => Duration.min(delay, MAX_BACKOFF)),
    Schedule.delays,
    Schedule.checkEffect((_, delay) =>
      Effect.map(Clock.currentTimeMillis, (now) => now + Duration.toMillis(delay) < expiresAt)
    )
  )

/** Whether the request may have been refused unprocessed, or lost on the way: worth sending again. */
export const isTransient = (error: AuthleteError.AuthleteError): boolean =>
  error._tag === "AuthleteTransportError" ||
  (error._tag === "AuthleteApiError" && (error.status >= 500 || error.status === 408 || error.status === 429))

/** Whether Authlete's refusal of a resumed attempt reads as "this ticket was used". */
export const refusesTicket = (
  answer: Either.Either<
    BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse,
    AuthleteError.AuthleteError
  >
): boolean =>
  Either.isRight(answer)
    ? answer.right.action === "SERVER_ERROR"
    : answer.left._tag === "AuthleteApiError" && answer.left.status >= 400 && answer.left.status < 500 &&
      ![401, 403, 408, 429].includes(answer.left.status)

/** CIBA Core 10.2/10.3 leave the rest to the server: a 4xx other than 408 and 429 and a redirect are final. */
export const isRetriable = (error: ClientNotificationError): boolean =>
  error.reason === "Transport" || error.reason === "Timeout" ||
  (error.reason === "Status" && error.status !== undefined &&
    (error.status >= 500 || error.status === 408 || error.status === 429))
