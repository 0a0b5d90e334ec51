/**
 * `npm run bench`: starts the canned Authlete in its own process, then measures every (client,
 * workload, round) in a fresh child process, rounds alternating the clients (A B C D E, A B C D E,
 * ...), and prints medians, ratios and targets; a full run also writes bench/results/latest.md.
 *
 * Options (for development; a run with any of them writes no results unless --out is given):
 *   --rounds N              rounds (default 5)
 *   --workloads a,b         among seq, c32, program-seq, program-c32, auth-seq, token-seq, backchannel-seq,
 *                           encode, prepare, validate, decode, memory
 *   --clients a,b           among effect-undici, effect-platform, effect-fetch, platform-raw, fetch-effect, sdk,
 *                           dispatch, effect-floor, undici, fetch, effect-authlete, sdk-zod
 *   --scale X               multiply every count by X (smoke tests only)
 *   --out FILE              write the Markdown report there (and the raw results beside it, as .json)
 *   --from FILE.json        measure nothing: report a saved run again (with --out, write it again)
 */
import { type ChildProcess, fork } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import {
  isEffectClient,
  median,
  renderMarkdown,
  renderTargetsMarkdown,
  renderTargetsText,
  renderText,
  summarize,
  tables,
  targets
} from "./report.js"
import type { ChildMessage, ChildResult, ChildSpec, Workload } from "./spec.js"
import { CLIENT_TITLES, WORKLOADS } from "./spec.js"

const self = fileURLToPath(import.meta.url)
const here = Path.dirname(self)
/** `npm run bench` runs the compiled copy in .bench/bench; `node --import tsx bench/run.ts` works too. */
const extension = Path.extname(self)
const findRoot = (dir: string): string =>
  Fs.existsSync(Path.join(dir, "package.json")) || Path.dirname(dir) === dir ? dir : findRoot(Path.dirname(dir))
const root = findRoot(here)

/** A child that has not answered by then is killed. */
const CHILD_DEADLINE_MS = 240_000
/** No new child starts after this long; what was measured is reported (three rounds: ~30 minutes on 2 slow cores). */
const RUN_LIMIT_MS = 45 * 60_000

// ---------------------------------------------------------------------------------------------
// options

const argv = process.argv.slice(2)
const option = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`)
  return at >= 0 ? argv[at + 1] : undefined
}
const list = (name: string): Array<string> | undefined => option(name)?.split(",").map((s) => s.trim())

const rounds = Number(option("rounds") ?? 5)
const scale = Number(option("scale") ?? 1)
const onlyWorkloads = list("workloads")
const onlyClients = list("clients")
const out = option("out")
const from = option("from")
const isFullRun = rounds === 5 && scale === 1 && !onlyWorkloads && !onlyClients && !from

const knownWorkloads: ReadonlyArray<string> = WORKLOADS.map((w) => w.name)
const knownClients: ReadonlyArray<string> = Object.keys(CLIENT_TITLES)
const unknown = [
  ...(onlyWorkloads ?? []).filter((w) => !knownWorkloads.includes(w)).map((w) => `workload ${w}`),
  ...(onlyClients ?? []).filter((c) => !knownClients.includes(c)).map((c) => `client ${c}`)
]
if (!Number.isInteger(rounds) || rounds < 1 || !(scale > 0) || unknown.length > 0) {
  if (unknown.length > 0) console.error(`unknown ${unknown.join(", ")}`)
  console.error("usage: npm run bench -- [--rounds N] [--workloads a,b] [--clients a,b] [--scale X] [--out FILE]")
  console.error(`  workloads: ${knownWorkloads.join(", ")}\n  clients: ${knownClients.join(", ")}`)
  process.exit(64)
}

const effectAvailable = from !== undefined || Fs.existsSync(Path.join(root, "src", "AuthleteClient.ts"))
if (!effectAvailable) {
  console.error(
    "note: src/AuthleteClient.ts does not exist yet; the effect-undici and effect-fetch clients are skipped"
  )
}

const planFor = (scaleBy: number): Array<Workload> =>
  WORKLOADS
    .filter((w) => !onlyWorkloads || onlyWorkloads.includes(w.name))
    .map((w) => ({
      ...w,
      title: w.title.replace("{calls}", Math.max(1, Math.round(w.calls * scaleBy)).toLocaleString("en-US")),
      calls: Math.max(1, Math.round(w.calls * scaleBy)),
      warmup: Math.round(w.warmup * scaleBy),
      clients: w.clients.filter((c) =>
        (!onlyClients || onlyClients.includes(c)) && (effectAvailable || !isEffectClient(c))
      )
    }))
    .filter((w) => w.clients.length > 0)

// ---------------------------------------------------------------------------------------------
// processes

const live = new Set<ChildProcess>()

// tsx turns on source maps for the whole process, which makes every captured stack trace costly:
// the reported figures come from the compiled copy, run by plain node.
const loader = extension === ".ts" ? ["--import", "tsx"] : []

const startServer = (): Promise<{ server: ChildProcess; baseUrl: string }> =>
  new Promise((resolve, reject) => {
    const server = fork(Path.join(here, `server${extension}`), [], { execArgv: loader, stdio: "inherit" })
    live.add(server)
    const timer = setTimeout(() => reject(new Error("the canned server did not start within 30 s")), 30_000)
    server.once("message", (message: { port: number }) => {
      clearTimeout(timer)
      resolve({ server, baseUrl: `http://127.0.0.1:${message.port}` })
    })
    server.once("exit", (code) => reject(new Error(`the canned server exited with ${code}`)))
  })

