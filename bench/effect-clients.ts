/**
 * effect-authlete, as an application would run it: one `ManagedRuntime` (`applicationRuntime`) built from
 * `AuthleteClient.layer` (and, for the programs, the services they need: `ClientNotifier.layer()`;
 * for the backchannel endpoint a user directory, the checks, a memory store, a device that reaches
 * nobody and a `Decisions` that does nothing) over an `HttpTransport` layer, and `runtime.runPromise`
 * per call (an authorization server runs one program per incoming request, so the concurrent
 * workloads are 32 such callers, not one `Effect.forEach`).
 *
 * Before anything is timed, each client checks that the library writes, for the workload's input,
 * exactly the JSON text the raw clients and the SDK send (bench/fixtures.ts): the floor does none of
 * the library's work, but it sends the same bytes. The endpoint programs (`token`, `backchannel`)
 * are run for that over a transport that records each request and answers the canned server's
 * bodies: their requests (method, URL, headers, body, in order) and their answer are checked.
 *
 * Loaded only by the children that measure these clients (bench/child.ts imports it on demand).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, Either, Layer, ManagedRuntime, Redacted } from "effect"
import { Pool } from "undici"
import {
  AuthenticationDevice,
  AuthleteApi,
  AuthleteClient,
  BackchannelAuthenticationCompleteRequest,
  BackchannelAuthenticationCompletion,
  BackchannelAuthenticationEndpoint,
  BackchannelChecks,
  BackchannelLimits,
  ClientNotifier,
  Decisions,
  EndpointResponse,
  HttpTransport,
  PendingRequestStore,
  TokenEndpoint,
  UserIdentifier
} from "../src/index.js"
import { codecsOf } from "../src/internal/api.js"
import { UndiciTransport } from "../src/undici/index.js"
import { actionOf, type Answer, type BenchClient, FloorCall, wholeAnswer, wire } from "./clients.js"
import {
  ACCESS_TOKEN,
  AUTHENTICATION_PATH,
  authenticationRequestWire,
  backchannelRequestWire,
  CANNED_AUTHENTICATION_RESPONSE,
  CANNED_TOKEN_RESPONSE,
  EXPECTED_AUTHENTICATION_ACTION,
  EXPECTED_OK_ACTION,
  ISSUE_PATH,
  issuedAuthReqId,
  issueResponseText,
  networkRequestFields,
  networkRequestWire,
  programInput,
  programRequestWire,
  REQUEST_HEADERS,
  SERVICE_ID,
  TOKEN_PATH,
  tokenRequestWire
} from "./fixtures.js"
import { applicationRuntime } from "./runtime.js"
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
        const { encodeRequest } = codecsOf(AuthleteApi.AuthleteApis.backchannelAuthenticationComplete)
        const request = new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest(
          networkRequestFields(i)
        )
        sameWire("complete", i, Either.getOrThrow(encodeRequest(request)), networkRequestWire(i))
        break
      }
      case "program": {
        const { encodeRequest } = codecsOf(AuthleteApi.AuthleteApis.backchannelAuthenticationComplete)
        const prepared = Effect.runSync(BackchannelAuthenticationCompletion.prepareCompleteRequest(programInput(i)))
        sameWire("program", i, Either.getOrThrow(encodeRequest(prepared)), programRequestWire(i))
        break
      }
      case "authentication": {
        const { encodeRequest } = codecsOf(AuthleteApi.AuthleteApis.backchannelAuthentication)
        sameWire(
          "authentication",
          i,
          Either.getOrThrow(encodeRequest(authenticationRequestWire(i))),
          authenticationRequestWire(i)
        )
        break
      }
      case "token":
      case "backchannel":
        // Checked on the program's own requests (checkProgramWire).
        break
    }
  }
}

/**
 * The limits of the `effect-undici-limits` row: every request checked and counted against the
 * per-client and per-user windows in the in-memory store (limits too high to refuse any). The
 * pending requests per user are left out: the benchmark's one user would have thousands waiting,
 * where the limit keeps a real one at a handful.
 */
const benchLimits = BackchannelLimits.layerMemory({
  perClient: { limit: 1e9, window: "1 hour" },
  perUser: { limit: 1e9, window: "1 hour" },
  pendingPerUser: false
})

/** The services the backchannel endpoint program needs besides Authlete (none of them does I/O). */
const backchannelServicesWith = (limits: Layer.Layer<BackchannelLimits.BackchannelLimits>) =>
  Layer.mergeAll(
    UserIdentifier.layerFromRecord({ "user-1": {} }),
    BackchannelChecks.layer(),
    limits,
    // Grows by one request per call (each auth_req_id differs): part of the program's cost. Room for
    // the warm-up and the timed calls of one child.
    PendingRequestStore.layerMemoryWith({ maxRequests: 50_000 }),
    AuthenticationDevice.layerNoop,
    // Where a durable engine would start its workflow: nothing here.
    Layer.succeed(Decisions.Decisions, { awaiting: () => Effect.void, decide: () => Effect.die("unused") })
  )

