/**
 * `Decisions` carried out by a durable workflow (`@effect/workflow`), one per ticket across every
 * node that shares the engine's storage: the user's decision, or a durable timer at the decision
 * deadline, then `/backchannel/authentication/complete`, then the client's notification, retried
 * until the `auth_req_id` expires. A node that dies on the way has its work resumed by another.
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
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { AuthleteClient } from "../AuthleteClient.js"
import type { AuthleteError } from "../AuthleteError.js"
import type { BackchannelAuthenticationCompleteResponse } from "../BackchannelAuthenticationCompleteResponse.js"
import { prepareCompleteRequest } from "../BackchannelAuthenticationCompletion.js"
import { type ClientNotification, type ClientNotificationError, ClientNotifier } from "../ClientNotifier.js"
import {
  completionFor,
  type Decision,
  decisionDeadline,
  DecisionError,
  type DecisionOutcome,
  Decisions
} from "../DeviceDecision.js"
import { PendingRequest, PendingRequestStoreError } from "../PendingRequests.js"
import { UserClaims } from "../UserClaims.js"
import { NotificationVault, type NotificationVaultError } from "./NotificationVault.js"
import { type DeadlineOutcome, RecordedDecision, SqlPendingRequestStore } from "./SqlPendingRequestStore.js"

// ---------------------------------------------------------------------------------------- records

const Settlement = Schema.Union(
  Schema.TaggedStruct("Decided", { decision: RecordedDecision }),
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

/**
 * Stalled workflows the upkeep found suspended and resumed: wake-ups the engine lost, or timers that
 * did not fire.
 *
 * @since 0.1.0
 * @category metrics
 */
export const resumedWorkflows = Metric.counter("effect_authlete_workflows_resumed_by_upkeep", {
  description: "Stalled workflows found suspended and resumed by the upkeep",
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
  payload: PendingRequest.fields,
  success: CompletionRecord,
  idempotencyKey: (request) => request.ticket
}).annotate(
  // A defect (a database that went away mid-step) restarts the workflow from its history, instead of
  // ending it for good.
  Workflow.CaptureDefects,
  false
)

/** The user's decision, sent to the workflow from whichever node took it. */
const DecisionSignal = DurableDeferred.make("decision", { success: RecordedDecision })

type Payload = typeof CibaCompletion.payloadSchema.Type

const resultOf = (settled: Settlement): CompletionRecord["result"] =>
  settled._tag === "Undecided"
    ? "TRANSACTION_FAILED"
    : settled.decision.decision === "allow"
    ? "AUTHORIZED"
    : "ACCESS_DENIED"

/**
 * A store that fails inside a step is retried a little, then the step dies: the engine restarts the
 * workflow, which replays its recorded steps and runs this one again.
 */
const persistently = <A, E extends { readonly message: string }, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.retry({ schedule: Schedule.exponential("200 millis").pipe(Schedule.jittered), times: 5 }),
    Effect.orDieWith((error) => new Error(error.message))
  )

/** Whether Authlete's refusal of a resumed attempt reads as "this ticket was used". */
const refusesTicket = (answer: Either.Either<BackchannelAuthenticationCompleteResponse, AuthleteError>): boolean =>
  Either.isRight(answer)
    ? answer.right.action === "SERVER_ERROR"
    : answer.left._tag === "AuthleteApiError" && answer.left.status >= 400 && answer.left.status < 500 &&
      ![401, 403, 408, 429].includes(answer.left.status)

/** Whether the request may have been refused unprocessed, or lost on the way: worth sending again. */
const isTransient = (error: AuthleteError): boolean =>
  error._tag === "AuthleteTransportError" ||
  (error._tag === "AuthleteApiError" && (error.status >= 500 || error.status === 408 || error.status === 429))

