/**
 * The durable workflow (`@effect/workflow`) that carries out a CIBA request, one execution per
 * ticket across every node that shares the engine's storage: the user's decision, or a durable timer
 * at the decision deadline, then `/backchannel/authentication/complete`, then the client's
 * notification, retried until the `auth_req_id` expires. A node that dies on the way has its work
 * resumed by another. `DurableDecisions` starts it and sends it the decision.
 *
 * What is recorded, where:
 *
 * - the request, as it was recorded for the decision, is the workflow's payload;
 * - the decision is recorded with the request (`SqlPendingRequestStore.takeForDecision`) and sent
 *   to the workflow as a `DurableDeferred`;
 * - Authlete's notification (for PUSH, the tokens) and the client's notification token go to the
 *   `NotificationVault`, sealed with AES-256-GCM, and are deleted once delivered or expired: the
 *   engine's own tables (its history of results) never hold a token.
 *
 * The limit: Authlete's `/complete` is not idempotent. A node that dies after Authlete processed it
 * and before its answer was sealed leaves a resumed attempt that Authlete refuses ("ticket already
 * used"), counted in `ticketAlreadyUsed`. What then happens depends on the mode: POLL loses
 * nothing (the token endpoint answers from Authlete's record); PING is rebuilt from the
 * `auth_req_id` (with the kept notification token and the client's last known endpoint) and
 * sent; a PUSH denial or failure is rebuilt too; PUSH tokens are lost (the client times out).
 *
 * @since 0.1.0
 */
import * as Activity from "@effect/workflow/Activity"
import * as DurableClock from "@effect/workflow/DurableClock"
import * as DurableDeferred from "@effect/workflow/DurableDeferred"
import * as Workflow from "@effect/workflow/Workflow"
import type { WorkflowEngine, WorkflowInstance } from "@effect/workflow/WorkflowEngine"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as AuthleteClient from "../AuthleteClient.js"
import type * as AuthleteError from "../AuthleteError.js"
import type * as BackchannelAuthenticationCompleteResponse from "../BackchannelAuthenticationCompleteResponse.js"
import { prepareCompleteRequest } from "../BackchannelAuthenticationCompletion.js"
import * as CibaMetrics from "../CibaMetrics.js"
import * as ClientNotifier from "../ClientNotifier.js"
import { completionFor, decisionDeadline } from "../DeviceDecision.js"
import { annotateFlow } from "../internal/digest.js"
import * as PendingRequest from "../PendingRequest.js"
import { DecisionSignal } from "./internal/decisionSignal.js"
import { isRetriable, isTransient, persistently, refusesTicket, untilExpiry } from "./internal/retries.js"
import * as NotificationVault from "./NotificationVault.js"
import * as SqlPendingRequestStore from "./SqlPendingRequestStore.js"

// ---------------------------------------------------------------------------------------- records

const Settlement = Schema.Union(
  Schema.TaggedStruct("Decided", { decision: SqlPendingRequestStore.RecordedDecision }),
  Schema.TaggedStruct("Undecided", {})
)
type Settlement = typeof Settlement.Type

/**
 * How the `/complete` step ended: Authlete took it (`Completed`; `recovered` when an earlier run
 * had sealed Authlete's answer but not recorded it); Authlete refused a resumed attempt, whose
 * earlier attempt it had processed (`TicketAlreadyUsed`, the limit); Authlete refused it for another
 * reason (`Refused`); or it could not be reached before the `auth_req_id` expired (`Unavailable`).
 *
 * @since 0.1.0
 * @category models
 */
export const CompleteOutcome = Schema.Union(
  Schema.TaggedStruct("Completed", {
    action: Schema.Literal("NO_ACTION", "NOTIFICATION"),
    resultCode: Schema.optional(Schema.String),
    recovered: Schema.Boolean
  }),
  Schema.TaggedStruct("TicketAlreadyUsed", { resultCode: Schema.optional(Schema.String) }),
  Schema.TaggedStruct("Refused", { reason: Schema.String }),
  Schema.TaggedStruct("Unavailable", { reason: Schema.String })
)

/**
 * @since 0.1.0
 * @category models
 */
export type CompleteOutcome = typeof CompleteOutcome.Type

/**
 * How the notification step ended: the endpoint took it (`Delivered`; `rebuilt` when it was rebuilt
 * after a lost `/complete` answer), refused it for good (`Rejected`: a 4xx other than 408/429, a
 * redirect, a forbidden endpoint), did not take it before the `auth_req_id` expired (`Expired`), or
 * there was nothing left to deliver (`Lost`: PUSH tokens of a lost answer, or no token or endpoint
 * to rebuild a ping with).
 *
 * @since 0.1.0
 * @category models
 */
