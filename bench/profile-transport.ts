/**
 * Where a client's time goes: a CPU profile of `/complete` calls against the canned server
 * (bench/server.ts, started in its own process so that only the client is profiled), and a summary of
 * the profile's self time by frame and by package.
 *
 *   npx tsc -p bench/tsconfig.json
 *   node .bench/bench/profile-transport.js                        # effect-platform, 5,000 sequential calls
 *   node .bench/bench/profile-transport.js --client effect-fetch --calls 5000 --concurrency 32
 *   node .bench/bench/profile-transport.js --summarize /tmp/prof/CPU.x.cpuprofile   # any .cpuprofile
 *
 * Options: `--client` (any network client of bench/spec.ts that runs `complete`: effect-platform,
 * platform-raw, effect-fetch, fetch-effect, effect-undici, effect-floor, dispatch, ...), `--calls`
 * (timed, default 5,000), `--warmup` (untimed, before the profile starts; default 1,000),
 * `--concurrency` (default 1), `--out FILE` (where the `.cpuprofile` goes; default
 * `/tmp/profile-<client>.cpuprofile`), `--top N` (frames shown, default 30), `--no-profile` (time the
 * same run without the profiler: wall time and client CPU per call only), `--callers NAME` (with
 * `--summarize`: the stacks, three frames up, under which frames whose function name is NAME spent
 * their self time).
 *
 * The profile is V8's sampling CPU profiler (the one `node --cpu-prof` writes), started through
 * `node:inspector` after the warm-up so that start-up, compilation and warm-up stay out of it. The
 * summary leaves out `(idle)` (waiting for the network) and `(program)` (native work V8 cannot
 * attribute) from the shares, and prints the wall time and client CPU per call of the profiled run
 * (higher than the benchmark's: the profiler samples every 100 µs).
 */
import { fork } from "node:child_process"
import * as Fs from "node:fs"
import * as Inspector from "node:inspector"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import type { ClientFactory } from "./clients.js"
import { EXPECTED_ACTION } from "./fixtures.js"

const argv = process.argv.slice(2)
const option = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`)
  return at >= 0 ? argv[at + 1] : undefined
}

// ---------------------------------------------------------------------------------------------
// the summary

interface ProfileNode {
  readonly id: number
  readonly callFrame: {
    readonly functionName: string
    readonly url: string
    readonly lineNumber: number
    readonly columnNumber: number
  }
  readonly children?: ReadonlyArray<number>
}

interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly endTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** Where a frame's code lives: a package, Node's own code, this project's, or V8's pseudo-frames. */
const packageOf = (url: string, functionName: string): string => {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)"
  if (url.startsWith("node:")) return "node"
  const modules = url.lastIndexOf("/node_modules/")
  if (modules >= 0) {
    const rest = url.slice(modules + "/node_modules/".length).split("/")
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  if (url.includes("/src/")) return "effect-authlete (src)"
  if (url.includes("/bench/")) return "bench"
  return "other"
}

const shortUrl = (url: string): string => {
  const modules = url.lastIndexOf("/node_modules/")
  if (modules >= 0) return url.slice(modules + "/node_modules/".length)
  const root = url.lastIndexOf("/.bench/")
  return root >= 0 ? url.slice(root + "/.bench/".length) : url.replace(/^file:\/\//, "")
}

/** Where the frames named `name` were called from: their self time by the three frames above them. */
export const callers = (profile: Profile, name: string, top: number): string => {
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const label = (id: number) => {
    const { functionName, lineNumber, url } = byId.get(id)!.callFrame
    return url === "" ? functionName : `${functionName || "(anonymous)"} ${shortUrl(url)}:${lineNumber + 1}`
  }
  const stacks = new Map<string, number>()
  let total = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    if (byId.get(id)!.callFrame.functionName !== name) continue
    const delta = i + 1 < profile.timeDeltas.length ? Math.max(0, profile.timeDeltas[i + 1]!) : 0
    const chain: Array<string> = []
    for (let at = parent.get(id); at !== undefined && chain.length < 3; at = parent.get(at)) chain.push(label(at))
    const key = chain.join("  <  ")
    stacks.set(key, (stacks.get(key) ?? 0) + delta)
    total += delta
  }
  return [
    `${name}: ${(total / 1000).toFixed(0)} ms of self time, called from:`,
    ...[...stacks].sort((a, b) => b[1] - a[1]).slice(0, top).map(([key, micros]) =>
      `${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}`
    )
  ].join("\n")
}

export const summarize = (profile: Profile, top: number): string => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const selfMicros = new Map<number, number>()
  // Each sample's time is the delta that follows it (the last sample's runs to the end).
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = i + 1 < profile.timeDeltas.length ? profile.timeDeltas[i + 1]! : 0
    const id = profile.samples[i]!
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + Math.max(0, delta))
  }
  const frames = new Map<string, { micros: number; pkg: string }>()
  const packages = new Map<string, number>()
  let busy = 0
  let idle = 0
  for (const [id, micros] of selfMicros) {
    const { functionName, lineNumber, url } = byId.get(id)!.callFrame
    const pkg = packageOf(url, functionName)
    if (pkg === "(idle)") {
      idle += micros
      continue
    }
    busy += micros
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros)
    const key = url === "" ? functionName : `${functionName || "(anonymous)"}  ${shortUrl(url)}:${lineNumber + 1}`
    const frame = frames.get(key) ?? { micros: 0, pkg }
    frame.micros += micros
    frames.set(key, frame)
  }
  const pct = (micros: number) => `${(100 * micros / busy).toFixed(1).padStart(5)}%`
  const ms = (micros: number) => `${(micros / 1000).toFixed(0).padStart(7)} ms`
  return [
    `profiled ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms: busy ${
      (busy / 1000).toFixed(0)
    } ms, idle ${(idle / 1000).toFixed(0)} ms`,
    "",
    "self time by package (share of busy time):",
    ...[...packages].sort((a, b) => b[1] - a[1]).map(([pkg, micros]) => `${ms(micros)} ${pct(micros)}  ${pkg}`),
    "",
    `top ${top} frames by self time:`,
    ...[...frames].sort((a, b) => b[1].micros - a[1].micros).slice(0, top).map(([key, frame]) =>
      `${ms(frame.micros)} ${pct(frame.micros)}  ${key}`
    )
  ].join("\n")
}

// ---------------------------------------------------------------------------------------------
// the run

const post = <A>(session: Inspector.Session, method: string): Promise<A> =>
  new Promise((resolve, reject) =>
    session.post(method, (error, result) => (error ? reject(error) : resolve(result as A)))
  )

const startServer = (): Promise<{ baseUrl: string; stop: () => void }> =>
  new Promise((resolve, reject) => {
    const here = Path.dirname(fileURLToPath(import.meta.url))
    const extension = Path.extname(fileURLToPath(import.meta.url))
    // Not profiled: no inherited --cpu-prof.
    const server = fork(Path.join(here, `server${extension}`), [], {
      execArgv: extension === ".ts" ? ["--import", "tsx"] : [],
      stdio: "inherit"
    })
    server.once("message", (message: { port: number }) =>
      resolve({ baseUrl: `http://127.0.0.1:${message.port}`, stop: () => server.kill() }))
    server.once("exit", (code) =>
      reject(new Error(`the canned server exited with ${code}`)))
  })