const MAX_BACKOFF_MILLIS = 10_000

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
      const store = yield* SqlPendingRequestStore
      const vault = yield* NotificationVault
      const authlete = yield* AuthleteClient
      // An earlier run got Authlete's notification and sealed it, but died before its result was recorded.
      if (Option.isSome(yield* persistently(vault.notification(request.authReqId)))) {
        return { _tag: "Completed", action: "NOTIFICATION", recovered: true } as const
      }
      const prepared = yield* Effect.either(prepareCompleteRequest(
        yield* completionFor(request, settled._tag === "Undecided" ? undefined : settled.decision)
      ))
      if (Either.isLeft(prepared)) return { _tag: "Refused", reason: prepared.left.message } as const

      const accept = (response: BackchannelAuthenticationCompleteResponse) =>
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

      const attempt = (backoffMillis: number): Effect.Effect<CompleteOutcome> =>
        Effect.gen(function*() {
          const attempts = yield* persistently(store.countCompletionAttempt(request.authReqId))
          const answer = yield* Effect.either(authlete.backchannelAuthenticationComplete(prepared.right))
          if (attempts > 1 && refusesTicket(answer)) {
            yield* Metric.increment(ticketAlreadyUsed)
            yield* Effect.logWarning(
              `/complete of auth_req_id ${request.authReqId} was refused on a resumed attempt: an earlier attempt, ` +
                "whose answer was lost, used the ticket"
            )
            const resultCode = Either.isRight(answer) ?
              answer.right.resultCode :
              answer.left._tag === "AuthleteApiError"
              ? answer.left.resultCode
              : undefined
            return { _tag: "TicketAlreadyUsed", ...(resultCode === undefined ? {} : { resultCode }) } as const
          }
          if (Either.isRight(answer)) {
            const response = answer.right
            if (response.action === "NO_ACTION" || response.action === "NOTIFICATION") return yield* accept(response)
            return {
              _tag: "Refused",
              reason: `Authlete answered ${response.action ?? "no action"}${
                response.resultCode === undefined ? "" : ` ${response.resultCode}`
              }`
            } as const
          }
          const error = answer.left
          if (!isTransient(error)) return { _tag: "Refused", reason: error.message } as const
          const now = yield* Clock.currentTimeMillis
          if (now + backoffMillis >= request.expiresAt) return { _tag: "Unavailable", reason: error.message } as const
          yield* Effect.sleep(Duration.millis(backoffMillis))
          return yield* attempt(Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS))
        })
      return yield* attempt(500)
    })
  })

/** A PING, or a PUSH denial or failure, rebuilt from the `auth_req_id` after Authlete's answer was lost. */
const rebuilt = (request: Payload, result: CompletionRecord["result"]) =>
  Effect.gen(function*() {
    const vault = yield* NotificationVault
    const token = yield* persistently(vault.token(request.authReqId))
    const endpoint = yield* persistently(vault.endpointOf(request.clientId))
    if (Option.isNone(token)) return Either.left("no notification token was kept for the request")
    if (Option.isNone(endpoint)) return Either.left("Authlete never reported the client's notification endpoint")
    const body = request.deliveryMode === "PING"
      ? { auth_req_id: request.authReqId }
      : { error: result === "ACCESS_DENIED" ? "access_denied" : "expired_token", auth_req_id: request.authReqId }
    return Either.right<ClientNotification>({
      endpoint: endpoint.value,
      token: token.value,
      body: JSON.stringify(body)
    })
  })

/** CIBA Core 10.2/10.3 leave the rest to the server: a 4xx other than 408 and 429 and a redirect are final. */
const isRetriable = (error: ClientNotificationError): boolean =>
  error.reason === "Transport" || error.reason === "Timeout" ||
  (error.reason === "Status" && error.status !== undefined &&
    (error.status >= 500 || error.status === 408 || error.status === 429))

