/**
 * Medians, ratios, targets, and the tables (console text and Markdown).
 */
import type { ChildResult, ClientName, Workload, WorkloadName } from "./spec.js"
import { CLIENT_TITLES, EFFECT_CLIENTS, RECOMMENDED } from "./spec.js"

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
  readonly met: boolean | undefined
}

const find = (summaries: ReadonlyArray<Summary>, workload: WorkloadName, client: ClientName) =>
  summaries.find((s) => s.workload === workload && s.client === client)

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

const ratio = (n: number): string => `${fmt(n, 2)}x`
const pct = (n: number): string => `${n >= 0 ? "+" : ""}${fmt(n * 100, 1)}%`
const mb = (bytes: number): string => fmt(bytes / 1_048_576, 1)

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
  const seq = find(summaries, "seq", RECOMMENDED)
  const c32 = find(summaries, "c32", RECOMMENDED)
  const seqFloor = find(summaries, "seq", "undici")
  const seqSdk = find(summaries, "seq", "sdk")
  const c32Floor = find(summaries, "c32", "undici")
  const c32Sdk = find(summaries, "c32", "sdk")
  check("sequential per-call time <= 1.25x the floor", () => {
    if (!seq || !seqFloor) return undefined
    const r = seq.perCallMicros / seqFloor.perCallMicros
    return { actual: r, met: r <= 1.25, show: ratio }
  })
  check("sequential per-call time <= 0.4x Authlete's SDK", () => {
    if (!seq || !seqSdk) return undefined
    const r = seq.perCallMicros / seqSdk.perCallMicros
    return { actual: r, met: r <= 0.4, show: ratio }
  })
  check("concurrency-32 throughput >= 0.75x the floor", () => {
    if (!c32 || !c32Floor) return undefined
    const r = c32.perSecond / c32Floor.perSecond
    return { actual: r, met: r >= 0.75, show: ratio }
  })
  check("concurrency-32 throughput >= 4x Authlete's SDK", () => {
    if (!c32 || !c32Sdk) return undefined
    const r = c32.perSecond / c32Sdk.perSecond
    return { actual: r, met: r >= 4, show: ratio }
  })
  check("validation + encoding of an 18-field request >= 200,000/s", () => {
    const s = find(summaries, "encode", "effect-authlete")
    return s && { actual: s.perSecond, met: s.perSecond >= 200_000, show: (n) => `${fmt(n)}/s` }
  })
  check("decoding a full response >= 200,000/s", () => {
    const s = find(summaries, "decode", "effect-authlete")
    return s && { actual: s.perSecond, met: s.perSecond >= 200_000, show: (n) => `${fmt(n)}/s` }
  })
  check("memory: RSS after 100,000 completions at most 10% above RSS after 10,000 (post-GC)", () => {
    const s = find(summaries, "memory", RECOMMENDED)
    return s?.rssGrowth === undefined ? undefined : { actual: s.rssGrowth, met: s.rssGrowth <= 0.1, show: pct }
  })
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
    const floor = find(summaries, workload.name, "undici")
    const sdk = find(summaries, workload.name, "sdk")
    const zod = find(summaries, workload.name, "sdk-zod")
    if (workload.name === "seq") {
      out.push({
        title: workload.title,
        header: [
          "client",
          "µs/call",
          "min-max",
          "calls/s",
          "client CPU µs/call",
          "server CPU µs/call",
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
          s.serverCpuPerCallMicros === undefined ? "" : fmt(s.serverCpuPerCallMicros, 1),
          mb(s.peakRssBytes),
          floor ? ratio(s.perCallMicros / floor.perCallMicros) : "",
          sdk ? ratio(s.perCallMicros / sdk.perCallMicros) : ""
        ]),
        notes: ["Lower is better for time ratios (targets for effect-undici: <= 1.25x floor, <= 0.4x SDK)."]
      })
    } else if (workload.name === "c32") {
      out.push({
        title: workload.title,
        header: [
          "client",
          "µs/call (wall/calls)",
          "min-max",
          "calls/s",
          "client CPU µs/call",
          "server CPU µs/call",
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
          s.serverCpuPerCallMicros === undefined ? "" : fmt(s.serverCpuPerCallMicros, 1),
          mb(s.peakRssBytes),
          floor ? ratio(s.perSecond / floor.perSecond) : "",
          sdk ? ratio(s.perSecond / sdk.perSecond) : ""
        ]),
        notes: ["Higher is better for throughput ratios (targets for effect-undici: >= 0.75x floor, >= 4x SDK)."]
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
          "The target (effect-undici): post-GC RSS after 100,000 at most 10% above post-GC RSS after 10,000 " +
          "(a fall is flat or better)."
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
          : ["Target (effect-authlete): >= 200,000 ops/s. \"vs zod\" is throughput, higher is better."]
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

export const renderTargetsText = (list: ReadonlyArray<Target>): string =>
  [
    `== Targets (judged on ${RECOMMENDED}, the HTTP client the README recommends for Node)`,
    ...list.map((t) =>
      `${t.met === undefined ? "[ n/a   ]" : t.met ? "[ met   ]" : "[NOT met]"} ${t.description}: ${t.actual}`
    )
  ].join("\n")

export const renderTargetsMarkdown = (list: ReadonlyArray<Target>): string =>
  [
    `| target (on \`${RECOMMENDED}\`) | measured | |`,
    "|---|---:|---|",
    ...list.map((t) =>
      `| ${t.description} | ${t.actual} | ${t.met === undefined ? "n/a" : t.met ? "met" : "**not met**"} |`
    )
  ].join("\n")

export const isEffectClient = (client: ClientName) => EFFECT_CLIENTS.includes(client)
