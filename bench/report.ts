/**
 * Medians, ratios, targets, and the tables (console text and Markdown).
 */
import type { ChildResult, ClientName, Workload, WorkloadName } from "./spec.js"
import { CLIENT_TITLES, EFFECT_CLIENTS, EFFECT_FLOOR, FLOOR, RECOMMENDED } from "./spec.js"

export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export interface Summary {
  readonly workload: WorkloadName
  readonly client: ClientName
  readonly rounds: number
  readonly perCallMicros: number
  readonly minPerCallMicros: number
  readonly maxPerCallMicros: number
  readonly perSecond: number
  readonly cpuPerCallMicros: number
  readonly serverCpuPerCallMicros: number | undefined
  readonly requestBytesPerCall: number | undefined
  readonly peakRssBytes: number
  readonly withJsonPerCallMicros: number | undefined
  /** Memory workload: post-GC RSS and heap after the first sample and after the last. */
  readonly rssFirst: number | undefined
  readonly rssLast: number | undefined
  readonly rssGrowth: number | undefined
  readonly rawRssGrowth: number | undefined
  readonly heapFirst: number | undefined
  readonly heapLast: number | undefined
}

const optionalMedian = (values: ReadonlyArray<number | undefined>): number | undefined => {
  const present = values.filter((v): v is number => v !== undefined)
  return present.length === 0 ? undefined : median(present)
}

export const summarize = (results: ReadonlyArray<ChildResult>): Array<Summary> => {
  const groups = new Map<string, Array<ChildResult>>()
  for (const result of results) {
    const key = `${result.workload}\u0000${result.client}`
    const group = groups.get(key) ?? []
    group.push(result)
    groups.set(key, group)
  }
  return [...groups.values()].map((group) => {
    const first = (r: ChildResult) => r.memory?.[0]
    const last = (r: ChildResult) => r.memory?.[r.memory.length - 1]
    return {
      workload: group[0]!.workload,
      client: group[0]!.client,
      rounds: group.length,
      perCallMicros: median(group.map((r) => r.perCallMicros)),
      minPerCallMicros: Math.min(...group.map((r) => r.perCallMicros)),
      maxPerCallMicros: Math.max(...group.map((r) => r.perCallMicros)),
      perSecond: median(group.map((r) => r.perSecond)),
      cpuPerCallMicros: median(group.map((r) => r.cpuPerCallMicros)),
      serverCpuPerCallMicros: optionalMedian(group.map((r) => r.serverCpuPerCallMicros)),
      requestBytesPerCall: optionalMedian(group.map((r) => r.requestBytesPerCall)),
      peakRssBytes: median(group.map((r) => r.peakRssBytes)),
      withJsonPerCallMicros: optionalMedian(group.map((r) => r.withJsonPerCallMicros)),
      rssFirst: optionalMedian(group.map((r) => first(r)?.rssAfterGc)),
      rssLast: optionalMedian(group.map((r) => last(r)?.rssAfterGc)),
      rssGrowth: optionalMedian(group.map((r) => {
        const a = first(r)
        const b = last(r)
        return a && b ? b.rssAfterGc / a.rssAfterGc - 1 : undefined
      })),
      rawRssGrowth: optionalMedian(group.map((r) => {
        const a = first(r)
        const b = last(r)
        return a && b ? b.rss / a.rss - 1 : undefined
      })),
      heapFirst: optionalMedian(group.map((r) => first(r)?.heapUsedAfterGc)),
      heapLast: optionalMedian(group.map((r) => last(r)?.heapUsedAfterGc))
    }
  })
}

export interface Target {
  readonly description: string
  readonly actual: string
  /** `undefined`: not measured in this run. */
  readonly met: boolean | undefined
  /** A figure reported beside the targets, with no bound to meet. */
  readonly informational?: boolean
}

const find = (summaries: ReadonlyArray<Summary>, workload: WorkloadName, client: ClientName) =>
  summaries.find((s) => s.workload === workload && s.client === client)

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

const ratio = (n: number): string => `${fmt(n, 2)}x`
const pct = (n: number): string => `${n >= 0 ? "+" : ""}${fmt(n * 100, 1)}%`
const mb = (bytes: number): string => fmt(bytes / 1_048_576, 1)

/**
 * The bounds, all on `RECOMMENDED` and against `EFFECT_FLOOR` (what any Effect client making the same
 * Authlete calls pays at least), the SDK or zod, measured in the same run.
 */
