/**
 * `npm run bench:server`: how many CIBA flows a second the authorization server sustains, durable
 * (`effect-authlete serve` on SQLite, and three `serve` nodes on one PostgreSQL) and in memory (the
 * playground's server), on this machine, with Authlete simulated answering every call 50 ms late.
 *
 * Method. For each system, in processes of its own: the simulator (`effect-authlete simulate
 * --latency 50 --interval 0`, a POLL, a PING and a PUSH client whose notification endpoints are the
 * load generator's), the system under test from the build (`dist/esm/cli/main.js serve ...
 * --automated-approval --allow-local-notifications`, every abuse limit off; PostgreSQL: a fresh
 * database in the cluster of `--pg-url`, nodes started one after the other; in memory:
 * `memory-server.ts`), and the load generator (`loadgen.ts`). The load generator starts flows open-loop
 * (at a fixed rate whatever the answers), POLL, PING and PUSH in turn, each request to the next node in
 * turn: `/backchannel`, then at once the automated approval (`POST /ciba/approve/{id}/allow`), then
 * POLL: token requests every `--poll-ms` until tokens; PING: the ping, then a token request; PUSH:
 * the push with the tokens. After a warm-up, the rate goes up in steps (`--start` times `--factor`
 * each step, or `--rates`), each `--step-seconds` long; a step holds when, over its window (the step
 * without its first `--settle` seconds), flows completed at 90% of the offered rate at least, at most
 * 1% failed, every flow of the step finished within `--drain` seconds of its end, and the p99 of a
 * whole flow stayed under `--slo-ms`. The first step that does not hold ends the system's run:
 * the last that held is its sustained rate, with its latencies; at the first that did not, the CPU
 * each process group used (`/proc/<pid>/stat`: the nodes, PostgreSQL's postmaster and children, the
 * simulator, the load generator; the machine from `/proc/stat`) names what saturated (`report.ts`).
 * Decision to delivery is timed from the approval's request (the in-memory server carries the
 * decision out before it answers; the durable one answers once the decision is recorded).
 *
 * Options: --systems serve-sqlite,serve-pg,playground --rates 10,20,40 | --start 4 --factor 1.5
 * --max-rate 400; --step-seconds 15 --settle 3 --drain 10 --warmup 5 --poll-ms 200 --latency 50
 * --slo-ms 5000 --nodes 3 --pg-url postgres://postgres@127.0.0.1:15432/effect_authlete_test
 * (EFFECT_AUTHLETE_TEST_PG_URL; any database of the cluster: a fresh one is created beside it and
 * dropped at the end) --out FILE. A run with the default measuring options writes
 * bench/results/capacity.md (and .json); any other prints only, unless --out is given.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { type ChildProcess, fork, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import type { FromChild, Mode, StepOptions, StepResult, Target, ToChild } from "./loadgen.js"
import { family, type Groups, processStat, shares, snapshot } from "./procstat.js"
import {
  type Criteria,
  judge,
  type MeasuredStep,
  percentile,
  renderRatios,
  renderSteps,
  renderSummary,
  resourceOf,
  saturationOf,
  type SystemRun
} from "./report.js"

// -------------------------------------------------------------------------------------- the options

const SYSTEMS = ["serve-sqlite", "serve-pg", "playground"] as const
type SystemName = (typeof SYSTEMS)[number]

const DEFAULTS = {
  systems: "serve-sqlite,serve-pg,playground",
  rates: "",
  start: "4",
  factor: "1.5",
  "max-rate": "400",
  "step-seconds": "15",
  settle: "3",
  drain: "10",
  warmup: "5",
  "poll-ms": "200",
  latency: "50",
  "slo-ms": "5000",
  refine: "1",
  nodes: "3",
  "pg-url": process.env.EFFECT_AUTHLETE_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:15432/effect_authlete_test",
  out: ""
}
type OptionName = keyof typeof DEFAULTS

const roundRate = (r: number) => (r >= 20 ? Math.round(r) : Math.round(r * 10) / 10)
/** Options that do not change what is measured. */
const NEUTRAL: ReadonlyArray<OptionName> = ["pg-url", "out"]