/** What the program of an endpoint workload does with call `i` (the transport given). */
const endpointProgram = (operation: "token" | "backchannel", i: number) =>
  operation === "token"
    ? TokenEndpoint.handleTokenRequest(tokenRequestWire(i))
    : BackchannelAuthenticationEndpoint.handleBackchannelAuthentication(backchannelRequestWire())

/** `OK` when the endpoint answered 200, as the floor's and the SDK's calls report Authlete's `OK`. */
const endpointAction = (response: EndpointResponse.EndpointResponse): string =>
  response.status === 200 ? EXPECTED_OK_ACTION : `status ${response.status}: ${response.body}`

/**
 * Runs an endpoint program for a few calls over a transport that records every request and answers
 * what the canned server would (its `n`th `/issue` included), and fails unless the program sent
 * exactly what the floor and the SDK send, in order, and answered 200 with the content Authlete gave.
 */
const checkProgramWire = async (
  baseUrl: string,
  operation: "token" | "backchannel",
  limits: Layer.Layer<BackchannelLimits.BackchannelLimits>
): Promise<void> => {
  const sent: Array<HttpTransport.HttpTransportRequest> = []
  let issues = 0
  const answers: Record<string, () => string> = {
    [TOKEN_PATH]: () => JSON.stringify(CANNED_TOKEN_RESPONSE),
    [AUTHENTICATION_PATH]: () => JSON.stringify(CANNED_AUTHENTICATION_RESPONSE),
    [ISSUE_PATH]: () => issueResponseText(issues++)
  }
  const recording = Layer.succeed(HttpTransport.HttpTransport, {
    send: (request) =>
      Effect.sync(() => {
        sent.push(request)
        const answer = answers[request.url.slice(baseUrl.length)]
        return answer === undefined
          ? { status: 404, headers: { "content-type": "application/json" }, body: "{}" }
          : { status: 200, headers: { "content-type": "application/json;charset=UTF-8" }, body: answer() }
      })
  })
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(authleteLayer(baseUrl), backchannelServicesWith(limits)).pipe(Layer.provide(recording))
  )
  try {
    for (const [n, i] of [0, 1, 12_345].entries()) {
      sent.length = 0
      const response = await runtime.runPromise(endpointProgram(operation, i))
      const expected = operation === "token"
        ? [{ path: TOKEN_PATH, body: tokenRequestWire(i) }]
        : [
          { path: AUTHENTICATION_PATH, body: backchannelRequestWire() },
          { path: ISSUE_PATH, body: { ticket: CANNED_AUTHENTICATION_RESPONSE.ticket } }
        ]
      sameWire(
        `${operation} requests`,
        i,
        sent.map((r) => ({ method: r.method, url: r.url, headers: r.headers, body: r.body })),
        expected.map((e) => ({
          method: "POST",
          url: `${baseUrl}${e.path}`,
          headers: REQUEST_HEADERS,
          body: JSON.stringify(e.body)
        }))
      )
      const content = operation === "token"
        ? CANNED_TOKEN_RESPONSE.responseContent
        : JSON.stringify({ auth_req_id: issuedAuthReqId(n), expires_in: 600, interval: 5 })
      sameWire(`${operation} answer`, i, { status: response.status, body: response.body }, {
        status: 200,
        body: content
      })
    }
  } finally {
    await runtime.dispose()
  }
}

const authleteLayer = (baseUrl: string) =>
  AuthleteClient.layer({
    baseUrl,
    serviceId: SERVICE_ID,
    accessToken: Redacted.make(ACCESS_TOKEN)
  })