export const BOUNDS = {
  seqVsEffectFloor: 1.1,
  c32VsEffectFloor: 0.9,
  programSeqVsEffectFloor: 1.15,
  endpointSeqVsEffectFloor: 1.15,
  seqVsSdk: 0.4,
  c32VsSdk: 4,
  encodeVsZod: 1.5,
  decodeVsZod: 5,
  memoryGrowth: 0.1,
  /** The portable transport against the `HttpClient` it runs over, used directly (same run). */
  portableSeqVsClient: 1.15,
  portableC32VsClient: 0.85
} as const

/** Each portable transport row, and the row of the `HttpClient` it runs over, used directly. */
export const PORTABLE_PAIRS: ReadonlyArray<readonly [ours: ClientName, client: ClientName]> = [
  ["effect-platform", "platform-raw"],
  ["effect-fetch", "fetch-effect"]
]

export const targets = (summaries: ReadonlyArray<Summary>): Array<Target> => {
  const out: Array<Target> = []
  const check = (
    description: string,
    value: () => { actual: number; met: boolean; show: (n: number) => string } | undefined
  ) => {
    const v = value()
    out.push(
      v === undefined
        ? { description, actual: "not measured", met: undefined }
        : { description, actual: v.show(v.actual), met: v.met }
    )
  }
  /** Per-call time of the recommended client over `against`'s, in one workload. */
  const timeRatio = (workload: WorkloadName, against: ClientName) => {
    const ours = find(summaries, workload, RECOMMENDED)
    const theirs = find(summaries, workload, against)
    return ours && theirs ? ours.perCallMicros / theirs.perCallMicros : undefined
  }
  /** Throughput of the recommended client over `against`'s, in one workload. */
  const throughputRatio = (workload: WorkloadName, against: ClientName) => {
    const ours = find(summaries, workload, RECOMMENDED)
    const theirs = find(summaries, workload, against)
    return ours && theirs ? ours.perSecond / theirs.perSecond : undefined
  }
  const atMost = (r: number | undefined, bound: number) =>
    r === undefined ? undefined : { actual: r, met: r <= bound, show: ratio }
  const atLeast = (r: number | undefined, bound: number) =>
    r === undefined ? undefined : { actual: r, met: r >= bound, show: ratio }

  /** A ratio reported beside the targets, with no bound. */
  const info = (description: string, r: number | undefined) =>
    out.push(
      r === undefined
        ? { description, actual: "not measured", met: undefined, informational: true }
        : { description, actual: ratio(r), met: true, informational: true }
    )
  check(
    `sequential /complete per-call time <= ${BOUNDS.seqVsEffectFloor.toFixed(2)}x ${EFFECT_FLOOR}`,
    () => atMost(timeRatio("seq", EFFECT_FLOOR), BOUNDS.seqVsEffectFloor)
  )
  check(
    `concurrency-32 /complete throughput >= ${BOUNDS.c32VsEffectFloor.toFixed(2)}x ${EFFECT_FLOOR}`,
    () => atLeast(throughputRatio("c32", EFFECT_FLOOR), BOUNDS.c32VsEffectFloor)
  )
  check(
    `sequential completeBackchannelAuthentication program per-call time <= ${
      BOUNDS.programSeqVsEffectFloor.toFixed(2)
    }x ${EFFECT_FLOOR} (same wire body)`,
    () => atMost(timeRatio("program-seq", EFFECT_FLOOR), BOUNDS.programSeqVsEffectFloor)
  )
  check(
    `sequential backchannel endpoint program (handleBackchannelAuthentication: /backchannel/authentication + /issue) ` +
      `per-call time <= ${BOUNDS.endpointSeqVsEffectFloor.toFixed(2)}x ${EFFECT_FLOOR} making the same two calls`,
    () => atMost(timeRatio("backchannel-seq", EFFECT_FLOOR), BOUNDS.endpointSeqVsEffectFloor)
  )
  check(
    `sequential token endpoint program (handleTokenRequest, /auth/token) per-call time <= ${
      BOUNDS.endpointSeqVsEffectFloor.toFixed(2)
    }x ${EFFECT_FLOOR} making the same call`,
    () => atMost(timeRatio("token-seq", EFFECT_FLOOR), BOUNDS.endpointSeqVsEffectFloor)
  )
  check(
    `sequential /complete per-call time <= ${BOUNDS.seqVsSdk}x Authlete's SDK`,
    () => atMost(timeRatio("seq", "sdk"), BOUNDS.seqVsSdk)
  )
  check(
    `concurrency-32 /complete throughput >= ${BOUNDS.c32VsSdk}x Authlete's SDK`,
    () => atLeast(throughputRatio("c32", "sdk"), BOUNDS.c32VsSdk)
  )
  info("concurrency-32 program throughput vs effect-floor (no bound)", throughputRatio("program-c32", EFFECT_FLOOR))
  info(
    "sequential /backchannel/authentication per-call time vs effect-floor (no bound)",
    timeRatio("auth-seq", EFFECT_FLOOR)
  )
  // Against raw undici dispatch, for reference: what Effect itself costs is in between.
  info(
    `${EFFECT_FLOOR} vs ${FLOOR}: sequential /complete per-call time (no bound)`,
    (() => {
      const a = find(summaries, "seq", EFFECT_FLOOR)
      const b = find(summaries, "seq", FLOOR)
      return a && b ? a.perCallMicros / b.perCallMicros : undefined
    })()
  )
  info(`sequential /complete per-call time vs ${FLOOR} (no bound)`, timeRatio("seq", FLOOR))
  info(`concurrency-32 /complete throughput vs ${FLOOR} (no bound)`, throughputRatio("c32", FLOOR))
  // The portable transport: what it adds to the HttpClient it runs over.
  const pairRatio = (workload: WorkloadName, ours: ClientName, theirs: ClientName, of: "time" | "throughput") => {
    const a = find(summaries, workload, ours)
    const b = find(summaries, workload, theirs)
    return a && b ? of === "time" ? a.perCallMicros / b.perCallMicros : a.perSecond / b.perSecond : undefined
  }
  for (const [ours, theirs] of PORTABLE_PAIRS) {
    check(
      `${ours} vs ${theirs}: sequential /complete per-call time <= ${
        BOUNDS.portableSeqVsClient.toFixed(2)
      }x the HttpClient it runs over`,
      () => atMost(pairRatio("seq", ours, theirs, "time"), BOUNDS.portableSeqVsClient)
    )
    check(
      `${ours} vs ${theirs}: concurrency-32 /complete throughput >= ${
        BOUNDS.portableC32VsClient.toFixed(2)
      }x the HttpClient it runs over`,
      () => atLeast(pairRatio("c32", ours, theirs, "throughput"), BOUNDS.portableC32VsClient)
    )
  }
  // Library speed against zod in Authlete's SDK (which checks types only; the library checks every rule).
  const vsZod = (workload: WorkloadName) => {
    const ours = find(summaries, workload, "effect-authlete")
    const zod = find(summaries, workload, "sdk-zod")
    return ours && zod ? ours.perSecond / zod.perSecond : undefined
  }
  check(
    `validation + encoding of an 18-field request, every rule checked: >= ${BOUNDS.encodeVsZod}x zod's rate`,
    () => atLeast(vsZod("encode"), BOUNDS.encodeVsZod)
  )
  check(
    `decoding a full response >= ${BOUNDS.decodeVsZod}x zod's rate`,
    () => atLeast(vsZod("decode"), BOUNDS.decodeVsZod)
  )
  check(
    `memory: RSS after 100,000 completions at most ${fmt(BOUNDS.memoryGrowth * 100)}% above RSS after 10,000 (post-GC)`,
    () => {
      const s = find(summaries, "memory", RECOMMENDED)
      return s?.rssGrowth === undefined
        ? undefined
        : { actual: s.rssGrowth, met: s.rssGrowth <= BOUNDS.memoryGrowth, show: pct }
    }
  )
  return out
}

