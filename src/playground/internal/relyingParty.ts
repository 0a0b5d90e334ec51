/**
 * The consumption device's client, run in the playground's process (the page never holds the client
 * secrets): it discovers the authorization server, sends the backchannel authentication request
 * with `client_secret_basic`, and then polls (POLL), waits for the ping and asks for the tokens
 * (PING), or waits for the pushed tokens (PUSH), all over HTTP on loopback, exactly as a client
 * would. Each step is an event for the page; the ID token is checked against `jwks_uri`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Crypto from "node:crypto"
import type { PlaygroundInfo } from "../Playground.js"
import { type IdTokenReport, inspectIdToken } from "./idToken.js"

const CIBA_GRANT_TYPE = "urn:openid:params:grant-type:ciba"
/** How long one HTTP exchange may take. */
const EXCHANGE_TIMEOUT = Duration.seconds(10)
/** How long past `expires_in` the client waits for a notification before asking the token endpoint. */
const GRACE_MILLIS = 3_000

/** What the page asks the client to do. */
export const StartInput = Schema.Struct({
  mode: Schema.Literal("POLL", "PING", "PUSH"),
  subject: Schema.String.pipe(Schema.maxLength(100)),
  bindingMessage: Schema.optional(Schema.String.pipe(Schema.maxLength(200))),
  scope: Schema.optional(Schema.String.pipe(Schema.maxLength(500))),
  acrValues: Schema.optional(Schema.String.pipe(Schema.maxLength(500))),
  userCode: Schema.optional(Schema.String.pipe(Schema.maxLength(100)))
})
export type StartInput = typeof StartInput.Type

/** What the client saw, step by step; `at` is milliseconds since the start. */
export type ClientEvent =
  | {
    readonly type: "discovery"
    readonly at: number
    readonly issuer: unknown
    readonly backchannelEndpoint: string
    readonly tokenEndpoint: string
    readonly jwksUri: string
  }
  | {
    readonly type: "backchannel-request"
    readonly at: number
    readonly endpoint: string
    readonly clientId: string
    readonly parameters: { readonly [name: string]: string }
  }
  | { readonly type: "backchannel-response"; readonly at: number; readonly status: number; readonly body: unknown }
  | { readonly type: "waiting"; readonly at: number; readonly detail: string }
  | { readonly type: "token-response"; readonly at: number; readonly status: number; readonly body: unknown }
  | { readonly type: "ping"; readonly at: number; readonly body: unknown }
  | { readonly type: "push"; readonly at: number; readonly body: unknown }
  | {
    readonly type: "tokens"
    readonly at: number
    readonly source: "token endpoint" | "push"
    readonly body: { readonly [name: string]: unknown }
  }
  | { readonly type: "id-token"; readonly at: number; readonly report: IdTokenReport }
  | {
    readonly type: "outcome"
    readonly at: number
    readonly ok: boolean
    readonly error?: string | undefined
    readonly description?: string | undefined
  }

type Emit = (event: ClientEvent) => Effect.Effect<void>

/** Where notifications wait for the request that expects them, by client notification token. */
export interface Callbacks {
  /** Expects notifications bearing `token` for the scope; they arrive on the queue. */
  readonly expect: (token: string, mode: "PING" | "PUSH") => Effect.Effect<Queue.Dequeue<unknown>, never, Scope.Scope>
  /** Hands a notification to the request that expects it; `false` when none does. */
  readonly deliver: (token: string, mode: "PING" | "PUSH", body: unknown) => Effect.Effect<boolean>
}

export const makeCallbacks = (): Callbacks => {
  const waiting = new Map<string, { readonly mode: "PING" | "PUSH"; readonly queue: Queue.Queue<unknown> }>()
  return {
    expect: (token, mode) =>
      Effect.acquireRelease(
        Effect.tap(Queue.unbounded<unknown>(), (queue) => Effect.sync(() => waiting.set(token, { mode, queue }))),
        (queue) => Effect.zipRight(Effect.sync(() => waiting.delete(token)), Queue.shutdown(queue))
      ),
    deliver: (token, mode, body) =>
      Effect.suspend(() => {
        const entry = waiting.get(token)
        return entry === undefined || entry.mode !== mode ? Effect.succeed(false) : Queue.offer(entry.queue, body)
      })
  }
}

type Json = { readonly [name: string]: unknown }
const isJson = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)
const stringField = (value: unknown, name: string): string | undefined =>
  isJson(value) && typeof value[name] === "string" ? value[name] : undefined

