/**
 * The canned Authlete: Node `http` on 127.0.0.1, keep-alive, a fixed 200 JSON body per path after
 * reading the whole request body: `/api/{serviceId}/backchannel/authentication/complete` answers
 * POLL/NO_ACTION, `/api/{serviceId}/backchannel/authentication` answers USER_IDENTIFICATION, and any
 * other path 404 (so a client sent to the wrong path fails). It checks nothing else.
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
import { AUTHENTICATION_PATH, CANNED_AUTHENTICATION_RESPONSE, CANNED_RESPONSE, COMPLETE_PATH } from "./fixtures.js"
import type { ServerStats } from "./spec.js"

const HARD_LIMIT_MS = 30 * 60_000

interface Canned {
  readonly status: number
  readonly body: Buffer
  readonly headers: Record<string, string>
}

const canned = (status: number, value: unknown): Canned => {
  const body = Buffer.from(JSON.stringify(value))
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

const routes = new Map<string, Canned>([
  [COMPLETE_PATH, canned(200, CANNED_RESPONSE)],
  [AUTHENTICATION_PATH, canned(200, CANNED_AUTHENTICATION_RESPONSE)]
])
const notFound = canned(404, { resultCode: "A000404", resultMessage: "[A000404] No such API in the canned server." })

let requests = 0
let completions = 0
let authentications = 0
let unknown = 0
let bytesRead = 0

const server = Http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/__stats") {
    const cpu = process.cpuUsage()
    const stats: ServerStats = {
      requests,
      completions,
      authentications,
      unknown,
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
    requests++
    const route = req.method === "POST" ? routes.get(req.url ?? "") : undefined
    if (route === undefined) unknown++
    else if (req.url === COMPLETE_PATH) completions++
    else authentications++
    const answer = route ?? notFound
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
