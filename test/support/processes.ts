/**
 * Real processes for the tests of the command line, `serve` and the cluster test: the
 * `effect-authlete` command line run to its end (`runCli`), or started as a child (built, from
 * `dist`, or from the sources with tsx), its first JSON line read as its announcement, its logs kept
 * in a file, and SIGKILL.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { createWriteStream, readFileSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { fileURLToPath } from "node:url"

const built = fileURLToPath(new URL("../../dist/esm/cli/main.js", import.meta.url))
const sources = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url))

/** The built command line, `dist/esm/cli/main.js` (`npm run build` makes it). */
export const builtCli = built

export interface Ran {
  /** The exit code (1 when the process was killed). */
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs the built `effect-authlete <args>` to its end, with only the given environment (plus PATH),
 * in `cwd`, with `nodeOptions` before the script (`--import` hooks).
 */
export const runCli = (
  args: ReadonlyArray<string>,
  options: {
    readonly env?: Record<string, string>
    readonly cwd?: string
    readonly nodeOptions?: ReadonlyArray<string>
    readonly timeoutMillis?: number
  } = {}
): Promise<Ran> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [...(options.nodeOptions ?? []), built, ...args],
      {
        env: { PATH: process.env.PATH ?? "", ...options.env },
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        timeout: options.timeoutMillis ?? 60_000
      },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

/** Every process `startCli` started that has not exited yet. */
const running = new Set<ChildProcess>()

/** SIGKILLs every process `startCli` started that still runs (a test's cleanup, whatever happened). */
export const killEveryStarted = (): void => {
  for (const child of running) child.kill("SIGKILL")
  running.clear()
}

export interface Started<Info> {
  readonly child: ChildProcess
  readonly info: Info
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>
}

/**
 * Starts `effect-authlete <args>` and resolves with the first JSON line it prints; its stderr (and
 * anything else it prints) goes to `logFile`. Rejects if it exits first or stays silent too long.
 */
export const startCli = <Info>(
  args: ReadonlyArray<string>,
  options: {
    readonly env?: Record<string, string>
    readonly logFile: string
    readonly timeoutMillis?: number
    readonly nodeOptions?: ReadonlyArray<string>
    /** Run `src/cli/main.ts` with tsx instead of the build. */
    readonly fromSources?: boolean
  }
): Promise<Started<Info>> =>
  new Promise((resolve, reject) => {
    const log = createWriteStream(options.logFile, { flags: "a" })
    const entry = options.fromSources === true ? ["--import", "tsx", sources] : [built]
    const child = spawn(process.execPath, [...(options.nodeOptions ?? []), ...entry, ...args], {
      env: { PATH: process.env.PATH ?? "", ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    running.add(child)
    const exited = new Promise<void>((done) =>
      child.once("exit", () => {
        running.delete(child)
        done()
      })
    )
    child.stderr!.pipe(log, { end: false })
    let buffered = ""
    let announced = false
    const spawnedAt = Date.now()
    const timer = setTimeout(() => {
      if (!announced) {
        child.kill("SIGKILL")
        // What it did print, and its log's end, say where it stopped; the time elapsed (rather than the
        // limit) shows whether this process's own event loop was held up past it.
        const logged = (() => {
          try {
            return readFileSync(options.logFile, "utf8").slice(-2_000)
          } catch {
            return ""
          }
        })()
        reject(
          new Error(
            `effect-authlete ${args[0]} did not start within ${
              Date.now() - spawnedAt
            } ms (pid ${child.pid}, ${buffered.length} bytes on stdout: ${
              JSON.stringify(buffered.slice(0, 300))
            }; its log ends: ${JSON.stringify(logged)})`
          )
        )
      }
    }, options.timeoutMillis ?? 60_000)
    child.stdout!.on("data", (chunk: Buffer) => {
      if (announced) return void log.write(chunk)
      buffered += chunk.toString("utf8")
      const line = buffered.split("\n").find((candidate) => candidate.startsWith("{") && candidate.endsWith("}"))
      if (line === undefined) return
      announced = true
      clearTimeout(timer)
      resolve({ child, info: JSON.parse(line) as Info, exited })
    })
    child.once("exit", (code, signal) => {
      log.end()
      if (!announced) {
        clearTimeout(timer)
        reject(
          new Error(`effect-authlete ${args[0]} exited (${signal ?? code}) before it started; see ${options.logFile}`)
        )
      }
    })
  })

/** Kills with SIGKILL (no finalizer runs, nothing is flushed) and waits for the exit. */
export const kill = async (started: Started<unknown>): Promise<void> => {
  if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill("SIGKILL")
  await started.exited
}

export interface Received {
  readonly at: number
  readonly authorization: string | undefined
  readonly body: string
  readonly status: number
}

export interface Receiver {
  readonly url: string
  /** What arrived, by auth_req_id, in order. */
  readonly received: Map<string, Array<Received>>
  readonly close: () => Promise<void>
}

/**
 * A client's notification endpoint on 127.0.0.1: it records every notification by its auth_req_id
 * and answers 204, or the status `answer` gives for it (the attempt's number starts at 0).
 */
export const receiver = (answer: (authReqId: string, attempt: number) => number): Promise<Receiver> =>
  new Promise((resolve) => {
    const received = new Map<string, Array<Received>>()
    const server = Http.createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8")
        let authReqId = ""
        try {
          authReqId = String((JSON.parse(body) as { auth_req_id?: unknown }).auth_req_id ?? "")
        } catch {
          // recorded under ""
        }
        const earlier = received.get(authReqId) ?? []
        const status = answer(authReqId, earlier.length)
        received.set(authReqId, [...earlier, {
          at: Date.now(),
          authorization: request.headers.authorization,
          body,
          status
        }])
        response.writeHead(status).end()
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        received,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })

/** What `effect-authlete simulate --json` announces. */
export interface SimulatorInfo {
  readonly baseUrl: string
  readonly serviceId: string
  readonly accessToken: string
  readonly clients: ReadonlyArray<
    { readonly clientId: string; readonly clientSecret: string; readonly deliveryMode: string }
  >
}

/** What `effect-authlete serve --json --automated-approval` announces (with `--metrics-port`, its metrics). */
export interface ServeInfo {
  readonly issuer: string
  readonly automatedApprovalUrl: string
  readonly metricsUrl: string
}

/** Probes every `everyMillis` until `probe` gives a value, which it resolves with; rejects after `millis`. */
export const until = async <A>(
  what: string,
  probe: () => A | undefined | Promise<A | undefined>,
  millis = 60_000,
  everyMillis = 200
): Promise<A> => {
  const deadline = Date.now() + millis
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise<void>((resolve) => setTimeout(resolve, everyMillis))
  }
}
