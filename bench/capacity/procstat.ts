/**
 * CPU time from Linux's `/proc`: a process's user + system time (`/proc/<pid>/stat`), the processes of
 * a PostgreSQL cluster (its postmaster and every child of it), and the whole machine's busy time
 * (`/proc/stat`). Percentages are of one core: two busy cores are 200%.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"

/** Clock ticks a second (`getconf CLK_TCK`; 100 on every Linux this runs on). */
const ticksPerSecond = (() => {
  try {
    const value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim())
    return Number.isFinite(value) && value > 0 ? value : 100
  } catch {
    return 100
  }
})()

interface Stat {
  readonly ppid: number
  /** User + system CPU, in seconds. */
  readonly cpu: number
}

/** A process's parent and CPU seconds, or undefined once it has gone. */
export const processStat = (pid: number): Stat | undefined => {
  try {
    const text = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // The command name is in parentheses and may hold spaces: the fields start after the last ")".
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ")
    return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond }
  } catch {
    return undefined
  }
}

/** A process's CPU seconds (0 once it has gone). */
export const cpuSeconds = (pid: number): number => processStat(pid)?.cpu ?? 0

/** Every process whose parent is `parent`, with that parent. */
export const family = (parent: number): ReadonlyArray<number> => {
  const pids = [parent]
  for (const entry of Fs.readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue
    if (processStat(Number(entry))?.ppid === parent) pids.push(Number(entry))
  }
  return pids
}

/** The machine: busy and total CPU seconds over every core since boot. */
export const machineSeconds = (): { readonly busy: number; readonly total: number } => {
  const line = Fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number)
  const total = values.reduce((sum, value) => sum + value, 0)
  const idle = values[3]! + values[4]!
  return { busy: (total - idle) / ticksPerSecond, total: total / ticksPerSecond }
}

/**
 * A snapshot of CPU seconds by group (each group a set of processes, read at the moment; a
 * PostgreSQL group re-reads the postmaster's children, whose backends come and go).
 */
export type Groups = Record<string, () => ReadonlyArray<number>>

export interface Snapshot {
  readonly at: number
  readonly machine: { readonly busy: number; readonly total: number }
  readonly groups: Record<string, Map<number, number>>
}

export const snapshot = (groups: Groups): Snapshot => {
  const result: Record<string, Map<number, number>> = {}
  for (const [name, pids] of Object.entries(groups)) {
    const seconds = new Map<number, number>()
    for (const pid of pids()) seconds.set(pid, cpuSeconds(pid))
    result[name] = seconds
  }
  return { at: performance.now(), machine: machineSeconds(), groups: result }
}

export interface CpuShares {
  /** Per group: % of one core over the interval (a process that appeared in it counts from 0). */
  readonly groups: Record<string, number>
  /** The busiest single process of each group, % of one core. */
  readonly busiest: Record<string, number>
  /** The whole machine, % of one core (cores x 100 is full), including other users' processes. */
  readonly machine: number
  /** The machine's full capacity, % of one core. */
  readonly capacity: number
}

/** CPU shares between two snapshots of the same groups. */
export const shares = (before: Snapshot, after: Snapshot): CpuShares => {
  const seconds = (after.at - before.at) / 1000
  const groups: Record<string, number> = {}
  const busiest: Record<string, number> = {}
  for (const [name, end] of Object.entries(after.groups)) {
    const start = before.groups[name] ?? new Map<number, number>()
    let sum = 0
    let most = 0
    for (const [pid, cpu] of end) {
      const used = Math.max(0, cpu - (start.get(pid) ?? 0))
      sum += used
      most = Math.max(most, used)
    }
    groups[name] = (100 * sum) / seconds
    busiest[name] = (100 * most) / seconds
  }
  const total = after.machine.total - before.machine.total
  const cores = total / seconds
  return {
    groups,
    busiest,
    machine: total > 0 ? (100 * cores * (after.machine.busy - before.machine.busy)) / total : 0,
    capacity: 100 * Math.round(cores)
  }
}