const parseArgs = (argv: ReadonlyArray<string>) => {
  const given: Partial<Record<OptionName, string>> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--help" || arg === "-h") {
      console.log(
        "npx tsx bench/capacity/run.ts [--systems serve-sqlite,serve-pg,playground] [--rates 10,20 | --start N" +
          " --factor X --max-rate N]\n  [--step-seconds 15] [--settle 3] [--drain 10] [--warmup 5] [--poll-ms 200]" +
          " [--latency 50] [--slo-ms 5000]\n  [--nodes 3] [--pg-url URL] [--out FILE]\n(see the comment at the top of" +
          " bench/capacity/run.ts)"
      )
      process.exit(0)
    }
    const name = arg.replace(/^--/, "") as OptionName
    if (!arg.startsWith("--") || !(name in DEFAULTS) || argv[i + 1] === undefined) {
      console.error(`Unknown option or missing value: ${arg} (--help lists them)`)
      process.exit(2)
    }
    given[name] = argv[++i]!
  }
  const value = (name: OptionName) => given[name] ?? DEFAULTS[name]
  const number = (name: OptionName) => {
    const n = Number(value(name))
    if (!Number.isFinite(n) || n <= 0) {
      console.error(`--${name} takes a positive number, not ${value(name)}`)
      process.exit(2)
    }
    return n
  }
  const systems = value("systems").split(",").filter((s) => s !== "") as Array<SystemName>
  for (const system of systems) {
    if (!SYSTEMS.includes(system)) {
      console.error(`Unknown system ${system}: among ${SYSTEMS.join(", ")}`)
      process.exit(2)
    }
  }
  const rates = value("rates") !== ""
    ? value("rates").split(",").map(Number)
    : Array.from({ length: 60 }, (_, k) => roundRate(number("start") * number("factor") ** k)).filter((r, k, all) =>
      r <= number("max-rate") && all.indexOf(r) === k
    )
  if (rates.some((r) => !Number.isFinite(r) || r <= 0)) {
    console.error("--rates takes positive numbers separated by commas")
    process.exit(2)
  }
  return {
    systems,
    rates,
    stepSeconds: number("step-seconds"),
    settleSeconds: number("settle"),
    drainSeconds: number("drain"),
    warmupSeconds: number("warmup"),
    pollMillis: number("poll-ms"),
    latency: number("latency"),
    sloMillis: number("slo-ms"),
    nodes: Math.round(number("nodes")),
    refine: value("refine") === "0" ? 0 : Math.round(number("refine")),
    pgUrl: value("pg-url"),
    out: value("out"),
    /** Every option that changes what is measured was left at its default. */
    standard: (Object.keys(given) as Array<OptionName>).every((name) => NEUTRAL.includes(name)),
    given
  }
}

const options = parseArgs(process.argv.slice(2))
const criteria: Criteria = { throughputShare: 0.9, errorShare: 0.01, flowP99Millis: options.sloMillis }

// ---------------------------------------------------------------------------------------- the paths

const here = Path.dirname(fileURLToPath(import.meta.url))
/** Run from the sources with tsx, or compiled (`.bench/bench/capacity/run.js`). */
const fromSources = import.meta.url.endsWith(".ts")
const extension = fromSources ? ".ts" : ".js"
const root = (() => {
  for (let directory = here; directory !== Path.dirname(directory); directory = Path.dirname(directory)) {
    const manifest = Path.join(directory, "package.json")
    if (
      Fs.existsSync(manifest) &&
      (JSON.parse(Fs.readFileSync(manifest, "utf8")) as { name?: string }).name === "effect-authlete"
    ) {
      return directory
    }
  }
  throw new Error("Not inside the effect-authlete repository")
})()
const cli = Path.join(root, "dist/esm/cli/main.js")
const tsxArgs = fromSources ? ["--import", "tsx"] : []

// ----------------------------------------------------------------------------------- the processes

/** Every process started, stopped on the way out whatever happens. */
const children = new Set<ChildProcess>()

const killAll = () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
}
process.on("exit", killAll)

interface Started<Info> {
  readonly child: ChildProcess
  readonly info: Info
}

/**
 * Starts `node <args>` in the repository, with only `env` (and PATH), and resolves with the first
 * JSON line it prints; its stderr and the rest of its stdout go to `logFile`.
 */