// ---------------------------------------------------------------------------------------------
// tables

type Row = ReadonlyArray<string>

interface Table {
  readonly title: string
  readonly header: Row
  readonly rows: ReadonlyArray<Row>
  readonly notes: ReadonlyArray<string>
}

const clientLabel = (client: ClientName) => `${client}: ${CLIENT_TITLES[client]}`

const portablePairs = () => PORTABLE_PAIRS.map(([ours, theirs]) => `${ours} vs ${theirs}`).join(", ")

/** The note under a network table: what the workload does and its bound, if any. */
const networkNote = (workload: Workload): string => {
  switch (workload.name) {
    case "seq":
      return `Lower is better for time ratios (targets for ${RECOMMENDED}: <= ${
        BOUNDS.seqVsEffectFloor.toFixed(2)
      }x ${EFFECT_FLOOR}, <= ${BOUNDS.seqVsSdk}x SDK; for ${portablePairs()}: <= ${
        BOUNDS.portableSeqVsClient.toFixed(2)
      }x the HttpClient it runs over).`
    case "c32":
      return `Higher is better for throughput ratios (targets for ${RECOMMENDED}: >= ${BOUNDS.c32VsEffectFloor}x ${EFFECT_FLOOR}, >= ${BOUNDS.c32VsSdk}x SDK; for ${portablePairs()}: >= ${
        BOUNDS.portableC32VsClient.toFixed(2)
      }x the HttpClient it runs over).`
    case "program-seq":
      return `${RECOMMENDED} runs completeBackchannelAuthentication (merge, consent, validate, /complete, act on ` +
        `NO_ACTION); the floors and the SDK send the wire body it produces. Target: <= ${
          BOUNDS.programSeqVsEffectFloor.toFixed(2)
        }x ${EFFECT_FLOOR}.`
    case "program-c32":
      return `Higher is better. No target; the throughput ratio to ${EFFECT_FLOOR} is reported with the targets.`
    case "auth-seq":
      return `Lower is better. No target: the time ratio to ${EFFECT_FLOOR} is reported with the targets.`
    case "token-seq":
      return `Lower is better. ${RECOMMENDED} runs handleTokenRequest (/auth/token, then the HTTP answer from ` +
        "its action); the floors and the SDK (token.process) send the same /auth/token body. Target: <= " +
        `${BOUNDS.endpointSeqVsEffectFloor.toFixed(2)}x ${EFFECT_FLOOR}.`
    case "backchannel-seq":
      return `Lower is better. ${RECOMMENDED} runs handleBackchannelAuthentication (/backchannel/authentication, ` +
        "identify the user, checks, /issue, record in the memory store, which grows by one request per call, " +
        "tell Decisions and the device); the floor and the SDK (ciba.processAuthentication + ciba.issue) make " +
        "the same two calls. Two requests a call: request B/call is both bodies. Target: <= " +
        `${BOUNDS.endpointSeqVsEffectFloor.toFixed(2)}x ${EFFECT_FLOOR} (the same two calls, each in Effect.async).`
    default:
      return ""
  }
}