/** RFC 6749 2.3.1: each half form-urlencoded, then joined by `:` and base64-encoded. */
const basic = (clientId: string, secret: string) => {
  const encode = (text: string) => encodeURIComponent(text).replace(/%20/g, "+")
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString("base64")}`
}

/** One HTTP exchange: the status and the body (JSON when it parses, the text otherwise). */
const exchange = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(HttpClientRequest.acceptJson(request))
    const text = yield* response.text
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // Not JSON: shown as text.
    }
    return { status: response.status, body }
  }).pipe(Effect.timeout(EXCHANGE_TIMEOUT))

/** The whole request, as the client sees it. Fails only when the authorization server cannot be reached. */
const run = (info: PlaygroundInfo, input: StartInput, emit: Emit, callbacks: Callbacks) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const at = Effect.map(Clock.currentTimeMillis, (now) => now - started)
    const outcome = (ok: boolean, body?: unknown) =>
      Effect.flatMap(at, (at) =>
        emit({
          type: "outcome",
          at,
          ok,
          ...(stringField(body, "error") === undefined ? {} : { error: stringField(body, "error") }),
          ...(stringField(body, "error_description") === undefined
            ? {}
            : { description: stringField(body, "error_description") })
        }))
    const registered = info.clients.find((client) => client.deliveryMode === input.mode)
    const user = info.users.find((user) => user.subject === input.subject)
    if (registered === undefined || user === undefined) {
      return yield* outcome(false, { error: "invalid_request", error_description: "No such mode or user." })
    }
    const authorization = basic(registered.clientId, registered.clientSecret)

    const discovered = yield* exchange(HttpClientRequest.get(`${info.issuer}/.well-known/openid-configuration`))
    const metadata = isJson(discovered.body) ? discovered.body : {}
    const backchannelEndpoint = stringField(metadata, "backchannel_authentication_endpoint") ?? ""
    const tokenEndpoint = stringField(metadata, "token_endpoint") ?? ""
    const jwksUri = stringField(metadata, "jwks_uri") ?? ""
    yield* emit({
      type: "discovery",
      at: yield* at,
      issuer: metadata.issuer,
      backchannelEndpoint,
      tokenEndpoint,
      jwksUri
    })
    if (discovered.status !== 200 || backchannelEndpoint === "" || tokenEndpoint === "") {
      return yield* outcome(false, { error: "discovery_failed", error_description: "No usable discovery document." })
    }

    // PING and PUSH: the notification's bearer token, and where the notification will arrive.
    const notificationToken = input.mode === "POLL" ? undefined : Crypto.randomBytes(32).toString("base64url")
    const notifications = notificationToken === undefined || input.mode === "POLL"
      ? undefined
      : yield* callbacks.expect(notificationToken, input.mode)
    const optional = (name: string, value: string | undefined) =>
      value === undefined || value.trim() === "" ? {} : { [name]: value.trim() }
    const parameters: { readonly [name: string]: string } = {
      scope: input.scope?.trim() || "openid",
      login_hint: user.loginHints.find((hint) => hint !== user.subject) ?? user.subject,
      ...optional("binding_message", input.bindingMessage),
      ...optional("acr_values", input.acrValues),
      ...optional("user_code", input.userCode),
      ...optional("client_notification_token", notificationToken)
    }
    yield* emit({
      type: "backchannel-request",
      at: yield* at,
      endpoint: backchannelEndpoint,
      clientId: registered.clientId,
      parameters: notificationToken === undefined
        ? parameters
        : { ...parameters, client_notification_token: `${notificationToken.slice(0, 6)}… (random, kept by the client)` }
    })
    const backchannel = yield* exchange(
      HttpClientRequest.post(backchannelEndpoint).pipe(
        HttpClientRequest.setHeader("authorization", authorization),
        HttpClientRequest.bodyUrlParams(parameters)
      )
    )
    yield* emit({ type: "backchannel-response", at: yield* at, status: backchannel.status, body: backchannel.body })
    const authReqId = stringField(backchannel.body, "auth_req_id")
    if (backchannel.status !== 200 || authReqId === undefined) return yield* outcome(false, backchannel.body)
    const expiresIn = isJson(backchannel.body) && typeof backchannel.body.expires_in === "number"
      ? backchannel.body.expires_in
      : 120
    const interval = isJson(backchannel.body) && typeof backchannel.body.interval === "number"
      ? backchannel.body.interval
      : 5
    const giveUpAt = started + expiresIn * 1000 + GRACE_MILLIS

    const askForTokens = Effect.gen(function*() {
      const answer = yield* exchange(
        HttpClientRequest.post(tokenEndpoint).pipe(
          HttpClientRequest.setHeader("authorization", authorization),
          HttpClientRequest.bodyUrlParams({ grant_type: CIBA_GRANT_TYPE, auth_req_id: authReqId })
        )
      )
      yield* emit({ type: "token-response", at: yield* at, status: answer.status, body: answer.body })
      return answer
    })

    /** The next notification for this request, or none once the auth_req_id expired. */
    const notification = (queue: Queue.Dequeue<unknown>) =>
      Effect.gen(function*() {
        while (true) {
          const left = giveUpAt - (yield* Clock.currentTimeMillis)
          if (left <= 0) return Option.none<unknown>()
          const body = yield* Effect.timeout(Queue.take(queue), Duration.millis(left)).pipe(Effect.option)
          if (Option.isNone(body) || stringField(body.value, "auth_req_id") === authReqId) return body
        }
      })

    let tokens: { readonly body: unknown; readonly source: "token endpoint" | "push" } | undefined
    if (input.mode === "POLL") {
      let wait = interval
      yield* emit({ type: "waiting", at: yield* at, detail: `Polling the token endpoint every ${wait} s` })
      while (tokens === undefined) {
        yield* Effect.sleep(Duration.seconds(wait))
        const answer = yield* askForTokens
        const error = stringField(answer.body, "error")
        if (answer.status === 200) tokens = { body: answer.body, source: "token endpoint" }
        else if (error === "slow_down") wait += 5
        else if (error !== "authorization_pending" || (yield* Clock.currentTimeMillis) > giveUpAt) {
          return yield* outcome(false, answer.body)
        }
      }
    } else if (input.mode === "PING") {
      yield* emit({
        type: "waiting",
        at: yield* at,
        detail: `Waiting for the ping at ${registered.notificationEndpoint}`
      })
      const ping = yield* notification(notifications!)
      if (Option.isSome(ping)) yield* emit({ type: "ping", at: yield* at, body: ping.value })
      else yield* emit({ type: "waiting", at: yield* at, detail: "No ping before the auth_req_id expired" })
      const answer = yield* askForTokens
      if (answer.status !== 200) return yield* outcome(false, answer.body)
      tokens = { body: answer.body, source: "token endpoint" }
    } else {
      yield* emit({
        type: "waiting",
        at: yield* at,
        detail: `Waiting for the tokens at ${registered.notificationEndpoint}`
      })
      const pushed = yield* notification(notifications!)
      if (Option.isNone(pushed)) {
        return yield* outcome(false, {
          error: "expired_token",
          error_description: "No notification came before the auth_req_id expired."
        })
      }
      yield* emit({ type: "push", at: yield* at, body: pushed.value })
      if (stringField(pushed.value, "error") !== undefined) return yield* outcome(false, pushed.value)
      tokens = { body: pushed.value, source: "push" }
    }

    const body = isJson(tokens.body) ? tokens.body : {}
    yield* emit({ type: "tokens", at: yield* at, source: tokens.source, body })
    const idToken = stringField(body, "id_token")
    if (idToken === undefined) return yield* outcome(false, { error: "no_id_token", error_description: "No ID token." })
    const jwks = yield* exchange(HttpClientRequest.get(jwksUri))
    const report = inspectIdToken(idToken, {
      issuer: info.issuer,
      clientId: registered.clientId,
      jwksUri,
      jwks: jwks.body,
      now: Math.floor((yield* Clock.currentTimeMillis) / 1000),
      accessToken: stringField(body, "access_token"),
      ...(tokens.source === "push"
        ? { refreshToken: stringField(body, "refresh_token"), authReqId }
        : {})
    })
    yield* emit({ type: "id-token", at: yield* at, report })
    return yield* report.valid
      ? outcome(true)
      : outcome(false, { error: "invalid_id_token", error_description: "The ID token does not pass every check." })
  })

/**
 * The events of one request, ending with an `outcome`. The request lives as long as the stream is
 * read: a page that goes away stops it (and its expected notifications).
 */
export const start = (
  info: PlaygroundInfo,
  input: StartInput,
  callbacks: Callbacks
): Stream.Stream<ClientEvent, never, HttpClient.HttpClient> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const mailbox = yield* Mailbox.make<ClientEvent>()
    const emit: Emit = (event) => Effect.asVoid(mailbox.offer(event))
    const failed = (message: string) =>
      emit({ type: "outcome", at: 0, ok: false, error: "client_error", description: message })
    yield* Effect.scoped(run(info, input, emit, callbacks)).pipe(
      Effect.catchTags({
        TimeoutException: () => failed("The authorization server did not answer in time."),
        RequestError: (error) => failed(`The authorization server cannot be reached: ${error.message}`),
        ResponseError: (error) => failed(`The answer cannot be read: ${error.message}`)
      }),
      Effect.ensuring(mailbox.end),
      Effect.forkScoped
    )
    return Mailbox.toStream(mailbox)
  }))