export const DeliveryOutcome = Schema.Union(
  Schema.TaggedStruct("Delivered", { status: Schema.Number, attempts: Schema.Number, rebuilt: Schema.Boolean }),
  Schema.TaggedStruct("Rejected", {
    reason: Schema.String,
    status: Schema.optional(Schema.Number),
    attempts: Schema.Number
  }),
  Schema.TaggedStruct("Expired", { attempts: Schema.Number }),
  Schema.TaggedStruct("Lost", { reason: Schema.String })
)

/**
 * @since 0.1.0
 * @category models
 */
export type DeliveryOutcome = typeof DeliveryOutcome.Type

/**
 * What a workflow recorded as its result: the result sent to Authlete, and how each step ended.
 *
 * @since 0.1.0
 * @category models
 */
export const CompletionRecord = Schema.Struct({
  result: Schema.Literal("AUTHORIZED", "ACCESS_DENIED", "TRANSACTION_FAILED"),
  complete: CompleteOutcome,
  delivery: Schema.optional(DeliveryOutcome)
})

/**
 * @since 0.1.0
 * @category models
 */
export type CompletionRecord = typeof CompletionRecord.Type

/**
 * Resumed `/complete` attempts that Authlete refused because an earlier one, whose answer was lost,
 * had used the ticket.
 *
 * @since 0.1.0
 * @category metrics
 */
export const ticketAlreadyUsed = Metric.counter("effect_authlete_complete_ticket_already_used", {
  description: "Resumed /complete attempts refused because a lost earlier attempt had used the ticket",
  incremental: true
})

// --------------------------------------------------------------------------------------- workflow

/**
 * The workflow, one execution per ticket (its execution id is derived from the ticket, so a second
 * start, from any node, joins the first).
 *
 * @since 0.1.0
 * @category workflow
 */
export const CibaCompletion = Workflow.make({
  name: "effect-authlete/CibaCompletion",
  payload: PendingRequest.PendingRequest.fields,
  success: CompletionRecord,
  idempotencyKey: (request) => request.ticket
}).annotate(
  // A defect (a database that went away mid-step) restarts the workflow from its history, instead of
  // ending it for good.
  Workflow.CaptureDefects,
  false
)

type Payload = typeof CibaCompletion.payloadSchema.Type

const resultOf = (settled: Settlement): CompletionRecord["result"] =>
  settled._tag === "Undecided"
    ? "TRANSACTION_FAILED"
    : settled.decision.decision === "allow"
    ? "AUTHORIZED"
    : "ACCESS_DENIED"

/**
 * `/complete`, once per ticket as far as this step can tell: each attempt is counted in the store
 * before it is sent, so that a resumed run knows an earlier one may have reached Authlete. A
 * notification Authlete answers with is sealed into the vault before this step's result is recorded.
 */
