/**
 * The whole CIBA flow through the library's own programs, against the simulator and a loopback
 * client notification endpoint, for every delivery mode and result: what each party saw, and what
 * CIBA and Authlete say should have happened.
 */
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Clock, Context, Effect, Layer, Ref } from "effect"
import {
  AuthleteClient,
  type BackchannelAuthenticationCompleteResult,
  BackchannelAuthenticationCompletion,
  ClientNotifier,
  UserClaims
} from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { UndiciTransport } from "effect-authlete/undici"
import { randomBytes } from "node:crypto"
import * as Http from "node:http"

/** What a client notification endpoint received. */
export interface ReceivedNotification {
  readonly authorization: string | undefined
  readonly contentType: string | undefined
  readonly body: string
}

/** A client's notification endpoint on loopback that records what it receives and answers 204. */
export class NotificationEndpoint extends Context.Tag("test/NotificationEndpoint")<
  NotificationEndpoint,
  { readonly url: string; readonly received: Effect.Effect<ReadonlyArray<ReceivedNotification>> }
>() {
  static readonly layer = Layer.scoped(
    NotificationEndpoint,
    Effect.gen(function*() {
      const received = yield* Ref.make<ReadonlyArray<ReceivedNotification>>([])
      yield* HttpServer.serveEffect(
        HttpRouter.empty.pipe(
          HttpRouter.post(
            "/cb",
            Effect.gen(function*() {
              const request = yield* HttpServerRequest.HttpServerRequest
              const body = yield* Effect.orElseSucceed(request.text, () => "")
              yield* Ref.update(received, (all) => [...all, {
                authorization: request.headers["authorization"],
                contentType: request.headers["content-type"],
                body
              }])
              return HttpServerResponse.empty({ status: 204 })
            })
          )
        )
      )
      const address = (yield* HttpServer.HttpServer).address
      const url = address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}/cb` : ""
      return { url, received: Ref.get(received) }
    })
  ).pipe(Layer.provide(NodeHttpServer.layer(() => Http.createServer(), { port: 0, host: "127.0.0.1" })))
}

/** The user store of the demo: one user, with a Japanese family name. */
export const demoUsers = {
  "user-1": {
    name: "Taro Yamada",
    given_name: "Taro",
    family_name: "Yamada",
    "family_name#ja": "山田",
    email: "taro@example.com",
    email_verified: true
  }
}

export type DeliveryMode = "POLL" | "PING" | "PUSH"

/** One run of the flow and what each party saw. */
export interface FlowReport {
  readonly mode: DeliveryMode
  readonly result: BackchannelAuthenticationCompleteResult.BackchannelAuthenticationCompleteResult
  readonly authReqId: string
  readonly notificationToken: string
  readonly action: string
  readonly resultCode: string
  readonly outcome: "NoAction" | "Notified"
  readonly notifications: ReadonlyArray<ReceivedNotification>
}

const parameters = (entries: Record<string, string>) => new URLSearchParams(entries).toString()

/**
 * Drives one CIBA flow as an authorization server does: the client's backchannel authentication
 * request, `auth_req_id` issue, the user's decision, claims collection, completion and notification.
 */
export const driveFlow = (
  mode: DeliveryMode,
  result: BackchannelAuthenticationCompleteResult.BackchannelAuthenticationCompleteResult
) =>
  Effect.gen(function*() {
    const simulator = yield* AuthleteSimulator.AuthleteSimulator
    const authlete = yield* AuthleteClient.AuthleteClient
    const endpoint = yield* NotificationEndpoint
    const client = yield* simulator.clientFor(mode)
    if (mode !== "POLL") yield* simulator.setClientNotificationEndpoint(client.clientId, endpoint.url)
    const notificationToken = randomBytes(24).toString("base64url")

    // 1. The client's backchannel authentication request reaches the authorization server.
    const request = yield* authlete.backchannelAuthentication({
      parameters: parameters({
        scope: "openid profile email",
        login_hint: "user-1",
        binding_message: "W4SCT",
        claims_locales: "ja",
        ...(mode === "POLL" ? {} : { client_notification_token: notificationToken })
      }),
      clientId: String(client.clientId),
      clientSecret: client.clientSecret
    })
    if (request.action !== "USER_IDENTIFICATION" || request.ticket === undefined) {
      return yield* Effect.fail(`backchannel authentication answered ${request.action}: ${request.resultMessage}`)
    }
    // 2. The server identified user-1 from the hint; Authlete issues the auth_req_id for the client.
    const issued = yield* authlete.backchannelAuthenticationIssue({ ticket: request.ticket })
    if (issued.action !== "OK" || issued.authReqId === undefined) {
      return yield* Effect.fail(`issue answered ${issued.action}: ${issued.resultMessage}`)
    }
    const before = (yield* endpoint.received).length

    // 3. The user decided on their device; the server gathers the claims and completes.
    const claims = result === "AUTHORIZED"
      ? yield* UserClaims.collectClaims({
        subject: "user-1",
        claimNames: request.claimNames ?? [],
        claimsLocales: ["ja"]
      })
      : undefined
    const outcome = yield* BackchannelAuthenticationCompletion.completeBackchannelAuthentication({
      ticket: request.ticket,
      result,
      subject: "user-1",
      ...(result === "AUTHORIZED"
        ? {
          authTime: Math.floor((yield* Clock.currentTimeMillis) / 1000),
          acr: "urn:example:acr:device",
          claims: [claims, { member_since: 2019 }],
          consentedClaims: ["name", "given_name", "family_name", "email", "member_since"]
        }
        : { errorDescription: result === "ACCESS_DENIED" ? "The user said no." : "The device did not answer." })
    })
    return {
      mode,
      result,
      authReqId: issued.authReqId,
      notificationToken,
      action: outcome.response.action ?? "",
      resultCode: outcome.response.resultCode ?? "",
      outcome: outcome._tag,
      notifications: (yield* endpoint.received).slice(before)
    } satisfies FlowReport
  })

const parseObject = (text: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === "object" && value !== null ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

/**
 * What the facts say should have happened, as a list of broken expectations (empty when all held):
 * POLL notifies nobody; PING notifies only the `auth_req_id`; PUSH notifies tokens when authorized
 * and `access_denied` / `expired_token` otherwise; every notification carries the client's token.
 */
export const checkFlow = (report: FlowReport): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem)
  }
  if (report.mode === "POLL") {
    expect(report.action === "NO_ACTION", `action ${report.action}, expected NO_ACTION`)
    expect(report.notifications.length === 0, "the client was notified in POLL mode")
    return problems
  }
  expect(report.action === "NOTIFICATION", `action ${report.action}, expected NOTIFICATION`)
  expect(report.outcome === "Notified", "the client was not notified")
  expect(report.notifications.length === 1, `${report.notifications.length} notifications, expected 1`)
  const [notification] = report.notifications
  if (notification === undefined) return problems
  expect(notification.authorization === `Bearer ${report.notificationToken}`, "wrong bearer token")
  expect(notification.contentType === "application/json", "wrong content type")
  const body = parseObject(notification.body)
  expect(body?.auth_req_id === report.authReqId, "auth_req_id missing or wrong")
  if (report.mode === "PING") {
    expect(body !== undefined && Object.keys(body).length === 1, "a PING notification holds only auth_req_id")
  } else if (report.result === "AUTHORIZED") {
    for (const field of ["access_token", "id_token", "refresh_token", "expires_in"]) {
      expect(body?.[field] !== undefined, `PUSH notification without ${field}`)
    }
    expect(typeof body?.id_token === "string" && body.id_token.split(".").length === 3, "id_token is not a JWT")
  } else {
    const error = report.result === "ACCESS_DENIED" ? "access_denied" : "expired_token"
    expect(body?.error === error, `error ${String(body?.error)}, expected ${error}`)
    expect(body?.access_token === undefined, "tokens sent for a refusal")
  }
  return problems
}

/** Everything the flows need, on loopback: the simulator and a client for it, the notifier, the user store. */
export const FlowsLive = Layer.mergeAll(
  AuthleteSimulator.layerClient(),
  // The demo's notification endpoint is on loopback, which the notifier refuses unless told.
  ClientNotifier.layer({ allowLoopback: true }).pipe(Layer.provide(UndiciTransport.layer)),
  NotificationEndpoint.layer,
  UserClaims.layerFromRecord(demoUsers)
)
