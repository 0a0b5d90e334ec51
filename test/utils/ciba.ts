/**
 * Drives the simulator's HTTP endpoints the way an authorization server would, decoding every answer
 * with the library's own schemas.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Redacted, Schema } from "effect"
import {
  BackchannelAuthentication,
  BackchannelAuthenticationCompleteResponse,
  BackchannelAuthenticationFail,
  BackchannelAuthenticationIssue
} from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"

export interface RawAnswer {
  readonly status: number
  readonly headers: { readonly [name: string]: string }
  readonly text: string
  readonly json: unknown
}

export interface CallOptions {
  /** `null` sends no Authorization header; a string replaces the header's value. */
  readonly authorization?: string | null | undefined
  readonly serviceId?: string | undefined
  readonly method?: "GET" | "POST" | undefined
  /** Sent as is instead of JSON. */
  readonly rawBody?: string | undefined
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** POSTs `body` as JSON to `/api/{serviceId}{path}` and returns what came back, whatever the status. */
export const call = (path: string, body: unknown, options: CallOptions = {}) =>
  Effect.gen(function*() {
    const simulator = yield* AuthleteSimulator.AuthleteSimulator
    const http = yield* HttpClient.HttpClient
    const url = `${simulator.baseUrl}/api/${options.serviceId ?? simulator.serviceId}${path}`
    let request = options.method === "GET"
      ? HttpClientRequest.get(url)
      : HttpClientRequest.post(url).pipe(
        options.rawBody === undefined
          ? HttpClientRequest.bodyUnsafeJson(body)
          : HttpClientRequest.bodyText(options.rawBody, "application/json")
      )
    if (options.authorization === undefined) {
      request = HttpClientRequest.bearerToken(request, Redacted.value(simulator.accessToken))
    } else if (options.authorization !== null) {
      request = HttpClientRequest.setHeader(request, "authorization", options.authorization)
    }
    const response = yield* http.execute(request)
    const text = yield* response.text
    return { status: response.status, headers: response.headers, text, json: parse(text) } satisfies RawAnswer
  }).pipe(Effect.orDie)

const decodeOk = <A, I>(schema: Schema.Schema<A, I>) => (answer: RawAnswer) =>
  answer.status === 200
    ? Schema.decodeUnknown(schema)(answer.json).pipe(Effect.orDie)
    : Effect.dieMessage(`expected HTTP 200, got ${answer.status}: ${answer.text}`)

/** `/backchannel/authentication` with the client's credentials (HTTP Basic style, in the body). */
export const authenticate = (
  client: AuthleteSimulator.SimulatedClient,
  parameters: Record<string, string>,
  credentials: "basic" | "form" | "none" = "basic"
) => {
  const form = new URLSearchParams(parameters)
  if (credentials === "form") {
    form.set("client_id", String(client.clientId))
    form.set("client_secret", client.clientSecret)
  }
  const body = credentials === "basic"
    ? { parameters: form.toString(), clientId: String(client.clientId), clientSecret: client.clientSecret }
    : { parameters: form.toString() }
  return Effect.flatMap(
    call("/backchannel/authentication", body),
    decodeOk(BackchannelAuthentication.BackchannelAuthenticationResponse)
  )
}

export const issue = (ticket: string) =>
  Effect.flatMap(
    call("/backchannel/authentication/issue", { ticket }),
    decodeOk(BackchannelAuthenticationIssue.BackchannelAuthenticationIssueResponse)
  )

export const fail = (body: Record<string, unknown>) =>
  Effect.flatMap(
    call("/backchannel/authentication/fail", body),
    decodeOk(BackchannelAuthenticationFail.BackchannelAuthenticationFailResponse)
  )

/** `/complete` with a wire-shaped body; answers of any status are decoded. */
export const complete = (body: Record<string, unknown>) =>
  Effect.flatMap(
    call("/backchannel/authentication/complete", body),
    (answer) =>
      Effect.map(
        Schema.decodeUnknown(BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse)(
          answer.json
        ).pipe(Effect.orDie),
        (response) => ({ status: answer.status, response })
      )
  )

/** The parameters every valid request needs, plus a notification token for PING and PUSH clients. */
export const baseParameters = (
  client: AuthleteSimulator.SimulatedClient,
  extra: Record<string, string> = {}
): Record<string, string> => ({
  scope: "openid",
  login_hint: "john",
  ...(client.deliveryMode === "POLL" ? {} : { client_notification_token: "notification-token-123" }),
  ...extra
})

/** Runs `/backchannel/authentication` and `/issue`: a ticket ready for `/complete`. */
export const readyTicket = (
  mode: AuthleteSimulator.SimulatedClient["deliveryMode"],
  extra: Record<string, string> = {}
) =>
  Effect.gen(function*() {
    const simulator = yield* AuthleteSimulator.AuthleteSimulator
    const client = yield* simulator.clientFor(mode)
    const identification = yield* authenticate(client, baseParameters(client, extra))
    if (identification.action !== "USER_IDENTIFICATION" || identification.ticket === undefined) {
      return yield* Effect.dieMessage(`expected USER_IDENTIFICATION, got ${identification.resultMessage}`)
    }
    const issued = yield* issue(identification.ticket)
    if (issued.action !== "OK" || issued.authReqId === undefined) {
      return yield* Effect.dieMessage(`expected OK, got ${issued.resultMessage}`)
    }
    return { client, ticket: identification.ticket, authReqId: issued.authReqId, issued }
  })
