/**
 * One measurement: one client, one workload, one round, in a fresh process. Started by
 * bench/run.ts with the spec as JSON in argv[2]; answers one `ChildMessage` over IPC and exits.
 * Exits too when the parent goes away.
 */
import * as Os from "node:os"
import type { BenchClient, ClientFactory } from "./clients.js"
import { EXPECTED_ACTION, EXPECTED_AUTHENTICATION_ACTION, EXPECTED_OK_ACTION } from "./fixtures.js"
import type { ChildMessage, ChildResult, ChildSpec, MemorySample, Operation, ServerStats } from "./spec.js"
import { WORKLOADS } from "./spec.js"

const spec = JSON.parse(process.argv[2] ?? "{}") as ChildSpec
const startedAt = Date.now()

process.on("disconnect", () => process.exit(2))

const send = (message: ChildMessage): Promise<void> =>
  new Promise((resolve) => {
    if (process.send) process.send(message, () => resolve())
    else {
      console.log(JSON.stringify(message, null, 2))
      resolve()
    }
  })

const checkDeadline = () => {
  if (Date.now() - startedAt > spec.deadlineMs) {
    throw new Error(`gave up after ${Math.round((Date.now() - startedAt) / 1000)} s`)
  }
}

const gc = (globalThis as { gc?: () => void }).gc

const cpuMicros = () => {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

const peakRssBytes = () => process.resourceUsage().maxRSS * 1024

// ---------------------------------------------------------------------------------------------
// network workloads

const loadClient = async (): Promise<ClientFactory> => {
  switch (spec.client) {
    case "effect-undici":
      return (await import("./effect-clients.js")).effectUndici
    case "effect-undici-limits":
      return (await import("./effect-clients.js")).effectUndiciLimits
    case "effect-platform":
      return (await import("./effect-clients.js")).effectPlatform
    case "effect-fetch":
      return (await import("./effect-clients.js")).effectFetch
    case "platform-raw":
      return (await import("./platform-clients.js")).platformRaw
    case "fetch-effect":
      return (await import("./platform-clients.js")).fetchEffect
    case "sdk":
      return (await import("./clients.js")).authleteSdk
    case "dispatch":
      return (await import("./clients.js")).dispatchFloor
    case "effect-floor":
      return (await import("./effect-clients.js")).effectFloor
    case "undici":
      return (await import("./clients.js")).undiciRequest
    case "fetch":
      return (await import("./clients.js")).fetchRaw
    default:
      throw new Error(`${spec.client} is not a network client`)
  }
}

/** Asked with `node:http` and a fresh connection, so it does not touch the client under test. */
const serverStats = async (): Promise<ServerStats> => {
  const Http = await import("node:http")
  return new Promise((resolve, reject) => {
    const req = Http.get(`${spec.baseUrl}/__stats`, { agent: false }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (text += chunk))
      res.on("end", () => resolve(JSON.parse(text) as ServerStats))
      res.on("error", reject)
    })
    req.setTimeout(10_000, () => req.destroy(new Error("the server did not answer /__stats")))
    req.on("error", reject)
  })
}

/** What each call does, from the workload's name. */
const operationOf = (): Operation => {
  const operation = WORKLOADS.find((w) => w.name === spec.workload)?.operation
  if (operation === undefined) throw new Error(`${spec.workload} is not a network workload`)
  return operation
}

type PathCounter = "completions" | "authentications" | "issues" | "tokens"

/**
 * What every call of an operation must end with (the canned server's `action`, or what the program's
 * answer stands for), and the requests it makes: how many reach each path's counter per call.
 */
const expectations: Record<
  Operation,
  { readonly action: string; readonly perCall: Partial<Record<PathCounter, number>> }
> = {
  complete: { action: EXPECTED_ACTION, perCall: { completions: 1 } },
  program: { action: EXPECTED_ACTION, perCall: { completions: 1 } },
  authentication: { action: EXPECTED_AUTHENTICATION_ACTION, perCall: { authentications: 1 } },
  token: { action: EXPECTED_OK_ACTION, perCall: { tokens: 1 } },
  backchannel: { action: EXPECTED_OK_ACTION, perCall: { authentications: 1, issues: 1 } }
}

const PATH_COUNTERS: ReadonlyArray<PathCounter> = ["completions", "authentications", "issues", "tokens"]

/** Why the server's counts between `before` and `after` are not `calls` calls of the operation, if they are not. */
const wrongRequests = (operation: Operation, calls: number, before: ServerStats, after: ServerStats) => {
  const { perCall } = expectations[operation]
  const served = after.requests - before.requests
  const wanted = calls * Object.values(perCall).reduce((n, k) => n + k, 0)
  const wrong = PATH_COUNTERS.flatMap((counter) => {
    const seen = after[counter] - before[counter]
    const want = calls * (perCall[counter] ?? 0)
    return seen === want ? [] : [`${seen} at the ${counter} path (not ${want})`]
  })
  return served === wanted && wrong.length === 0
    ? undefined
    : `for ${calls} ${operation} calls the server saw ${served} requests (not ${wanted})` +
      (wrong.length > 0 ? `, ${wrong.join(", ")}` : "")
}

