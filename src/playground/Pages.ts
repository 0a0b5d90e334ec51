/**
 * The playground's pages, served by its own server: the authentication device (`/device`), where a
 * simulated user sees their pending requests and approves or denies them, and the consumption
 * device (`/client`), where the client starts a request and shows what it sees. Plain HTML, CSS and
 * a little JavaScript, under a Content-Security-Policy that lets them reach their own origin only.
 *
 * ```ts
 * import { Pages, Playground } from "effect-authlete/playground"
 *
 * Playground.layer({ routes: Pages.pages() })
 * ```
 *
 * The consumption device's client runs in the playground's process (the page never holds a
 * client secret): it calls the authorization server's own endpoints over loopback, and receives
 * PING and PUSH notifications at `/client/callback/ping` and `/client/callback/push`, where the
 * playground's PING and PUSH clients are notified by default.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { AuthenticationDeviceFeed } from "../AuthenticationDevice.js"
import * as Decisions from "../Decisions.js"
import { decisionDeadline } from "../DeviceDecision.js"
import type * as PendingRequest from "../PendingRequest.js"
import * as PendingRequestStore from "../PendingRequestStore.js"
import { AuthleteSimulator } from "../simulator/index.js"
import { type ReadableDetail, readableDetails } from "./internal/authorizationDetails.js"
import { CLIENT_SCRIPT } from "./internal/clientScript.js"
import { DEVICE_SCRIPT } from "./internal/deviceScript.js"
import { clientPage, devicePage, indexPage } from "./internal/html.js"
import { CLIENT_PATH, DEVICE_PATH, PING_CALLBACK_PATH, PUSH_CALLBACK_PATH } from "./internal/paths.js"
import { makeCallbacks, start, StartInput } from "./internal/relyingParty.js"
import { STYLE } from "./internal/style.js"
import * as Playground from "./Playground.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface PagesOptions {
  /**
   * How often the device's event stream looks at the pending requests, to see those that left
   * (decided, failed as overdue, expired). New ones are sent at once. Default 1 second.
   */
  readonly refresh?: Duration.DurationInput | undefined
  /** Wrong user codes a request takes before it is denied. Default 5. */
  readonly maxUserCodeAttempts?: number | undefined
}

/**
 * Where the pages of a playground are.
 *
 * @since 0.1.0
 * @category models
 */
export interface PageUrls {
  readonly deviceUrl: string
  readonly clientUrl: string
}

/**
 * The pages' addresses for a playground's issuer.
 *
 * @since 0.1.0
 * @category urls
 */
export const pageUrls = (issuer: string): PageUrls => ({
  deviceUrl: `${issuer}${DEVICE_PATH}`,
  clientUrl: `${issuer}${CLIENT_PATH}`
})

/**
 * A pending request as the authentication device shows it (no ticket). `decideBy` is when the
 * request is failed for want of a decision (`decisionDeadline`), a little before `expiresAt`.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeviceRequest {
  readonly authReqId: string
  readonly subject: string
  readonly userName?: string | undefined
  readonly clientId: number
  readonly clientName?: string | undefined
  readonly deliveryMode?: string | undefined
  readonly bindingMessage?: string | undefined
  /** The request's `authorization_details`, each element's type and its members as lines of text. */
  readonly authorizationDetails: ReadonlyArray<ReadableDetail>
  readonly scopes: ReadonlyArray<string>
  readonly claimNames: ReadonlyArray<string>
  readonly acrValues: ReadonlyArray<string>
  readonly userCodeRequired: boolean
  readonly createdAt: number
  readonly expiresAt: number
  readonly decideBy: number
}

const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store"
}

const html = (body: string) =>
  HttpServerResponse.text(body, { contentType: "text/html; charset=utf-8", headers: PAGE_HEADERS })

const asset = (body: string, contentType: string) =>
  Effect.succeed(
    HttpServerResponse.text(body, {
      contentType,
      headers: { "x-content-type-options": "nosniff", "cache-control": "no-cache" }
    })
  )

