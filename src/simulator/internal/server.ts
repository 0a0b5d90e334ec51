/**
 * The simulator's HTTP surface: the four CIBA routes behind Authlete's bearer-token check, with every
 * request recorded (Authorization value removed) and fault injection in front of everything.
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import { Effect, Option, Redacted, Ref } from "effect"
import type { Clock } from "effect"
import type { RecordedRequest } from "../AuthleteSimulator.js"
import type { Answer, Engine } from "./ciba.js"
import { secretsEqual } from "./crypto.js"
import type { Fault, Faults } from "./faults.js"
import * as Codes from "./resultCodes.js"

export interface ServerDependencies {
  readonly serviceId: string
  readonly accessToken: Redacted.Redacted<string>
  readonly engine: Engine
  readonly faults: Faults
  readonly recorded: Ref.Ref<ReadonlyArray<RecordedRequest>>
  readonly clock: Clock.Clock
}

const answer = ({ body, status }: Answer): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(body, { status })

const faultResponse = (fault: Fault): HttpServerResponse.HttpServerResponse =>
  typeof fault.body === "string"
    ? HttpServerResponse.text(fault.body, { status: fault.status, headers: fault.headers })
    : HttpServerResponse.unsafeJson(fault.body, { status: fault.status, headers: fault.headers })

const notFound = HttpServerResponse.unsafeJson({ error: "Not Found" }, { status: 404 })

const BEARER = /^Bearer +(\S+) *$/i

/** A JSON object, or `undefined` for anything else (Authlete's APIs take objects). */
const parseJsonObject = (text: string): { readonly [x: string]: unknown } | undefined => {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as { readonly [x: string]: unknown }
      : undefined
  } catch {
    return undefined
  }
}

export const makeApp = (deps: ServerDependencies): HttpApp.Default => {
  /** The v3 credential check: a bearer token for this service, else 401 (no or wrong token) or 403. */
  const refuseCaller = (authorization: string | undefined, serviceId: string | undefined): Answer | undefined => {
    if (authorization === undefined || authorization.trim() === "") {
      return { status: 401, body: Codes.authorizationHeaderMissing }
    }
    const token = BEARER.exec(authorization)?.[1]
    if (token === undefined || !secretsEqual(token, Redacted.value(deps.accessToken))) {
      return { status: 401, body: Codes.accessTokenInvalid }
    }
    if (serviceId !== deps.serviceId) return { status: 403, body: Codes.accessTokenForOtherService(serviceId ?? "") }
    return undefined
  }

  const endpoint = (handle: (body: unknown) => Effect.Effect<Answer>) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const { serviceId } = yield* HttpRouter.params
      const refusal = refuseCaller(request.headers["authorization"], serviceId)
      if (refusal !== undefined) return answer(refusal)
      const body = parseJsonObject(yield* Effect.orElseSucceed(request.text, () => ""))
      if (body === undefined) return answer({ status: 400, body: Codes.bodyNotJson })
      return answer(yield* handle(body))
    })

  const router = HttpRouter.empty.pipe(
    HttpRouter.post("/api/:serviceId/backchannel/authentication", endpoint(deps.engine.authentication)),
    HttpRouter.post("/api/:serviceId/backchannel/authentication/issue", endpoint(deps.engine.issue)),
    HttpRouter.post("/api/:serviceId/backchannel/authentication/fail", endpoint(deps.engine.fail)),
    HttpRouter.post("/api/:serviceId/backchannel/authentication/complete", endpoint(deps.engine.complete))
  )

  const record = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Effect.orElseSucceed(request.text, () => "")
    const headers: Record<string, string> = { ...request.headers }
    // The service access token never enters the record.
    if (headers["authorization"] !== undefined) headers["authorization"] = "<redacted>"
    const entry: RecordedRequest = {
      method: request.method,
      path: new URL(request.url, "http://simulator").pathname,
      headers,
      body: text === "" ? undefined : parseJsonObject(text) ?? text
    }
    yield* Ref.update(deps.recorded, (all) => [...all, entry])
  })

  return Effect.gen(function*() {
    yield* record
    const fault = yield* deps.faults.take
    const response = Option.isSome(fault)
      ? faultResponse(fault.value)
      : yield* router.pipe(Effect.catchTag("RouteNotFound", () => Effect.succeed(notFound)))
    const delay = yield* deps.faults.currentDelay
    if (Option.isSome(delay)) yield* deps.clock.sleep(delay.value)
    return response
  })
}