const start = <Info>(args: ReadonlyArray<string>, env: Record<string, string>, logFile: string) =>
  new Promise<Started<Info>>((resolve, reject) => {
    const log = Fs.createWriteStream(logFile, { flags: "a" })
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.add(child)
    child.once("exit", () => {
      children.delete(child)
      log.end()
    })
    child.stderr!.pipe(log, { end: false })
    let buffered = ""
    let announced = false
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${args.join(" ")} did not start within 120 s; see ${logFile}`))
    }, 120_000)
    child.stdout!.on("data", (chunk: Buffer) => {
      if (announced) return void log.write(chunk)
      buffered += chunk.toString("utf8")
      const line = buffered.split("\n").find((candidate) => candidate.startsWith("{") && candidate.endsWith("}"))
      if (line === undefined) return
      announced = true
      clearTimeout(timer)
      resolve({ child, info: JSON.parse(line) as Info })
    })
    child.once("exit", (code, signal) => {
      if (announced) return
      clearTimeout(timer)
      reject(new Error(`${args.slice(-20).join(" ")} exited (${signal ?? code}) before it started; see ${logFile}`))
    })
  })

/** SIGTERM, then SIGKILL after 5 seconds; resolves once it has exited. */
const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill("SIGTERM")
  })

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as Net.AddressInfo
      server.close(() => resolve(port))
    })
  })

const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

/** The next message of the load generator (or its exit, an error). */
const nextMessage = (child: ChildProcess) =>
  new Promise<FromChild>((resolve, reject) => {
    const onExit = () => reject(new Error("the load generator exited"))
    child.once("exit", onExit)
    child.once("message", (message: FromChild) => {
      child.off("exit", onExit)
      resolve(message)
    })
  })

const tell = (child: ChildProcess, message: ToChild) => child.send(message)

// ---------------------------------------------------------------------------------------- PostgreSQL

/** Runs statements on the database of `url`, over one connection closed afterwards. */
const onPostgres = <A>(url: string, f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(
    Effect.flatMap(SqlClient.SqlClient, f).pipe(
      Effect.scoped,
      Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1, connectTimeout: "5 seconds" })),
      Effect.timeout("30 seconds")
    )
  )

const withDatabase = (url: string, database: string) => {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

const shownUrl = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")

interface PostgresInfo {
  readonly postmaster: number | undefined
  readonly version: string
  readonly fsync: string
  readonly synchronousCommit: string
}

// ------------------------------------------------------------------------------------------ a system

interface SimulatorInfo {
  readonly baseUrl: string
  readonly serviceId: string
  readonly accessToken: string
  readonly clients: ReadonlyArray<
    { readonly clientId: string; readonly clientSecret: string; readonly deliveryMode: Mode }
  >
}

const DESCRIPTIONS: Record<SystemName, (nodes: number) => string> = {
  "serve-sqlite": () => "one `effect-authlete serve` node on SQLite (a temporary file): the durable engine, one runner",
  "serve-pg": (nodes) =>
    `${nodes} \`effect-authlete serve\` nodes on one PostgreSQL (a fresh database): one cluster, requests round-robin`,
  playground: () =>
    "the playground's server (`bench/capacity/memory-server.ts`: in-memory store, `Decisions.layer`) against the same simulator"
}

const LIMITS_OFF = [
  "--limit-per-client",
  "off",
  "--limit-per-user",
  "off",
  "--limit-pending-per-user",
  "off",
  "--limit-wrong-user-codes",
  "off"
]

const progress = (line: string) => console.log(line)

const describeStep = (step: MeasuredStep) => {
  const r = step.result
  const p = (values: ReadonlyArray<number>) =>
    `${Math.round(percentile(values, 0.5) ?? 0)}/${Math.round(percentile(values, 0.99) ?? 0)} ms`
  const cpu = Object.entries(step.cpu.groups).map(([name, value]) => `${name} ${Math.round(value)}%`).join(" ")
  return `  ${r.rate}/s offered: ${
    r.throughput.toFixed(1)
  }/s completed, ${r.errors} errors, ${r.unfinished} unfinished;` +
    ` backchannel ${p(r.backchannel)}, approval ${p(r.approval)}, token ${p(r.token)},` +
    ` decision to delivery ${p(r.decisionToDelivery)}; CPU ${cpu}, machine ${Math.round(step.cpu.machine)}%` +
    ` ${step.failures.length === 0 ? "- held" : `- did not hold: ${step.failures.join("; ")}`}`
}

let postgresInfo: PostgresInfo | undefined
/** The database the PostgreSQL system runs on, while it runs (dropped on the way out). */
let currentDatabase: string | undefined

const dropDatabase = (database: string) =>
  onPostgres(options.pgUrl, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`))

const runSystem = async (name: SystemName, logs: string): Promise<SystemRun> => {
  const description = DESCRIPTIONS[name](options.nodes)
  progress(`\n${name}: ${description}`)
  const started: Array<ChildProcess> = []
  let database: string | undefined
  try {
    // The load generator first: its receiver is the clients' notification endpoint.
    const loadgen = fork(Path.join(here, `loadgen${extension}`), [], {
      cwd: root,
      execArgv: fromSources ? process.execArgv : [],
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    children.add(loadgen)
    loadgen.once("exit", () => children.delete(loadgen))
    started.push(loadgen)
    const ready = await nextMessage(loadgen)
    if (ready.type !== "ready") throw new Error("the load generator did not start")

    const simulator = await start<SimulatorInfo>(
      [
        cli,
        "simulate",
        "--json",
        "--latency",
        String(options.latency),
        "--interval",
        "0",
        "--ping-endpoint",
        `${ready.receiverUrl}/ping`,
        "--push-endpoint",
        `${ready.receiverUrl}/push`
      ],
      {},
      Path.join(logs, `${name}-simulator.log`)
    )
    started.push(simulator.child)
    const env = {
      AUTHLETE_BASE_URL: simulator.info.baseUrl,
      AUTHLETE_SERVICE_APIKEY: simulator.info.serviceId,
      AUTHLETE_SERVICE_ACCESSTOKEN: simulator.info.accessToken,
      EFFECT_AUTHLETE_SECRET_KEY: randomBytes(32).toString("base64")
    }

    const nodes: Array<Started<{ issuer: string }>> = []
    let postmaster: number | undefined
    const serveArgs = ["serve", "--json", "--automated-approval", "--allow-local-notifications", ...LIMITS_OFF]
    if (name === "serve-sqlite") {
      const file = Path.join(logs, "capacity.db")
      nodes.push(await start([cli, ...serveArgs, "--database", file], env, Path.join(logs, `${name}-node-0.log`)))
    } else if (name === "serve-pg") {
      database = `effect_authlete_capacity_${Date.now()}`
      currentDatabase = database
      try {
        postgresInfo = await onPostgres(options.pgUrl, (sql) =>
          Effect.gen(function*() {
            yield* sql.unsafe(`CREATE DATABASE ${database}`)
            const rows = yield* sql<{ pid: number; version: string; fsync: string; synchronous_commit: string }>`
              SELECT pg_backend_pid() AS pid, version() AS version, current_setting('fsync') AS fsync,
                current_setting('synchronous_commit') AS synchronous_commit`
            const row = rows[0]!
            return {
              postmaster: processStat(row.pid)?.ppid,
              version: row.version.split(" ").slice(0, 2).join(" "),
              fsync: row.fsync,
              synchronousCommit: row.synchronous_commit
            }
          }))
      } catch (error) {
        database = currentDatabase = undefined
        const reason = `PostgreSQL at ${shownUrl(options.pgUrl)} unreachable (${
          error instanceof Error ? error.message.split("\n")[0] : String(error)
        }); start one with \`bash .ci/postgres start\` or give --pg-url`
        progress(`  skipped: ${reason}`)
        return { name, description, steps: [], skipped: reason }
      }
      postmaster = postgresInfo.postmaster
      const url = withDatabase(options.pgUrl, database)
      // One after the other: the first creates the tables, the others find them.
      for (let index = 0; index < options.nodes; index++) {
        nodes.push(
          await start(
            [cli, ...serveArgs, "--database", url, "--runner-port", String(await freePort())],
            env,
            Path.join(logs, `${name}-node-${index}.log`)
          )
        )
      }
    } else {
      nodes.push(
        await start([...tsxArgs, Path.join(here, `memory-server${extension}`)], env, Path.join(logs, `${name}.log`))
      )
    }
    started.push(...nodes.map((node) => node.child))
    // Several nodes: the shards settle among them (assignments refreshed every second, locks every 5 s).
    if (nodes.length > 1) await sleep(10_000)
    progress(`  serving: ${nodes.map((node) => node.info.issuer).join(", ")}; simulator ${simulator.info.baseUrl}`)

    const clientOf = (mode: Mode) => {
      const client = simulator.info.clients.find((candidate) => candidate.deliveryMode === mode)!
      return { clientId: client.clientId, clientSecret: client.clientSecret }
    }
    const target: Target = {
      nodes: nodes.map((node) => node.info.issuer),
      clients: { POLL: clientOf("POLL"), PING: clientOf("PING"), PUSH: clientOf("PUSH") },
      loginHints: ["taro@example.com", "alice@example.com", "bob@example.com"]
    }
    tell(loadgen, { type: "target", target })

    const groups: Groups = {
      nodes: () => nodes.map((node) => node.child.pid!),
      ...(postmaster === undefined ? {} : { postgres: () => family(postmaster) }),
      simulator: () => [simulator.child.pid!],
      loadgen: () => [loadgen.pid!]
    }
    const stepOptions = (rate: number, seconds: number): StepOptions => ({
      rate,
      seconds,
      settleSeconds: Math.min(options.settleSeconds, seconds / 2),
      drainSeconds: options.drainSeconds,
      pollMillis: options.pollMillis,
      flowTimeoutMillis: 30_000,
      maxInFlight: 5_000
    })
    const measure = async (rate: number, seconds: number): Promise<MeasuredStep> => {
      const stepping = stepOptions(rate, seconds)
      const answer = nextMessage(loadgen)
      // Awaited below; meanwhile a load generator gone (Ctrl-C) is not an unhandled rejection.
      answer.catch(() => undefined)
      tell(loadgen, { type: "step", options: stepping })
      await sleep(stepping.settleSeconds * 1000)
      const before = snapshot(groups)
      await sleep((seconds - stepping.settleSeconds) * 1000)
      const after = snapshot(groups)
      const message = await answer
      if (message.type !== "step-result") throw new Error("the load generator answered out of turn")
      const result: StepResult = message.result
      return { result, cpu: shares(before, after), failures: judge(result, criteria) }
    }

    const warm = await measure(options.rates[0]!, options.warmupSeconds)
    progress(`  warm-up${describeStep(warm).replace(/ - (held|did not hold).*$/, "")}`)
    for (const sample of warm.result.errorSamples.slice(0, 2)) progress(`    error: ${sample}`)
    const steps: Array<MeasuredStep> = []
    const run = async (rate: number) => {
      const step = await measure(rate, options.stepSeconds)
      steps.push(step)
      progress(describeStep(step))
      for (const sample of step.result.errorSamples.slice(0, 2)) progress(`    error: ${sample}`)
      return step.failures.length === 0
    }
    let held: number | undefined
    let failed: number | undefined
    for (const rate of options.rates) {
      if (!(await run(rate))) {
        failed = rate
        break
      }
      held = rate
    }
    // Between the last rate that held and the first that did not, once the backlog has cleared.
    for (let i = 0; i < options.refine && held !== undefined && failed !== undefined; i++) {
      const middle = roundRate(Math.sqrt(held * failed))
      if (middle <= held || middle >= failed) break
      tell(loadgen, { type: "quiesce", seconds: 30 })
      await nextMessage(loadgen)
      await sleep(2_000)
      if (await run(middle)) held = middle
      else failed = middle
    }
    return { name, description, steps }
  } finally {
    await Promise.all(started.reverse().map(stop))
    if (database !== undefined) {
      const dropped = database
      await dropDatabase(dropped).catch((error: unknown) =>
        progress(`  could not drop the database ${dropped}: ${String(error)}`)
      )
      currentDatabase = undefined
    }
  }
}

