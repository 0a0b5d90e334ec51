/**
 * `effect-authlete playground --profile fapi-ciba --json` in a process of its own, driven over mutual
 * TLS by a real relying party (panva's openid-client 6, undici for the client certificates, jose for
 * the request objects and the ID tokens), as the OpenID Foundation's FAPI-CIBA plan drives a provider:
 * POLL and PING with `private_key_jwt` and with `tls_client_auth` end to end, then the refusals the
 * plan checks (request objects, hints, binding messages, client authentication, another client's
 * `auth_req_id`, denial) and `x-fapi-interaction-id`.
 *
 * One playground serves every test; the abuse limits per user are off (`--limit-per-user off
 * --limit-pending-per-user off`) and the requests are spread over the three users anyway. Its log is
 * removed afterwards unless `KEEP_FAPI_LOG` is set.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as jose from "jose"
import { createHash, randomBytes, randomUUID, X509Certificate } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as client from "openid-client"
import { Agent, fetch as undiciFetch } from "undici"
import { kill, killEveryStarted, startCli, type Started } from "../support/processes.js"

const CIBA = "urn:openid:params:grant-type:ciba"

/** The `--json` line of `playground --profile fapi-ciba` (`playgroundJson`), the members used here. */
interface FapiPlaygroundInfo {
  readonly issuer: string
  readonly backchannelAuthenticationEndpoint: string
  readonly tokenEndpoint: string
  readonly jwksUri: string
  readonly automatedApprovalUrl: string
  readonly deviceUrl: string
  readonly mtlsEndpointAliases: {
    readonly token_endpoint: string
    readonly backchannel_authentication_endpoint: string
  }
  readonly caCertificate: string
  readonly resourceUrl: string
  readonly clients: ReadonlyArray<FapiClientInfo>
  readonly users: ReadonlyArray<{ readonly subject: string; readonly loginHints: ReadonlyArray<string> }>
}

interface FapiClientInfo {
  readonly clientId: string
  readonly authMethod: "private_key_jwt" | "tls_client_auth"
  readonly deliveryMode: "POLL" | "PING"
  readonly notificationEndpoint: string | null
  readonly requiresUserCode: boolean
  readonly privateJwk: jose.JWK & { readonly kid: string; readonly alg: string }
  readonly certificate: string
  readonly privateKey: string
}

type Mode = FapiClientInfo["deliveryMode"]
type Method = FapiClientInfo["authMethod"]

/** One of the playground's clients, ready to use: its key, its mTLS agent, its openid-client configuration. */
interface Rp {
  readonly info: FapiClientInfo
  readonly key: client.CryptoKey
  readonly agent: Agent
  readonly config: client.Configuration
  /** SHA-256 thumbprint of its certificate (RFC 8705 3.1), base64url. */
  readonly thumbprint: string
}

let playground: Started<FapiPlaygroundInfo>
let directory: string
let info: FapiPlaygroundInfo
/** TLS with the playground's CA only: no client certificate. */
let anonymous: Agent
const rps = new Map<string, Rp>()

