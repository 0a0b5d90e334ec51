/**
 * Health endpoints for a load balancer or Kubernetes, as `@effect/platform` routes: `GET
 * /health/live` answers 200 while the process serves; `GET /health/ready` runs the readiness checks
 * an application gives (its database answers, Authlete's configuration was read recently, ...), all
 * at once, each within a deadline, and answers 200 when every one passes, else 503. The body is small
 * JSON naming each check and whether it is `up`, `down` or `timeout`: never an error's text, a
 * secret or an address.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as AuthleteClient from "./AuthleteClient.js"

/**
 * A readiness check: `check` succeeds when the part it names can serve.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReadinessCheck<R = never> {
  /** A short name for the body (`database`, `authlete`): letters, digits, `-` and `_`. */
  readonly name: string
  readonly check: Effect.Effect<unknown, unknown, R>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface HealthRoutesOptions<R = never> {
  /** Default `/health/live`. */
  readonly livePath?: string | undefined
  /** Default `/health/ready`. */
  readonly readyPath?: string | undefined
  readonly checks?: ReadonlyArray<ReadinessCheck<R>> | undefined
  /** How long a check may take before it counts as `timeout`. Default 2 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/

const NO_STORE = { "cache-control": "no-store" }

/**
 * Authlete answers, with the service's configuration (`/service/configuration`): a check that reads it
 * at most once per `maxAge` (default 30 seconds) and answers from that reading meanwhile, so that a
 * probe every second does not become a call to Authlete every second.
 *
 * @since 0.1.0
 * @category checks
 */
export const authleteCheck = (
  maxAge: Duration.DurationInput = "30 seconds"
): Effect.Effect<ReadinessCheck<never>, never, AuthleteClient.AuthleteClient> =>
  Effect.gen(function*() {
    const authlete = yield* AuthleteClient.AuthleteClient
    const cached = yield* Effect.cachedWithTTL(Effect.either(authlete.serviceConfiguration()), maxAge)
    return { name: "authlete", check: Effect.flatten(cached) }
  })

/**
 * The live and ready routes. A check name that is not letters, digits, `-` and `_` throws a
 * `TypeError` here.
 *
 * @since 0.1.0
 * @category routes
 */
export const healthRouter = <R = never>(options: HealthRoutesOptions<R> = {}): HttpRouter.HttpRouter<never, R> => {
  const checks = options.checks ?? []
  for (const { name } of checks) {
    if (!NAME.test(name)) {
      throw new TypeError(`HealthRoutes: a check's name must match ${NAME}, not ${JSON.stringify(name)}`)
    }
  }
  const timeout = Duration.decode(options.timeout ?? "2 seconds")
  const ready = Effect.forEach(
    checks,
    ({ check, name }) =>
      check.pipe(
        Effect.as("up" as const),
        Effect.timeoutTo({ duration: timeout, onTimeout: () => "timeout" as const, onSuccess: (status) => status }),
        // A check's failure or defect is the check's answer, never the route's.
        Effect.catchAllCause(() => Effect.succeed("down" as const)),
        Effect.map((status) => [name, status] as const)
      ),
    { concurrency: "unbounded" }
  ).pipe(
    Effect.map((results) => {
      const isReady = results.every(([, status]) => status === "up")
      return HttpServerResponse.unsafeJson(
        { status: isReady ? "ready" : "not ready", checks: Object.fromEntries(results) },
        { status: isReady ? 200 : 503, headers: NO_STORE }
      )
    })
  )
  return HttpRouter.empty.pipe(
    HttpRouter.get(
      (options.livePath ?? "/health/live") as HttpRouter.PathInput,
      Effect.succeed(HttpServerResponse.unsafeJson({ status: "live" }, { headers: NO_STORE }))
    ),
    HttpRouter.get((options.readyPath ?? "/health/ready") as HttpRouter.PathInput, ready)
  )
}
