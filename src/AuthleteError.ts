/**
 * What `AuthleteClient` fails with, as `Schema.TaggedError`s whose `message` is computed from their
 * fields (so that it can never hold more than the fields do).
 *
 * @since 0.1.0
 */
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Codec from "./internal/codec.js"

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
const formatPath = (path: ReadonlyArray<string | number>): string =>
  path.reduce<string>(
    (out, segment) => typeof segment === "number" ? `${out}[${segment}]` : out === "" ? segment : `${out}.${segment}`,
    ""
  )

/** One entry per field, its broken rules joined, in the order they were found. */
const groupByPath = (issues: ReadonlyArray<Codec.Issue>): Array<ValidationIssue> => {
  const byPath = new Map<string, { path: Array<string | number>; messages: Array<string> }>()
  for (const issue of issues) {
    const path = issue.path.map((segment) => typeof segment === "number" ? segment : String(segment))
    const key = JSON.stringify(path)
    let entry = byPath.get(key)
    if (entry === undefined) {
      entry = { path, messages: [] }
      byPath.set(key, entry)
    }
    if (!entry.messages.includes(issue.message)) entry.messages.push(issue.message)
  }
  return [...byPath.values()].map(({ messages, path }) => ({ path, message: messages.join("; ") }))
}

/**
 * The input breaks a rule. `issues` has one entry per field; when the input broke very many rules,
 * only the first are kept and `omitted` counts the others. `refused` says what was refused: building
 * a request object (`"Build"`), or sending it (`"Send"`: the client sent nothing).
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthleteValidationError extends Schema.TaggedError<AuthleteValidationError>(
  "effect-authlete/AuthleteValidationError"
)("AuthleteValidationError", {
  issues: Schema.Array(ValidationIssue),
  /** How many broken rules there were in all, when not all are listed. */
  total: Schema.optional(Schema.Number),
  /** How many of them `issues` does not list. */
  omitted: Schema.optional(Schema.Number),
  /** What the broken rules stopped, when it was more than a check. */
  refused: Schema.optional(Schema.Literal("Build", "Send"))
}) {
  /**
   * Turns a Schema `ParseError` into the list of broken rules, one entry per field, in sentences that
   * never repeat the rejected value.
   *
   * @since 0.1.0
   */
  static fromParseError(error: ParseResult.ParseError): AuthleteValidationError {
    return AuthleteValidationError.fromRefusal(Codec.refusalOfParseIssue(error.issue))
  }

  /** From what a compiled codec refused, and what the refusal stopped. */
  static fromRefusal(refusal: Codec.Refusal, refused?: "Build" | "Send"): AuthleteValidationError {
    const omitted = refusal.total - refusal.issues.length
    return new AuthleteValidationError({
      issues: groupByPath(refusal.issues),
      ...(omitted > 0 ? { total: refusal.total, omitted } : {}),
      ...(refused === undefined ? {} : { refused })
    })
  }

  /**
   * @since 0.1.0
   */
  static single(path: ReadonlyArray<string | number>, message: string): AuthleteValidationError {
    return new AuthleteValidationError({ issues: [{ path, message }] })
  }

  /** The broken rules as one line: `ticket: must not be empty; scopes: ...`. */
  get rules(): string {
    const rules = this.issues.map((issue) =>
      issue.path.length === 0 ? issue.message : `${formatPath(issue.path)}: ${issue.message}`
    ).join("; ")
    return this.omitted === undefined ? rules : `${rules}; and ${this.omitted.toLocaleString("en-US")} more`
  }

  override get message(): string {
    const count = this.total ?? this.issues.length
    const stopped = this.refused === "Build"
      ? ", the request was not built"
      : this.refused === "Send"
      ? ", the request was not sent"
      : ""
    return `Invalid input${stopped} (${count.toLocaleString("en-US")} ${
      count === 1 ? "problem" : "problems"
    }): ${this.rules}`
  }
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
 * timeout (`Timeout`), the exchange broke in flight (`Transport`), or the destination is an address
 * the request may not go to (`ForbiddenAddress`, for client-chosen URLs). Raised by the
 * `HttpTransport`; `detail` never holds a credential.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthleteTransportError extends Schema.TaggedError<AuthleteTransportError>(
  "effect-authlete/AuthleteTransportError"
)("AuthleteTransportError", {
  reason: Schema.Literal("Connect", "Timeout", "Transport", "ForbiddenAddress"),
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/**
 * A 2xx answer that does not decode as the expected response. `body` keeps the start of it with
 * tokens removed (nothing when it is not JSON: such a body may still hold fresh tokens).
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthleteResponseError extends Schema.TaggedError<AuthleteResponseError>(
  "effect-authlete/AuthleteResponseError"
)("AuthleteResponseError", {
  status: Schema.Number,
  body: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

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
 * Whether a value is one of `AuthleteClient`'s errors.
 *
 * @since 0.1.0
 * @category guards
 */
export const isAuthleteError = (u: unknown): u is AuthleteError =>
  u instanceof AuthleteValidationError || u instanceof AuthleteApiError || u instanceof AuthleteTransportError ||
  u instanceof AuthleteResponseError
