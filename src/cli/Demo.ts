/**
 * The main job on the embedded default (`npm start`): an authorization server built from this
 * library, in front of the Authlete simulator, used by a real relying party (openid-client) in every
 * delivery mode; each flow checked against CIBA Core and Authlete's documentation, one shown in
 * detail. It fits an 80-column terminal.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { importPeer } from "../internal/peers.js"
import { Playground } from "../playground/index.js"
import { halfHash } from "../simulator/internal/crypto.js"
import { runCommand } from "./CliOptions.js"

type OpenIdClient = typeof import("openid-client")

/** What a client's notification endpoint received. */
export interface Received {
  readonly path: string
  readonly authorization: string | undefined
  readonly body: string
}

export type Mode = "POLL" | "PING" | "PUSH"
export type Answer = "allow" | "deny" | "none"

/** One flow: what the user did, and what the client ended up with. */
export interface ClientFlow {
  readonly mode: Mode
  readonly answer: Answer
  readonly authReqId: string
  readonly notificationToken: string
  /** `tokens`, or the OAuth error the client got. */
  readonly outcome: string
  /** The notifications that reached the client's endpoint for this flow. */
  readonly notifications: ReadonlyArray<Received>
  /** The claims of the ID token the client got, when its signature verified against `jwks_uri`. */
  readonly idToken?: { readonly [claim: string]: unknown } | undefined
  readonly accessToken?: string | undefined
  readonly refreshToken?: string | undefined
}

/**
 * What CIBA Core and Authlete say should have happened, as broken expectations (empty when all
 * held): allowed flows end with tokens whose ID token verifies; denied ones with `access_denied`;
 * unanswered ones with `expired_token`; PING endpoints get only the `auth_req_id`, PUSH endpoints the
 * tokens (their ID token binding `auth_req_id`, `at_hash`, `rt_hash`) or the error; every
 * notification carries the client's token.
 */
export const checkClientFlow = (flow: ClientFlow): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem)
  }
  const wanted = flow.answer === "allow" ? "tokens" : flow.answer === "deny" ? "access_denied" : "expired_token"
  expect(flow.outcome === wanted, `the client got ${flow.outcome}, expected ${wanted}`)
  if (flow.answer === "allow") {
    expect(flow.idToken !== undefined, "no ID token that verifies against jwks_uri")
    expect(flow.idToken?.at_hash === (flow.accessToken && halfHash(flow.accessToken)), "at_hash does not match")
  }
  if (flow.mode === "POLL") {
    expect(flow.notifications.length === 0, "the client was notified in POLL mode")
    return problems
  }
  expect(flow.notifications.length === 1, `${flow.notifications.length} notifications, expected 1`)
  const [notification] = flow.notifications
  if (notification === undefined) return problems
  expect(notification.authorization === `Bearer ${flow.notificationToken}`, "wrong bearer token")
  const body = JSON.parse(notification.body) as Record<string, unknown>
  expect(body.auth_req_id === flow.authReqId, "auth_req_id missing or wrong")
  if (flow.mode === "PING") {
    expect(Object.keys(body).length === 1, "a PING notification holds only auth_req_id")
  } else if (flow.answer === "allow") {
    expect(
      flow.idToken?.["urn:openid:params:jwt:claim:auth_req_id"] === flow.authReqId,
      "the ID token binds no auth_req_id"
    )
    expect(
      flow.idToken?.["urn:openid:params:jwt:claim:rt_hash"] === (flow.refreshToken && halfHash(flow.refreshToken)),
      "rt_hash does not match"
    )
  }
  return problems
}

/** A loopback endpoint for the PING and PUSH clients, recording what arrives and answering 204. */
const notificationEndpoint = Effect.acquireRelease(
  Effect.async<{ server: Http.Server; url: string; received: Array<Received> }>((resume) => {
    const received: Array<Received> = []
    const server = Http.createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        received.push({
          path: request.url ?? "",
          authorization: request.headers.authorization,
          body: Buffer.concat(chunks).toString("utf8")
        })
        response.writeHead(204).end()
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({ server, url: `http://127.0.0.1:${port}`, received }))
    })
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)

