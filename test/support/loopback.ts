/**
 * A real HTTP server on 127.0.0.1 for tests: it records what it received and answers as the test
 * says, including the ways servers misbehave (hang, trickle, cut the connection).
 */
import { Effect, type Scope } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export interface Received {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

export interface Reply {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: string
}

/** A reply, or full control of the raw response for faults. */
export type Answer = Reply | ((response: Http.ServerResponse, request: Http.IncomingMessage) => void)

export interface LoopbackServer {
  readonly url: string
  readonly received: Array<Received>
  /** How many of the server's own sockets are open (its side of each connection). */
  readonly openConnections: () => number
}

/** Starts a server for the scope; `answer` sees each request and its index (0 for the first). */
export const loopbackServer = (
  answer: (received: Received, index: number) => Answer | Promise<Answer>
): Effect.Effect<LoopbackServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ server: Http.Server; state: LoopbackServer }>((resume) => {
      const received: Array<Received> = []
      let open = 0
      const server = Http.createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          const entry: Received = {
            method: request.method ?? "",
            url: request.url ?? "",
            headers: request.headers,
            body: Buffer.concat(chunks).toString("utf8")
          }
          const index = received.length
          received.push(entry)
          Promise.resolve(answer(entry, index)).then((reply) => {
            if (typeof reply === "function") return reply(response, request)
            response.writeHead(reply.status, { "content-type": "application/json", ...reply.headers })
            response.end(reply.body ?? "")
          })
        })
      })
      server.on("connection", (socket) => {
        open++
        socket.once("close", () => open--)
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(
          Effect.succeed({ server, state: { url: `http://127.0.0.1:${port}`, received, openConnections: () => open } })
        )
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ state }) => state))

/** A JSON reply. */
export const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body: JSON.stringify(body),
  ...(headers === undefined ? {} : { headers })
})

/** A port on 127.0.0.1 with nothing listening (bound, then closed). */
export const closedPort = (): Effect.Effect<string> =>
  Effect.async<string>((resume) => {
    const server = Http.createServer()
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resume(Effect.succeed(`http://127.0.0.1:${port}`)))
    })
  })