export const tables = (
  workloads: ReadonlyArray<Workload>,
  summaries: ReadonlyArray<Summary>
): Array<Table> => {
  const out: Array<Table> = []
  for (const workload of workloads) {
    const rows = workload.clients
      .map((client) => find(summaries, workload.name, client))
      .filter((s): s is Summary => s !== undefined)
    if (rows.length === 0) continue
    const floor = find(summaries, workload.name, FLOOR)
    const sdk = find(summaries, workload.name, "sdk")
    const zod = find(summaries, workload.name, "sdk-zod")
    const bytes = (s: Summary) => s.requestBytesPerCall === undefined ? "" : fmt(s.requestBytesPerCall, 0)
    const serverCpu = (s: Summary) => s.serverCpuPerCallMicros === undefined ? "" : fmt(s.serverCpuPerCallMicros, 1)
    if (workload.kind === "network" && workload.name !== "memory" && workload.concurrency === 1) {
      out.push({
        title: workload.title,
        header: [
          "client",
          "µs/call",
          "min-max",
          "calls/s",
          "client CPU µs/call",
          "server CPU µs/call",
          "request B/call",
          "peak RSS MB",
          "time vs floor",
          "time vs SDK"
        ],
        rows: rows.map((s) => [
          clientLabel(s.client),
          fmt(s.perCallMicros, 1),
          `${fmt(s.minPerCallMicros, 0)}-${fmt(s.maxPerCallMicros, 0)}`,
          fmt(s.perSecond),
          fmt(s.cpuPerCallMicros, 1),
          serverCpu(s),
          bytes(s),
          mb(s.peakRssBytes),
          floor ? ratio(s.perCallMicros / floor.perCallMicros) : "",
          sdk ? ratio(s.perCallMicros / sdk.perCallMicros) : ""
        ]),
        notes: [networkNote(workload)]
      })
    } else if (workload.kind === "network" && workload.name !== "memory") {
      out.push({
        title: workload.title,
        header: [
          "client",
          "µs/call (wall/calls)",
          "min-max",
          "calls/s",
          "client CPU µs/call",
          "server CPU µs/call",
          "request B/call",
          "peak RSS MB",
          "throughput vs floor",
          "throughput vs SDK"
        ],
        rows: rows.map((s) => [
          clientLabel(s.client),
          fmt(s.perCallMicros, 1),
          `${fmt(s.minPerCallMicros, 0)}-${fmt(s.maxPerCallMicros, 0)}`,
          fmt(s.perSecond),
          fmt(s.cpuPerCallMicros, 1),
          serverCpu(s),
          bytes(s),
          mb(s.peakRssBytes),
          floor ? ratio(s.perSecond / floor.perSecond) : "",
          sdk ? ratio(s.perSecond / sdk.perSecond) : ""
        ]),
        notes: [networkNote(workload)]
      })
    } else if (workload.name === "memory") {
      out.push({
        title: workload.title,
        header: [
          "client",
          "calls/s",
          "RSS MB after 10k (post-GC)",
          "after 100k (post-GC)",
          "growth",
          "growth, RSS as found",
          "heap MB after 10k",
          "after 100k",
          "peak RSS MB"
        ],
        rows: rows.map((s) => [
          clientLabel(s.client),
          fmt(s.perSecond),
          s.rssFirst === undefined ? "" : mb(s.rssFirst),
          s.rssLast === undefined ? "" : mb(s.rssLast),
          s.rssGrowth === undefined ? "" : pct(s.rssGrowth),
          s.rawRssGrowth === undefined ? "" : pct(s.rawRssGrowth),
          s.heapFirst === undefined ? "" : mb(s.heapFirst),
          s.heapLast === undefined ? "" : mb(s.heapLast),
          mb(s.peakRssBytes)
        ]),
        notes: [
          "Memory is sampled every 10,000 completions: RSS as found, then after a full GC (`--expose-gc`).",
          `The target (${RECOMMENDED}): post-GC RSS after 100,000 at most ${
            fmt(BOUNDS.memoryGrowth * 100)
          }% above post-GC RSS after 10,000 (a fall is flat or better).`
        ]
      })
    } else {
      out.push({
        title: workload.title,
        header: ["library", "µs/op", "min-max", "ops/s", "CPU µs/op", "µs/op with JSON text", "peak RSS MB", "vs zod"],
        rows: rows.map((s) => [
          clientLabel(s.client),
          fmt(s.perCallMicros, 2),
          `${fmt(s.minPerCallMicros, 2)}-${fmt(s.maxPerCallMicros, 2)}`,
          fmt(s.perSecond),
          fmt(s.cpuPerCallMicros, 2),
          s.withJsonPerCallMicros === undefined ? "" : fmt(s.withJsonPerCallMicros, 2),
          mb(s.peakRssBytes),
          zod ? ratio(s.perSecond / zod.perSecond) : ""
        ]),
        notes: workload.name === "validate"
          ? ["Not a target: the path for untrusted wire input (`validateCompleteRequest` does this decode)."]
          : workload.name === "prepare"
          ? [
            "Not a target: what the program does before AuthleteClient's own encoding (the encode row above). " +
            "\"With JSON text\": prepared, encoded and serialised, the whole wire body."
          ]
          : [
            `Target (effect-authlete): >= ${
              workload.name === "decode" ? BOUNDS.decodeVsZod : BOUNDS.encodeVsZod
            }x zod's rate. "vs zod" is throughput, higher is better.`
          ]
      })
    }
  }
  return out
}

