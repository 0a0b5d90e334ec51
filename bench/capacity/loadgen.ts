/**
 * The load generator of `bench/capacity/run.ts`, in a process of its own (forked, driven over IPC):
 * the clients' notification endpoint (`/ping`, `/push` on 127.0.0.1), and CIBA flows started open-loop
 * at a given rate, POLL, PING and PUSH in turn, each to the system's nodes in turn (round-robin per
 * request). A flow: `/backchannel` → `POST /ciba/approve/{auth_req_id}/allow` at once → POLL: token
 * requests every `pollMillis` until tokens; PING: the ping, then one token request; PUSH: the push
 * with the tokens. Every request is timed; a flow's delivery is the moment the client holds its
 * tokens (the token endpoint's 200, or the push received).
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { Pool } from "undici"

export type Mode = "POLL" | "PING" | "PUSH"
export const MODES: ReadonlyArray<Mode> = ["POLL", "PING", "PUSH"]

export interface Target {
  /** The nodes' origins (`http://127.0.0.1:PORT`). */
  readonly nodes: ReadonlyArray<string>
  readonly clients: Readonly<Record<Mode, { readonly clientId: string; readonly clientSecret: string }>>
  readonly loginHints: ReadonlyArray<string>
}

export interface StepOptions {
  /** Flows started a second. */
  readonly rate: number
  /** Seconds flows are started for. */
  readonly seconds: number
  /** Seconds at the start of the step left out of the throughput window (the step's ramp). */
  readonly settleSeconds: number
  /** Seconds, after the last start, that the step's flows may take to finish. */
  readonly drainSeconds: number
  readonly pollMillis: number
  /** A flow not done by then is an error (`timeout`). */
  readonly flowTimeoutMillis: number
  /** Flows in flight at most; a start past it is shed (an error). */
  readonly maxInFlight: number
}

/** What a step measured; latencies in milliseconds. */
export interface StepResult {
  readonly rate: number
  readonly seconds: number
  readonly started: number
  readonly completed: number
  /** Flows of the step that had not finished when the drain ended. */
  readonly unfinished: number
  /** Flows that completed (any step's) within the window, per second of it. */
  readonly throughput: number
  readonly errors: number
  readonly errorSamples: ReadonlyArray<string>
  readonly backchannel: ReadonlyArray<number>
  readonly approval: ReadonlyArray<number>
  readonly token: ReadonlyArray<number>
  /** From the approval's request to the client holding its tokens. */
  readonly decisionToDelivery: ReadonlyArray<number>
  /** From the approval's answer to the client holding its tokens (negative: delivered before the answer). */
  readonly answerToDelivery: ReadonlyArray<number>
  /** From the backchannel request to the client holding its tokens. */
  readonly flow: ReadonlyArray<number>
  readonly byMode: Readonly<Record<Mode, ReadonlyArray<number>>>
  /** Token requests per POLL flow that completed, on average. */
  readonly pollsPerFlow: number
}

export type ToChild =
  | { readonly type: "target"; readonly target: Target }
  | { readonly type: "step"; readonly options: StepOptions }
  /** Answers `quiet` once no flow is in flight, or after `seconds`. */
  | { readonly type: "quiesce"; readonly seconds: number }
  | { readonly type: "stop" }

export type FromChild =
  | { readonly type: "ready"; readonly receiverUrl: string }
  | { readonly type: "step-result"; readonly result: StepResult }
  | { readonly type: "quiet"; readonly inFlight: number }

// ------------------------------------------------------------------------------------- the receiver

/** Notifications by auth_req_id: when each arrived and its body, or who waits for it. */
const arrived = new Map<string, { readonly at: number; readonly body: Record<string, unknown> }>()
const waiting = new Map<string, (value: { readonly at: number; readonly body: Record<string, unknown> }) => void>()

const receiver = Http.createServer((request, response) => {
  const chunks: Array<Buffer> = []
  request.on("data", (chunk: Buffer) => chunks.push(chunk))
  request.on("end", () => {
    const at = performance.now()
    let body: Record<string, unknown> = {}
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>
    } catch {
      // counted as an unknown notification below
    }
    response.writeHead(204).end()
    const authReqId = String(body.auth_req_id ?? "")
    const waiter = waiting.get(authReqId)
    if (waiter === undefined) arrived.set(authReqId, { at, body })
    else {
      waiting.delete(authReqId)
      waiter({ at, body })
    }
  })
})
receiver.keepAliveTimeout = 60_000

