/**
 * The canned Authlete: Node `http` on 127.0.0.1, keep-alive, a fixed 200 JSON body for every
 * request after reading the whole request body. It checks nothing.
 *
 * `GET /__stats` answers this process's request count, body bytes read and CPU time, so a child
 * can verify that every call reached the server and report the server's CPU per call.
 *
 * Started by bench/run.ts with an IPC channel: it reports its port with `{ port }`, and exits when
 * the channel closes (the parent exited, however it exited) or after a hard time limit.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { CANNED_RESPONSE } from "./fixtures.js"

const HARD_LIMIT_MS = 30 * 60_000

const body = Buffer.from(JSON.stringify(CANNED_RESPONSE))
const headers = {
  "content-type": "application/json;charset=UTF-8",
  "content-length": String(body.length),
  "cache-control": "no-store"
}

let requests = 0
let bytesRead = 0

const server = Http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/__stats") {
    const cpu = process.cpuUsage()
    const stats = Buffer.from(JSON.stringify({ requests, bytesRead, cpuMicros: cpu.user + cpu.system }))
    res.writeHead(200, { "content-type": "application/json", "content-length": String(stats.length) })
    res.end(stats)
    return
  }
  req.on("data", (chunk: Buffer) => {
    bytesRead += chunk.length
  })
  req.on("end", () => {
    requests++
    res.writeHead(200, headers)
    res.end(body)
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