const completeStep = (request: Payload, settled: Settlement) =>
  Activity.make({
    name: "complete",
    success: CompleteOutcome,
    execute: Effect.gen(function*() {
      const store = yield* SqlPendingRequestStore.SqlPendingRequestStore
      const vault = yield* NotificationVault.NotificationVault
      const authlete = yield* AuthleteClient.AuthleteClient
      // An earlier run got Authlete's notification and sealed it, but died before its result was recorded.
      if (Option.isSome(yield* persistently(vault.notification(request.authReqId)))) {
        return { _tag: "Completed", action: "NOTIFICATION", recovered: true } as const
      }
      const prepared = yield* Effect.either(prepareCompleteRequest(
        yield* completionFor(request, settled._tag === "Undecided" ? undefined : settled.decision)
      ))
      if (Either.isLeft(prepared)) return { _tag: "Refused", reason: prepared.left.message } as const

      const accept = (response: BackchannelAuthenticationCompleteResponse.BackchannelAuthenticationCompleteResponse) =>
        Effect.gen(function*() {
          const code = response.resultCode === undefined ? {} : { resultCode: response.resultCode }
          if (response.action === "NO_ACTION") {
            return { _tag: "Completed", action: "NO_ACTION", recovered: false, ...code } as const
          }
          const { clientNotificationEndpoint: endpoint, clientNotificationToken: token, responseContent: body } =
            response
          if (endpoint === undefined || token === undefined || body === undefined) {
            return {
              _tag: "Refused",
              reason: "Authlete answered NOTIFICATION without what a notification needs"
            } as const
          }
          const now = yield* Clock.currentTimeMillis
          yield* persistently(vault.keepNotification(
            request.authReqId,
            { endpoint, token: Redacted.make(token), body },
            request.expiresAt
          ))
          yield* persistently(vault.rememberEndpoint(request.clientId, endpoint, now))
          return { _tag: "Completed", action: "NOTIFICATION", recovered: false, ...code } as const
        })

      // One attempt: a failure left is Authlete's error, which the retry below may send again.
      const attempt: Effect.Effect<CompleteOutcome, AuthleteError.AuthleteError> = Effect.gen(function*() {
        const attempts = yield* persistently(store.countCompletionAttempt(request.authReqId))
        const answer = yield* Effect.either(authlete.backchannelAuthenticationComplete(prepared.right))
        if (attempts > 1 && refusesTicket(answer)) {
          yield* Metric.increment(ticketAlreadyUsed)
          yield* Effect.logWarning(
            "/complete was refused on a resumed attempt: an earlier attempt, " +
              "whose answer was lost, used the ticket"
          )
          const resultCode = Either.isRight(answer) ?
            answer.right.resultCode :
            answer.left._tag === "AuthleteApiError"
            ? answer.left.resultCode
            : undefined
          return { _tag: "TicketAlreadyUsed", ...(resultCode === undefined ? {} : { resultCode }) } as const
        }
        const response = yield* answer
        if (response.action === "NO_ACTION" || response.action === "NOTIFICATION") return yield* accept(response)
        return {
          _tag: "Refused",
          reason: `Authlete answered ${response.action ?? "no action"}${
            response.resultCode === undefined ? "" : ` ${response.resultCode}`
          }`
        } as const
      })
      return yield* attempt.pipe(
        Effect.retry({ schedule: untilExpiry(request.expiresAt), while: isTransient }),
        // Still transient: the auth_req_id expires before the next attempt. Otherwise, final.
        Effect.catchAll((error) =>
          Effect.succeed<CompleteOutcome>({
            _tag: isTransient(error) ? "Unavailable" : "Refused",
            reason: error.message
          })
        )
      )
    })
  })

/** A PING, or a PUSH denial or failure, rebuilt from the `auth_req_id` after Authlete's answer was lost. */
const rebuilt = (request: Payload, result: CompletionRecord["result"]) =>
  Effect.gen(function*() {
    const vault = yield* NotificationVault.NotificationVault
    const token = yield* persistently(vault.token(request.authReqId))
    const endpoint = yield* persistently(vault.endpointOf(request.clientId))
    if (Option.isNone(token)) return Either.left("no notification token was kept for the request")
    if (Option.isNone(endpoint)) return Either.left("Authlete never reported the client's notification endpoint")
    const body = request.deliveryMode === "PING"
      ? { auth_req_id: request.authReqId }
      : { error: result === "ACCESS_DENIED" ? "access_denied" : "expired_token", auth_req_id: request.authReqId }
    return Either.right<ClientNotifier.ClientNotification>({
      endpoint: endpoint.value,
      token: token.value,
      body: JSON.stringify(body)
    })
  })

/** The notification, retried with backoff until the `auth_req_id` expires. */
const deliverStep = (
  request: Payload,
  result: CompletionRecord["result"],
  source: "sealed" | "rebuilt",
  decidedAt: number
) =>
  Activity.make({
    name: "notify",
    success: DeliveryOutcome,
    execute: Effect.gen(function*() {
      const vault = yield* NotificationVault.NotificationVault
      const found = source === "sealed"
        ? Either.fromOption(
          yield* persistently(vault.notification(request.authReqId)),
          () => "the sealed notification is gone (expired)"
        )
        : yield* rebuilt(request, result)
      if (Either.isLeft(found)) return { _tag: "Lost", reason: found.left } as const
      const notification = found.right
      const notifier = yield* ClientNotifier.ClientNotifier
      // Each attempt counts itself, for the outcome.
      let attempts = 0
      const send = Effect.suspend(() => {
        attempts += 1
        // The notifier does not retry here: it numbers its attempt in the metrics from the workflow's.
        return Effect.locally(notifier.notify(notification), CibaMetrics.earlierNotificationAttempts, attempts - 1)
      })
      return yield* send.pipe(
        Effect.retry({ schedule: untilExpiry(request.expiresAt), while: isRetriable }),
        Effect.tap(() =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            CibaMetrics.recordMillis(CibaMetrics.deliveryDuration, now - decidedAt, {
              mode: CibaMetrics.modeLabel(request.deliveryMode)
            }))
        ),
        Effect.match({
          onSuccess: (sent): DeliveryOutcome => ({
            _tag: "Delivered",
            status: sent.status,
            attempts,
            rebuilt: source === "rebuilt"
          }),
          // Still retriable: the auth_req_id expires before the next attempt. Otherwise, final.
          onFailure: (error): DeliveryOutcome =>
            isRetriable(error) ? { _tag: "Expired", attempts } : {
              _tag: "Rejected",
              reason: error.message,
              attempts,
              ...(error.status === undefined ? {} : { status: error.status })
            }
        })
      )
    })
  })