const pad = (s: string, width: number, right: boolean) => right ? s.padStart(width) : s.padEnd(width)

export const renderText = (table: Table): string => {
  const all = [table.header, ...table.rows]
  const widths = table.header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)))
  const line = (row: Row) => row.map((cell, c) => pad(cell, widths[c]!, c > 0)).join("  ")
  return [
    `== ${table.title}`,
    line(table.header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...table.rows.map(line),
    ...table.notes.map((n) => `   ${n}`)
  ].join("\n")
}

export const renderMarkdown = (table: Table): string =>
  [
    `### ${table.title}`,
    "",
    `| ${table.header.join(" | ")} |`,
    `|${table.header.map((_, c) => (c === 0 ? "---" : "---:")).join("|")}|`,
    ...table.rows.map((row) => `| ${row.join(" | ")} |`),
    "",
    ...table.notes
  ].join("\n")

const verdict = (t: Target): string =>
  t.met === undefined ? "n/a" : t.informational === true ? "info" : t.met ? "met" : "NOT met"

export const renderTargetsText = (list: ReadonlyArray<Target>): string =>
  [
    `== Targets (judged on ${RECOMMENDED}, the HTTP client the README recommends for Node; ` +
    `the floor is ${FLOOR}, in the same run; the lines that name two clients judge the portable ` +
    `transport against the HttpClient it runs over)`,
    ...list.map((t) => `${`[${verdict(t).padStart(5).padEnd(7)}]`} ${t.description}: ${t.actual}`)
  ].join("\n")

export const renderTargetsMarkdown = (list: ReadonlyArray<Target>): string =>
  [
    `| target (on \`${RECOMMENDED}\`, against \`${FLOOR}\`, unless the line names two clients) | measured | |`,
    "|---|---:|---|",
    ...list.map((t) => `| ${t.description} | ${t.actual} | ${verdict(t) === "NOT met" ? "**not met**" : verdict(t)} |`)
  ].join("\n")

export const isEffectClient = (client: ClientName) => EFFECT_CLIENTS.includes(client)
