/**
 * The default binding message check (CIBA Core 7.1: a short, plain-text message shown on both
 * devices): what it refuses and why, what it lets through (emoji, their sequences, CJK, Indic and
 * Thai text), its configurable maximum, its bound on time, and the refusal end to end, through the
 * backchannel endpoint against the simulator and through the playground's server and device.
 */
import { assert, describe, it, vi } from "@effect/vitest"
import { Clock, Effect, Layer } from "effect"
import {
  BackchannelAuthenticationEndpoint,
  BackchannelChecks,
  BackchannelLimits,
  PendingRequestStore
} from "effect-authlete"
import { Pages, Playground } from "effect-authlete/playground"
import { AuthleteSimulator } from "effect-authlete/simulator"
import { authleteSaw, backchannelServer } from "./support/backchannelServer.js"

const problem = (message: string, options?: BackchannelChecks.BindingMessageOptions) =>
  BackchannelChecks.bindingMessageProblem(message, options)

/** What the default check (the one `BackchannelChecks.layer()` provides) says. */
const valid = (message: string) => Effect.runSync(BackchannelChecks.defaults.isBindingMessageValid(message))

const refuses = (message: string, reason: RegExp) => {
  const found = problem(message)
  assert.isDefined(found, `${JSON.stringify(message)} was accepted`)
  assert.match(found!, reason, JSON.stringify(message))
  assert.isFalse(valid(message), JSON.stringify(message))
}

const accepts = (message: string) => {
  assert.isUndefined(problem(message), JSON.stringify(message))
  assert.isTrue(valid(message), JSON.stringify(message))
}

const FAMILY = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}" // 👨‍👩‍👧‍👦, 11 code units
const NOT_SHOWN = /U\+[0-9A-F]{4,5}, which is not shown as itself/

describe("the default binding message check refuses", () => {
  it("a right-to-left override, and every other bidirectional control", () => {
    refuses("\u202EWXYZ", /U\+202E, which is not shown/)
    for (
      const control of [
        "\u061C",
        "\u200E",
        "\u200F",
        "\u202A",
        "\u202B",
        "\u202C",
        "\u202D",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069"
      ]
    ) {
      refuses(`AB${control}CD`, NOT_SHOWN)
    }
  })

  it("a zero-width joiner between letters, and other zero-width and invisible format characters", () => {
    refuses("W4\u200DSCT", /zero-width joiner \(U\+200D\) outside an emoji sequence/)
    refuses("\u200D\u{1F469}", /zero-width joiner/)
    refuses("\u{1F469}\u200D", /zero-width joiner/)
    refuses("\u{1F469}\u200DA", /zero-width joiner/)
    for (
      const hidden of [
        "\u200B",
        "\u200C",
        "\u2060",
        "\uFEFF",
        "\u00AD",
        "\u180E",
        "\u{E0041}",
        "\u{E007F}",
        "\u034F",
        "\u3164"
      ]
    ) {
      refuses(`W4${hidden}SCT`, NOT_SHOWN)
    }
  })

  it("line and paragraph separators, and C0 and C1 controls", () => {
    refuses("W4\u2028SCT", /U\+2028/)
    refuses("W4\u2029SCT", /U\+2029/)
    for (const control of ["\u0000", "\t", "\n", "\r", "\u001B", "\u007F", "\u0085", "\u009B"]) {
      refuses(`W4${control}SCT`, NOT_SHOWN)
    }
  })

  it("surrogates, private-use and unassigned code points", () => {
    refuses("W4\uD800SCT", /U\+D800/)
    refuses("W4\uDC00", /U\+DC00/)
    refuses("W4\uE000", /U\+E000/)
    refuses("W4\u{F0000}", /U\+F0000/)
    refuses("W4\u0378", /U\+0378/)
    refuses("W4\uFFFF", /U\+FFFF/)
  })

  it("more than 3 combining marks stacked on one character, and a mark on no character", () => {
    refuses("e\u0301\u0301\u0301\u0301\u0301", /more than 3 combining marks on one character/)
    refuses("W4SCT" + "a\u0300\u0301\u0302\u0303", /more than 3 combining marks/)
    // Variation selectors are marks too: they cannot pile up either.
    refuses("\u2764\uFE0F\uFE0F\uFE0F\uFE0F", /more than 3 combining marks/)
    refuses("\u0301W4SCT", /combining mark on no character/)
    refuses("\uFE0FW4SCT", /combining mark on no character/)
  })

  it("65 characters, nothing, or only white space", () => {
    refuses("A".repeat(65), /longer than 64 characters/)
    refuses("\u2705".repeat(65), /longer than 64 characters/)
    refuses(FAMILY.repeat(65), /longer than 64 characters/)
    refuses("", /empty/)
    refuses("   ", /only white space/)
    refuses("\u3000\u00A0", /only white space/)
  })

  it("a grapheme cluster longer than any real one", () => {
    // A Devanagari conjunct chain is one cluster (UAX #29, GB9c), however long.
    refuses("\u0915\u094D".repeat(20) + "\u0915", /character of more than 32 code units/)
  })
})

