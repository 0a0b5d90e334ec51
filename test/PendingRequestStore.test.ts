/**
 * The in-memory store of pending requests: its bound (`maxRequests`, expired requests not counted,
 * places held by `reserve`), what a request costs it in memory, and the backchannel endpoint's
 * answer when it is full (the ticket failed at Authlete, a 503 `temporarily_unavailable`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted, Scope, TestClock } from "effect"
import { PendingRequest, PendingRequestStore } from "effect-authlete"
import { Playground } from "effect-authlete/playground"
import { AuthleteSimulator } from "effect-authlete/simulator"
import * as Crypto from "node:crypto"
import * as V8 from "node:v8"
import * as Vm from "node:vm"

V8.setFlagsFromString("--expose-gc")
const collectGarbage = Vm.runInNewContext("gc") as () => void

/**
 * A request as the backchannel endpoint builds it from Authlete's answer: its strings and arrays
 * fresh from a JSON parse, as decoding the answer leaves them.
 */
const realistic = (now: number, expiresInMillis = 600_000) =>
  new PendingRequest.PendingRequest(JSON.parse(JSON.stringify({
    authReqId: Crypto.randomBytes(32).toString("base64url"),
    ticket: Crypto.randomBytes(32).toString("base64url"),
    subject: `user-${Crypto.randomInt(1_000_000)}`,
    clientId: 1001,
    clientName: "Playground POLL client",
    deliveryMode: "POLL",
    scopes: ["openid", "profile", "email"],
    claimNames: [
      "name",
      "family_name",
      "given_name",
      "middle_name",
      "nickname",
      "preferred_username",
      "profile",
      "picture",
      "website",
      "gender",
      "birthdate",
      "zoneinfo",
      "locale",
      "updated_at",
      "email",
      "email_verified"
    ],
    claimsLocales: ["ja", "en"],
    acrValues: ["urn:mace:incommon:iap:silver"],
    bindingMessage: `W4SCT-${Crypto.randomInt(10_000)}`,
    userCodeRequired: false,
    createdAt: now,
    expiresAt: now + expiresInMillis
  })))

const isFull = <A>(exit: Exit.Exit<A, PendingRequestStore.PendingRequestStoreError>): boolean =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error.reason === "Full"

describe("PendingRequestStore.makeMemory", () => {
  it.effect("holds at most maxRequests and refuses the next with reason Full", () =>
    Effect.gen(function*() {
      const store = PendingRequestStore.makeMemory({ maxRequests: 3 })
      for (let i = 0; i < 3; i++) yield* store.add(realistic(0))
      const refused = yield* Effect.exit(store.add(realistic(0)))
      assert.isTrue(isFull(refused))
      if (Exit.isFailure(refused) && refused.cause._tag === "Fail") {
        assert.include(refused.cause.error.message, "refused to add a request")
        assert.include(refused.cause.error.message, "3 requests")
      }
      assert.strictEqual((yield* store.list(0)).length, 3)
      // Replacing a request it holds takes no more room.
      const [first] = yield* store.list(0)
      yield* store.add(first!)
    }))

  it.effect("does not count expired requests: they make room, and are still told apart as Expired", () =>
    Effect.gen(function*() {
      const store = PendingRequestStore.makeMemory({ maxRequests: 2 })
      const short = realistic(0, 1_000)
      yield* store.add(short)
      yield* store.add(realistic(0))
      assert.isTrue(isFull(yield* Effect.exit(store.add(realistic(0)))))
      yield* TestClock.adjust("1 second")
      yield* store.add(realistic(1_000))
      assert.deepStrictEqual(yield* store.take(short.authReqId, 1_000), { _tag: "Expired" })
    }))

  it.effect("reserve holds a place until its scope closes", () =>
    Effect.gen(function*() {
      const store = PendingRequestStore.makeMemory({ maxRequests: 2 })
      const reserve = store.reserve!
      yield* store.add(realistic(0))
      const scope = yield* Scope.make()
      yield* Scope.extend(reserve(0), scope)
      assert.isTrue(isFull(yield* Effect.exit(Effect.scoped(reserve(0)))), "the held place counts")
      // The request that holds the place goes in.
      yield* store.add(realistic(0))
      yield* Scope.close(scope, Exit.void)
      assert.isTrue(isFull(yield* Effect.exit(Effect.scoped(reserve(0)))), "and then it counts as a request")
      const [request] = yield* store.list(0)
      yield* store.take(request!.authReqId, 0)
      yield* Effect.scoped(reserve(0))
    }))

  it.effect("layerMemory is a value holding 10,000; layerMemoryWith takes the bound", () =>
    Effect.gen(function*() {
      const store = yield* PendingRequestStore.PendingRequestStore.pipe(Effect.provide(PendingRequestStore.layerMemory))
      for (let i = 0; i < 10_000; i++) yield* store.add(realistic(0))
      assert.isTrue(isFull(yield* Effect.exit(store.add(realistic(0)))))
      const small = yield* PendingRequestStore.PendingRequestStore.pipe(
        Effect.provide(PendingRequestStore.layerMemoryWith({ maxRequests: 1 }))
      )
      yield* small.add(realistic(0))
      assert.isTrue(isFull(yield* Effect.exit(small.add(realistic(0)))))
    }))

  it("a pending request costs the store under 4 KB of heap", () => {
    const count = 10_000
    collectGarbage()
    collectGarbage()
    const before = process.memoryUsage().heapUsed
    const store = PendingRequestStore.makeMemory({ maxRequests: count })
    for (let i = 0; i < count; i++) Effect.runSync(store.add(realistic(0)))
    collectGarbage()
    collectGarbage()
    const after = process.memoryUsage().heapUsed
    assert.strictEqual(Effect.runSync(store.list(0)).length, count, "the store is still alive")
    const perRequest = (after - before) / count
    console.log(`memory per pending request: ${Math.round(perRequest)} bytes (${count} requests)`)
    assert.isBelow(perRequest, 4096)
  })
})