/**
 * Runs calls `[from, from + count)` with `concurrency` callers, each awaiting one call at a time
 * and checking its `action`; `onProgress` runs after every completed call with the number so far.
 */
const drive = async (
  client: BenchClient,
  expected: string,
  from: number,
  count: number,
  concurrency: number,
  onProgress?: (done: number) => void
): Promise<void> => {
  let next = 0
  let done = 0
  const caller = async () => {
    while (next < count) {
      const i = next++
      if ((i & 1023) === 0) checkDeadline()
      const action = await client.call(from + i)
      if (action !== expected) throw new Error(`call ${from + i} answered action ${String(action)}`)
      done++
      if (onProgress) onProgress(done)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, caller))
}

const sampleMemory = (calls: number): MemorySample => {
  const rss = process.memoryUsage.rss()
  if (gc) gc()
  return { calls, rss, rssAfterGc: process.memoryUsage.rss(), heapUsedAfterGc: process.memoryUsage().heapUsed }
}

const runNetwork = async (): Promise<ChildResult> => {
  const factory = await loadClient()
  const operation = operationOf()
  const expected = expectations[operation]
  const client = await factory(spec.baseUrl, operation)
  try {
    if (spec.warmup > 0) await drive(client, expected.action, 0, spec.warmup, spec.concurrency)
    const memory: Array<MemorySample> = []
    // Every 10,000 of 100,000 (a tenth of a scaled count).
    const sampleEvery = Math.max(1, Math.floor(spec.calls / 10))
    const onProgress = spec.workload === "memory"
      ? (done: number) => {
        if (done % sampleEvery === 0) memory.push(sampleMemory(done))
      }
      : undefined
    const before = await serverStats()
    const cpu0 = cpuMicros()
    const t0 = process.hrtime.bigint()
    await drive(client, expected.action, spec.warmup, spec.calls, spec.concurrency, onProgress)
    const wallMicros = Number(process.hrtime.bigint() - t0) / 1000
    const cpu = cpuMicros() - cpu0
    const after = await serverStats()
    // Every timed call reached the server, at the operation's paths, and nothing else did.
    const wrong = wrongRequests(operation, spec.calls, before, after)
    if (wrong !== undefined) throw new Error(wrong)
    return {
      client: spec.client,
      workload: spec.workload,
      calls: spec.calls,
      wallMicros,
      perCallMicros: wallMicros / spec.calls,
      perSecond: spec.calls / (wallMicros / 1e6),
      cpuPerCallMicros: cpu / spec.calls,
      serverCpuPerCallMicros: (after.cpuMicros - before.cpuMicros) / spec.calls,
      requestBytesPerCall: (after.bytesRead - before.bytesRead) / spec.calls,
      peakRssBytes: peakRssBytes(),
      loadAverage: Os.loadavg()[0]!,
      ...(memory.length > 0 ? { memory } : {})
    }
  } finally {
    await client.close()
  }
}

// ---------------------------------------------------------------------------------------------
// library workloads

let sink = 0

const loop = (op: () => unknown, count: number): void => {
  for (let i = 0; i < count; i++) {
    if ((i & 8191) === 0) checkDeadline()
    if (op() === undefined) sink++
  }
}

const time = (op: () => unknown, count: number): { wallMicros: number; cpu: number } => {
  const cpu0 = cpuMicros()
  const t0 = process.hrtime.bigint()
  loop(op, count)
  return { wallMicros: Number(process.hrtime.bigint() - t0) / 1000, cpu: cpuMicros() - cpu0 }
}

const runLibrary = async (): Promise<ChildResult> => {
  const { ops } = await import("./library.js")
  const op = ops[spec.client]?.[spec.workload]
  if (op === undefined) throw new Error(`no ${spec.workload} workload for ${spec.client}`)
  loop(op.run, spec.warmup)
  loop(op.withJson, Math.round(spec.warmup / 5))
  const primary = time(op.run, spec.calls)
  // An informative figure, on a fifth of the count to keep the run short.
  const jsonCalls = Math.max(1, Math.round(spec.calls / 5))
  const withJson = time(op.withJson, jsonCalls)
  if (sink !== 0) throw new Error("an operation returned nothing")
  return {
    client: spec.client,
    workload: spec.workload,
    calls: spec.calls,
    wallMicros: primary.wallMicros,
    perCallMicros: primary.wallMicros / spec.calls,
    perSecond: spec.calls / (primary.wallMicros / 1e6),
    cpuPerCallMicros: primary.cpu / spec.calls,
    peakRssBytes: peakRssBytes(),
    loadAverage: Os.loadavg()[0]!,
    withJsonPerCallMicros: withJson.wallMicros / jsonCalls
  }
}

const main = async () => {
  try {
    const isLibrary = spec.client === "effect-authlete" || spec.client === "sdk-zod"
    const result = isLibrary ? await runLibrary() : await runNetwork()
    await send({ type: "result", result })
    process.exit(0)
  } catch (error) {
    await send({ type: "error", message: error instanceof Error ? error.stack ?? error.message : String(error) })
    process.exit(1)
  }
}

void main()