const notification = (authReqId: string, timeoutMillis: number) =>
  new Promise<{ readonly at: number; readonly body: Record<string, unknown> }>((resolve, reject) => {
    const early = arrived.get(authReqId)
    if (early !== undefined) {
      arrived.delete(authReqId)
      return resolve(early)
    }
    const timer = setTimeout(() => {
      waiting.delete(authReqId)
      reject(new Error("timeout: no notification"))
    }, timeoutMillis)
    waiting.set(authReqId, (value) => {
      clearTimeout(timer)
      resolve(value)
    })
  })

// --------------------------------------------------------------------------------------- the client

let target: Target | undefined
let pools: Array<Pool> = []
let authorization: Record<Mode, string> = { POLL: "", PING: "", PUSH: "" }
let nextNode = 0

const post = async (
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMillis: number
): Promise<{ readonly status: number; readonly json: Record<string, unknown>; readonly millis: number }> => {
  const pool = pools[nextNode++ % pools.length]!
  const began = performance.now()
  const response = await pool.request({
    method: "POST",
    path,
    headers,
    ...(body === undefined ? {} : { body }),
    headersTimeout: timeoutMillis,
    bodyTimeout: timeoutMillis
  })
  const text = await response.body.text()
  const millis = performance.now() - began
  let json: Record<string, unknown> = {}
  try {
    json = text === "" ? {} : JSON.parse(text) as Record<string, unknown>
  } catch {
    json = { unreadable: text.slice(0, 80) }
  }
  return { status: response.statusCode, json, millis }
}

const form = (mode: Mode) => ({
  authorization: authorization[mode],
  "content-type": "application/x-www-form-urlencoded"
})

const CIBA = "urn:openid:params:grant-type:ciba"
const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

interface FlowRecord {
  readonly mode: Mode
  readonly startedAt: number
  backchannel?: number
  approval?: number
  readonly token: Array<number>
  decidedAt?: number
  answeredAt?: number
  deliveredAt?: number
  error?: string
  done: boolean
}

let flowCounter = 0

const runFlow = async (flow: FlowRecord, options: StepOptions, id: number): Promise<void> => {
  const deadline = flow.startedAt + options.flowTimeoutMillis
  const left = () => Math.max(1, deadline - performance.now())
  const { mode } = flow
  const parameters = new URLSearchParams({
    scope: "openid profile email",
    login_hint: target!.loginHints[id % target!.loginHints.length]!,
    binding_message: `F${id % 100_000}`
  })
  if (mode !== "POLL") parameters.set("client_notification_token", `nt-${id}-0123456789abcdefghijklmnop`)
  const started = await post("/backchannel", form(mode), parameters.toString(), left())
  flow.backchannel = started.millis
  if (started.status !== 200) throw new Error(`backchannel ${started.status} ${JSON.stringify(started.json)}`)
  const authReqId = String(started.json.auth_req_id)
  // PING and PUSH: listen before deciding (the in-memory server notifies before it answers).
  const notified = mode === "POLL" ? undefined : notification(authReqId, left())
  notified?.catch(() => undefined)
  flow.decidedAt = performance.now()
  const decided = await post(`/ciba/approve/${encodeURIComponent(authReqId)}/allow`, {}, undefined, left())
  flow.answeredAt = performance.now()
  flow.approval = decided.millis
  if (decided.status !== 200) throw new Error(`approval ${decided.status} ${JSON.stringify(decided.json)}`)
  const redeem = async (): Promise<void> => {
    for (;;) {
      const answer = await post(
        "/token",
        form(mode),
        new URLSearchParams({ grant_type: CIBA, auth_req_id: authReqId }).toString(),
        left()
      )
      flow.token.push(answer.millis)
      if (answer.status === 200 && typeof answer.json.access_token === "string") {
        flow.deliveredAt = performance.now()
        return
      }
      const error = answer.json.error
      if (mode !== "POLL" || (error !== "authorization_pending" && error !== "slow_down")) {
        throw new Error(`token ${answer.status} ${JSON.stringify(answer.json)}`)
      }
      if (performance.now() + options.pollMillis > deadline) throw new Error("timeout: still pending")
      await sleep(options.pollMillis)
    }
  }
  if (mode === "POLL") return redeem()
  const { at, body } = await notified!
  if (mode === "PING") return redeem()
  if (typeof body.access_token !== "string") throw new Error(`push without tokens ${JSON.stringify(body)}`)
  flow.deliveredAt = at
}

// ---------------------------------------------------------------------------------------- the steps

