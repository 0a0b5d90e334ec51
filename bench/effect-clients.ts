/**
 * effect-authlete's `AuthleteClient`, as an application would run it: one `ManagedRuntime` built
 * from `AuthleteClient.layer` over an `HttpTransport` layer, and `runtime.runPromise` per completion
 * (an authorization server runs one program per incoming request, so the concurrent workload is 32
 * such callers, not one `Effect.forEach`).
 *
 * Loaded only by the children that measure these clients (bench/child.ts imports it on demand).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { AuthleteClient, BackchannelAuthenticationCompleteRequest, HttpTransport } from "../src/index.js"
import { UndiciTransport } from "../src/undici/index.js"
import type { BenchClient } from "./clients.js"
import { ACCESS_TOKEN, networkRequestFields, SERVICE_ID } from "./fixtures.js"

const makeEffectClient = async (
  baseUrl: string,
  transport: Layer.Layer<HttpTransport>
): Promise<BenchClient> => {
  const layer = AuthleteClient.layer({ baseUrl, serviceId: SERVICE_ID, accessToken: Redacted.make(ACCESS_TOKEN) })
    .pipe(Layer.provide(transport))
  const runtime = ManagedRuntime.make(layer)
  await runtime.runPromise(Effect.void)
  return {
    complete: (i) => {
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

/** Over `UndiciTransport.layer` from `effect-authlete/undici`, the transport the README recommends for Node. */
export const effectUndici = (baseUrl: string) => makeEffectClient(baseUrl, UndiciTransport.layer)

/** Over `HttpTransport.layer` on `@effect/platform-node`'s `NodeHttpClient.layerUndici`. */
export const effectPlatform = (baseUrl: string) =>
  makeEffectClient(baseUrl, HttpTransport.layer.pipe(Layer.provide(NodeHttpClient.layerUndici)))

/** Over `HttpTransport.layerFetch` (global `fetch`), the portable one. */
export const effectFetch = (baseUrl: string) => makeEffectClient(baseUrl, HttpTransport.layerFetch)
