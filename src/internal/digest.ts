/**
 * SHA-256 of a string, for keys and log fields that must not hold the value itself (a login hint,
 * an `auth_req_id`).
 */
import * as Effect from "effect/Effect"
import { nodeBuiltin } from "./nodeBuiltin.js"

/** Node's `crypto` where the runtime has it (Node, Bun, Deno): a digest without a round trip to a thread. */
const nodeCrypto = nodeBuiltin<{
  readonly createHash: (algorithm: "sha256") => { update(data: string): { digest(encoding: "base64url"): string } }
}>("node:crypto")

const BASE64URL: Record<string, string> = { "+": "-", "/": "_", "=": "" }

/** SHA-256, base64url: Node's synchronous `createHash` where there is one (about 1 µs), else Web Crypto (about 45 µs). */
export const sha256 = (value: string): Effect.Effect<string> =>
  nodeCrypto !== undefined
    ? Effect.sync(() => nodeCrypto.createHash("sha256").update(value).digest("base64url"))
    : Effect.map(
      Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(value))),
      (digest) => btoa(String.fromCharCode(...new Uint8Array(digest))).replace(/[+/=]/g, (c) => BASE64URL[c]!)
    )

/**
 * The log annotation that names a CIBA flow without its `auth_req_id` (a bearer value a client
 * redeems for tokens): the first 16 characters of its SHA-256, enough to join one flow's lines.
 */
export const annotateFlow = (authReqId: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(sha256(authReqId), (digest) => Effect.annotateLogs(self, "auth_req_id_hash", digest.slice(0, 16)))