describe("the default binding message check accepts", () => {
  it("ASCII and CJK text", () => {
    accepts("W4SCT")
    accepts("Pay 12.50 EUR to ACME #8841")
    accepts("取引番号 1234")
    accepts("お支払い 4,800円")
    accepts("결제 1234")
  })

  it("emoji: alone, ZWJ sequences, variation selectors, skin tones, flags, keycaps", () => {
    accepts("\u2705 1234") // ✅ 1234
    accepts(FAMILY)
    accepts(`${FAMILY} 1234`)
    accepts("\u2764\uFE0F") // ❤️
    accepts("\u2764\uFE0F\u200D\u{1F525}") // ❤️‍🔥: a joiner after a variation selector
    accepts("\u{1F44D}\u{1F3FD}") // 👍🏽
    accepts("\u{1F469}\u{1F3FB}\u200D\u{1F4BB}") // 👩🏻‍💻: a joiner after a skin tone
    accepts("\u{1F469}\u{1F3FB}\u200D\u2764\uFE0F\u200D\u{1F48B}\u200D\u{1F468}\u{1F3FC}") // 15 code units
    accepts("\u{1F1EF}\u{1F1F5}") // 🇯🇵
    accepts("1\uFE0F\u20E3") // 1️⃣
  })

  it("scripts with combining marks: Devanagari, Thai, Vietnamese, pointed Hebrew, Tibetan", () => {
    accepts("नमस्ते 1234") // a virama and vowel signs
    accepts("स्त्री") // one cluster with three marks, none stacked on another
    accepts("कि") // a combining vowel sign
    accepts("กี่ 1234") // Thai: a vowel and a tone mark on one consonant
    accepts("Vi\u1EC7t".normalize("NFD")) // ệ decomposed: two marks on the e
    accepts("שָּׁלוֹם") // three points on the shin
    accepts("བསྒྲུབས") // a stack of three
    accepts("Привет 1234")
    accepts("مرحبا 1234")
  })

  it("what the OpenID conformance suite sends: `1234`, and its long emoji and kanji message but for its length", () => {
    accepts("1234")
    // fapi-ciba-id1-ensure-authorization-request-with-potentially-bad-binding-message: the server may
    // show it or answer invalid_binding_message. Its characters pass; its length does not.
    const suite = "1234 \u{1F44D}\u{1F3FF} 品川 Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do " +
      "eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud."
    accepts(suite.slice(0, 16)) // 1234 👍🏿 品川 Lorem
    refuses(suite, /longer than 64 characters/)
    assert.isUndefined(problem(suite, { maxLength: 500 }))
  })

  it("64 characters, even when they are many more code units", () => {
    accepts("A".repeat(64))
    const emoji = FAMILY.repeat(64)
    assert.strictEqual(emoji.length, 704)
    accepts(emoji)
    accepts("\u2705".repeat(64))
    accepts("\u{1F1EF}\u{1F1F5}".repeat(64))
    accepts("e\u0301\u0301\u0301".repeat(64))
  })
})