/** undici's fetch through `dispatcher`, as openid-client's and jose's `customFetch`. */
const fetchVia = (dispatcher: Agent) => (url: string, options: object): Promise<Response> =>
  undiciFetch(url, { ...options, dispatcher } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>

const rpOf = (mode: Mode, method: Method): Rp => rps.get(`${mode} ${method}`)!

/** openid-client's configuration of a playground client, over `agent` (mutual TLS with its certificate, or not). */
const configure = (
  registered: FapiClientInfo,
  key: client.CryptoKey,
  agent: Agent,
  auth?: client.ClientAuth
) =>
  client.discovery(
    new URL(info.issuer),
    registered.clientId,
    { id_token_signed_response_alg: "ES256", use_mtls_endpoint_aliases: true },
    auth ??
      (registered.authMethod === "private_key_jwt"
        ? client.PrivateKeyJwt({ key, kid: registered.privateJwk.kid })
        : client.TlsClientAuth()),
    { [client.customFetch]: fetchVia(agent) }
  )

/** A login hint of each of the three users, in turn: the requests spread over them. */
let hintCounter = 0
const nextHint = () => {
  const user = info.users[hintCounter++ % info.users.length]!
  return user.loginHints[user.loginHints.length - 1]!
}

const now = () => Math.floor(Date.now() / 1000)

/** The claims of a valid request object of `rp` (FAPI-CIBA 5.2.2, ID1). */
const claimsOf = (rp: Rp, extra: Record<string, unknown> = {}): Record<string, unknown> => {
  const at = now()
  return {
    iss: rp.info.clientId,
    aud: info.issuer,
    iat: at,
    nbf: at,
    exp: at + 300,
    jti: randomUUID(),
    scope: "openid",
    login_hint: nextHint(),
    binding_message: `W4SCT ${randomBytes(2).toString("hex")}`,
    ...(rp.info.deliveryMode === "PING" ? { client_notification_token: randomBytes(32).toString("base64url") } : {}),
    ...extra
  }
}

/** A signed request object: ES256 by the client's key unless told otherwise. */
const sign = (
  claims: Record<string, unknown>,
  key: client.CryptoKey | jose.KeyObject,
  header: jose.JWTHeaderParameters
) => new jose.SignJWT(claims).setProtectedHeader(header).sign(key)

const signedBy = (rp: Rp, claims: Record<string, unknown>) =>
  sign(claims, rp.key, { alg: "ES256", kid: rp.info.privateJwk.kid })

const without = (claims: Record<string, unknown>, ...names: ReadonlyArray<string>) =>
  Object.fromEntries(Object.entries(claims).filter(([name]) => !names.includes(name)))

/** The conformance suite's automated approval (allow or deny), over TLS with the playground's CA. */
const decide = async (authReqId: string, action: "allow" | "deny") => {
  const url = info.automatedApprovalUrl.replace("{auth_req_id}", encodeURIComponent(authReqId)).replace(
    "{action}",
    action
  )
  const response = await fetchVia(anonymous)(url, { method: "POST", headers: { accept: "application/json" } })
  await response.arrayBuffer()
  return response.status
}

interface Refusal {
  readonly status: number
  readonly error: string
  readonly description?: string | undefined
}

/** The OAuth error an openid-client call ended with; `error: "none"` when it succeeded. */
const refusalOf = async (call: () => Promise<unknown>): Promise<Refusal> => {
  try {
    await call()
    return { status: 200, error: "none" }
  } catch (error) {
    if (error instanceof client.ResponseBodyError) {
      return { status: error.status, error: error.error, description: error.error_description }
    }
    if (error instanceof client.WWWAuthenticateChallengeError) {
      const body = await error.response.json().catch(() => ({})) as { error?: string; error_description?: string }
      return { status: error.status, error: body.error ?? "(no body)", description: body.error_description }
    }
    throw error
  }
}

/** Verifies an ID token against `jwks_uri`, fetched over TLS with the playground's CA. */
const verifyIdToken = async (idToken: string, audience: string) => {
  const jwks = jose.createRemoteJWKSet(new URL(info.jwksUri), { [jose.customFetch]: fetchVia(anonymous) })
  return jose.jwtVerify(idToken, jwks, { issuer: info.issuer, audience, algorithms: ["ES256", "PS256"] })
}

const thumbprintOf = (pem: string) =>
  createHash("sha256").update(new X509Certificate(pem).raw).digest().toString("base64url")

/** Whether a token is a JWS (three base64url parts), so `cnf` can be read from it. */
const isJwt = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "effect-authlete-fapi-"))
  playground = await startCli<FapiPlaygroundInfo>(
    [
      "playground",
      "--profile",
      "fapi-ciba",
      "--json",
      "--interval",
      "1",
      "--limit-per-user",
      "off",
      "--limit-pending-per-user",
      "off"
    ],
    { fromSources: true, logFile: join(directory, "playground.log") }
  )
  info = playground.info
  anonymous = new Agent({ connect: { ca: info.caCertificate } })
  await Promise.all(info.clients.map(async (registered) => {
    const key = await jose.importJWK(registered.privateJwk, "ES256") as client.CryptoKey
    const agent = new Agent({
      connect: { ca: info.caCertificate, cert: registered.certificate, key: registered.privateKey }
    })
    const config = await configure(registered, key, agent)
    rps.set(`${registered.deliveryMode} ${registered.authMethod}`, {
      info: registered,
      key,
      agent,
      config,
      thumbprint: thumbprintOf(registered.certificate)
    })
  }))
}, 90_000)

