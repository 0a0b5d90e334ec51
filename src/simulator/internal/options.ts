/**
 * The simulator's defaults and option checks.
 */
import * as Effect from "effect/Effect"
import type { SimulatedClient } from "../AuthleteSimulator.js"
import { randomToken } from "./crypto.js"

/** Three clients, one per delivery mode, with fresh secrets. */
export const defaultClients = (): ReadonlyArray<SimulatedClient> =>
  (["POLL", "PING", "PUSH"] as const).map((deliveryMode, i) => ({
    clientId: 3001 + i,
    clientIdAlias: `${deliveryMode.toLowerCase()}-client`,
    clientSecret: randomToken(64),
    clientName: `Simulated ${deliveryMode} client`,
    deliveryMode
  }))

/** A whole-number option; a nonsensical one is a programming error, so the layer dies with a sentence. */
export const seconds = (value: number | undefined, fallback: number, name: string, min = 1): Effect.Effect<number> =>
  value === undefined
    ? Effect.succeed(fallback)
    : Number.isSafeInteger(value) && value >= min
    ? Effect.succeed(value)
    : Effect.dieMessage(`AuthleteSimulator: ${name} must be a whole number, at least ${min}`)

/** The client with its notification endpoint set, or removed with `undefined`. */
export const withEndpoint = (client: SimulatedClient, endpoint: string | undefined): SimulatedClient => {
  const { clientNotificationEndpoint: _, ...rest } = client
  return endpoint === undefined ? rest : { ...rest, clientNotificationEndpoint: endpoint }
}
