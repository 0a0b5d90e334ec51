/**
 * What the client, the test layer and the simulator derive from an API's declaration: its compiled
 * codecs, and the secrets a request carries. Compiled on first use, once per API.
 */
import type * as Either from "effect/Either"
import type * as AuthleteApi from "../AuthleteApi.js"
import * as Codec from "./codec.js"
import { checkedByLibrary } from "./models.js"

export interface ApiCodecs<Request, RequestJson, Response> {
  /** Program → wire, every rule checked; input is an instance or a plain object of its shape. */
  readonly encodeRequest: (input: unknown) => Either.Either<RequestJson, Codec.Refusal>
  /** Wire → program, strict (the simulator, and the test layer handing handlers what the wire held). */
  readonly decodeRequest: (json: unknown) => Either.Either<Request, Codec.Refusal>
  /** Authlete's answer; unknown fields are ignored. */
  readonly decodeResponse: (json: unknown) => Either.Either<Response, Codec.Refusal>
  /** The secret values of a wire request, to keep out of errors. */
  readonly secretsOf: (json: RequestJson) => ReadonlyArray<string>
}

const cache = new WeakMap<AuthleteApi.AuthleteApi, ApiCodecs<any, any, any>>()

const formValues = (parameters: unknown, names: ReadonlyArray<string>): ReadonlyArray<string> => {
  if (typeof parameters !== "string" || names.length === 0) return []
  try {
    const form = new URLSearchParams(parameters)
    return names.flatMap((name) => form.getAll(name))
  } catch {
    return []
  }
}

export const codecsOf = <Request, RequestJson, Response>(
  api: AuthleteApi.AuthleteApi<Request, RequestJson, Response>
): ApiCodecs<Request, RequestJson, Response> => {
  let codecs = cache.get(api)
  if (codecs === undefined) {
    const encode = Codec.encoder(api.request, { strict: true })
    const encodeTrusted = Codec.trustedEncoder(api.request, { strict: true })
    codecs = {
      encodeRequest: (input) =>
        typeof input === "object" && input !== null && checkedByLibrary.has(input)
          ? encodeTrusted(input)
          : encode(input),
      decodeRequest: Codec.decoder(api.request, { strict: true }),
      decodeResponse: Codec.decoder(api.response, { strict: false }),
      secretsOf: (json) => {
        const wire = json as Record<string, unknown>
        const out: Array<string> = []
        for (const field of api.secretFields) {
          const value = wire[field]
          if (typeof value === "string") out.push(value)
        }
        out.push(...formValues(wire["parameters"], api.secretFormParameters))
        return out
      }
    }
    cache.set(api, codecs)
  }
  return codecs
}