/** The notification, retried with backoff until the `auth_req_id` expires. */
const deliverStep = (request: Payload, result: CompletionRecord["result"], source: "sealed" | "rebuilt") =>
  Activity.make({
    name: "notify",
    success: DeliveryOutcome,
    execute: Effect.gen(function*() {
      const vault = yield* NotificationVault
      const notifier = yield* ClientNotifier
      const found = source === "sealed"
        ? Either.fromOption(
          yield* persistently(vault.notification(request.authReqId)),
          () => "the sealed notification is gone (expired)"
        )
        : yield* rebuilt(request, result)
      if (Either.isLeft(found)) return { _tag: "Lost", reason: found.left } as const
      const notification = found.right
      const attempt = (attempts: number, backoffMillis: number): Effect.Effect<DeliveryOutcome> =>
        Effect.gen(function*() {
          const sent = yield* Effect.either(notifier.notify(notification))
          if (Either.isRight(sent)) {
            return { _tag: "Delivered", status: sent.right.status, attempts, rebuilt: source === "rebuilt" } as const
          }
          const error = sent.left
          if (!isRetriable(error)) {
            return {
              _tag: "Rejected",
              reason: error.message,
              attempts,
              ...(error.status === undefined ? {} : { status: error.status })
            } as const
          }
          const now = yield* Clock.currentTimeMillis
          if (now + backoffMillis >= request.expiresAt) return { _tag: "Expired", attempts } as const
          yield* Effect.sleep(Duration.millis(backoffMillis))
          return yield* attempt(attempts + 1, Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS))
        })
      return yield* attempt(1, 500)
    })
  })

const settleStep = (request: Payload) =>
  Activity.make({
    name: "settle-at-deadline",
    success: Settlement,
    execute: Effect.map(
      persistently(Effect.flatMap(
        Effect.zip(SqlPendingRequestStore, Clock.currentTimeMillis),
        ([store, now]) => store.settleAtDeadline(request.authReqId, now)
      )),
      (outcome: DeadlineOutcome): Settlement => outcome
    )
  })