/** The claims of an ES256 ID token whose signature verifies with one of the JWK Set's keys. */
const verifiedClaims = async (idToken: string, jwksUri: string) => {
  const [header, payload, signature] = idToken.split(".") as [string, string, string]
  const { kid } = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { kid?: string }
  const { keys } = (await (await fetch(jwksUri)).json()) as {
    keys: ReadonlyArray<Crypto.JsonWebKey & { kid?: string }>
  }
  const jwk = keys.find((key) => key.kid === kid)
  if (jwk === undefined) return undefined
  const valid = Crypto.verify(
    "sha256",
    Buffer.from(`${header}.${payload}`),
    { key: Crypto.createPublicKey({ key: jwk, format: "jwk" }), dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url")
  )
  return valid ? JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown> : undefined
}

const CIBA = "urn:openid:params:grant-type:ciba"

/** One flow, as a relying party runs it with openid-client, and the user as the answer says. */
const runFlow = (
  oidc: OpenIdClient,
  info: Playground.PlaygroundInfo,
  endpoint: { readonly received: Array<Received> },
  mode: Mode,
  answer: Answer
) =>
  Effect.promise(async (): Promise<ClientFlow> => {
    const registered = info.clients.find((client) => client.deliveryMode === mode)!
    const config = await oidc.discovery(
      new URL(info.issuer),
      registered.clientId,
      { id_token_signed_response_alg: "ES256" },
      oidc.ClientSecretBasic(registered.clientSecret),
      { execute: [oidc.allowInsecureRequests] }
    )
    const notificationToken = Crypto.randomBytes(24).toString("base64url")
    const before = endpoint.received.length
    const started = await oidc.initiateBackchannelAuthentication(config, {
      scope: "openid profile email",
      login_hint: "taro@example.com",
      binding_message: "W4SCT",
      claims_locales: "ja",
      ...(mode === "POLL" ? {} : { client_notification_token: notificationToken }),
      // Nobody answers: a short lifetime, so that the server fails it soon.
      ...(answer === "none" ? { requested_expiry: "3" } : {})
    })
    if (answer !== "none") {
      const url = info.automatedApprovalUrl.replace("{auth_req_id}", started.auth_req_id).replace("{action}", answer)
      await fetch(url, { method: "POST" })
    }
    const settled = async () => {
      for (let i = 0; i < 600 && endpoint.received.length === before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
    let outcome = "tokens"
    let tokens: { access_token?: string; refresh_token?: string; id_token?: string } | undefined
    const asClient = async (
      request: () => Promise<{ access_token: string; refresh_token?: string; id_token?: string }>
    ) => {
      try {
        tokens = await request()
      } catch (error) {
        outcome = error instanceof oidc.ResponseBodyError ? error.error : String(error)
      }
    }
    if (mode === "POLL") await asClient(() => oidc.pollBackchannelAuthenticationGrant(config, started))
    else if (mode === "PING") {
      await settled()
      await asClient(() => oidc.genericGrantRequest(config, CIBA, { auth_req_id: started.auth_req_id }))
    } else {
      await settled()
      const pushed = JSON.parse(endpoint.received.at(-1)?.body ?? "{}") as Record<string, string>
      if (pushed.error !== undefined) outcome = pushed.error
      else tokens = pushed
    }
    const jwksUri = config.serverMetadata().jwks_uri!
    const idToken = tokens?.id_token === undefined ? undefined : await verifiedClaims(tokens.id_token, jwksUri)
    return {
      mode,
      answer,
      authReqId: started.auth_req_id,
      notificationToken,
      outcome,
      notifications: endpoint.received.slice(before),
      idToken,
      accessToken: tokens?.access_token,
      refreshToken: tokens?.refresh_token
    }
  })

const FLOWS: ReadonlyArray<readonly [Mode, Answer]> = [
  ["POLL", "allow"],
  ["POLL", "deny"],
  ["PING", "allow"],
  ["PING", "deny"],
  ["PUSH", "allow"],
  ["PUSH", "deny"],
  ["PUSH", "none"]
]

const short = (value: unknown, length = 10): string => {
  const text = value === undefined ? "-" : typeof value === "string" ? value : JSON.stringify(value)
  return text.length > length ? `${text.slice(0, length - 1)}…` : text
}

/** What the client saw, in a few words. */
const received = (flow: ClientFlow): string => {
  const via = flow.mode === "PING" ? "ping, then " : flow.mode === "PUSH" ? "pushed " : ""
  return flow.outcome === "tokens" ? `${via}tokens for ${String(flow.idToken?.sub)}` : `${via}${flow.outcome}`
}

/** What the checks of a flow looked at, in a few words. */
const checked = (flow: ClientFlow): string =>
  flow.answer !== "allow" ? "error code" : flow.mode === "PUSH" ? "sig, at_hash, rt_hash" : "sig, at_hash"

const detail = (flow: ClientFlow): ReadonlyArray<string> => {
  const claims = flow.idToken ?? {}
  const collected = ["name", "given_name", "family_name", "email"].map((name) => `${name} ${String(claims[name])}`)
  return [
    `One flow in detail (${flow.mode}, ${flow.answer}):`,
    "  sent      scope=openid profile email  login_hint=taro@example.com",
    "            binding_message=W4SCT  claims_locales=ja",
    `  collected ${collected.slice(0, 2).join(", ")},`,
    `            ${collected.slice(2).join(", ")}`,
    `  ID token  iss ${String(claims.iss)}  aud ${String(claims.aud)}`,
    `            sub ${String(claims.sub)}  auth_time ${String(claims.auth_time)}`,
    `            auth_req_id ${short(claims["urn:openid:params:jwt:claim:auth_req_id"])}` +
    `  at_hash ${short(claims.at_hash)}  rt_hash ${short(claims["urn:openid:params:jwt:claim:rt_hash"])}`
  ]
}

/** Every flow through the playground's authorization server; fails when any broke an expectation. */
export const runDemo = Effect.gen(function*() {
  // The demo's relying party: a missing openid-client is told as the line that installs it.
  const oidc = yield* importPeer(["openid-client"], () => import("openid-client"))
  const endpoint = yield* notificationEndpoint
  const context = yield* Layer.build(
    Playground.layer({ interval: 1, pingEndpoint: `${endpoint.url}/ping`, pushEndpoint: `${endpoint.url}/push` })
  )
  const info = yield* Effect.provide(Playground.Playground, context)
  yield* Console.log("effect-authlete demo: an authorization server built from this library, in front")
  yield* Console.log("of the Authlete CIBA simulator (not Authlete), used by openid-client as the client.")
  yield* Console.log(`Authorization server ${info.issuer}; the user is taro@example.com.\n`)
  const failures: Array<string> = []
  let shown: ClientFlow | undefined
  for (const [mode, answer] of FLOWS) {
    const flow = yield* runFlow(oidc, info, endpoint, mode, answer)
    const problems = checkClientFlow(flow)
    failures.push(...problems.map((problem) => `${mode} ${answer}: ${problem}`))
    if (mode === "PUSH" && answer === "allow") shown = flow
    const verdict = problems.length === 0 ? `ok (${checked(flow)})` : "FAILED"
    yield* Console.log(
      `  ${mode.padEnd(4)}  ${answer.padEnd(5)}  ${received(flow).padEnd(34).slice(0, 34)}  ${verdict}`
    )
  }
  if (shown !== undefined) yield* Console.log(`\n${detail(shown).join("\n")}`)
  if (failures.length > 0) {
    return yield* Effect.fail(`${failures.length} expectation(s) broken:\n${failures.join("\n")}`)
  }
  yield* Console.log(`\nAll ${FLOWS.length} flows did what CIBA Core and Authlete document.`)
}).pipe(Effect.scoped)

/** The `demo` command. */
export const run = (): void => runCommand("demo", runDemo)
