/**
 * Where the user's decisions are carried out: in this process (`Decisions.layer`, with
 * `DeviceDecision.decide`), or by the durable engine of `effect-authlete/sql`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type { CompletionError, CompletionOutcome } from "./BackchannelAuthenticationCompletion.js"
import { decide, type Decision, type DecisionError, type DecisionRequirements } from "./DeviceDecision.js"
import type * as PendingRequest from "./PendingRequest.js"
import type { PendingRequestStoreError } from "./PendingRequestStore.js"

/**
 * How a decision ended: carried out here (`Completed`, with Authlete's outcome), or handed to a
 * durable engine that carries it out (`Accepted`).
 *
 * @since 0.1.0
 * @category models
 */
export type DecisionOutcome =
  | { readonly _tag: "Completed"; readonly outcome: CompletionOutcome }
  | { readonly _tag: "Accepted" }

/**
 * What the backchannel endpoint knows of a recorded request besides the request: the client's
 * notification token (PING and PUSH), which a durable engine keeps, encrypted, so that it can still
 * notify the client if Authlete's answer to `/complete` is lost.
 *
 * @since 0.1.0
 * @category models
 */
export interface AwaitingOptions {
  readonly clientNotificationToken?: Redacted.Redacted<string> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DecisionsService {
  /** A request was recorded and waits for its user (a durable engine starts its workflow here). */
  readonly awaiting: (
    request: PendingRequest.PendingRequest,
    options?: AwaitingOptions
  ) => Effect.Effect<void, PendingRequestStoreError>
  /** Carries out the user's decision. */
  readonly decide: (
    decision: Decision
  ) => Effect.Effect<DecisionOutcome, DecisionError | CompletionError | PendingRequestStoreError>
}

/**
 * Where decisions are carried out. `Decisions.layer` does it in this process with `decide`
 * (requests nobody decides are failed by `failOverdueRequests`, which the application runs every
 * second or so); the durable engine of `effect-authlete/sql` does it in a workflow that survives
 * restarts and runs once across nodes.
 *
 * @since 0.1.0
 * @category tags
 */
export class Decisions extends Context.Tag("effect-authlete/Decisions")<Decisions, DecisionsService>() {}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Decisions, never, DecisionRequirements> = Layer.effect(
  Decisions,
  Effect.map(Effect.context<DecisionRequirements>(), (context) => ({
    awaiting: () => Effect.void,
    decide: (decision) =>
      decide(decision).pipe(
        Effect.map((outcome): DecisionOutcome => ({ _tag: "Completed", outcome })),
        Effect.provide(context)
      )
  }))
)