const settleStep = (request: Payload) =>
  Activity.make({
    name: "settle-at-deadline",
    success: Settlement,
    execute: Effect.map(
      persistently(Effect.flatMap(
        Effect.zip(SqlPendingRequestStore.SqlPendingRequestStore, Clock.currentTimeMillis),
        ([store, now]) => store.settleAtDeadline(request.authReqId, now)
      )),
      (outcome: SqlPendingRequestStore.DeadlineOutcome): Settlement => outcome
    )
  })

/** The last step: nothing is left to deliver, so the secrets go, and the store knows the workflow is done. */
const finishStep = (request: Payload) =>
  Activity.make({
    name: "finish",
    execute: Effect.gen(function*() {
      const vault = yield* NotificationVault.NotificationVault
      const store = yield* SqlPendingRequestStore.SqlPendingRequestStore
      yield* persistently(vault.forget(request.authReqId))
      yield* persistently(store.markFinished(request.authReqId))
    })
  })

/** What a completed `/complete` leaves to deliver, if anything. */
const deliveryOf = (
  request: Payload,
  result: CompletionRecord["result"],
  complete: CompleteOutcome
): Option.Option<Either.Either<"sealed" | "rebuilt", string>> => {
  if (complete._tag === "Completed") {
    return complete.action === "NOTIFICATION" ? Option.some(Either.right("sealed")) : Option.none()
  }
  if (complete._tag !== "TicketAlreadyUsed" || request.deliveryMode === "POLL" || request.deliveryMode === undefined) {
    return Option.none()
  }
  return request.deliveryMode === "PUSH" && result === "AUTHORIZED"
    ? Option.some(Either.left("the PUSH tokens were minted by an attempt whose answer was lost"))
    : Option.some(Either.right("rebuilt"))
}

const run = (request: Payload) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const decided: Effect.Effect<Settlement, never, WorkflowEngine | WorkflowInstance> = Effect.map(
      DurableDeferred.await(DecisionSignal),
      (decision) => ({ _tag: "Decided", decision })
    )
    // A durable timer: whichever node holds the workflow when it fires fails the request.
    const deadline: Effect.Effect<Settlement, never, WorkflowEngine | WorkflowInstance> = Effect.as(
      DurableClock.sleep({
        name: "decision-deadline",
        duration: Duration.millis(Math.max(0, decisionDeadline(new PendingRequest.PendingRequest(request)) - now)),
        inMemoryThreshold: Duration.zero
      }),
      { _tag: "Undecided" }
    )
    const raced = yield* DurableDeferred.raceAll({
      name: "decision-or-deadline",
      success: Settlement,
      error: Schema.Never,
      effects: [decided, deadline]
    })
    // At the deadline the store decides: a decision taken just before it is carried out.
    const settled = raced._tag === "Decided" ? raced : yield* settleStep(request)
    // When it was decided, as this run saw it (a resumed run sees its own time): for the metrics.
    const decidedAt = yield* Clock.currentTimeMillis
    const result = resultOf(settled)
    const complete = yield* completeStep(request, settled)
    const delivery = yield* Option.match(deliveryOf(request, result, complete), {
      onNone: () => Effect.succeed(undefined),
      onSome: Either.match({
        onLeft: (reason) => Effect.succeed<DeliveryOutcome>({ _tag: "Lost", reason }),
        onRight: (source) => deliverStep(request, result, source, decidedAt)
      })
    })
    yield* finishStep(request)
    yield* Effect.logInfo("The CIBA flow ended").pipe(Effect.annotateLogs({
      result,
      complete: complete._tag,
      ...(delivery === undefined ? {} : { delivery: delivery._tag })
    }))
    return { result, complete, ...(delivery === undefined ? {} : { delivery }) }
  }).pipe(annotateFlow(request.authReqId))

/**
 * The workflow's implementation, to register on every node of the engine.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWorkflow = CibaCompletion.toLayer((request) => run(request))
