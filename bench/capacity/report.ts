/**
 * The capacity run's figures: percentiles, whether a step held, what saturated, and the Markdown
 * report (one row per system, then every step of each).
 */
import type { StepResult } from "./loadgen.js"
import type { CpuShares } from "./procstat.js"

export interface MeasuredStep {
  readonly result: StepResult
  readonly cpu: CpuShares
  /** Why the step did not hold; empty when it held. */
  readonly failures: ReadonlyArray<string>
}

export interface SystemRun {
  readonly name: string
  readonly description: string
  readonly steps: ReadonlyArray<MeasuredStep>
  /** Why the system was not measured (PostgreSQL unreachable, a node that did not start). */
  readonly skipped?: string | undefined
}

export interface Criteria {
  /** The share of the offered rate that must complete within the window. */
  readonly throughputShare: number
  /** The share of flows that may fail. */
  readonly errorShare: number
  /** The bound on the p99 of a whole flow, backchannel request to tokens, in milliseconds. */
  readonly flowP99Millis: number
}

/** Nearest-rank percentile; undefined for no values. */
export const percentile = (values: ReadonlyArray<number>, p: number): number | undefined => {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}

const ms = (value: number | undefined) =>
  value === undefined ? "–" : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`
const pair = (values: ReadonlyArray<number>) => `${ms(percentile(values, 0.5))} / ${ms(percentile(values, 0.99))}`
const pct = (value: number | undefined) => value === undefined ? "–" : `${Math.round(value)}%`
const rate = (value: number) => (value >= 20 ? value.toFixed(0) : value.toFixed(1))

/** Why a step did not hold (empty: it held). */
export const judge = (result: StepResult, criteria: Criteria): ReadonlyArray<string> => {
  const failures: Array<string> = []
  if (result.throughput < criteria.throughputShare * result.rate) {
    failures.push(`completed ${rate(result.throughput)}/s of ${rate(result.rate)}/s offered`)
  }
  if (result.errors > criteria.errorShare * Math.max(1, result.started)) {
    failures.push(`${result.errors} errors in ${result.started} flows`)
  }
  if (result.unfinished > 0) failures.push(`${result.unfinished} flows unfinished after the drain`)
  const p99 = percentile(result.flow, 0.99)
  if (p99 !== undefined && p99 > criteria.flowP99Millis) {
    failures.push(`flow p99 ${ms(p99)} over ${ms(criteria.flowP99Millis)}`)
  }
  return failures
}

/**
 * The step with the highest rate that held below every rate that did not, and the step with the
 * lowest rate that did not hold (the refining step between them runs last).
 */
export const saturationOf = (run: SystemRun) => {
  const failed = run.steps.filter((step) => step.failures.length > 0)
  const saturated = failed.reduce<MeasuredStep | undefined>(
    (lowest, step) => lowest === undefined || step.result.rate < lowest.result.rate ? step : lowest,
    undefined
  )
  const held = run.steps.filter((step) =>
    step.failures.length === 0 && (saturated === undefined || step.result.rate < saturated.result.rate)
  )
  return {
    sustained: held.reduce<MeasuredStep | undefined>(
      (highest, step) => highest === undefined || step.result.rate > highest.result.rate ? step : highest,
      undefined
    ),
    saturated,
    peak: Math.max(0, ...run.steps.map((step) => step.result.throughput))
  }
}

/** The share of each process group at a step, as "nodes 80%, PostgreSQL 40%, ...". */
const breakdown = (cpu: CpuShares) => {
  const names: Record<string, string> = {
    nodes: "nodes",
    postgres: "PostgreSQL",
    simulator: "simulator",
    loadgen: "load generator"
  }
  const ours = Object.values(cpu.groups).reduce((sum, value) => sum + value, 0)
  return [
    ...Object.entries(cpu.groups).map(([group, value]) => `${names[group] ?? group} ${pct(value)}`),
    `other processes ${pct(Math.max(0, cpu.machine - ours))}`
  ].join(", ")
}

/**
 * What ran out at the step where the system saturated, from the CPU each process group used: a
 * single-threaded process (a node, the simulator, the load generator) near a full core; else the
 * machine's cores near full; else PostgreSQL busier than the nodes; else neither CPU nor the
 * database, that is, time the engine spends waiting (its storage polling, locks, the hand-offs
 * between a request, its workflow and its steps).
 */
export const resourceOf = (step: MeasuredStep | undefined): string => {
  if (step === undefined) return "not reached (the highest rate held)"
  const { busiest, capacity, groups, machine } = step.cpu
  const full = 85
  if ((busiest.simulator ?? 0) >= full) {
    return `the simulator's event loop (${pct(busiest.simulator)} of a core): the harness, not the system`
  }
  if ((busiest.loadgen ?? 0) >= full) return `the load generator (${pct(busiest.loadgen)} of a core): the harness`
  if ((busiest.nodes ?? 0) >= full) return `CPU: a node's event loop (${pct(busiest.nodes)} of a core)`
  if (machine >= (full / 100) * capacity) return `CPU: the machine's cores (${pct(machine)} of ${pct(capacity)})`
  if ((groups.postgres ?? 0) > 0 && (groups.postgres ?? 0) >= (groups.nodes ?? 0)) {
    return `the database (PostgreSQL ${pct(groups.postgres)} of a core, the nodes ${pct(groups.nodes)})`
  }
  return `the engine: CPU ${pct(machine)} of ${pct(capacity)}, no process on a full core`
}