describe("the binding message's maximum length", () => {
  it("is configurable with bindingMessageCheck, in grapheme clusters", () => {
    const short = BackchannelChecks.bindingMessageCheck({ maxLength: 8 })
    assert.isTrue(Effect.runSync(short(FAMILY.repeat(8))))
    assert.isFalse(Effect.runSync(short(FAMILY.repeat(9))))
    assert.isFalse(Effect.runSync(short("W4SCT-123")))
    const one = BackchannelChecks.bindingMessageCheck({ maxLength: 1 })
    assert.isTrue(Effect.runSync(one("\u2705")))
    assert.isTrue(Effect.runSync(one(FAMILY)))
    assert.isFalse(Effect.runSync(one("ab")))
    const long = BackchannelChecks.bindingMessageCheck({ maxLength: 200 })
    assert.isTrue(Effect.runSync(long("A".repeat(200))))
    assert.isFalse(Effect.runSync(long("A".repeat(201))))
    // The other rules hold at any length.
    assert.isFalse(Effect.runSync(long("\u202EWXYZ")))
    assert.match(problem("A".repeat(9), { maxLength: 8 })!, /longer than 8 characters/)
    assert.isUndefined(problem("A".repeat(64), { maxLength: undefined }))
  })

  it("must be a whole number of at least 1", () => {
    for (const maxLength of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => BackchannelChecks.bindingMessageCheck({ maxLength }), RangeError)
      assert.throws(() => problem("W4SCT", { maxLength }), RangeError)
    }
  })

  it.effect("is given to the layer as its binding message check; layer(checks) keeps the others' defaults", () =>
    Effect.gen(function*() {
      const short = yield* Effect.provide(
        BackchannelChecks.BackchannelChecks,
        BackchannelChecks.layer({ isBindingMessageValid: BackchannelChecks.bindingMessageCheck({ maxLength: 4 }) })
      )
      assert.isTrue(yield* short.isBindingMessageValid("W4SC"))
      assert.isFalse(yield* short.isBindingMessageValid("W4SCT"))
      assert.isFalse(yield* short.isUserCodeValid("user-1", "1234"))
      const defaults = yield* Effect.provide(
        BackchannelChecks.BackchannelChecks,
        BackchannelChecks.layer({ isUserCodeValid: () => Effect.succeed(true) })
      )
      assert.isTrue(yield* defaults.isUserCodeValid("user-1", "1234"))
      assert.isTrue(yield* defaults.isBindingMessageValid("A".repeat(64)))
      assert.isFalse(yield* defaults.isBindingMessageValid("A".repeat(65)))
      assert.isFalse(yield* defaults.isBindingMessageValid("\u202EWXYZ"))
    }))
})

describe("the binding message check's cost", () => {
  it("refuses a 1 MB message at once, without segmenting it", () => {
    const segment = vi.spyOn(Intl.Segmenter.prototype, "segment")
    try {
      for (const huge of ["a".repeat(1_000_000), FAMILY.repeat(100_000), "e" + "\u0301".repeat(999_999)]) {
        assert.match(problem(huge)!, /longer than 64 characters/)
        assert.isFalse(valid(huge))
      }
      assert.strictEqual(segment.mock.calls.length, 0)
      // Past the cap of 64 × 32 code units, nothing is read: one unit less is segmented.
      assert.match(problem("a".repeat(64 * 32 + 1))!, /longer than 64/)
      assert.strictEqual(segment.mock.calls.length, 0)
      assert.match(problem("\u00e9".repeat(64 * 32))!, /longer than 64/)
      assert.strictEqual(segment.mock.calls.length, 1)
      // Printable ASCII is one cluster a character: counted without segmenting, at the cap or not.
      assert.match(problem("a".repeat(64 * 32))!, /longer than 64/)
      assert.match(problem("a".repeat(65))!, /longer than 64/)
      assert.isUndefined(problem("a".repeat(64)))
      assert.match(problem(" ".repeat(10))!, /only white space/)
      assert.strictEqual(segment.mock.calls.length, 1)
    } finally {
      segment.mockRestore()
    }
  })

  // Speed is the benchmark's business; here, each worst case at the cap is read and refused with a reason.
  it("reads the longest input it accepts to read, whatever it holds, and says why it refuses it", () => {
    const worst = [
      "\u0915\u094D".repeat(1024), // one cluster of 2,048 code units
      FAMILY.repeat(186), // ZWJ sequences to look back over
      "\u{1F469}\u{1F3FB}".repeat(512),
      "a\u0301\u0301\u0301".repeat(512)
    ]
    for (const input of worst) assert.isDefined(problem(input))
  })
})

// ---------------------------------------------------------------- end to end

const POLL = { clientId: 1, clientSecret: "poll-secret", deliveryMode: "POLL" } as const

/** An authorization server on the endpoint's program and the simulator, with your binding message check. */
const ServerWith = (checks: Layer.Layer<BackchannelChecks.BackchannelChecks>) =>
  backchannelServer({ clients: [POLL], checks, limits: BackchannelLimits.layerMemory() })

const backchannel = (bindingMessage: string) =>
  BackchannelAuthenticationEndpoint.handleBackchannelAuthentication({
    parameters: new URLSearchParams({
      scope: "openid",
      login_hint: "taro@example.com",
      binding_message: bindingMessage
    })
      .toString(),
    clientId: String(POLL.clientId),
    clientSecret: POLL.clientSecret
  })