const runChild = (spec: ChildSpec): Promise<ChildResult> =>
  new Promise((resolve, reject) => {
    const child = fork(Path.join(here, `child${extension}`), [JSON.stringify(spec)], {
      // BENCH_CHILD_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=DIR" profiles each child.
      execArgv: [...loader, "--expose-gc", ...(process.env.BENCH_CHILD_NODE_OPTIONS?.split(" ").filter(Boolean) ?? [])],
      stdio: "inherit"
    })
    live.add(child)
    let answer: ChildMessage | undefined
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${spec.client}/${spec.workload}: no answer within ${(spec.deadlineMs + 30_000) / 1000} s`))
    }, spec.deadlineMs + 30_000)
    child.on("message", (message: ChildMessage) => (answer = message))
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      live.delete(child)
      if (answer?.type === "result") resolve(answer.result)
      else if (answer?.type === "error") reject(new Error(`${spec.client}/${spec.workload}: ${answer.message}`))
      else reject(new Error(`${spec.client}/${spec.workload}: exited (${signal ?? code}) without an answer`))
    })
  })

const stopAll = () => {
  for (const child of live) child.kill("SIGTERM")
}
process.on("SIGINT", () => {
  stopAll()
  process.exit(130)
})
process.on("SIGTERM", () => {
  stopAll()
  process.exit(143)
})

// ---------------------------------------------------------------------------------------------
// the run

const fmtCount = (n: number) => n.toLocaleString("en-US")

const describeResult = (r: ChildResult) => {
  const perCall = r.perCallMicros < 10 ? r.perCallMicros.toFixed(2) : r.perCallMicros.toFixed(1)
  const memory = r.memory && r.memory.length > 1
    ? `  rss(gc) ${(r.memory[0]!.rssAfterGc / 1_048_576).toFixed(1)}→${
      (r.memory[r.memory.length - 1]!.rssAfterGc / 1_048_576).toFixed(1)
    } MB`
    : ""
  return `${perCall} µs/op  ${fmtCount(Math.round(r.perSecond))}/s  cpu ${r.cpuPerCallMicros.toFixed(1)} µs/op  ` +
    `peak ${(r.peakRssBytes / 1_048_576).toFixed(0)} MB${memory}`
}

const machine = () => {
  const cpus = Os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    node: process.version,
    os: `${Os.type()} ${Os.release()} ${Os.arch()}`,
    memoryGiB: Math.round(Os.totalmem() / 2 ** 30),
    date: new Date().toISOString()
  }
}

/** One run: what `latest.json` holds. */
interface Run {
  readonly machine: ReturnType<typeof machine>
  readonly rounds: number
  readonly scale: number
  readonly elapsedSeconds?: number
  readonly stoppedEarly?: boolean
  readonly results: ReadonlyArray<ChildResult>
  readonly failures: ReadonlyArray<string>
}

const measure = async (plan: ReadonlyArray<Workload>): Promise<Run> => {
  const startedAt = Date.now()
  const { server, baseUrl } = await startServer()
  const results: Array<ChildResult> = []
  const failures: Array<string> = []
  let stoppedEarly = false
  console.error(
    `bench: ${rounds} round(s), server ${baseUrl} (pid ${server.pid}), ` +
      `${plan.reduce((n, w) => n + w.clients.length * Math.min(rounds, w.rounds ?? rounds), 0)} child processes`
  )

  outer: for (let round = 1; round <= rounds; round++) {
    for (const workload of plan) {
      if (workload.rounds !== undefined && round > workload.rounds) continue
      for (const client of workload.clients) {
        if (Date.now() - startedAt > RUN_LIMIT_MS) {
          stoppedEarly = true
          break outer
        }
        const spec: ChildSpec = {
          client,
          workload: workload.name,
          baseUrl,
          calls: workload.calls,
          warmup: workload.warmup,
          concurrency: workload.concurrency,
          deadlineMs: CHILD_DEADLINE_MS
        }
        const t0 = Date.now()
        try {
          const result = await runChild(spec)
          results.push(result)
          console.error(
            `[round ${round}] ${workload.name.padEnd(15)} ${client.padEnd(15)} ${describeResult(result)}  ` +
              `(${((Date.now() - t0) / 1000).toFixed(1)} s)`
          )
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          failures.push(`round ${round}: ${message}`)
          console.error(`[round ${round}] ${workload.name.padEnd(15)} ${client.padEnd(15)} FAILED: ${message}`)
        }
      }
    }
  }
  server.disconnect()
  live.delete(server)
  return {
    machine: machine(),
    rounds,
    scale,
    elapsedSeconds: Math.round((Date.now() - startedAt) / 1000),
    stoppedEarly,
    results,
    failures
  }
}

const report = (run: Run, plan: ReadonlyArray<Workload>, target: string | undefined) => {
  const { failures, machine: info, results } = run
  const summaries = summarize(results)
  const rendered = tables(plan, summaries)
  const goals = targets(summaries)
  const loads = results.map((r) => r.loadAverage).filter((n) => Number.isFinite(n))
  // The bench itself keeps about two processes busy (client and server); more means other work shared the cores.
  const busy = loads.length > 0 && Math.max(...loads) > 2.5
  const load = loads.length === 0
    ? "n/a"
    : `${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)} (median ${median(loads).toFixed(2)})` +
      (busy ? "; above 2.5, other processes shared the cores: figures are noisy" : "")
  const elapsed = run.elapsedSeconds === undefined ? "n/a" : `${run.elapsedSeconds} s`
  const scaled = run.scale === 1 ? "" : ` (counts scaled by ${run.scale})`

  console.log()
  console.log(
    `machine: ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB; node ${info.node}; ${info.os}; ${info.date}; ` +
      `${run.rounds} round(s)${scaled}, medians; run took ${elapsed}\n` +
      `1-minute load average at the end of each child: ${load}`
  )
  for (const table of rendered) console.log(`\n${renderText(table)}`)
  console.log(`\n${renderTargetsText(goals)}`)
  if (failures.length > 0) console.log(`\nfailures:\n${failures.map((f) => `  ${f}`).join("\n")}`)
  if (run.stoppedEarly) console.log(`\nstopped early: the run limit of ${RUN_LIMIT_MS / 60_000} minutes was reached`)

  if (target === undefined) return
  const markdown = [
    "# effect-authlete benchmark: latest results",
    "",
    "Written by `npm run bench` (bench/run.ts). Each (client, workload, round) ran in a fresh Node process",
    "against a canned Authlete (Node `http`, keep-alive, fixed 200 JSON per path) in its own process on",
    "127.0.0.1; rounds alternate the clients; figures are medians over the rounds; every ratio is against",
    "the floor (`dispatch`: undici's `Pool.dispatch` with one handler object) or the SDK in the same run.",
    "",
    "| machine | |",
    "|---|---|",
    `| CPU | ${info.cpu} |`,
    `| cores | ${info.cores} |`,
    `| memory | ${info.memoryGiB} GiB |`,
    `| Node | ${info.node} |`,
    `| OS | ${info.os} |`,
    `| date | ${info.date} |`,
    `| rounds | ${run.rounds}${scaled} |`,
    `| run time | ${elapsed} |`,
    `| 1-minute load average at the end of each child | ${load} |`,
    "",
    "## Targets",
    "",
    renderTargetsMarkdown(goals),
    "",
    "## Results",
    "",
    ...rendered.flatMap((table) => [renderMarkdown(table), ""]),
    "## Clients",
    "",
    ...Object.entries(CLIENT_TITLES).map(([name, title]) => `- \`${name}\`: ${title}`),
    "",
    "See bench/README.md for what each client and workload does; latest.json beside this file holds every",
    "child's raw result.",
    ...(failures.length > 0 ? ["", "## Failures", "", ...failures.map((f) => `- ${f}`)] : []),
    ...(run.stoppedEarly ? ["", `Stopped early at the run limit (${RUN_LIMIT_MS / 60_000} minutes).`] : []),
    ""
  ].join("\n")
  Fs.mkdirSync(Path.dirname(target), { recursive: true })
  Fs.writeFileSync(target, markdown)
  Fs.writeFileSync(target.replace(/\.md$/, "") + ".json", JSON.stringify(run, null, 2) + "\n")
  console.log(`\nwrote ${Path.relative(process.cwd(), target)}`)
}

const main = async () => {
  const run = from === undefined
    ? await measure(planFor(scale))
    : JSON.parse(Fs.readFileSync(from, "utf8")) as Run
  const target = out ?? (isFullRun ? Path.join(root, "bench", "results", "latest.md") : undefined)
  report(run, planFor(run.scale), target)
  process.exitCode = run.failures.length > 0 ? 1 : 0
}

main().catch((error) => {
  console.error(error)
  stopAll()
  process.exit(1)
})