const problem = (status: number, error: string, message: string) =>
  HttpServerResponse.unsafeJson({ error, message }, { status, headers: { "cache-control": "no-store" } })

/** A JSON body of that schema, from a request that says it is JSON (so that a plain form from another site cannot post it). */
const jsonBody = <A, I>(schema: Schema.Schema<A, I>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (!/^application\/json\b/i.test(request.headers["content-type"] ?? "")) {
      return yield* Effect.fail(problem(415, "invalid_request", "The body must be application/json."))
    }
    return yield* HttpIncomingMessage.withMaxBodySize(
      HttpServerRequest.schemaBodyJson(schema, { onExcessProperty: "ignore" }),
      Option.some(64 * 1024)
    ).pipe(Effect.mapError(() => problem(400, "invalid_request", "The body does not have the expected fields.")))
  })

const subjectParam = Effect.map(HttpServerRequest.ParsedSearchParams, (params) => {
  const subject = params["subject"]
  return typeof subject === "string" && subject !== "" ? subject : undefined
})

const viewOf = (info: Playground.PlaygroundInfo) => (request: PendingRequest.PendingRequest): DeviceRequest => ({
  authReqId: request.authReqId,
  subject: request.subject,
  userName: info.users.find((user) => user.subject === request.subject)?.name,
  clientId: request.clientId,
  clientName: request.clientName,
  deliveryMode: request.deliveryMode,
  bindingMessage: request.bindingMessage,
  authorizationDetails: readableDetails(request.authorizationDetails),
  scopes: request.scopes,
  claimNames: request.claimNames,
  acrValues: request.acrValues,
  userCodeRequired: request.userCodeRequired,
  createdAt: request.createdAt,
  expiresAt: request.expiresAt,
  decideBy: decisionDeadline(request)
})

/** The requests still open to a decision, one user's or everyone's, with the server's clock. */
const snapshot = (subject: string | undefined) =>
  Effect.gen(function*() {
    const store = yield* PendingRequestStore.PendingRequestStore
    const info = yield* Playground.Playground
    const now = yield* Clock.currentTimeMillis
    const pending = yield* store.list(now, subject)
    return {
      now,
      requests: pending.filter((request) => decisionDeadline(request) > now).map(viewOf(info))
    }
  })

const encoder = new TextEncoder()

/**
 * The pages and their endpoints, to serve with `Playground.layer({ routes: pages() })`:
 *
 * - `GET /`: links to both pages.
 * - `GET /device` (`?subject=` to show one user's): the authentication device.
 * - `GET /device/requests` (`?subject=`): `{ now, requests }`, the pending requests as JSON.
 * - `GET /device/events` (`?subject=`): `text/event-stream`, an event `requests` with the same
 *   snapshot when the page connects and whenever the requests change.
 * - `POST /device/decide`, JSON `{ authReqId, decision: "allow" | "deny", userCode? }`: the user's
 *   decision; a request whose client required a user code is approved with the user's code only.
 *   200 `{ decided: true, decision, result }`, or 200 `{ decided: false, error, message }` when
 *   it was not carried out (`invalid_user_code`, `too_many_attempts`, `expired`,
 *   `already_decided`, `unknown_request`): the page shows those, they are not its errors.
 * - `GET /client`: the consumption device.
 * - `POST /client/start`, JSON `{ mode, subject, bindingMessage?, scope?, acrValues?, userCode? }`:
 *   runs the client and answers `application/x-ndjson`, one event a line, as they happen.
 * - `POST /client/callback/ping`, `POST /client/callback/push`: the PING and PUSH clients'
 *   notification endpoints.
 *
 * @since 0.1.0
 * @category routes
 */