export const renderSummary = (runs: ReadonlyArray<SystemRun>): string => {
  const lines = [
    "| system | flows/s sustained | peak flows/s | backchannel p50 / p99 | token p50 / p99 | decision to delivery p50 / p99 | saturates on |",
    "|---|---:|---:|---|---|---|---|"
  ]
  for (const run of runs) {
    if (run.skipped !== undefined) {
      lines.push(`| ${run.name} | – | – | – | – | – | not measured: ${run.skipped} |`)
      continue
    }
    const { peak, saturated, sustained } = saturationOf(run)
    const at = sustained?.result
    lines.push(
      `| ${run.name} | ${at === undefined ? "none held" : rate(at.rate)} | ${rate(peak)} | ${
        at === undefined ? "–" : pair(at.backchannel)
      } | ${at === undefined ? "–" : pair(at.token)} | ${at === undefined ? "–" : pair(at.decisionToDelivery)} | ${
        resourceOf(saturated)
      }${saturated === undefined ? "" : `; at ${rate(saturated.result.rate)}/s: ${breakdown(saturated.cpu)}`} |`
    )
  }
  return lines.join("\n")
}

/** Each durable system's sustained rate over the in-memory one's. */
export const renderRatios = (runs: ReadonlyArray<SystemRun>, baseline: string): string => {
  const base = runs.find((run) => run.name === baseline)
  const baseRate = base === undefined ? undefined : saturationOf(base).sustained?.result.rate
  if (baseRate === undefined) return ""
  return runs.filter((run) => run.name !== baseline && run.skipped === undefined).map((run) => {
    const { peak, sustained } = saturationOf(run)
    const basePeak = saturationOf(base!).peak
    return `- ${run.name} / ${baseline}: **${((sustained?.result.rate ?? 0) / baseRate).toFixed(2)}x** sustained (${
      (peak / basePeak).toFixed(2)
    }x peak)`
  }).join("\n")
}

export const renderSteps = (run: SystemRun): string => {
  const lines = [
    `**${run.name}**: ${run.description}`,
    "",
    "| offered/s | completed/s | flows | errors | backchannel p50 / p99 | approval p50 / p99 | token p50 / p99 | decision to delivery p50 / p99 (POLL, PING, PUSH p50) | flow p99 | CPU (% of a core) | held |",
    "|---:|---:|---:|---:|---|---|---|---|---:|---|---|"
  ]
  for (const { cpu, failures, result } of [...run.steps].sort((a, b) => a.result.rate - b.result.rate)) {
    const modes = (["POLL", "PING", "PUSH"] as const).map((mode) => ms(percentile(result.byMode[mode], 0.5))).join(
      ", "
    )
    lines.push(
      `| ${rate(result.rate)} | ${rate(result.throughput)} | ${result.started} | ${result.errors} | ${
        pair(result.backchannel)
      } | ${pair(result.approval)} | ${pair(result.token)} | ${pair(result.decisionToDelivery)} (${modes}) | ${
        ms(percentile(result.flow, 0.99))
      } | ${breakdown(cpu)}; machine ${pct(cpu.machine)} of ${pct(cpu.capacity)} | ${
        failures.length === 0 ? "yes" : `no: ${failures.join("; ")}`
      } |`
    )
  }
  const samples = run.steps.flatMap((step) =>
    step.result.errorSamples.slice(0, 2).map((sample) => `- at ${rate(step.result.rate)}/s: ${sample}`)
  )
  if (samples.length > 0) lines.push("", "Errors (the first of each step):", "", ...samples)
  return lines.join("\n")
}