describe("the backchannel endpoint with the binding message check", () => {
  it.scoped("fails a refused message with INVALID_BINDING_MESSAGE: 400 invalid_binding_message to the client", () =>
    Effect.gen(function*() {
      const refused = [
        "\u202EWXYZ",
        "W4\u200DSCT",
        "W4\u2028SCT",
        "e\u0301\u0301\u0301\u0301\u0301",
        "\u2705".repeat(65)
      ]
      for (const message of refused) {
        const answer = yield* backchannel(message)
        assert.strictEqual(answer.status, 400, JSON.stringify(message))
        assert.strictEqual((JSON.parse(answer.body) as { error: string }).error, "invalid_binding_message")
      }
      const saw = yield* authleteSaw
      assert.deepStrictEqual(saw.failed, refused.map(() => "INVALID_BINDING_MESSAGE"))
      assert.strictEqual(saw.issued, 0)
      const store = yield* PendingRequestStore.PendingRequestStore
      assert.deepStrictEqual(yield* store.list(yield* Clock.currentTimeMillis), [])

      const answer = yield* backchannel(`\u2705 ${FAMILY} 取引番号 1234`)
      assert.strictEqual(answer.status, 200, answer.body)
      assert.strictEqual((yield* authleteSaw).issued, 1)
    }).pipe(Effect.provide(ServerWith(BackchannelChecks.layer()))))

  it.scoped("applies the maximum length given to the layer", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* backchannel("\u2705 1234")).status, 400)
      assert.strictEqual((yield* backchannel("\u2705 12")).status, 200)
      assert.deepStrictEqual((yield* authleteSaw).failed, ["INVALID_BINDING_MESSAGE"])
    }).pipe(Effect.provide(ServerWith(BackchannelChecks.layer({
      isBindingMessageValid: BackchannelChecks.bindingMessageCheck({ maxLength: 4 })
    })))))
})

describe("the playground with the binding message check", () => {
  const basic = (clientId: string, secret: string) =>
    `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`

  it.live("refuses over HTTP what the check refuses, and the device shows an accepted message exactly as sent", () =>
    Effect.gen(function*() {
      const info = yield* Playground.Playground
      const client = info.clients.find((c) => c.deliveryMode === "POLL")!
      const post = (bindingMessage: string) =>
        Effect.promise(async () => {
          const response = await fetch(info.backchannelAuthenticationEndpoint, {
            method: "POST",
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              authorization: basic(client.clientId, client.clientSecret)
            },
            body: new URLSearchParams({ scope: "openid", login_hint: "user-1", binding_message: bindingMessage })
              .toString()
          })
          return { status: response.status, body: await response.json() as Record<string, unknown> }
        })
      const refused = yield* post("\u202EWXYZ")
      assert.strictEqual(refused.status, 400)
      assert.strictEqual(refused.body.error, "invalid_binding_message")

      // Spaces inside and around, a ZWJ sequence, CJK, a combining vowel sign: nothing is changed.
      const message = ` 12  34 ${FAMILY} 取引 कि `
      const accepted = yield* post(message)
      assert.strictEqual(accepted.status, 200, JSON.stringify(accepted.body))
      const shown = yield* Effect.promise(async () => {
        const response = await fetch(`${info.issuer}/device/requests`)
        return (await response.json() as { requests: Array<{ authReqId: string; bindingMessage?: string }> }).requests
      })
      assert.deepStrictEqual(shown.map((request) => [request.authReqId, request.bindingMessage]), [
        [accepted.body.auth_req_id, message]
      ])
      // The device writes it as text (`textContent`), and its style keeps every space where it is.
      const style = yield* Effect.promise(() => fetch(`${info.issuer}/device/style.css`).then((r) => r.text()))
      for (const rule of [".binding {", ".shown-binding {"]) {
        const body = style.slice(style.indexOf(rule), style.indexOf("}", style.indexOf(rule)))
        assert.include(body, "white-space: pre-wrap", rule)
      }
      const simulator = yield* AuthleteSimulator.AuthleteSimulator
      const failed = (yield* simulator.requests).filter((request) => request.path.endsWith("/authentication/fail"))
      assert.deepStrictEqual(failed.map((request) => (request.body as { reason?: string }).reason), [
        "INVALID_BINDING_MESSAGE"
      ])
    }).pipe(Effect.provide(Playground.layer({ interval: 1, routes: Pages.pages() })), Effect.orDie))
})