const loadClient = async (client: string): Promise<ClientFactory> => {
  switch (client) {
    case "effect-undici":
      return (await import("./effect-clients.js")).effectUndici
    case "effect-platform":
      return (await import("./effect-clients.js")).effectPlatform
    case "effect-fetch":
      return (await import("./effect-clients.js")).effectFetch
    case "effect-floor":
      return (await import("./effect-clients.js")).effectFloor
    case "platform-raw":
      return (await import("./platform-clients.js")).platformRaw
    case "fetch-effect":
      return (await import("./platform-clients.js")).fetchEffect
    case "dispatch":
      return (await import("./clients.js")).dispatchFloor
    case "undici":
      return (await import("./clients.js")).undiciRequest
    case "fetch":
      return (await import("./clients.js")).fetchRaw
    default:
      throw new Error(`unknown client ${client}`)
  }
}

const drive = async (
  call: (i: number) => Promise<string | undefined>,
  from: number,
  count: number,
  concurrency: number
) => {
  let next = 0
  const caller = async () => {
    while (next < count) {
      const i = from + next++
      const action = await call(i)
      if (action !== EXPECTED_ACTION) throw new Error(`call ${i} answered ${String(action)}`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, caller))
}

const main = async () => {
  const top = Number(option("top") ?? 30)
  const saved = option("summarize")
  if (saved !== undefined) {
    const profile = JSON.parse(Fs.readFileSync(saved, "utf8")) as Profile
    const name = option("callers")
    console.log(name === undefined ? summarize(profile, top) : callers(profile, name, top))
    return
  }
  const clientName = option("client") ?? "effect-platform"
  const calls = Number(option("calls") ?? 5_000)
  const warmup = Number(option("warmup") ?? 1_000)
  const concurrency = Number(option("concurrency") ?? 1)
  const out = option("out") ?? `/tmp/profile-${clientName}.cpuprofile`
  const server = await startServer()
  try {
    const client = await (await loadClient(clientName))(server.baseUrl, "complete")
    await drive(client.call, 0, warmup, concurrency)
    const profiling = !argv.includes("--no-profile")
    const session = new Inspector.Session()
    if (profiling) {
      session.connect()
      await post(session, "Profiler.enable")
      await post(session, "Profiler.start")
    }
    const cpu0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    await drive(client.call, warmup, calls, concurrency)
    const wall = Number(process.hrtime.bigint() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const timing = `${clientName}: ${calls} calls at concurrency ${concurrency}, ${
      (wall / calls).toFixed(1)
    } µs/call wall, ${((cpu.user + cpu.system) / calls).toFixed(1)} µs/call client CPU`
    if (!profiling) {
      await client.close()
      console.log(timing)
      return
    }
    const { profile } = await post<{ profile: Profile }>(session, "Profiler.stop")
    session.disconnect()
    await client.close()
    Fs.writeFileSync(out, JSON.stringify(profile))
    console.log(`${timing} (profiler on); profile in ${out}\n`)
    console.log(summarize(profile, top))
  } finally {
    server.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
