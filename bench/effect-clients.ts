/**
 * effect-authlete, as an application would run it: one `ManagedRuntime` built from
 * `AuthleteClient.layer` (and, for the program, `ClientNotifier.layer()`) over an `HttpTransport`
 * layer, and `runtime.runPromise` per call (an authorization server runs one program per incoming
 * request, so the concurrent workloads are 32 such callers, not one `Effect.forEach`).
 *
 * Before anything is timed, each client checks that the library writes, for the workload's input,
 * exactly the JSON text the raw clients and the SDK send (bench/fixtures.ts): the floor does none of
 * the library's work, but it sends the same bytes.
 *
 * Loaded only by the children that measure these clients (bench/child.ts imports it on demand).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, Either, Layer, ManagedRuntime, Redacted } from "effect"
import {
  AuthleteApis,
  AuthleteClient,
  BackchannelAuthenticationCompleteRequest,
  ClientNotifier,
  completeBackchannelAuthentication,
  HttpTransport,
  prepareCompleteRequest
} from "../src/index.js"
import { codecsOf } from "../src/internal/api.js"
import { UndiciTransport } from "../src/undici/index.js"
import type { BenchClient } from "./clients.js"
import {
  ACCESS_TOKEN,
  authenticationRequestWire,
  networkRequestFields,
  networkRequestWire,
  programInput,
  programRequestWire,
  SERVICE_ID
} from "./fixtures.js"
import type { Operation } from "./spec.js"

/** Fails the child when the library's wire text for call `i` is not what the other clients send. */
const sameWire = (what: string, i: number, library: unknown, theirs: unknown): void => {
  const ours = JSON.stringify(library)
  const expected = JSON.stringify(theirs)
  if (ours !== expected) {
    throw new Error(`${what}: the library sends ${ours} for call ${i}, the other clients ${expected}`)
  }
}

const checkWire = (operation: Operation): void => {
  for (const i of [0, 1, 12_345]) {
    switch (operation) {
      case "complete": {
        const { encodeRequest } = codecsOf(AuthleteApis.backchannelAuthenticationComplete)
        const request = new BackchannelAuthenticationCompleteRequest(networkRequestFields(i))
        sameWire("complete", i, Either.getOrThrow(encodeRequest(request)), networkRequestWire(i))
        break
      }
      case "program": {
        const { encodeRequest } = codecsOf(AuthleteApis.backchannelAuthenticationComplete)
        const prepared = Effect.runSync(prepareCompleteRequest(programInput(i)))
        sameWire("program", i, Either.getOrThrow(encodeRequest(prepared)), programRequestWire(i))
        break
      }
      case "authentication": {
        const { encodeRequest } = codecsOf(AuthleteApis.backchannelAuthentication)
        sameWire(
          "authentication",
          i,
          Either.getOrThrow(encodeRequest(authenticationRequestWire(i))),
          authenticationRequestWire(i)
        )
        break
      }
    }
  }
}

const makeEffectClient = async (
  baseUrl: string,
  operation: Operation,
  transport: Layer.Layer<HttpTransport>
): Promise<BenchClient> => {
  checkWire(operation)
  const authlete = AuthleteClient.layer({
    baseUrl,
    serviceId: SERVICE_ID,
    accessToken: Redacted.make(ACCESS_TOKEN)
  })
  switch (operation) {
    case "complete": {
      const runtime = ManagedRuntime.make(authlete.pipe(Layer.provide(transport)))
      await runtime.runPromise(Effect.void)
      return {
        call: (i) => {
          const request = new BackchannelAuthenticationCompleteRequest(networkRequestFields(i))
          return runtime.runPromise(
            Effect.flatMap(AuthleteClient, (client) => client.backchannelAuthenticationComplete(request)).pipe(
              Effect.map((response) => response.action)
            )
          )
        },
        close: () => runtime.dispose()
      }
    }
    case "program": {
      // The README's program: Authlete and the client notifier over one transport. The canned answer
      // is POLL/NO_ACTION, so the notifier is never called (the outcome is checked to be NoAction).
      const runtime = ManagedRuntime.make(
        Layer.mergeAll(authlete, ClientNotifier.layer()).pipe(Layer.provide(transport))
      )
      await runtime.runPromise(Effect.void)
      return {
        call: (i) =>
          runtime.runPromise(completeBackchannelAuthentication(programInput(i))).then((outcome) =>
            outcome._tag === "NoAction" ? outcome.response.action : `${outcome._tag} (not NoAction)`
          ),
        close: () => runtime.dispose()
      }
    }
    case "authentication": {
      const runtime = ManagedRuntime.make(authlete.pipe(Layer.provide(transport)))
      await runtime.runPromise(Effect.void)
      return {
        // A plain object, as the backchannel authentication endpoint passes what it received.
        call: (i) =>
          runtime.runPromise(
            Effect.flatMap(AuthleteClient, (client) => client.backchannelAuthentication(authenticationRequestWire(i)))
              .pipe(Effect.map((response) => response.action))
          ),
        close: () => runtime.dispose()
      }
    }
  }
}

/** Over `UndiciTransport.layer` from `effect-authlete/undici`, the transport the README recommends for Node. */
export const effectUndici = (baseUrl: string, operation: Operation) =>
  makeEffectClient(baseUrl, operation, UndiciTransport.layer)

/** Over `HttpTransport.layer` on `@effect/platform-node`'s `NodeHttpClient.layerUndici`. */
export const effectPlatform = (baseUrl: string, operation: Operation) =>
  makeEffectClient(baseUrl, operation, HttpTransport.layer.pipe(Layer.provide(NodeHttpClient.layerUndici)))

/** Over `HttpTransport.layerFetch` (global `fetch`), the portable one. */
export const effectFetch = (baseUrl: string, operation: Operation) =>
  makeEffectClient(baseUrl, operation, HttpTransport.layerFetch)
