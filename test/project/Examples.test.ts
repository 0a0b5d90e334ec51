/**
 * The README's examples run as a user runs them (`npx tsx examples/<name>.ts`) and print what the
 * README says.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"

const run = (example: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL(`../../examples/${example}`, import.meta.url))],
      { timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : 1, stdout, stderr })
    )
  })

describe("examples", () => {
  it("layers.ts: the live, config and test layers each answer", async () => {
    const { code, stderr, stdout } = await run("layers.ts")
    assert.strictEqual(code, 0, stderr)
    assert.match(stdout, /live: USER_IDENTIFICATION/)
    assert.match(stdout, /config: USER_IDENTIFICATION/)
    assert.match(stdout, /test: NO_ACTION \(1 request recorded\)/)
  })

  it("complete-with-claims.ts: PUSH completion with the consented claims in the ID token", async () => {
    const { code, stderr, stdout } = await run("complete-with-claims.ts")
    assert.strictEqual(code, 0, stderr)
    assert.match(stdout, /outcome: Notified, action NOTIFICATION, A198001/)
    assert.match(stdout, /family_name: '山田'/)
    assert.match(stdout, /member_since: 2019/)
    assert.match(stdout, /email: undefined/)
  })

  it("authorization-server.ts: the routes mounted in an application's server answer a POLL flow", async () => {
    const { code, stderr, stdout } = await run("authorization-server.ts")
    assert.strictEqual(code, 0, stderr)
    assert.match(stdout, /backchannel: 200 auth_req_id, expires_in, interval/)
    assert.match(stdout, /token, before the user decides: 400 authorization_pending/)
    assert.match(stdout, /token, after: 200 token_type Bearer sub user-1/)
  })
})
