/**
 * The canned Authlete: Node `http` on 127.0.0.1, keep-alive, a 200 JSON body per path after reading
 * the whole request body: `/api/{serviceId}/backchannel/authentication/complete` answers
 * POLL/NO_ACTION, `/api/{serviceId}/backchannel/authentication` answers USER_IDENTIFICATION,
 * `/api/{serviceId}/backchannel/authentication/issue` answers OK with an `auth_req_id` that differs
 * per request (the only body that is not fixed: fixed parts joined around a counter),
 * `/api/{serviceId}/auth/token` answers OK with tokens, and any other path 404 (so a client sent to
 * the wrong path fails). It checks nothing else.
 *
 * `GET /__stats` answers this process's request counts (in all and per path), body bytes read and
 * CPU time, so a child can verify that every call reached the server at the right path and report the
 * server's CPU and the request body bytes per call.
 *
 * Started by bench/run.ts with an IPC channel: it reports its port with `{ port }`, and exits when
 * the channel closes (the parent exited, however it exited) or after a hard time limit.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import {
  AUTHENTICATION_PATH,
  CANNED_AUTHENTICATION_RESPONSE,
  CANNED_RESPONSE,
  CANNED_TOKEN_RESPONSE,
  COMPLETE_PATH,
  ISSUE_PATH,
  issueResponseText,
  TOKEN_PATH
} from "./fixtures.js"
import type { ServerStats } from "./spec.js"

const HARD_LIMIT_MS = 60 * 60_000

interface Canned {
  readonly status: number
  readonly body: Buffer
  readonly headers: Record<string, string>
}

const cannedText = (status: number, text: string): Canned => {
  const body = Buffer.from(text)
  return {
    status,
    body,
    headers: {
      "content-type": "application/json;charset=UTF-8",
      "content-length": String(body.length),
      "cache-control": "no-store"
    }
  }
}

const canned = (status: number, value: unknown): Canned => cannedText(status, JSON.stringify(value))

type Counter = "completions" | "authentications" | "issues" | "tokens"

const counts: Record<Counter | "requests" | "unknown", number> = {
  requests: 0,
  completions: 0,
  authentications: 0,
  issues: 0,
  tokens: 0,
  unknown: 0
}

/** Per path: the answer to its `n`th request (fixed but for `/issue`), and what counts it. */
interface Route {
  readonly answer: (n: number) => Canned
  readonly counter: Counter
}

const fixed = (answer: Canned, counter: Counter): Route => ({ answer: () => answer, counter })

const routes = new Map<string, Route>([
  [COMPLETE_PATH, fixed(canned(200, CANNED_RESPONSE), "completions")],
  [AUTHENTICATION_PATH, fixed(canned(200, CANNED_AUTHENTICATION_RESPONSE), "authentications")],
  [ISSUE_PATH, { answer: (n) => cannedText(200, issueResponseText(n)), counter: "issues" }],
  [TOKEN_PATH, fixed(canned(200, CANNED_TOKEN_RESPONSE), "tokens")]
])
const notFound = canned(404, { resultCode: "A000404", resultMessage: "[A000404] No such API in the canned server." })

let bytesRead = 0

const server = Http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/__stats") {
    const cpu = process.cpuUsage()
    const stats: ServerStats = {
      ...counts,
      bytesRead,
      cpuMicros: cpu.user + cpu.system
    }
    const text = Buffer.from(JSON.stringify(stats))
    res.writeHead(200, { "content-type": "application/json", "content-length": String(text.length) })
    res.end(text)
    return
  }
  req.on("data", (chunk: Buffer) => {
    bytesRead += chunk.length
  })
  req.on("end", () => {
    counts.requests++
    const route = req.method === "POST" ? routes.get(req.url ?? "") : undefined
    let answer = notFound
    if (route === undefined) counts.unknown++
    else answer = route.answer(counts[route.counter]++)
    res.writeHead(answer.status, answer.headers)
    res.end(answer.body)
  })
})
server.keepAliveTimeout = 120_000
server.headersTimeout = 130_000
server.requestTimeout = 0
server.maxRequestsPerSocket = 0

const stop = () => {
  server.closeAllConnections()
  server.close()
  process.exit(0)
}

process.on("disconnect", stop)
process.on("SIGTERM", stop)
setTimeout(stop, HARD_LIMIT_MS).unref()

server.listen(Number(process.env.BENCH_SERVER_PORT ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo
  if (process.send) process.send({ port })
  else console.log(`canned Authlete on http://127.0.0.1:${port}`)
})