export const pages = (options: PagesOptions = {}): HttpRouter.HttpRouter<never, Playground.PlaygroundServices> => {
  const refresh = Duration.decode(options.refresh ?? "1 second")
  const maxAttempts = options.maxUserCodeAttempts ?? 5
  const callbacks = makeCallbacks()
  const wrongCodes = new Map<string, number>()

  const device = Effect.gen(function*() {
    const info = yield* Playground.Playground
    return html(devicePage(info.users, yield* subjectParam))
  })

  const client = Effect.gen(function*() {
    const info = yield* Playground.Playground
    const simulator = yield* AuthleteSimulator.AuthleteSimulator
    const registered = yield* simulator.clients
    const clients = info.clients.map((client) => {
      const simulated = registered.find((s) => String(s.clientId) === client.clientId)
      return {
        deliveryMode: client.deliveryMode,
        clientId: client.clientId,
        clientName: simulated?.clientName,
        userCodeRequired: simulated?.userCodeRequired === true
      }
    })
    return html(clientPage(info.users, clients))
  })

  const requests = Effect.flatMap(subjectParam, snapshot).pipe(
    Effect.map((body) => HttpServerResponse.unsafeJson(body, { headers: { "cache-control": "no-store" } })),
    Effect.catchAll((error) =>
      Effect.as(
        Effect.logError(`The device cannot list requests: ${error.message}`),
        problem(500, "server_error", error.message)
      )
    )
  )

  const events = Effect.gen(function*() {
    const subject = yield* subjectParam
    const feed = yield* AuthenticationDeviceFeed
    const context = yield* Effect.context<PendingRequestStore.PendingRequestStore | Playground.Playground>()
    const snapshots = Stream.mergeAll([Stream.make(undefined), Stream.tick(refresh), feed.requests], {
      concurrency: "unbounded"
    }).pipe(
      Stream.mapEffect(() =>
        snapshot(subject).pipe(
          Effect.map(Option.some),
          Effect.catchAll((error) =>
            Effect.as(Effect.logWarning(`The device cannot list requests: ${error.message}`), Option.none())
          )
        )
      ),
      Stream.filterMap((found) => found),
      Stream.changesWith((a, b) =>
        a.requests.length === b.requests.length &&
        a.requests.every((request, i) => request.authReqId === b.requests[i]!.authReqId)
      ),
      Stream.map((body) => encoder.encode(`event: requests\ndata: ${JSON.stringify(body)}\n\n`)),
      Stream.provideContext(context)
    )
    return HttpServerResponse.stream(Stream.concat(Stream.make(encoder.encode("retry: 1000\n\n")), snapshots), {
      contentType: "text/event-stream",
      headers: { "cache-control": "no-store", "x-accel-buffering": "no" }
    })
  })

  const DecideInput = Schema.Struct({
    authReqId: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(512)),
    decision: Schema.Literal("allow", "deny"),
    userCode: Schema.optional(Schema.String.pipe(Schema.maxLength(100)))
  })

  /** The answer to a decision the page must show: 200, the page's request itself was fine. */
  const notDecided = (error: string, message: string) =>
    HttpServerResponse.unsafeJson({ decided: false, error, message }, { headers: { "cache-control": "no-store" } })

  const decide = Effect.gen(function*() {
    const input = yield* jsonBody(DecideInput)
    const store = yield* PendingRequestStore.PendingRequestStore
    const decisions = yield* Decisions.Decisions
    const info = yield* Playground.Playground
    const carryOut = (decision: "allow" | "deny") =>
      decisions.decide({ authReqId: input.authReqId, decision }).pipe(
        Effect.map((outcome) =>
          HttpServerResponse.unsafeJson(
            { decided: true, decision, result: outcome._tag },
            { headers: { "cache-control": "no-store" } }
          )
        ),
        Effect.catchTag("DecisionError", (error) =>
          Effect.succeed(
            error.reason === "Expired"
              ? notDecided("expired", "This request expired before the decision.")
              : error.reason === "Unknown"
              ? notDecided("unknown_request", "This request is not known.")
              : notDecided("already_decided", "This request was decided already.")
          ))
      )
    if (input.decision === "allow") {
      const pending = yield* store.get(input.authReqId)
      if (Option.isSome(pending) && pending.value.userCodeRequired) {
        const user = info.users.find((user) => user.subject === pending.value.subject)
        const typed = (input.userCode ?? "").trim()
        if (typed === "") return notDecided("invalid_user_code", "Type your user code to approve this request.")
        if (user === undefined || typed !== user.userCode) {
          const wrong = (wrongCodes.get(input.authReqId) ?? 0) + 1
          if (wrongCodes.size > 10_000) wrongCodes.clear()
          wrongCodes.set(input.authReqId, wrong)
          if (wrong < maxAttempts) {
            const left = maxAttempts - wrong
            return notDecided(
              "invalid_user_code",
              `That is not your user code (${left} more ${left === 1 ? "try" : "tries"}).`
            )
          }
          wrongCodes.delete(input.authReqId)
          yield* carryOut("deny")
          return notDecided("too_many_attempts", "Too many wrong user codes: the request was denied.")
        }
      }
    }
    wrongCodes.delete(input.authReqId)
    return yield* carryOut(input.decision)
  }).pipe(
    Effect.catchIf(HttpServerResponse.isServerResponse, Effect.succeed),
    Effect.catchAll((error) =>
      Effect.as(
        Effect.logError(`The decision could not be carried out: ${error.message}`),
        problem(500, "server_error", "The decision could not be carried out.")
      )
    )
  )

  const startRequest = Effect.gen(function*() {
    const input = yield* jsonBody(StartInput)
    const info = yield* Playground.Playground
    if (!info.clients.some((client) => client.deliveryMode === input.mode)) {
      return problem(400, "invalid_request", `The playground has no ${input.mode} client.`)
    }
    if (!info.users.some((user) => user.subject === input.subject)) {
      return problem(400, "invalid_request", "The playground has no such user.")
    }
    const lines = start(info, input, callbacks).pipe(
      Stream.map((event) => encoder.encode(`${JSON.stringify(event)}\n`)),
      Stream.provideLayer(FetchHttpClient.layer)
    )
    return HttpServerResponse.stream(lines, {
      contentType: "application/x-ndjson",
      headers: { "cache-control": "no-store", "x-content-type-options": "nosniff" }
    })
  }).pipe(Effect.catchIf(HttpServerResponse.isServerResponse, Effect.succeed))

  const callback = (mode: "PING" | "PUSH") =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const bearer = /^Bearer +([\x21-\x7e]+) *$/i.exec(request.headers["authorization"] ?? "")?.[1]
      const refused = HttpServerResponse.empty({ status: 401, headers: { "www-authenticate": "Bearer" } })
      if (bearer === undefined) return refused
      const body = yield* HttpIncomingMessage.withMaxBodySize(request.json, Option.some(256 * 1024)).pipe(
        Effect.option
      )
      if (Option.isNone(body)) return problem(400, "invalid_request", "The body must be JSON.")
      return (yield* callbacks.deliver(bearer, mode, body.value)) ? HttpServerResponse.empty({ status: 204 }) : refused
    })

  return HttpRouter.empty.pipe(
    HttpRouter.get("/", Effect.map(Playground.Playground, (info) => html(indexPage(info.issuer)))),
    HttpRouter.get(DEVICE_PATH, device),
    HttpRouter.get(`${DEVICE_PATH}/style.css`, asset(STYLE, "text/css; charset=utf-8")),
    HttpRouter.get(`${DEVICE_PATH}/device.js`, asset(DEVICE_SCRIPT, "text/javascript; charset=utf-8")),
    HttpRouter.get(`${DEVICE_PATH}/requests`, requests),
    HttpRouter.get(`${DEVICE_PATH}/events`, events),
    HttpRouter.post(`${DEVICE_PATH}/decide`, decide),
    HttpRouter.get(CLIENT_PATH, client),
    HttpRouter.get(`${CLIENT_PATH}/style.css`, asset(STYLE, "text/css; charset=utf-8")),
    HttpRouter.get(`${CLIENT_PATH}/client.js`, asset(CLIENT_SCRIPT, "text/javascript; charset=utf-8")),
    HttpRouter.post(`${CLIENT_PATH}/start`, startRequest),
    HttpRouter.post(PING_CALLBACK_PATH, callback("PING")),
    HttpRouter.post(PUSH_CALLBACK_PATH, callback("PUSH"))
  )
}
