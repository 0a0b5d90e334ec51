/**
 * The clients that do not depend on effect-authlete: the floor (undici's `Pool.dispatch` with one
 * handler object per request), `undici`'s `Pool.request` and global `fetch` raw, and Authlete's own
 * `@authlete/typescript-sdk`. Each one sends, per operation, the wire JSON `AuthleteClient` sends,
 * with the same headers, and resolves with the response's `action` (for `backchannel`, the two calls
 * the program makes: `/backchannel/authentication`, then `/issue` with its ticket; the `/issue` answer's
 * action). `undici` and `fetch` do not run `backchannel` (no workload asks them to).
 */
import { Authlete } from "@authlete/typescript-sdk"
import { type Dispatcher, Pool } from "undici"
import {
  ACCESS_TOKEN,
  AUTHENTICATION_PATH,
  authenticationRequestWire,
  backchannelRequestWire,
  COMPLETE_PATH,
  EXPECTED_AUTHENTICATION_ACTION,
  ISSUE_PATH,
  networkRequestWire,
  programRequestWire,
  REQUEST_HEADERS,
  SERVICE_ID,
  TOKEN_PATH,
  tokenRequestWire
} from "./fixtures.js"
import type { Operation } from "./spec.js"

/** One client, built once per child process. */
export interface BenchClient {
  /** The `i`th call of the workload's operation; resolves with the response's `action`. */
  readonly call: (i: number) => Promise<string | undefined>
  readonly close: () => Promise<void>
}

export type ClientFactory = (baseUrl: string, operation: Operation) => Promise<BenchClient>

/**
 * Where a one-request operation goes, and its JSON body for call `i` (built and serialised per call).
 * `backchannel` makes two requests: its clients say what they do.
 */
export const wire = (operation: Operation): { readonly path: string; readonly body: (i: number) => string } => {
  switch (operation) {
    case "complete":
      return { path: COMPLETE_PATH, body: (i) => JSON.stringify(networkRequestWire(i)) }
    case "program":
      return { path: COMPLETE_PATH, body: (i) => JSON.stringify(programRequestWire(i)) }
    case "authentication":
      return { path: AUTHENTICATION_PATH, body: (i) => JSON.stringify(authenticationRequestWire(i)) }
    case "token":
      return { path: TOKEN_PATH, body: (i) => JSON.stringify(tokenRequestWire(i)) }
    case "backchannel":
      throw new Error("backchannel makes two requests: this client does not run it")
  }
}

const unexpectedStatus = (status: number): Error => new Error(`unexpected status ${status}`)

type Action = string | undefined

/** What the floor reads of an answer. */
export interface Answer {
  readonly action?: string
  readonly ticket?: string
}

export const actionOf = (answer: Answer): Action => answer.action
export const wholeAnswer = (answer: Answer): Answer => answer

/**
 * The floor's one object per request: undici's handler API (the one `UndiciTransport` uses),
 * collecting the body and parsing it at the end. Nothing else: no timer, no cap, no headers kept.
 * It resolves with what `read` takes of the parsed answer (its `action`, or all of it).
 */
export class FloorCall<A> implements Dispatcher.DispatchHandler {
  private status = 0
  private readonly chunks: Array<Buffer> = []

  constructor(
    private readonly resolve: (value: A) => void,
    private readonly reject: (error: Error) => void,
    private readonly read: (answer: Answer) => A
  ) {}

  onRequestStart() {}

  onResponseStart(_: Dispatcher.DispatchController, statusCode: number) {
    this.status = statusCode
  }

  onResponseData(_: Dispatcher.DispatchController, chunk: Buffer) {
    this.chunks.push(chunk)
  }

  onResponseEnd() {
    if (this.status !== 200) return this.reject(unexpectedStatus(this.status))
    const { chunks } = this
    const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8")
    try {
      this.resolve(this.read(JSON.parse(text) as Answer))
    } catch (error) {
      this.reject(error as Error)
    }
  }

  onResponseError(_: Dispatcher.DispatchController, error: Error) {
    this.reject(error)
  }
}

/**
 * The floor: a keep-alive undici `Pool` (unlimited connections) and `dispatch(options, handler)`
 * with one `FloorCall` per request, `JSON.stringify` before and `JSON.parse` after.
 */
