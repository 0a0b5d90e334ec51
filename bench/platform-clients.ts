/**
 * The `@effect/platform` `HttpClient`s the portable transport runs over, used directly, with no
 * effect-authlete at all: what `HttpTransport.layer` (`effect-platform`) and `HttpTransport.layerFetch`
 * (`effect-fetch`) are measured against.
 *
 * - `platform-raw`: the `HttpClient` of `@effect/platform-node`'s `NodeHttpClient.layerUndici`;
 * - `fetch-effect`: the `HttpClient` of `@effect/platform`'s `FetchHttpClient.layer`.
 *
 * Each call is the `/complete` POST the other clients send (the same headers, `REQUEST_HEADERS`, and
 * the same JSON body), `client.execute`, the status checked, `response.json`, its `action`; run by
 * `runtime.runPromise` on the same kind of runtime as the effect-authlete clients
 * (`applicationRuntime`). The client is quiet, as the transport makes it: with Effect's tracer on, an
 * `HttpClient` opens a `http.client POST` span per request and sends `traceparent` and `b3`
 * headers, which the transport turns off; so do these rows, with `HttpClient.withTracerPropagation(false)`
 * and `HttpClient.withTracerDisabledWhen(() => true)`, so that the same headers go on the wire.
 * `BENCH_RAW_TRACING=on` measures the clients as they come instead (spans and trace headers).
 *
 * Loaded only by the children that measure these clients (bench/child.ts imports it on demand).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Effect, Layer } from "effect"
import type { BenchClient } from "./clients.js"
import { COMPLETE_PATH, networkRequestWire, REQUEST_HEADERS } from "./fixtures.js"
import { applicationRuntime } from "./runtime.js"
import type { Operation } from "./spec.js"

/** The client as the transport makes it: no span for its requests, no trace headers on them. */
const quiet = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(
    HttpClient.HttpClient,
    (client) => client.pipe(HttpClient.withTracerPropagation(false), HttpClient.withTracerDisabledWhen(() => true))
  )
)

const makeRawClient = async (
  baseUrl: string,
  operation: Operation,
  layer: Layer.Layer<HttpClient.HttpClient>
): Promise<BenchClient> => {
  if (operation !== "complete") {
    throw new Error(`the raw HttpClient rows run the complete workloads only, not ${operation}`)
  }
  const url = `${baseUrl}${COMPLETE_PATH}`
  const runtime = applicationRuntime(process.env.BENCH_RAW_TRACING === "on" ? layer : quiet.pipe(Layer.provide(layer)))
  await runtime.runPromise(Effect.void)
  return {
    call: (i) =>
      runtime.runPromise(
        Effect.flatMap(HttpClient.HttpClient, (client) =>
          client.execute(
            HttpClientRequest.bodyText(
              HttpClientRequest.post(url, { headers: REQUEST_HEADERS }),
              JSON.stringify(networkRequestWire(i)),
              "application/json"
            )
          )).pipe(
            Effect.flatMap((response) =>
              response.status === 200
                ? response.json
                : Effect.fail(new Error(`unexpected status ${response.status}`))
            ),
            Effect.map((answer) => (answer as { readonly action?: string }).action)
          )
      ),
    close: () => runtime.dispose()
  }
}

/** `NodeHttpClient.layerUndici`'s `HttpClient`, used directly. */
export const platformRaw = (baseUrl: string, operation: Operation) =>
  makeRawClient(baseUrl, operation, NodeHttpClient.layerUndici)

/** `FetchHttpClient.layer`'s `HttpClient` (global `fetch`), used directly. */
export const fetchEffect = (baseUrl: string, operation: Operation) =>
  makeRawClient(baseUrl, operation, FetchHttpClient.layer)
