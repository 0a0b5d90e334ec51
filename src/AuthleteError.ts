/**
 * Every failure a caller of this library can receive, as `Schema.TaggedError`s with readable messages.
 *
 * @since 0.1.0
 */
import { ParseResult, Schema } from "effect"

/**
 * One broken rule: where (`["properties", 0, "key"]`) and which rule, as a sentence.
 *
 * @since 0.1.0
 * @category models
 */
export const ValidationIssue = Schema.Struct({
  path: Schema.Array(Schema.Union(Schema.String, Schema.Number)),
  message: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type ValidationIssue = typeof ValidationIssue.Type

/** Renders `["properties", 0, "key"]` as `properties[0].key`. */
export const formatPath = (path: ReadonlyArray<string | number>): string =>
  path.reduce<string>(
    (out, segment) => typeof segment === "number" ? `${out}[${segment}]` : out === "" ? segment : `${out}.${segment}`,
    ""
  )

/**
 * The input breaks a rule; nothing was sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthleteValidationError extends Schema.TaggedError<AuthleteValidationError>(
  "effect-authlete/AuthleteValidationError"
)("AuthleteValidationError", {
  issues: Schema.Array(ValidationIssue)
}) {
  /**
   * Turns a Schema `ParseError` into the list of broken rules, one entry per field, in sentences that
   * never repeat the rejected value.
   *
   * @since 0.1.0
   */
  static fromParseError(error: ParseResult.ParseError): AuthleteValidationError {
    return new AuthleteValidationError({ issues: issuesFromParseError(error) })
  }

  /**
   * @since 0.1.0
   */
  static single(path: ReadonlyArray<string | number>, message: string): AuthleteValidationError {
    return new AuthleteValidationError({ issues: [{ path, message }] })
  }

  /** The broken rules as one line: `ticket: must not be empty; scopes: ...`. */
  get rules(): string {
    return this.issues.map((issue) =>
      issue.path.length === 0 ? issue.message : `${formatPath(issue.path)}: ${issue.message}`
    ).join("; ")
  }

  override get message(): string {
    return `Invalid input, nothing was sent (${this.issues.length} ${
      this.issues.length === 1 ? "problem" : "problems"
    }): ${this.rules}`
  }
}

// Effect's default messages end with ", actual <value>": the value may be a secret, so it is cut.
const withoutActual = (message: string): string => message.replace(/, actual [\s\S]*$/, "")

const issuesFromParseError = (error: ParseResult.ParseError): ReadonlyArray<ValidationIssue> => {
  const byPath = new Map<string, { path: Array<string | number>; messages: Array<string> }>()
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const fullPath = issue.path.map((segment) => typeof segment === "number" ? segment : String(segment))
    // An unknown field is reported on the object that holds it, by name.
    const path = issue._tag === "Unexpected" ? fullPath.slice(0, -1) : fullPath
    const message = issue._tag === "Unexpected"
      ? `unknown field \`${String(fullPath[fullPath.length - 1])}\``
      : issue._tag === "Missing"
      ? "is required"
      : issue.path.length === 0 && issue._tag === "Type"
      ? "must be an object"
      : withoutActual(issue.message)
    const key = JSON.stringify(path)
    const entry = byPath.get(key) ?? { path, messages: [] }
    if (!entry.messages.includes(message)) entry.messages.push(message)
    byPath.set(key, entry)
  }
  const issues: Array<ValidationIssue> = []
  for (const { messages, path } of byPath.values()) {
    // An optional field is a union with `undefined`, whose complaint is noise beside the real one
    // (reported at this path or below it).
    const meaningful = messages.filter((message) => message !== "Expected undefined")
    if (meaningful.length > 0) issues.push({ path, message: meaningful.join("; ") })
  }
  return issues
}

/** Ours: how much of a response body an error keeps. */
export const MAX_ERROR_BODY_LENGTH = 4_096

/**
 * Authlete answered with a status that is not 2xx. `body` keeps the start of what it said (users of
 * other SDKs missed it), with any credential of this client removed.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthleteApiError extends Schema.TaggedError<AuthleteApiError>("effect-authlete/AuthleteApiError")(
  "AuthleteApiError",
  {
    status: Schema.Number,
    resultCode: Schema.optional(Schema.String),
    resultMessage: Schema.optional(Schema.String),
    /** How long Authlete (or a proxy) asked the caller to wait (`Retry-After`, `RateLimit-Reset`). */
    retryAfterMillis: Schema.optional(Schema.Number),
    body: Schema.String
  }
) {
  override get message(): string {
    const detail = this.resultMessage ?? (this.body.length > 200 ? `${this.body.slice(0, 200)}…` : this.body)
    return `Authlete answered HTTP ${this.status}${this.resultCode === undefined ? "" : ` ${this.resultCode}`}${
      detail === "" ? "" : `: ${detail}`
    }`
  }
}

/**
 * No complete answer arrived: the connection was refused (`Connect`), the attempt ran past its
 * timeout (`Timeout`), or the exchange broke in flight (`Transport`).
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthleteTransportError extends Schema.TaggedError<AuthleteTransportError>(
  "effect-authlete/AuthleteTransportError"
)("AuthleteTransportError", {
  reason: Schema.Literal("Connect", "Timeout", "Transport"),
  message: Schema.String
}) {}

/**
 * A 2xx answer that does not decode as the expected response (or names an action this library
 * cannot act on). `body` keeps the start of it with tokens removed.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthleteResponseError extends Schema.TaggedError<AuthleteResponseError>(
  "effect-authlete/AuthleteResponseError"
)("AuthleteResponseError", {
  status: Schema.Number,
  body: Schema.String,
  message: Schema.String
}) {}

/**
 * Everything `AuthleteClient` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type AuthleteError =
  | AuthleteValidationError
  | AuthleteApiError
  | AuthleteTransportError
  | AuthleteResponseError

/**
 * Authlete answered `SERVER_ERROR`: the request to it was wrong or Authlete failed. No notification
 * was sent; the authorization server answers 500 on its side.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthleteServerError extends Schema.TaggedError<AuthleteServerError>(
  "effect-authlete/AuthleteServerError"
)("AuthleteServerError", {
  resultCode: Schema.optional(Schema.String),
  resultMessage: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `Authlete answered SERVER_ERROR${this.resultCode === undefined ? "" : ` ${this.resultCode}`}${
      this.resultMessage === undefined ? "" : `: ${this.resultMessage}`
    }`
  }
}

/**
 * The client's notification endpoint (CIBA Core 10.2) did not take the notification: it is not a
 * safe URL (`InvalidEndpoint`), answered a redirect (`Redirect`, never followed) or another non-2xx
 * status (`Status`), the connection failed (`Transport`) or the attempt ran out of time (`Timeout`).
 * The notification token is never part of it.
 *
 * @since 0.1.0
 * @category errors
 */
export class ClientNotificationError extends Schema.TaggedError<ClientNotificationError>(
  "effect-authlete/ClientNotificationError"
)("ClientNotificationError", {
  reason: Schema.Literal("InvalidEndpoint", "Redirect", "Status", "Transport", "Timeout"),
  status: Schema.optional(Schema.Number),
  endpoint: Schema.String,
  message: Schema.String
}) {}