export const dispatchFloor: ClientFactory = async (baseUrl, operation) => {
  const pool = new Pool(baseUrl, { keepAliveTimeout: 60_000 })
  if (operation === "backchannel") {
    // The backchannel endpoint's two calls: /backchannel/authentication, then /issue with its ticket.
    return {
      call: async () => {
        const body = JSON.stringify(backchannelRequestWire())
        const first = await new Promise<Answer>((resolve, reject) => {
          pool.dispatch(
            { method: "POST", path: AUTHENTICATION_PATH, headers: REQUEST_HEADERS, body },
            new FloorCall(resolve, reject, wholeAnswer)
          )
        })
        if (first.action !== EXPECTED_AUTHENTICATION_ACTION || first.ticket === undefined) {
          return `/backchannel/authentication answered ${String(first.action)}`
        }
        const issue = JSON.stringify({ ticket: first.ticket })
        return new Promise<Action>((resolve, reject) => {
          pool.dispatch(
            { method: "POST", path: ISSUE_PATH, headers: REQUEST_HEADERS, body: issue },
            new FloorCall(resolve, reject, actionOf)
          )
        })
      },
      close: () => pool.close()
    }
  }
  const { body, path } = wire(operation)
  return {
    call: (i) =>
      new Promise<Action>((resolve, reject) => {
        pool.dispatch(
          { method: "POST", path, headers: REQUEST_HEADERS, body: body(i) },
          new FloorCall(resolve, reject, actionOf)
        )
      }),
    close: () => pool.close()
  }
}

/** For reference: a keep-alive undici `Pool` (unlimited connections), `Pool.request` and JSON. */
export const undiciRequest: ClientFactory = async (baseUrl, operation) => {
  const pool = new Pool(baseUrl, { keepAliveTimeout: 60_000 })
  const { body: bodyOf, path } = wire(operation)
  return {
    call: async (i) => {
      const { body, statusCode } = await pool.request({
        method: "POST",
        path,
        headers: REQUEST_HEADERS,
        body: bodyOf(i)
      })
      const text = await body.text()
      if (statusCode !== 200) throw unexpectedStatus(statusCode)
      return (JSON.parse(text) as { action?: string }).action
    },
    close: () => pool.close()
  }
}

/** Node's global `fetch` with `JSON.stringify` and `JSON.parse`, for reference. */
export const fetchRaw: ClientFactory = async (baseUrl, operation) => {
  const { body: bodyOf, path } = wire(operation)
  const url = `${baseUrl}${path}`
  return {
    call: async (i) => {
      const response = await fetch(url, {
        method: "POST",
        headers: REQUEST_HEADERS,
        body: bodyOf(i)
      })
      const text = await response.text()
      if (response.status !== 200) throw unexpectedStatus(response.status)
      return (JSON.parse(text) as { action?: string }).action
    },
    close: async () => {}
  }
}

/**
 * Authlete's SDK: `new Authlete({ serverURL, bearer })`, then `ciba.complete({ serviceId,
 * backchannelAuthenticationCompleteRequest })`, `ciba.processAuthentication({ serviceId,
 * backchannelAuthenticationRequest })` (for `backchannel` followed by `ciba.issue({ serviceId,
 * backchannelAuthenticationIssueRequest: { ticket } })`) or `token.process({ serviceId, tokenRequest })`,
 * each of which validates the input with zod, sends it with global `fetch` (no retries, no timeout by
 * default) and decodes the answer with zod.
 */
export const authleteSdk: ClientFactory = async (baseUrl, operation) => {
  const authlete = new Authlete({ serverURL: baseUrl, bearer: ACCESS_TOKEN })
  const complete = (request: ReturnType<typeof networkRequestWire> | ReturnType<typeof programRequestWire>) =>
    authlete.ciba.complete({ serviceId: SERVICE_ID, backchannelAuthenticationCompleteRequest: request }).then((
      response
    ) => response.action)
  switch (operation) {
    case "complete":
      return { call: (i) => complete(networkRequestWire(i)), close: async () => {} }
    case "program":
      return { call: (i) => complete(programRequestWire(i)), close: async () => {} }
    case "authentication":
      return {
        call: (i) =>
          authlete.ciba.processAuthentication({
            serviceId: SERVICE_ID,
            backchannelAuthenticationRequest: authenticationRequestWire(i)
          }).then((response) => response.action),
        close: async () => {}
      }
    case "token":
      return {
        call: (i) =>
          authlete.token.process({ serviceId: SERVICE_ID, tokenRequest: tokenRequestWire(i) }).then((response) =>
            response.action
          ),
        close: async () => {}
      }
    case "backchannel":
      return {
        call: async () => {
          const first = await authlete.ciba.processAuthentication({
            serviceId: SERVICE_ID,
            backchannelAuthenticationRequest: backchannelRequestWire()
          })
          if (first.action !== EXPECTED_AUTHENTICATION_ACTION || first.ticket === undefined) {
            return `/backchannel/authentication answered ${String(first.action)}`
          }
          const issued = await authlete.ciba.issue({
            serviceId: SERVICE_ID,
            backchannelAuthenticationIssueRequest: { ticket: first.ticket }
          })
          return issued.action
        },
        close: async () => {}
      }
  }
}