/** Every flow ever started, for the throughput window (completions of earlier steps count too). */
let inFlight = 0
const completions: Array<number> = []

const step = async (options: StepOptions): Promise<StepResult> => {
  const flows: Array<FlowRecord> = []
  const errorSamples: Array<string> = []
  let errors = 0
  const began = performance.now()
  const interval = 1000 / options.rate
  const count = Math.round(options.rate * options.seconds)
  const windowStart = began + options.settleSeconds * 1000
  const windowEnd = began + options.seconds * 1000
  const running: Array<Promise<void>> = []
  const fail = (flow: FlowRecord | undefined, message: string) => {
    errors++
    if (flow !== undefined) flow.error = message
    if (errorSamples.length < 5) errorSamples.push(message.slice(0, 300))
  }
  for (let i = 0; i < count; i++) {
    const due = began + i * interval
    const wait = due - performance.now()
    if (wait > 1) await sleep(wait)
    if (inFlight >= options.maxInFlight) {
      fail(undefined, `shed: ${inFlight} flows in flight`)
      continue
    }
    const id = flowCounter++
    const flow: FlowRecord = { mode: MODES[id % 3]!, startedAt: performance.now(), token: [], done: false }
    flows.push(flow)
    inFlight++
    running.push(
      runFlow(flow, options, id).then(
        () => void completions.push(flow.deliveredAt!),
        (error: unknown) => fail(flow, error instanceof Error ? error.message : String(error))
      ).finally(() => {
        flow.done = true
        inFlight--
      })
    )
  }
  // Wait for the step's flows, at most the drain.
  const drained = Promise.all(running)
  const remaining = windowEnd + options.drainSeconds * 1000 - performance.now()
  await Promise.race([drained, sleep(Math.max(0, remaining))])
  const windowSeconds = (windowEnd - windowStart) / 1000
  const inWindow = completions.filter((at) => at >= windowStart && at <= windowEnd).length
  // Keep only what a later window can still count.
  completions.splice(0, completions.length, ...completions.filter((at) => at > windowEnd))
  const ok = flows.filter((flow) => flow.done && flow.error === undefined && flow.deliveredAt !== undefined)
  const byMode = { POLL: [], PING: [], PUSH: [] } as Record<Mode, Array<number>>
  for (const flow of ok) byMode[flow.mode].push(flow.deliveredAt! - flow.decidedAt!)
  const polls = ok.filter((flow) => flow.mode === "POLL")
  return {
    rate: options.rate,
    seconds: options.seconds,
    started: flows.length,
    completed: ok.length,
    unfinished: flows.filter((flow) => !flow.done).length,
    throughput: inWindow / windowSeconds,
    errors,
    errorSamples,
    backchannel: flows.flatMap((flow) => flow.backchannel === undefined ? [] : [flow.backchannel]),
    approval: flows.flatMap((flow) => flow.approval === undefined ? [] : [flow.approval]),
    token: flows.flatMap((flow) => flow.token),
    decisionToDelivery: ok.map((flow) => flow.deliveredAt! - flow.decidedAt!),
    answerToDelivery: ok.map((flow) => flow.deliveredAt! - flow.answeredAt!),
    flow: ok.map((flow) => flow.deliveredAt! - flow.startedAt),
    byMode,
    pollsPerFlow: polls.length === 0 ? 0 : polls.reduce((sum, flow) => sum + flow.token.length, 0) / polls.length
  }
}

const send = (message: FromChild) => process.send!(message)

process.on("message", (message: ToChild) => {
  if (message.type === "target") {
    target = message.target
    for (const pool of pools) void pool.close()
    pools = target.nodes.map((origin) =>
      new Pool(origin, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 })
    )
    authorization = Object.fromEntries(
      MODES.map((mode) => {
        const { clientId, clientSecret } = target!.clients[mode]
        return [mode, `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`]
      })
    ) as Record<Mode, string>
  } else if (message.type === "step") {
    void step(message.options).then((result) => send({ type: "step-result", result }))
  } else if (message.type === "quiesce") {
    const until = performance.now() + message.seconds * 1000
    const check = () =>
      inFlight === 0 || performance.now() > until ? send({ type: "quiet", inFlight }) : setTimeout(check, 100)
    check()
  } else {
    process.exit(0)
  }
})
// The parent went: so does the load.
process.on("disconnect", () => process.exit(0))

receiver.listen(0, "127.0.0.1", () => {
  const { port } = receiver.address() as AddressInfo
  send({ type: "ready", receiverUrl: `http://127.0.0.1:${port}` })
})
