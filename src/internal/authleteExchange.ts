/**
 * One exchange with Authlete as the client reads and writes it: Authlete's answer turned into the
 * decoded response or the `AuthleteError` it stands for, the span attributes of its result, and a
 * GET's query from the request's fields.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as AuthleteError from "../AuthleteError.js"
import type { HttpTransportResponse } from "../HttpTransport.js"
import * as Http from "./http.js"
import * as Transport from "./transport.js"

const statusesWithResultBody: ReadonlySet<number> = new Set([400, 401, 403, 500])

/** Turns an answer into the decoded response or the error it stands for. */
export const interpret = <A>(
  response: HttpTransportResponse,
  decode: (json: unknown) => Either.Either<A, { readonly issues: ReadonlyArray<unknown>; readonly total: number }>,
  secrets: () => ReadonlyArray<string>,
  maxResponseBytes: number
): Effect.Effect<A, AuthleteError.AuthleteError> => {
  const { body, status } = response
  const keep = (text: string) => Http.bodyForError(text, secrets(), AuthleteError.MAX_ERROR_BODY_LENGTH)
  if (status >= 200 && status < 300) {
    if (body === undefined) {
      return Effect.fail(
        new AuthleteError.AuthleteResponseError({
          status,
          body: "",
          detail: `Authlete's answer is larger than the ${maxResponseBytes}-byte cap; it was not read`
        })
      )
    }
    let json: unknown
    try {
      // No body at all (a 204, as /service/jwks/get gives for a service without keys) is no fields.
      json = body === "" ? {} : JSON.parse(body)
    } catch {
      // A 2xx that does not parse may still hold fresh tokens, which no scrubbing could find: not kept.
      return Effect.fail(
        new AuthleteError.AuthleteResponseError({
          status,
          body: "",
          detail: `Authlete's answer is not JSON (${body.length} characters, not kept: it may hold tokens)`
        })
      )
    }
    const decoded = decode(json)
    return Either.isRight(decoded) ? Effect.succeed(decoded.right) : Effect.fail(
      new AuthleteError.AuthleteResponseError({
        status,
        body: keep(body),
        detail: `Authlete's answer does not decode: ${
          AuthleteError.AuthleteValidationError.fromRefusal(decoded.left as never).rules
        }`
      })
    )
  }
  return Effect.map(Clock.currentTimeMillis, (now) => {
    let json: unknown = undefined
    try {
      json = JSON.parse(body ?? "")
    } catch {
      // Proxies answer with HTML; the text is kept as the body.
    }
    const hasResultBody = statusesWithResultBody.has(status) ||
      Option.isSome(Http.jsonStringField(json, "resultCode"))
    const field = (name: string) =>
      hasResultBody
        ? Option.getOrUndefined(
          Option.map(Http.jsonStringField(json, name), (value) => Transport.scrubSecrets(value, secrets()))
        )
        : undefined
    const resultCode = field("resultCode")
    const resultMessage = field("resultMessage")
    const retryAfterMillis = Http.requestedRetryDelayMillis(response.headers, now)
    return new AuthleteError.AuthleteApiError({
      status,
      ...(resultCode === undefined ? {} : { resultCode }),
      ...(resultMessage === undefined ? {} : { resultMessage }),
      ...(retryAfterMillis === undefined ? {} : { retryAfterMillis }),
      body: body === undefined ? "" : keep(body)
    })
  }).pipe(Effect.flip)
}

/** Span attributes: Authlete's action and result code (never a token, a secret or the ticket). */
export const annotateResult = (outcome: unknown) => {
  const result = outcome as { readonly action?: unknown; readonly resultCode?: unknown }
  return Effect.annotateCurrentSpan({
    ...(typeof result.action === "string" ? { "authlete.action": result.action } : {}),
    ...(typeof result.resultCode === "string" ? { "authlete.result_code": result.resultCode } : {})
  })
}

/** The query of a GET: the request's fields, as Authlete reads them. */
export const queryOf = (json: unknown): string => {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (value !== undefined) params.set(name, String(value))
  }
  const query = params.toString()
  return query === "" ? "" : `?${query}`
}
