/**
 * The user's answer on the authentication device, as a program: the pending request is taken out of
 * the store (once), the claims it asked for are collected, and Authlete is told
 * (`completeBackchannelAuthentication`, which notifies PING and PUSH clients). A request nobody
 * decides in time is failed as `TRANSACTION_FAILED`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as AuthleteClient from "./AuthleteClient.js"
import {
  completeBackchannelAuthentication,
  type CompleteBackchannelAuthenticationInput,
  type CompletionError,
  type CompletionOutcome
} from "./BackchannelAuthenticationCompletion.js"
import * as CibaMetrics from "./CibaMetrics.js"
import type * as ClientNotifier from "./ClientNotifier.js"
import { annotateFlow } from "./internal/digest.js"
import type * as PendingRequest from "./PendingRequest.js"
import * as PendingRequestStore from "./PendingRequestStore.js"
import * as UserClaims from "./UserClaims.js"

/**
 * A decision that cannot be made: the request is not known (`Unknown`), its `auth_req_id` expired
 * (`Expired`), or it was decided already (`AlreadyDecided`). Nothing was sent to Authlete.
 *
 * @since 0.1.0
 * @category errors
 */
export class DecisionError extends Schema.TaggedError<DecisionError>("effect-authlete/DecisionError")(
  "DecisionError",
  {
    reason: Schema.Literal("Unknown", "Expired", "AlreadyDecided"),
    authReqId: Schema.String
  }
) {
  override get message(): string {
    return this.reason === "Unknown"
      ? `No pending request has auth_req_id ${this.authReqId}`
      : this.reason === "Expired"
      ? `The request ${this.authReqId} expired before the decision`
      : `The request ${this.authReqId} was decided already`
  }
}

/**
 * The user's answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Decision {
  readonly authReqId: string
  readonly decision: "allow" | "deny"
  /** When the user authenticated, in seconds since the epoch; default now. */
  readonly authTime?: number | undefined
  /** The authentication context class the user met; default the first the client asked for. */
  readonly acr?: string | undefined
  /** Claims the user consented to share; default all that were asked for. */
  readonly consentedClaims?: ReadonlyArray<string> | undefined
  /** More claims for the ID token, merged over the collected ones. */
  readonly claims?: { readonly [name: string]: unknown } | undefined
}

/** What the decision programs need. */
export type DecisionRequirements =
  | PendingRequestStore.PendingRequestStore
  | UserClaims.UserClaims
  | AuthleteClient.AuthleteClient
  | ClientNotifier.ClientNotifier

/**
 * Tells Authlete how a user decided on a pending request. `allow` sends the claims the request asked
 * for (collected with `collectClaims` in its `claims_locales`); `deny` sends `ACCESS_DENIED`.
 *
 * @since 0.1.0
 * @category program
 */
export const decide = (
  decision: Decision
): Effect.Effect<
  CompletionOutcome,
  DecisionError | CompletionError | PendingRequestStore.PendingRequestStoreError,
  DecisionRequirements
> =>
  Effect.gen(function*() {
    const store = yield* PendingRequestStore.PendingRequestStore
    const now = yield* Clock.currentTimeMillis
    const taken = yield* store.take(decision.authReqId, now)
    if (taken._tag !== "Taken") return yield* new DecisionError({ reason: taken._tag, authReqId: decision.authReqId })
    const authTime = decision.authTime ?? Math.floor(now / 1000)
    return yield* completeBackchannelAuthentication(yield* completionFor(taken.request, { ...decision, authTime }))
  })

/**
 * What Authlete is told of a pending request: the user's decision (`allow`: the claims the request
 * asked for, collected in its `claims_locales`, merged under the decision's own; `deny`:
 * `ACCESS_DENIED`), or, without one, `TRANSACTION_FAILED` for want of an answer in time. This
 * process's decisions and the durable engine's both send this.
 *
 * @since 0.1.0
 * @category program
 */
