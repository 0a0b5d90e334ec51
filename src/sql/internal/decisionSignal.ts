/**
 * The user's decision, sent to a request's workflow (`CibaCompletion`, which awaits it) from
 * whichever node took it (`DurableDecisions`, which sends it). Not public: a decision reaches a
 * workflow only once the store has recorded it with the request. Its name is in the engine's history.
 */
import * as DurableDeferred from "@effect/workflow/DurableDeferred"
import { RecordedDecision } from "../SqlPendingRequestStore.js"

export const DecisionSignal = DurableDeferred.make("decision", { success: RecordedDecision })