// ------------------------------------------------------------------------------------------ the run

const statsOf = (values: ReadonlyArray<number>) => ({
  count: values.length,
  p50: percentile(values, 0.5),
  p90: percentile(values, 0.9),
  p99: percentile(values, 0.99),
  max: percentile(values, 1)
})

const main = async () => {
  if (!Fs.existsSync(cli)) {
    console.error(`${cli} is missing: run \`npm run build\` first`)
    process.exit(1)
  }
  const logs = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-authlete-capacity-"))
  const began = new Date()
  const loadBefore = Os.loadavg()
  const command = `npm run bench:server${
    Object.keys(options.given).length === 0
      ? ""
      : ` -- ${Object.entries(options.given).map(([name, value]) => `--${name} ${shownUrl(value)}`).join(" ")}`
  }`
  progress(`${command}: rates ${options.rates.join(", ")}/s, ${options.stepSeconds} s a step; logs in ${logs}`)
  const runs: Array<SystemRun> = []
  for (const system of options.systems) {
    try {
      runs.push(await runSystem(system, logs))
    } catch (error) {
      // Stopping: nothing more starts, and nothing is written.
      if (stopping) return await new Promise<never>(() => undefined)
      const reason = error instanceof Error ? error.message : String(error)
      progress(`  failed: ${reason}`)
      runs.push({ name: system, description: DESCRIPTIONS[system](options.nodes), steps: [], skipped: reason })
    }
  }
  const seconds = Math.round((Date.now() - began.getTime()) / 1000)
  const loadAfter = Os.loadavg()
  const cpus = Os.cpus()
  const summary = renderSummary(runs)
  const ratios = renderRatios(runs, "playground")
  const report = [
    "# Capacity",
    "",
    `\`${command}\`, ${began.toISOString().slice(0, 10)}, ${seconds} s; ${cpus.length} cores (${
      cpus[0]?.model.trim() ?? "unknown"
    }), Node ${process.version}; load average ${loadBefore[0]!.toFixed(2)} before, ${loadAfter[0]!.toFixed(2)} after.`,
    `Simulated Authlete latency ${options.latency} ms a call; steps of ${options.stepSeconds} s (the first ${options.settleSeconds} s left out), rates ${
      options.rates.join(", ")
    }/s until one does not hold; POLL polls every ${options.pollMillis} ms. A step holds when at least 90% of the offered rate completes in its window, at most 1% of flows fail, all finish within ${options.drainSeconds} s of its end, and a whole flow's p99 stays under ${
      options.sloMillis / 1000
    } s.${
      postgresInfo === undefined
        ? ""
        : ` PostgreSQL: ${postgresInfo.version}, fsync ${postgresInfo.fsync}, synchronous_commit ${postgresInfo.synchronousCommit}.`
    }`,
    "",
    "Sustained: the highest step that held (latencies at that step); peak: the most flows completed a second in any step; CPU in % of one core, at the first step that did not hold.",
    "",
    summary,
    "",
    ratios,
    "",
    "## Every step",
    "",
    ...runs.filter((run) => run.skipped === undefined).flatMap((run) => [renderSteps(run), ""])
  ].join("\n")
  progress(`\n${summary}\n\n${ratios}`)
  const out = options.out !== "" ? Path.resolve(options.out) : options.standard
    ? Path.join(root, "bench/results/capacity.md")
    : undefined
  if (out !== undefined) {
    Fs.mkdirSync(Path.dirname(out), { recursive: true })
    Fs.writeFileSync(out, report)
    Fs.writeFileSync(
      out.replace(/\.md$/, "") + ".json",
      JSON.stringify(
        {
          began: began.toISOString(),
          seconds,
          options: { ...options, pgUrl: shownUrl(options.pgUrl), given: undefined },
          loadBefore,
          loadAfter,
          postgres: postgresInfo,
          systems: runs.map((run) => ({
            name: run.name,
            skipped: run.skipped,
            saturates: resourceOf(saturationOf(run).saturated),
            steps: run.steps.map(({ cpu, failures, result }) => ({
              rate: result.rate,
              throughput: result.throughput,
              started: result.started,
              completed: result.completed,
              errors: result.errors,
              unfinished: result.unfinished,
              errorSamples: result.errorSamples,
              pollsPerFlow: result.pollsPerFlow,
              backchannel: statsOf(result.backchannel),
              approval: statsOf(result.approval),
              token: statsOf(result.token),
              decisionToDelivery: statsOf(result.decisionToDelivery),
              answerToDelivery: statsOf(result.answerToDelivery),
              flow: statsOf(result.flow),
              byMode: Object.fromEntries(
                Object.entries(result.byMode).map(([mode, values]) => [mode, statsOf(values)])
              ),
              cpu,
              failures
            }))
          }))
        },
        null,
        2
      ) + "\n"
    )
    progress(`\nWritten to ${out.startsWith(root) ? Path.relative(root, out) : out}`)
  }
}

/** Set by Ctrl-C or SIGTERM: the run's own failures that follow are the stop's, not errors. */
let stopping = false

// Ctrl-C or SIGTERM: every child goes, and the PostgreSQL database (within 5 seconds).
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    killAll()
    const database = currentDatabase
    void Promise.race([database === undefined ? Promise.resolve() : dropDatabase(database), sleep(5_000)]).catch(
      () => undefined
    ).finally(() => process.exit(130))
  })
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    // Stopping: the signal's handler drops the database and exits.
    if (stopping) return
    console.error(error)
    killAll()
    process.exit(1)
  }
)