export const completionFor = (
  request: Pick<
    PendingRequest.PendingRequest,
    "ticket" | "subject" | "claimNames" | "claimsLocales" | "acrValues" | "createdAt"
  >,
  decision: Omit<Decision, "authReqId"> | undefined
): Effect.Effect<CompleteBackchannelAuthenticationInput, never, UserClaims.UserClaims> =>
  Effect.gen(function*() {
    const result = decision === undefined
      ? "TRANSACTION_FAILED"
      : decision.decision === "deny"
      ? "ACCESS_DENIED"
      : "AUTHORIZED"
    yield* CibaMetrics.count(CibaMetrics.decisions, { result })
    yield* CibaMetrics.recordMillis(
      CibaMetrics.decisionDuration,
      (yield* Clock.currentTimeMillis) - request.createdAt,
      { result }
    )
    if (decision === undefined || decision.decision === "deny") {
      return {
        ticket: request.ticket,
        result: decision === undefined ? "TRANSACTION_FAILED" : "ACCESS_DENIED",
        subject: request.subject,
        errorDescription: decision === undefined ? "The user did not answer in time." : "The user denied the request."
      }
    }
    const collected = yield* UserClaims.collectClaims({
      subject: request.subject,
      claimNames: request.claimNames,
      claimsLocales: request.claimsLocales
    })
    const acr = decision.acr ?? request.acrValues[0]
    return {
      ticket: request.ticket,
      result: "AUTHORIZED",
      subject: request.subject,
      ...(decision.authTime === undefined ? {} : { authTime: decision.authTime }),
      ...(acr === undefined ? {} : { acr }),
      claims: [collected, decision.claims],
      consentedClaims: decision.consentedClaims ?? request.claimNames.map((name) => name.split("#", 1)[0]!)
    }
  })

/**
 * When a pending request is failed for want of a decision: 30 seconds before its `auth_req_id`
 * expires (half its lifetime when that is shorter), so that Authlete still takes the completion and
 * PING and PUSH clients hear of it, even when the node that should fail it dies at that moment and
 * another takes its work over, and that one dies in turn (see the README's "Running on several
 * nodes" for what the margin was measured against).
 *
 * @since 0.1.0
 * @category program
 */
export const decisionDeadline = (request: PendingRequest.PendingRequest): number => {
  const lifetime = request.expiresAt - request.createdAt
  return request.expiresAt - Math.min(DECISION_MARGIN_MILLIS, lifetime / 2)
}

/**
 * How long before its expiry a request is failed for want of a decision, at most
 * (`decisionDeadline`).
 *
 * @since 0.1.0
 * @category program
 */
export const DECISION_MARGIN_MILLIS = 30_000

/**
 * Fails, as `TRANSACTION_FAILED`, every pending request whose decision deadline passed; returns how
 * each ended. Run it every second or so (`Effect.repeat`), or let a durable timer do it.
 *
 * @since 0.1.0
 * @category program
 */
export const failOverdueRequests: Effect.Effect<
  ReadonlyArray<{ readonly authReqId: string; readonly outcome: "Completed" | "Failed" }>,
  PendingRequestStore.PendingRequestStoreError,
  DecisionRequirements
> = Effect.gen(function*() {
  const store = yield* PendingRequestStore.PendingRequestStore
  const overdue = yield* store.takeOverdue(decisionDeadline, yield* Clock.currentTimeMillis)
  return yield* Effect.forEach(
    overdue,
    (request) =>
      Effect.flatMap(completionFor(request, undefined), completeBackchannelAuthentication).pipe(
        Effect.as({ authReqId: request.authReqId, outcome: "Completed" as const }),
        Effect.catchAll((error) =>
          Effect.as(
            Effect.logWarning(`Failing an overdue request did not end cleanly: ${error.message}`),
            { authReqId: request.authReqId, outcome: "Failed" as const }
          )
        ),
        annotateFlow(request.authReqId)
      )
  )
})
