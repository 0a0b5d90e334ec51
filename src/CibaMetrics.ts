/**
 * The library's own metrics, made with Effect's `Metric` and named in the OpenTelemetry style
 * (`effect_authlete.<area>.<what>`, durations in seconds). They cost a few map lookups when nothing
 * reads them; an application exports them as it exports its own (`effect-authlete serve` serves them
 * to Prometheus and sends them over OTLP: see the README's Operations).
 *
 * Attributes are few and bounded (an outcome, a limit's name, an API's name): never an identifier,
 * a client, a user or anything a request carries.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import type * as MetricKeyType from "effect/MetricKeyType"
import * as MetricLabel from "effect/MetricLabel"

const seconds = (boundaries: ReadonlyArray<number>) => MetricBoundaries.fromIterable(boundaries)

/** Each metric's key, to make its tagged variants from (`withAttributes`). */
const keys = new WeakMap<object, MetricKey.MetricKey.Untyped>()

/** Each metric's tagged variants, by their attributes (`withAttributes`). */
const cache = new WeakMap<object, Map<string, Metric.Metric<any, any, any>>>()

const define = <Type extends MetricKeyType.MetricKeyType<any, any>>(key: MetricKey.MetricKey<Type>) => {
  const metric = Metric.fromMetricKey(key)
  keys.set(metric, key)
  return metric
}

/**
 * Backchannel authentication requests by `outcome`: `issued` (200), `limited` (429), `refused` (any
 * other 4xx), `unavailable` (503, a full store), `error` (5xx, or Authlete or the store unreachable),
 * `interrupted` (its fiber was interrupted: its client went away).
 *
 * @since 0.1.0
 * @category metrics
 */
export const backchannelRequests = define(MetricKey.counter("effect_authlete.backchannel.requests", {
  description: "Backchannel authentication requests, by outcome",
  incremental: true
}))

/**
 * Requests refused by a limit against abuse, by `limit`: `per_client`, `per_user`,
 * `pending_per_user`, `wrong_user_codes` (a request failed because its user is locked out, or the
 * wrong code that locks it).
 *
 * @since 0.1.0
 * @category metrics
 */
export const limitsExceeded = define(MetricKey.counter("effect_authlete.limits.exceeded", {
  description: "Backchannel requests refused by a limit against abuse, by limit",
  incremental: true
}))

/**
 * Requests waiting for their user's decision (set by whoever can count them: `serve` counts the
 * database's every few seconds).
 *
 * @since 0.1.0
 * @category metrics
 */
export const pendingRequests = define(MetricKey.gauge("effect_authlete.backchannel.pending", {
  description: "Backchannel requests waiting for a decision"
}))

/**
 * Decisions sent to Authlete's `/complete`, by `result`: `AUTHORIZED`, `ACCESS_DENIED`,
 * `TRANSACTION_FAILED` (nobody decided in time).
 *
 * @since 0.1.0
 * @category metrics
 */
export const decisions = define(MetricKey.counter("effect_authlete.decisions", {
  description: "Decisions sent to Authlete, by result",
  incremental: true
}))

/**
 * Seconds from the backchannel request to its decision (or its deadline), by `result`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const decisionDuration = define(MetricKey.histogram(
  "effect_authlete.decision.duration",
  seconds([0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]),
  "Seconds from the backchannel request to its decision, by result"
))

/**
 * Seconds from the decision to the client's notification delivered (PING and PUSH), by `mode`.
 * POLL clients take their tokens when they next ask: their time is the client's interval.
 *
 * @since 0.1.0
 * @category metrics
 */
export const deliveryDuration = define(MetricKey.histogram(
  "effect_authlete.delivery.duration",
  seconds([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]),
  "Seconds from the decision to the client's notification delivered, by delivery mode"
))

/**
 * Notifications sent to clients' endpoints (one per attempt), by `outcome` (`delivered`,
 * `refused`, `timeout`, `unreachable`, `forbidden_address`) and `attempt` (`1`, `2`, `3+`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const notifications = define(MetricKey.counter("effect_authlete.notifications", {
  description: "Notification attempts to clients' endpoints, by outcome and attempt",
  incremental: true
}))

/**
 * Attempts at one notification made before the notifier was called, by a caller that retries it
 * itself (a durable workflow calls a notifier that does not retry): the notifier numbers its
 * attempts from there.
 *
 * @since 0.1.0
 * @category metrics
 */
export const earlierNotificationAttempts: FiberRef.FiberRef<number> = FiberRef.unsafeMake(0)

/** The `mode` attribute of `deliveryDuration`: `POLL`, `PING`, `PUSH`, or `other` (a value from Authlete is not trusted to be one). */
export const modeLabel = (mode: string | undefined): string =>
  mode === "POLL" || mode === "PING" || mode === "PUSH" ? mode : "other"

/** The `attempt` attribute of `notifications`: `1`, `2` or `3+`. */
export const attemptLabel = (attempt: number): string => attempt >= 3 ? "3+" : String(attempt)

/**
 * Seconds each call to Authlete took, retries included, by `api` (the client's method name) and
 * `outcome` (`ok`, the error's reason, or `interrupted` when its caller interrupted it); the
 * histogram's count is the number of calls that ended.
 *
 * @since 0.1.0
 * @category metrics
 */
export const authleteCallDuration = define(MetricKey.histogram(
  "effect_authlete.authlete.duration",
  seconds([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  "Seconds each call to Authlete took, by API and outcome"
))

/**
 * Counts one event of `counter` under the given attributes.
 *
 * @since 0.1.0
 * @category recording
 */
export const count = (
  counter: Metric.Metric.Counter<number>,
  attributes: Record<string, string>
): Effect.Effect<void> => Metric.increment(withAttributes(counter, attributes))

/**
 * Records `millis` milliseconds, in seconds, in `histogram` under the given attributes.
 *
 * @since 0.1.0
 * @category recording
 */
export const recordMillis = (
  histogram: Metric.Metric.Histogram<number>,
  millis: number,
  attributes: Record<string, string>
): Effect.Effect<void> => Metric.update(withAttributes(histogram, attributes), Math.max(0, millis) / 1000)

/**
 * One of this module's metrics under these attributes, made once with the attributes in its key.
 * `Metric.tagged` would do the same at every update: it joins its tags into a new array each time,
 * and Effect then finds the metric's state by that array's identity, so each update would make a
 * key and look it up by hash. Attribute values are few (outcomes, names), so the cache stays small.
 *
 * @since 0.1.0
 * @category recording
 */
export const withAttributes = <M extends Metric.Metric<any, any, any>>(
  metric: M,
  attributes: Record<string, string>
): M => {
  let byAttributes = cache.get(metric)
  if (byAttributes === undefined) cache.set(metric, byAttributes = new Map())
  let id = ""
  for (const name in attributes) id += `${name}=${attributes[name]}\u0000`
  let found = byAttributes.get(id)
  if (found === undefined) {
    const key = keys.get(metric)
    if (key === undefined) throw new Error("CibaMetrics.withAttributes takes this module's metrics only")
    found = Metric.fromMetricKey(
      MetricKey.taggedWithLabels(key, Object.entries(attributes).map(([name, value]) => MetricLabel.make(name, value)))
    )
    byAttributes.set(id, found)
  }
  return found as M
}
