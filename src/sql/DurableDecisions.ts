/**
 * `Decisions` carried out by the durable workflow `CibaCompletion` (`@effect/workflow`), one per
 * ticket across every node that shares the engine's storage: `awaiting` starts the request's
 * workflow, and `decide`, on any node, records the decision with the request
 * (`SqlPendingRequestStore.takeForDecision`) and sends it to the workflow as a `DurableDeferred`. The
 * workflow then waits for that decision, or for its durable timer at the decision deadline, and
 * carries it out (`CibaCompletion` says how, what it records where, and its limit).
 *
 * Neither waits long for a node that died: the `Upkeep` (run by `ClusterNode.layerSweeper`) starts
 * the workflows and sends again the decisions that a dead node left, resumes the workflows that
 * stalled, deletes what expired, and what finished longer ago than the retention.
 *
 * @since 0.1.0
 */
import * as DurableDeferred from "@effect/workflow/DurableDeferred"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type * as AuthleteClient from "../AuthleteClient.js"
import type * as ClientNotifier from "../ClientNotifier.js"
import * as Decisions from "../Decisions.js"
import { type Decision, DecisionError } from "../DeviceDecision.js"
import type * as PendingRequest from "../PendingRequest.js"
import { PendingRequestStoreError } from "../PendingRequestStore.js"
import type * as UserClaims from "../UserClaims.js"
import * as CibaCompletion from "./CibaCompletion.js"
import { DecisionSignal } from "./internal/decisionSignal.js"
import { BATCH_ROWS, BATCHES_PER_ROUND } from "./internal/retention.js"
import * as NotificationVault from "./NotificationVault.js"
import * as SqlPendingRequestStore from "./SqlPendingRequestStore.js"

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
const start = (request: PendingRequest.PendingRequest) =>
  Effect.gen(function*() {
    const store = yield* SqlPendingRequestStore.SqlPendingRequestStore
    yield* CibaCompletion.CibaCompletion.execute(request, { discard: true }).pipe(
      Effect.catchAllDefect((defect) => Effect.fail(storeError("start the request's workflow")(defect)))
    )
    yield* store.markStarted(request.authReqId)
  })

/** Sends the decision to the request's workflow, then marks it sent (the same wait as `start`). */
const signal = (request: PendingRequest.PendingRequest, decision: SqlPendingRequestStore.RecordedDecision) =>
  Effect.gen(function*() {
    const store = yield* SqlPendingRequestStore.SqlPendingRequestStore
    const executionId = yield* CibaCompletion.CibaCompletion.executionId(request)
    const token = DurableDeferred.tokenFromExecutionId(DecisionSignal, {
      workflow: CibaCompletion.CibaCompletion,
      executionId
    })
    yield* DurableDeferred.succeed(DecisionSignal, { token, value: decision }).pipe(
      Effect.catchAllDefect((defect) => Effect.fail(storeError("signal the decision to its workflow")(defect)))
    )
    yield* store.markSignalled(request.authReqId)
  })

const recorded = (decision: Decision, nowMillis: number) =>
  new SqlPendingRequestStore.RecordedDecision({
    decision: decision.decision,
    authTime: decision.authTime ?? Math.floor(nowMillis / 1000),
    ...(decision.acr === undefined ? {} : { acr: decision.acr }),
    ...(decision.consentedClaims === undefined ? {} : { consentedClaims: decision.consentedClaims }),
    ...(decision.claims === undefined ? {} : { claims: decision.claims })
  })

type DurableRequirements =
  | WorkflowEngine
  | SqlPendingRequestStore.SqlPendingRequestStore
  | NotificationVault.NotificationVault

/**
 * What the durable `Decisions` needs on each node, besides the services of the workflow's steps.
 *
 * @since 0.1.0
 * @category models
 */
export type DurableDecisionsRequirements =
  | DurableRequirements
  | AuthleteClient.AuthleteClient
  | ClientNotifier.ClientNotifier
  | UserClaims.UserClaims