const makeEffectClient = async (
  baseUrl: string,
  operation: Operation,
  transport: Layer.Layer<HttpTransport.HttpTransport>,
  limits: Layer.Layer<BackchannelLimits.BackchannelLimits> = BackchannelLimits.layerNone
): Promise<BenchClient> => {
  checkWire(operation)
  if (operation === "token" || operation === "backchannel") await checkProgramWire(baseUrl, operation, limits)
  const authlete = authleteLayer(baseUrl)
  switch (operation) {
    case "complete": {
      const runtime = applicationRuntime(authlete.pipe(Layer.provide(transport)))
      await runtime.runPromise(Effect.void)
      return {
        call: (i) => {
          const request = new BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest(
            networkRequestFields(i)
          )
          return runtime.runPromise(
            Effect.flatMap(AuthleteClient.AuthleteClient, (client) => client.backchannelAuthenticationComplete(request))
              .pipe(
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
      const runtime = applicationRuntime(
        Layer.mergeAll(authlete, ClientNotifier.layer()).pipe(Layer.provide(transport))
      )
      await runtime.runPromise(Effect.void)
      return {
        call: (i) =>
          runtime.runPromise(BackchannelAuthenticationCompletion.completeBackchannelAuthentication(programInput(i)))
            .then((outcome) =>
              outcome._tag === "NoAction" ? outcome.response.action : `${outcome._tag} (not NoAction)`
            ),
        close: () => runtime.dispose()
      }
    }
    case "authentication": {
      const runtime = applicationRuntime(authlete.pipe(Layer.provide(transport)))
      await runtime.runPromise(Effect.void)
      return {
        // A plain object, as the backchannel authentication endpoint passes what it received.
        call: (i) =>
          runtime.runPromise(
            Effect.flatMap(AuthleteClient.AuthleteClient, (client) =>
              client.backchannelAuthentication(authenticationRequestWire(i)))
              .pipe(Effect.map((response) =>
                response.action
              ))
          ),
        close: () => runtime.dispose()
      }
    }
    case "token": {
      // The token endpoint's program: only Authlete. A fresh input object per call.
      const runtime = applicationRuntime(authlete.pipe(Layer.provide(transport)))
      await runtime.runPromise(Effect.void)
      return {
        call: (i) => runtime.runPromise(TokenEndpoint.handleTokenRequest(tokenRequestWire(i))).then(endpointAction),
        close: () => runtime.dispose()
      }
    }
    case "backchannel": {
      // The backchannel authentication endpoint's program: Authlete over the transport, and the rest.
      const runtime = applicationRuntime(
        Layer.mergeAll(authlete, backchannelServicesWith(limits)).pipe(Layer.provide(transport))
      )
      await runtime.runPromise(Effect.void)
      return {
        call: () =>
          runtime.runPromise(
            BackchannelAuthenticationEndpoint.handleBackchannelAuthentication(backchannelRequestWire())
          ).then(endpointAction),
        close: () => runtime.dispose()
      }
    }
  }
}

/** Over `UndiciTransport.layer` from `effect-authlete/undici`, the transport the README recommends for Node. */
export const effectUndici = (baseUrl: string, operation: Operation) =>
  makeEffectClient(baseUrl, operation, UndiciTransport.layer)

/** `effectUndici`'s backchannel endpoint program with the abuse limits counting every request (`benchLimits`). */
export const effectUndiciLimits = (baseUrl: string, operation: Operation) => {
  if (operation !== "backchannel") {
    throw new Error(`effect-undici-limits runs the backchannel workload only, not ${operation}`)
  }
  return makeEffectClient(baseUrl, operation, UndiciTransport.layer, benchLimits)
}

/** Over `HttpTransport.layer` on `@effect/platform-node`'s `NodeHttpClient.layerUndici`. */
export const effectPlatform = (baseUrl: string, operation: Operation) =>
  makeEffectClient(baseUrl, operation, HttpTransport.layer.pipe(Layer.provide(NodeHttpClient.layerUndici)))

/** Over `HttpTransport.layerFetch` (global `fetch`), the portable one. */
export const effectFetch = (baseUrl: string, operation: Operation) =>
  makeEffectClient(baseUrl, operation, HttpTransport.layerFetch)

/**
 * The floor run as an Effect application runs a call: `dispatchFloor`'s requests and handlers, each
 * inside `Effect.async`, by `runtime.runPromise` on the same runtime as the clients above (for
 * `backchannel`, its two requests in sequence, as the endpoint program makes them). No library: what
 * any Effect client making the same Authlete calls costs at least, so that its distance to
 * `effect-undici` is the library's own.
 */
export const effectFloor = async (baseUrl: string, operation: Operation): Promise<BenchClient> => {
  const pool = new Pool(baseUrl, { keepAliveTimeout: 60_000 })
  const runtime = applicationRuntime(Layer.empty)
  await runtime.runPromise(Effect.void)
  const dispatched = <A>(path: string, body: string, read: (answer: Answer) => A) =>
    Effect.async<A, Error>((resume) => {
      pool.dispatch(
        { method: "POST", path, headers: REQUEST_HEADERS, body },
        new FloorCall(
          (value: A) => resume(Effect.succeed(value)),
          (error: Error) => resume(Effect.fail(error)),
          read
        )
      )
    })
  const close = async () => {
    await runtime.dispose()
    await pool.close()
  }
  if (operation === "backchannel") {
    const call = Effect.flatMap(
      Effect.suspend(() => dispatched(AUTHENTICATION_PATH, JSON.stringify(backchannelRequestWire()), wholeAnswer)),
      (first) =>
        first.action !== EXPECTED_AUTHENTICATION_ACTION || first.ticket === undefined
          ? Effect.succeed(`/backchannel/authentication answered ${String(first.action)}`)
          : dispatched(ISSUE_PATH, JSON.stringify({ ticket: first.ticket }), actionOf)
    )
    return { call: () => runtime.runPromise(call), close }
  }
  const { body, path } = wire(operation)
  return {
    call: (i) => runtime.runPromise(Effect.suspend(() => dispatched(path, body(i), actionOf))),
    close
  }
}