/** The last step: nothing is left to deliver, so the secrets go, and the store knows the workflow is done. */
const finishStep = (request: Payload) =>
  Activity.make({
    name: "finish",
    execute: Effect.gen(function*() {
      const vault = yield* NotificationVault
      const store = yield* SqlPendingRequestStore
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
        duration: Duration.millis(Math.max(0, decisionDeadline(new PendingRequest(request)) - now)),
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
    const result = resultOf(settled)
    const complete = yield* completeStep(request, settled)
    const delivery = yield* Option.match(deliveryOf(request, result, complete), {
      onNone: () => Effect.succeed(undefined),
      onSome: Either.match({
        onLeft: (reason) => Effect.succeed<DeliveryOutcome>({ _tag: "Lost", reason }),
        onRight: (source) => deliverStep(request, result, source)
      })
    })
    yield* finishStep(request)
    return { result, complete, ...(delivery === undefined ? {} : { delivery }) }
  })

/**
 * The workflow's implementation, to register on every node of the engine.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWorkflow = CibaCompletion.toLayer((request) => run(request))

// -------------------------------------------------------------------------------------- decisions

const storeError = (operation: string) => (cause: unknown) =>
  new PendingRequestStoreError({
    operation,
    detail: cause instanceof Error ? cause.message : "the workflow engine failed"
  })

/**
 * Starts a request's workflow (a second start joins the first), then marks it started. The engine
 * persists the start, then tells the node that owns the workflow, and waits for that node: a dead
 * one is waited for until the others take its share over.
 */
const start = (request: PendingRequest) =>
  Effect.gen(function*() {
    const store = yield* SqlPendingRequestStore
    yield* CibaCompletion.execute(request, { discard: true }).pipe(
      Effect.catchAllDefect((defect) => Effect.fail(storeError("start the request's workflow")(defect)))
    )
    yield* store.markStarted(request.authReqId)
  })

/** Sends the decision to the request's workflow, then marks it sent (the same wait as `start`). */
const signal = (request: PendingRequest, decision: RecordedDecision) =>
  Effect.gen(function*() {
    const store = yield* SqlPendingRequestStore
    const executionId = yield* CibaCompletion.executionId(request)
    const token = DurableDeferred.tokenFromExecutionId(DecisionSignal, { workflow: CibaCompletion, executionId })
    yield* DurableDeferred.succeed(DecisionSignal, { token, value: decision }).pipe(
      Effect.catchAllDefect((defect) => Effect.fail(storeError("signal the decision to its workflow")(defect)))
    )
    yield* store.markSignalled(request.authReqId)
  })

const recorded = (decision: Decision, nowMillis: number) =>
  new RecordedDecision({
    decision: decision.decision,
    authTime: decision.authTime ?? Math.floor(nowMillis / 1000),
    ...(decision.acr === undefined ? {} : { acr: decision.acr }),
    ...(decision.consentedClaims === undefined ? {} : { consentedClaims: decision.consentedClaims }),
    ...(decision.claims === undefined ? {} : { claims: decision.claims })
  })

type DurableRequirements = WorkflowEngine | SqlPendingRequestStore | NotificationVault

/**
 * What the durable `Decisions` needs on each node, besides the services of the workflow's steps.
 *
 * @since 0.1.0
 * @category models
 */
export type DurableDecisionsRequirements =
  | DurableRequirements
  | AuthleteClient
  | ClientNotifier
  | UserClaims

/**
 * The upkeep of the durable decisions, for one node at a time (`ClusterNode.layerSweeper` runs it as
 * a cluster singleton): `sweep` starts the workflows of requests whose node died between recording
 * them and starting them, sends again the decisions whose sending was cut short, and deletes the
 * secrets of expired requests and the requests an hour past their expiry.
 *
 * @since 0.1.0
 * @category tags
 */
export class Upkeep extends Context.Tag("effect-authlete/DurableDecisions/Upkeep")<
  Upkeep,
  {
    readonly sweep: Effect.Effect<void, PendingRequestStoreError | NotificationVaultError>
    /**
     * The execution ids of workflows that should have moved on by now and did not finish: decided or
     * failed 3 seconds ago, or a second past their decision deadline. `ClusterNode.layerSweeper`
     * revives them and makes their messages readable again (see there).
     */
    readonly stalled: Effect.Effect<ReadonlyArray<string>, PendingRequestStoreError>
    /**
     * Resumes these workflows, in the background, through the engine's own `resume` (a suspended
     * workflow replays from its history, and finds its decision or its passed deadline; one that is
     * not suspended is left as it is). Counts and logs those that were suspended.
     */
    readonly revive: (executionIds: ReadonlyArray<string>) => Effect.Effect<void>
  }
>() {}

/** How long a client's request waits for the engine to reach the node that owns the workflow. */
const HANDOFF_MILLIS = 1_500
/** How old a start or a decision must be before the upkeep redoes it. */
const STRANDED_MILLIS = 5_000
/** How long a decided or failed request's workflow may take to finish before it counts as stalled. */
const STALLED_MILLIS = 3_000
/** How long past its decision deadline a waiting request's workflow counts as stalled. */
const OVERDUE_MILLIS = 1_000
/** How long the engine's `resume` may take (it retries its storage without end). */
const RESUME_TIMEOUT = Duration.seconds(5)

/**
 * `Decisions` in the workflow: `awaiting` keeps the notification token (sealed) and starts the
 * request's workflow; `decide`, on any node, takes the request out of the store with its decision
 * (from then on the decision is durable) and sends it to the workflow, then answers `Accepted`. A
 * repeated decision is `AlreadyDecided` (and sends the recorded one again, in case the first sending
 * was cut short). Neither waits long for a node that died: what it started goes on in the
 * background, and the upkeep finishes what a dead node left.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Decisions | Upkeep, never, DurableDecisionsRequirements> = Layer.merge(
  layerWorkflow,
  Layer.scopedContext(Effect.gen(function*() {
    const context = yield* Effect.context<DurableRequirements>()
    const store = yield* SqlPendingRequestStore
    const vault = yield* NotificationVault
    const fibers = yield* FiberSet.make()
    const running = new Set<string>()

    /**
     * Runs `effect` in the background, once at a time per `key` (a start or a sending that waits for a
     * dead node is not started again meanwhile). `None` when it was running already.
     */
    const inBackground = <A, E>(key: string, effect: Effect.Effect<A, E, DurableRequirements>, operation: string) =>
      Effect.suspend(() => {
        if (running.has(key)) return Effect.succeedNone
        running.add(key)
        return Effect.asSome(FiberSet.run(
          fibers,
          effect.pipe(
            Effect.tapErrorCause((cause) =>
              Effect.logWarning(`Could not ${operation}; the upkeep will try again`, cause)
            ),
            Effect.ensuring(Effect.sync(() => running.delete(key))),
            Effect.provide(context)
          )
        ))
      })

    /** `inBackground`, waiting for it a little: `None` when it goes on after that. */
    const handOff = <A, E>(key: string, effect: Effect.Effect<A, E, DurableRequirements>, operation: string) =>
      Effect.flatMap(
        inBackground(key, effect, operation),
        Option.match({
          onNone: () => Effect.succeedNone,
          onSome: (fiber) => Effect.timeoutOption(Fiber.join(fiber), Duration.millis(HANDOFF_MILLIS))
        })
      )

    const starting = (request: PendingRequest) =>
      [`start:${request.authReqId}`, start(request), "start a request's workflow"] as const
    const sending = (request: PendingRequest, decision: RecordedDecision) =>
      [`signal:${request.authReqId}`, signal(request, decision), "send a decision"] as const

    const decisions = Decisions.of({
      awaiting: (request, options) =>
        Effect.gen(function*() {
          const token = options?.clientNotificationToken
          if (token !== undefined) {
            yield* vault.keepToken(request.authReqId, token, request.expiresAt).pipe(
              Effect.mapError((error: NotificationVaultError) =>
                new PendingRequestStoreError({ operation: "keep the notification token", detail: error.message })
              )
            )
          }
          yield* handOff(...starting(request))
        }),
      decide: (decision) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const value = recorded(decision, now)
          const taken = yield* store.takeForDecision(decision.authReqId, now, value)
          if (taken._tag === "AlreadyDecided") {
            // Harmless when the first sending arrived: the workflow keeps the first value it is sent.
            const earlier = yield* store.decided(decision.authReqId)
            if (Option.isSome(earlier)) {
              yield* Effect.ignore(handOff(...sending(earlier.value.request, earlier.value.decision)))
            }
          }
          if (taken._tag !== "Taken") {
            return yield* new DecisionError({ reason: taken._tag, authReqId: decision.authReqId })
          }
          // The decision is recorded: should the sending fail, the upkeep, or at the latest the deadline, finds it.
          yield* Effect.ignore(handOff(...sending(taken.request, value)))
          return { _tag: "Accepted" } satisfies DecisionOutcome as DecisionOutcome
        })
    })

    const sweep = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      for (const request of yield* store.unstarted(now - STRANDED_MILLIS)) yield* inBackground(...starting(request))
      for (const { decision, request } of yield* store.unsignalled(now - STRANDED_MILLIS)) {
        yield* inBackground(...sending(request, decision))
      }
      yield* vault.purgeExpired(now)
      yield* store.purge(now)
    })

    const stalled = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const requests = yield* store.stalled(now, STALLED_MILLIS, OVERDUE_MILLIS)
      // A start that never got through is made again (a duplicate start joins the first).
      for (const request of requests) yield* inBackground(...starting(request))
      return yield* Effect.forEach(requests, (request) => CibaCompletion.executionId(request))
    })

    // @effect/cluster 0.60 resumes a suspended workflow when its signal is handled, and a signal waits
    // for the run before it. That holds on one owner; when a loaded node loses its shards while it
    // runs the workflow, the new owner can handle the signal before the old one records the suspension,
    // and nothing resumes it again (nor a run suspended before its timer was scheduled). The engine's
    // documented `resume` is what wakes it; on a workflow that is not suspended it does nothing.
    const revive = (executionIds: ReadonlyArray<string>) =>
      Effect.forEach(executionIds, (executionId) =>
        inBackground(
          `resume:${executionId}`,
          Effect.gen(function*() {
            const result = yield* CibaCompletion.poll(executionId)
            if (result?._tag !== "Suspended") return
            yield* CibaCompletion.resume(executionId).pipe(Effect.timeoutFail({
              duration: RESUME_TIMEOUT,
              onTimeout: () => storeError("resume a stalled workflow")(undefined)
            }))
            yield* Metric.increment(resumedWorkflows)
            yield* Effect.logInfo("Resumed a stalled workflow").pipe(Effect.annotateLogs({ executionId }))
          }),
          "resume a stalled workflow"
        ), { discard: true })

    return Context.make(Decisions, decisions).pipe(Context.add(Upkeep, { sweep, stalled, revive }))
  }))
)