/**
 * The upkeep of the durable decisions, for one node at a time (`ClusterNode.layerSweeper` runs it as
 * a cluster singleton): `sweep` starts the workflows of requests whose node died between recording
 * them and starting them, sends again the decisions whose sending was cut short, and deletes the
 * secrets of expired requests and the unfinished requests an hour past their expiry; `prune`
 * deletes what finished before the retention.
 *
 * @since 0.1.0
 * @category tags
 */
export class Upkeep extends Context.Tag("effect-authlete/DurableDecisions/Upkeep")<
  Upkeep,
  {
    readonly sweep: Effect.Effect<void, PendingRequestStoreError | NotificationVault.NotificationVaultError>
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
    /**
     * Deletes, in batches of at most 1,000 rows, the requests whose workflow finished before
     * `beforeMillis` and the notification endpoints no notification refreshed since; how many, and
     * whether it stopped with more to delete (the engine's rows are `ClusterNode.layerSweeper`'s).
     */
    readonly prune: (beforeMillis: number) => Effect.Effect<
      { readonly deleted: number; readonly backlog: boolean },
      PendingRequestStoreError | NotificationVault.NotificationVaultError
    >
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
export const layer: Layer.Layer<Decisions.Decisions | Upkeep, never, DurableDecisionsRequirements> = Layer.merge(
  CibaCompletion.layerWorkflow,
  Layer.scopedContext(Effect.gen(function*() {
    const context = yield* Effect.context<DurableRequirements>()
    const store = yield* SqlPendingRequestStore.SqlPendingRequestStore
    const vault = yield* NotificationVault.NotificationVault
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

    const starting = (request: PendingRequest.PendingRequest) =>
      [`start:${request.authReqId}`, start(request), "start a request's workflow"] as const
    const sending = (request: PendingRequest.PendingRequest, decision: SqlPendingRequestStore.RecordedDecision) =>
      [`signal:${request.authReqId}`, signal(request, decision), "send a decision"] as const

    const decisions = Decisions.Decisions.of({
      awaiting: (request, options) =>
        Effect.gen(function*() {
          const token = options?.clientNotificationToken
          if (token !== undefined) {
            yield* vault.keepToken(request.authReqId, token, request.expiresAt).pipe(
              Effect.mapError((error: NotificationVault.NotificationVaultError) =>
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
          return { _tag: "Accepted" } satisfies Decisions.DecisionOutcome as Decisions.DecisionOutcome
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
      return yield* Effect.forEach(requests, (request) => CibaCompletion.CibaCompletion.executionId(request))
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
            const result = yield* CibaCompletion.CibaCompletion.poll(executionId)
            if (result?._tag !== "Suspended") return
            yield* CibaCompletion.CibaCompletion.resume(executionId).pipe(Effect.timeoutFail({
              duration: RESUME_TIMEOUT,
              onTimeout: () => storeError("resume a stalled workflow")(undefined)
            }))
            yield* Metric.increment(resumedWorkflows)
            yield* Effect.logInfo("Resumed a stalled workflow").pipe(Effect.annotateLogs({ executionId }))
          }),
          "resume a stalled workflow"
        ), { discard: true })

    const prune = (beforeMillis: number) =>
      Effect.gen(function*() {
        let deleted = 0
        let backlog = false
        for (let batch = 0; batch < BATCHES_PER_ROUND; batch++) {
          const requests = yield* store.prune(beforeMillis)
          deleted += requests
          backlog = requests === BATCH_ROWS
          if (!backlog) break
        }
        const endpoints = yield* vault.forgetEndpoints(beforeMillis)
        return { deleted: deleted + endpoints, backlog: backlog || endpoints === BATCH_ROWS }
      })

    return Context.make(Decisions.Decisions, decisions).pipe(
      Context.add(Upkeep, { sweep, stalled, revive, prune })
    )
  }))
)