afterAll(async () => {
  if (playground !== undefined) await kill(playground)
  killEveryStarted()
  await Promise.all([anonymous?.close(), ...[...rps.values()].map((rp) => rp.agent.close())])
  if (directory !== undefined && process.env["KEEP_FAPI_LOG"] === undefined) {
    rmSync(directory, { recursive: true, force: true })
  }
})

describe("playground --profile fapi-ciba, driven by openid-client over mutual TLS", () => {
  it("announces the four FAPI clients, its CA and the mTLS aliases; discovery says FAPI-CIBA", async () => {
    assert.deepStrictEqual(
      info.clients.map((c) => `${c.deliveryMode} ${c.authMethod}`).sort(),
      ["PING private_key_jwt", "PING tls_client_auth", "POLL private_key_jwt", "POLL tls_client_auth"]
    )
    for (const c of info.clients) {
      assert.strictEqual(c.privateJwk.alg, "ES256")
      assert.isString(c.privateJwk.kid)
      assert.include(c.certificate, "BEGIN CERTIFICATE")
      assert.include(c.privateKey, "PRIVATE KEY")
      if (c.deliveryMode === "PING") assert.strictEqual(c.notificationEndpoint, `${info.issuer}/client/callback/ping`)
    }
    assert.include(info.caCertificate, "BEGIN CERTIFICATE")
    const metadata = rpOf("POLL", "private_key_jwt").config.serverMetadata()
    assert.strictEqual(metadata.issuer, info.issuer)
    assert.deepStrictEqual(metadata.mtls_endpoint_aliases, info.mtlsEndpointAliases)
    assert.strictEqual(metadata.tls_client_certificate_bound_access_tokens, true)
    assert.deepStrictEqual(metadata.backchannel_token_delivery_modes_supported, ["poll", "ping"])
    assert.include(metadata.grant_types_supported ?? [], CIBA)
    assert.strictEqual(metadata.backchannel_authentication_endpoint, info.backchannelAuthenticationEndpoint)
    assert.strictEqual(metadata.token_endpoint, info.tokenEndpoint)
  })

  describe.concurrent("end to end: a signed request, the automated approval, the tokens", () => {
    for (const mode of ["POLL", "PING"] as const) {
      for (const method of ["private_key_jwt", "tls_client_auth"] as const) {
        it(`${mode} with ${method}`, async () => {
          const rp = rpOf(mode, method)
          const claims = claimsOf(rp)
          const started = await client.initiateBackchannelAuthentication(rp.config, {
            request: await signedBy(rp, claims)
          })
          assert.isString(started.auth_req_id)
          assert.isAtLeast(started.auth_req_id.length, 22, "at least 128 bits")
          assert.strictEqual(started.interval, 1)
          assert.strictEqual(await decide(started.auth_req_id, "allow"), 200)
          // POLL polls; PING asks once, after the ping (sent to the playground's own callback).
          const tokens = mode === "POLL"
            ? await client.pollBackchannelAuthenticationGrant(rp.config, started)
            : await client.genericGrantRequest(rp.config, CIBA, { auth_req_id: started.auth_req_id })
          assert.isString(tokens.access_token)
          assert.strictEqual(tokens.token_type.toLowerCase(), "bearer")
          const { payload, protectedHeader } = await verifyIdToken(tokens.id_token!, rp.info.clientId)
          assert.oneOf(protectedHeader.alg, ["ES256", "PS256"])
          assert.isString(protectedHeader.kid)
          const subject = info.users.find((user) => user.loginHints.includes(String(claims["login_hint"])))!.subject
          assert.strictEqual(payload.sub, subject)
          assert.strictEqual(payload.aud, rp.info.clientId)
          // The binding, where a relying party can see it: the JWT access token's `cnf`, and where a
          // resource server checks it: only with the client's own certificate.
          assert.isTrue(isJwt(tokens.access_token))
          const cnf = jose.decodeJwt(tokens.access_token)["cnf"] as { "x5t#S256"?: string } | undefined
          assert.strictEqual(cnf?.["x5t#S256"], rp.thumbprint)
          const other = rpOf(mode, method === "private_key_jwt" ? "tls_client_auth" : "private_key_jwt")
          const resource = (agent: Agent) =>
            fetchVia(agent)(info.resourceUrl, { headers: { authorization: `Bearer ${tokens.access_token}` } })
          const own = await resource(rp.agent)
          assert.strictEqual(own.status, 200)
          assert.strictEqual(((await own.json()) as { sub?: string }).sub, subject)
          for (const agent of [other.agent, anonymous]) {
            const refused = await resource(agent)
            assert.strictEqual(refused.status, 401)
            assert.match(refused.headers.get("www-authenticate") ?? "", /invalid_token/)
            await refused.arrayBuffer()
          }
          // Redeemed once.
          const again = await refusalOf(() =>
            client.genericGrantRequest(rp.config, CIBA, { auth_req_id: started.auth_req_id })
          )
          assert.strictEqual(again.error, "invalid_grant")
        })
      }
    }
  })

  it("a certificate-bound client's token request without its certificate is invalid_request; with it, the tokens", async () => {
    const rp = rpOf("POLL", "private_key_jwt")
    const started = await client.initiateBackchannelAuthentication(rp.config, {
      request: await signedBy(rp, claimsOf(rp))
    })
    assert.strictEqual(await decide(started.auth_req_id, "allow"), 200)
    const noCertificate = await configure(rp.info, rp.key, anonymous)
    const refused = await refusalOf(() =>
      client.genericGrantRequest(noCertificate, CIBA, { auth_req_id: started.auth_req_id })
    )
    assert.deepStrictEqual([refused.status, refused.error], [400, "invalid_request"])
    const tokens = await client.genericGrantRequest(rp.config, CIBA, { auth_req_id: started.auth_req_id })
    assert.isString(tokens.access_token)
  })

  describe.concurrent("request objects FAPI-CIBA refuses, each invalid_request", () => {
    /** Each case: its name, what the description must name (the reason, not another), the request object. */
    const cases: ReadonlyArray<
      readonly [string, RegExp, (rp: Rp, other: Rp) => Promise<string>]
    > = [
      ["without aud", /"aud"/, (rp) => signedBy(rp, without(claimsOf(rp), "aud"))],
      ["with a wrong aud", /"aud"/, (rp) => signedBy(rp, claimsOf(rp, { aud: `${info.issuer}/somewhere-else` }))],
      ["with a wrong iss", /"iss"/, (rp, other) => signedBy(rp, claimsOf(rp, { iss: other.info.clientId }))],
      ["without exp", /"exp"/, (rp) => signedBy(rp, without(claimsOf(rp), "exp"))],
      [
        "expired",
        /expired|"exp"/,
        (rp) => signedBy(rp, claimsOf(rp, { iat: now() - 600, nbf: now() - 600, exp: now() - 60 }))
      ],
      ["with exp 70 minutes after nbf", /60 minutes/, (rp) => signedBy(rp, claimsOf(rp, { exp: now() + 70 * 60 }))],
      [
        "with nbf in the future",
        /"nbf"|'nbf'/,
        (rp) => signedBy(rp, claimsOf(rp, { nbf: now() + 600, exp: now() + 1200 }))
      ],
      ["without nbf", /"nbf"|'nbf'/, (rp) => signedBy(rp, without(claimsOf(rp), "nbf"))],
      ["without jti", /"jti"|'jti'/, (rp) => signedBy(rp, without(claimsOf(rp), "jti"))],
      ["with alg none", /none/, (rp) => Promise.resolve(new jose.UnsecuredJWT(claimsOf(rp)).encode())],
      ["signed RS256", /RS256/, async (rp) => {
        const { privateKey } = await jose.generateKeyPair("RS256")
        return sign(claimsOf(rp), privateKey, { alg: "RS256", kid: rp.info.privateJwk.kid })
      }],
      ["signed by another client's key", /signature|key/, (rp, other) => signedBy(other, claimsOf(rp))]
    ]
    for (const method of ["private_key_jwt", "tls_client_auth"] as const) {
      for (const [name, reason, make] of cases) {
        it(`${name} (POLL ${method})`, async () => {
          const rp = rpOf("POLL", method)
          const other = rpOf("PING", method)
          const request = await make(rp, other)
          const refused = await refusalOf(() => client.initiateBackchannelAuthentication(rp.config, { request }))
          assert.deepStrictEqual([refused.status, refused.error], [400, "invalid_request"], refused.description)
          assert.match(refused.description ?? "", reason)
        })
      }
    }
  })

  describe.concurrent("other refusals", () => {
    it("an unsigned request (plain form) is invalid_request", async () => {
      const rp = rpOf("POLL", "private_key_jwt")
      const refused = await refusalOf(() =>
        client.initiateBackchannelAuthentication(rp.config, {
          scope: "openid",
          login_hint: nextHint(),
          binding_message: "W4SCT"
        })
      )
      assert.deepStrictEqual([refused.status, refused.error], [400, "invalid_request"], refused.description)
    })

    it("two hints (login_hint and id_token_hint) are invalid_request", async () => {
      const rp = rpOf("PING", "tls_client_auth")
      const idTokenHint = await sign({ iss: info.issuer, sub: "user-1", aud: rp.info.clientId }, rp.key, {
        alg: "ES256"
      })
      const refused = await refusalOf(async () =>
        client.initiateBackchannelAuthentication(rp.config, {
          request: await signedBy(rp, claimsOf(rp, { id_token_hint: idTokenHint }))
        })
      )
      assert.deepStrictEqual([refused.status, refused.error], [400, "invalid_request"], refused.description)
    })

    it("no binding message is invalid_request (not invalid_binding_message)", async () => {
      const rp = rpOf("POLL", "tls_client_auth")
      const refused = await refusalOf(async () =>
        client.initiateBackchannelAuthentication(rp.config, {
          request: await signedBy(rp, without(claimsOf(rp), "binding_message"))
        })
      )
      assert.strictEqual(refused.status, 400)
      assert.oneOf(refused.error, ["invalid_request", "invalid_binding_message"])
      assert.strictEqual(refused.error, "invalid_request", "the error this server gives")
    })

    it("emoji and CJK binding messages are accepted, and reach the device as sent", async () => {
      const rp = rpOf("POLL", "tls_client_auth")
      const message = "✅ 取引 1234"
      const started = await client.initiateBackchannelAuthentication(rp.config, {
        request: await signedBy(rp, claimsOf(rp, { binding_message: message }))
      })
      const shown = await fetchVia(anonymous)(`${info.deviceUrl}/requests`, { headers: { accept: "application/json" } })
      const { requests } = await shown.json() as {
        requests: ReadonlyArray<{ authReqId: string; bindingMessage?: string }>
      }
      assert.strictEqual(requests.find((request) => request.authReqId === started.auth_req_id)?.bindingMessage, message)
      assert.strictEqual(await decide(started.auth_req_id, "allow"), 200)
      const tokens = await client.genericGrantRequest(rp.config, CIBA, { auth_req_id: started.auth_req_id })
      assert.isString(tokens.id_token)
    })

    it("the automated approval of a PING request answers 200 though the client's endpoint refuses the ping", async () => {
      // FAPI-CIBA: the flow completes when the client's notification endpoint answers 401; the
      // playground's own callback answers 401 to a ping it does not wait for (an outside client's).
      const rp = rpOf("PING", "private_key_jwt")
      const started = await client.initiateBackchannelAuthentication(rp.config, {
        request: await signedBy(rp, claimsOf(rp))
      })
      const approval = await decide(started.auth_req_id, "allow")
      const tokens = await client.genericGrantRequest(rp.config, CIBA, { auth_req_id: started.auth_req_id })
      assert.isString(tokens.access_token, "Authlete completed the request")
      assert.strictEqual(approval, 200)
    })

    it("a token request with another client's auth_req_id is invalid_grant", async () => {
      const owner = rpOf("POLL", "private_key_jwt")
      const thief = rpOf("POLL", "tls_client_auth")
      const started = await client.initiateBackchannelAuthentication(owner.config, {
        request: await signedBy(owner, claimsOf(owner))
      })
      try {
        const refused = await refusalOf(() =>
          client.genericGrantRequest(thief.config, CIBA, { auth_req_id: started.auth_req_id })
        )
        assert.deepStrictEqual([refused.status, refused.error], [400, "invalid_grant"], refused.description)
      } finally {
        await decide(started.auth_req_id, "deny")
      }
    })

    it("a tls_client_auth client without a certificate is invalid_client, at both endpoints", async () => {
      const rp = rpOf("POLL", "tls_client_auth")
      const noCertificate = await configure(rp.info, rp.key, anonymous)
      const atBackchannel = await refusalOf(async () =>
        client.initiateBackchannelAuthentication(noCertificate, { request: await signedBy(rp, claimsOf(rp)) })
      )
      assert.deepStrictEqual([atBackchannel.status, atBackchannel.error], [401, "invalid_client"])
      const atToken = await refusalOf(() =>
        client.genericGrantRequest(noCertificate, CIBA, { auth_req_id: "an-auth-req-id-of-no-one" })
      )
      assert.deepStrictEqual([atToken.status, atToken.error], [401, "invalid_client"])
    })

    it("a private_key_jwt client without a client assertion is invalid_client", async () => {
      const rp = rpOf("PING", "private_key_jwt")
      const noAssertion = await configure(rp.info, rp.key, rp.agent, client.None())
      const refused = await refusalOf(async () =>
        client.initiateBackchannelAuthentication(noAssertion, { request: await signedBy(rp, claimsOf(rp)) })
      )
      assert.deepStrictEqual([refused.status, refused.error], [401, "invalid_client"])
    })

    it("a private_key_jwt client whose client assertion is signed RS256 is invalid_client", async () => {
      const rp = rpOf("POLL", "private_key_jwt")
      const { privateKey } = await jose.generateKeyPair("RS256")
      const rs256 = await configure(
        rp.info,
        rp.key,
        rp.agent,
        client.PrivateKeyJwt({ key: privateKey, kid: rp.info.privateJwk.kid })
      )
      const refused = await refusalOf(async () =>
        client.initiateBackchannelAuthentication(rs256, { request: await signedBy(rp, claimsOf(rp)) })
      )
      assert.deepStrictEqual([refused.status, refused.error], [401, "invalid_client"])
    })

    for (const mode of ["POLL", "PING"] as const) {
      it(`a denial is access_denied (${mode})`, async () => {
        const rp = rpOf(mode, mode === "POLL" ? "tls_client_auth" : "private_key_jwt")
        const started = await client.initiateBackchannelAuthentication(rp.config, {
          request: await signedBy(rp, claimsOf(rp))
        })
        assert.strictEqual(await decide(started.auth_req_id, "deny"), 200)
        const refused = await refusalOf(() =>
          mode === "POLL"
            ? client.pollBackchannelAuthenticationGrant(rp.config, started)
            : client.genericGrantRequest(rp.config, CIBA, { auth_req_id: started.auth_req_id })
        )
        assert.deepStrictEqual([refused.status, refused.error], [400, "access_denied"])
      })
    }

    it("x-fapi-interaction-id: echoed on the backchannel answer, a fresh UUID when absent", async () => {
      const rp = rpOf("POLL", "private_key_jwt")
      const seen: Array<string | null> = []
      const sent = randomUUID()
      const recording = (header: string | undefined) => (url: string, options: client.CustomFetchOptions) =>
        fetchVia(rp.agent)(url, {
          ...options,
          headers: { ...options.headers, ...(header === undefined ? {} : { "x-fapi-interaction-id": header }) }
        }).then((response) => {
          seen.push(response.headers.get("x-fapi-interaction-id"))
          return response
        })
      const config = await configure(rp.info, rp.key, rp.agent)
      config[client.customFetch] = recording(sent)
      const started = await client.initiateBackchannelAuthentication(config, {
        request: await signedBy(rp, claimsOf(rp))
      })
      // A refusal carries it too.
      await refusalOf(async () =>
        client.initiateBackchannelAuthentication(config, { request: await signedBy(rp, without(claimsOf(rp), "jti")) })
      )
      config[client.customFetch] = recording(undefined)
      await client.initiateBackchannelAuthentication(config, { request: await signedBy(rp, claimsOf(rp)) }).then(
        (other) => decide(other.auth_req_id, "deny")
      )
      await decide(started.auth_req_id, "deny")
      assert.deepStrictEqual(seen.slice(0, 2), [sent, sent])
      assert.match(seen[2] ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
      assert.notStrictEqual(seen[2], sent)
    })
  })
})