describe("the backchannel endpoint with a full store", () => {
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`

  it.live("fails the ticket at Authlete before /issue and answers 503 temporarily_unavailable", () =>
    Effect.scoped(Effect.gen(function*() {
      const context = yield* Layer.build(Playground.layer({ interval: 1, maxPendingRequests: 2, userCodeRequired: [] }))
        .pipe(Effect.orDie)
      const info = yield* Effect.provide(Playground.Playground, context)
      const simulator = yield* Effect.provide(AuthleteSimulator.AuthleteSimulator, context)
      const poll = info.clients.find((client) => client.deliveryMode === "POLL")!
      const start = () =>
        Effect.promise(async () => {
          const response = await fetch(info.backchannelAuthenticationEndpoint, {
            method: "POST",
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              authorization: basic(poll.clientId, poll.clientSecret)
            },
            body: "scope=openid&login_hint=user-1"
          })
          return { status: response.status, body: await response.json() as Record<string, unknown> }
        })
      const first = yield* start()
      const second = yield* start()
      assert.deepStrictEqual([first.status, second.status], [200, 200])
      const before = (yield* simulator.requests).length
      const third = yield* start()
      assert.strictEqual(third.status, 503)
      assert.strictEqual(third.body["error"], "temporarily_unavailable")
      const sent = (yield* simulator.requests).slice(before).map((request) => request.path.replace(/^\/api\/\d+/, ""))
      assert.deepStrictEqual(sent, ["/backchannel/authentication", "/backchannel/authentication/fail"])
      const failed = (yield* simulator.requests).at(-1)!.body as { ticket: string; reason: string }
      assert.strictEqual(failed.reason, "SERVER_ERROR")
      // Authlete deleted the ticket: it cannot be issued any more.
      const reissued = yield* Effect.promise(() =>
        fetch(`${simulator.baseUrl}/api/${simulator.serviceId}/backchannel/authentication/issue`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${Redacted.value(simulator.accessToken)}`
          },
          body: JSON.stringify({ ticket: failed.ticket })
        }).then((response) => response.json() as Promise<{ resultCode?: string }>)
      )
      assert.strictEqual(reissued.resultCode, "A183202")

      // A decision makes room.
      const approved = yield* Effect.promise(() =>
        fetch(
          info.automatedApprovalUrl.replace("{auth_req_id}", String(first.body["auth_req_id"])).replace(
            "{action}",
            "allow"
          ),
          { method: "POST" }
        )
      )
      assert.isBelow(approved.status, 300)
      const fourth = yield* start()
      assert.strictEqual(fourth.status, 200)
      assert.isString(fourth.body["auth_req_id"])
    })))
})
