/**
 * The simulator's HTTP surface, derived from `AuthleteApis` and the simulator's own APIs
 * (`engine.ts`): a route per API behind Authlete's bearer-token check, the request decoded with the
 * API's own codec (a body that breaks it is a 400 with the API's result code), then the engine's
 * behaviour. Bodies are capped before they are
 * buffered; only authenticated requests are recorded (the caller's token, and the client where the
 * API authenticates one), and only the latest ones, within a count and a size.
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as AuthleteApi from "../../AuthleteApi.js"
import { AuthleteValidationError } from "../../AuthleteError.js"
import * as Api from "../../internal/api.js"
import type { ReceivedRequest, SimulatedExchange } from "../AuthleteSimulator.js"
import { secretsEqual } from "./crypto.js"
import type { SimulatedApi } from "./engine.js"
import type { Fault, Faults } from "./faults.js"
import type { Recorder } from "./record.js"
import * as Codes from "./resultCodes.js"
import type { Answer } from "./state.js"

export interface ServerDependencies {
  readonly serviceId: string
  readonly accessToken: Redacted.Redacted<string>
  /** Every API routed; those that authenticate a client have their requests recorded only once it did. */
  readonly apis: ReadonlyArray<SimulatedApi>
  readonly faults: Faults
  readonly recorder: Recorder
  readonly clock: Clock.Clock
  /** The largest request body read. */
  readonly maxBodyBytes: number
  readonly onAnswer?: ((exchange: SimulatedExchange) => Effect.Effect<void>) | undefined
}

const answer = ({ body, status }: Answer): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(body, { status })

const faultResponse = (fault: Fault): HttpServerResponse.HttpServerResponse =>
  typeof fault.body === "string"
    ? HttpServerResponse.text(fault.body, { status: fault.status, headers: fault.headers })
    : HttpServerResponse.unsafeJson(fault.body, { status: fault.status, headers: fault.headers })

const notFound = HttpServerResponse.unsafeJson({ error: "Not Found" }, { status: 404 })

const BEARER = /^Bearer +(\S+) *$/i

const parseJson = (text: string): { readonly json: unknown } | undefined => {
  try {
    return { json: JSON.parse(text) }
  } catch {
    return undefined
  }
}

const isObject = (u: unknown): boolean => typeof u === "object" && u !== null && !Array.isArray(u)

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

  /** Records an authenticated request; `bodyBytes` is the size of its body as it came. */
  const record = (request: HttpServerRequest.HttpServerRequest, body: unknown, bodyBytes: number) => {
    const headers: Record<string, string> = { ...request.headers }
    // The service access token never enters the record.
    if (headers["authorization"] !== undefined) headers["authorization"] = "<redacted>"
    const entry: ReceivedRequest = {
      method: request.method,
      path: new URL(request.url, "http://simulator").pathname,
      headers,
      body
    }
    return deps.recorder.add(entry, bodyBytes)
  }

  /** The body, read no further than the cap: `undefined` when it is larger. */
  const readBody = (request: HttpServerRequest.HttpServerRequest) => {
    const declared = Number(request.headers["content-length"])
    if (Number.isFinite(declared) && declared > deps.maxBodyBytes) return Effect.succeed(undefined)
    return HttpIncomingMessage.withMaxBodySize(request.text, Option.some(deps.maxBodyBytes)).pipe(
      Effect.map((text): string | undefined => text),
      Effect.orElseSucceed(() => undefined)
    )
  }

  const endpoint = ({ api, behave, checkClient, malformed, name }: SimulatedApi) => {
    const codecs = Api.codecsOf(api as AuthleteApi.AuthleteApi)
    return Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const { serviceId } = yield* HttpRouter.params
      const refusal = refuseCaller(request.headers["authorization"], serviceId)
      if (refusal !== undefined) return answer(refusal)
      // Where the API authenticates a client, the request is recorded only once the client did: a
      // body that cannot be read or decoded, or whose client fails, is not kept.
      let input: unknown
      let bodyBytes = 0
      if (api.method === "GET") {
        input = Object.fromEntries(new URL(request.url, "http://simulator").searchParams)
      } else {
        const text = yield* readBody(request)
        if (text === undefined) {
          if (checkClient === undefined) yield* record(request, undefined, 0)
          return answer({ status: 413, body: Codes.bodyTooLarge(deps.maxBodyBytes) })
        }
        const parsed = parseJson(text)
        if (parsed === undefined || !isObject(parsed.json)) {
          if (checkClient === undefined) yield* record(request, text === "" ? undefined : text, Buffer.byteLength(text))
          return answer({ status: 400, body: Codes.bodyNotJson })
        }
        input = parsed.json
        bodyBytes = Buffer.byteLength(text)
      }
      const decoded = codecs.decodeRequest(input)
      if (checkClient === undefined || (Either.isRight(decoded) && (yield* checkClient(decoded.right)))) {
        yield* record(request, api.method === "GET" ? undefined : input, bodyBytes)
      }
      const fault = yield* deps.faults.take
      if (Option.isSome(fault)) return faultResponse(fault.value)
      if (Either.isLeft(decoded)) {
        const problems = AuthleteValidationError.fromRefusal(decoded.left).rules
        return answer(
          malformed?.(problems) ?? { status: 400, body: Codes.malformedRequest(api.apiNumber, problems) }
        )
      }
      const answered = yield* behave(decoded.right)
      if (deps.onAnswer !== undefined) {
        yield* deps.onAnswer({ api: name, request: decoded.right, status: answered.status, body: answered.body })
      }
      return answer(answered)
    })
  }

  let router = HttpRouter.empty
  for (const simulated of deps.apis) {
    router = HttpRouter.route(simulated.api.method)(`/api/:serviceId${simulated.api.path}`, endpoint(simulated))(router)
  }

  return Effect.gen(function*() {
    const response = yield* router.pipe(Effect.catchTag("RouteNotFound", () => Effect.succeed(notFound)))
    const delay = yield* deps.faults.currentDelay
    if (Option.isSome(delay)) yield* deps.clock.sleep(delay.value)
    return response
  })
}
