/**
 * The clients that do not depend on effect-authlete: the floor (`undici.request`), global `fetch`
 * raw, and Authlete's own `@authlete/typescript-sdk`. Each one sends the same request and resolves
 * with the response's `action`.
 */
import { Authlete } from "@authlete/typescript-sdk"
import { Pool } from "undici"
import { ACCESS_TOKEN, COMPLETE_PATH, networkRequestWire, SERVICE_ID } from "./fixtures.js"

/** One client, built once per child process. */
export interface BenchClient {
  /** One completion of the `i`th request; resolves with the response's `action`. */
  readonly complete: (i: number) => Promise<string | undefined>
  readonly close: () => Promise<void>
}

export type ClientFactory = (baseUrl: string) => Promise<BenchClient>

const requestHeaders = {
  "content-type": "application/json",
  accept: "application/json",
  authorization: `Bearer ${ACCESS_TOKEN}`
}

const unexpectedStatus = (status: number): Error => new Error(`unexpected status ${status}`)

/** The floor: a keep-alive undici `Pool` (unlimited connections), `JSON.stringify` and `JSON.parse`. */
export const undiciFloor: ClientFactory = async (baseUrl) => {
  const pool = new Pool(baseUrl, { keepAliveTimeout: 60_000 })
  return {
    complete: async (i) => {
      const { body, statusCode } = await pool.request({
        method: "POST",
        path: COMPLETE_PATH,
        headers: requestHeaders,
        body: JSON.stringify(networkRequestWire(i))
      })
      const text = await body.text()
      if (statusCode !== 200) throw unexpectedStatus(statusCode)
      return (JSON.parse(text) as { action?: string }).action
    },
    close: () => pool.close()
  }
}

/** Node's global `fetch` with `JSON.stringify` and `JSON.parse`, for reference. */
export const fetchRaw: ClientFactory = async (baseUrl) => {
  const url = `${baseUrl}${COMPLETE_PATH}`
  return {
    complete: async (i) => {
      const response = await fetch(url, {
        method: "POST",
        headers: requestHeaders,
        body: JSON.stringify(networkRequestWire(i))
      })
      const text = await response.text()
      if (response.status !== 200) throw unexpectedStatus(response.status)
      return (JSON.parse(text) as { action?: string }).action
    },
    close: async () => {}
  }
}

/**
 * Authlete's SDK: `new Authlete({ serverURL, bearer })` and `ciba.complete({ serviceId,
 * backchannelAuthenticationCompleteRequest })`, which validates the input with zod, sends it with
 * global `fetch` (no retries, no timeout by default) and decodes the answer with zod.
 */
export const authleteSdk: ClientFactory = async (baseUrl) => {
  const authlete = new Authlete({ serverURL: baseUrl, bearer: ACCESS_TOKEN })
  return {
    complete: async (i) => {
      const response = await authlete.ciba.complete({
        serviceId: SERVICE_ID,
        backchannelAuthenticationCompleteRequest: networkRequestWire(i)
      })
      return response.action
    },
    close: async () => {}
  }
}
