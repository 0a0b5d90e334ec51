import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { UserClaims } from "effect-authlete"

const subject = "user-1"

/** A store over `claims` for `subject` that records every lookup as `name` or `name#tag`. */
const recording = (claims: UserClaims.UserClaimsRecord[string], answer?: UserClaims.UserClaimsService["lookup"]) => {
  const lookups: Array<string> = []
  const store = UserClaims.fromRecord({ [subject]: claims })
  const service: UserClaims.UserClaimsService = {
    lookup: (s, name, tag) =>
      Effect.suspend(() => {
        lookups.push(Option.match(tag, { onNone: () => name, onSome: (t) => `${name}#${t}` }))
        return (answer ?? store.lookup)(s, name, tag)
      })
  }
  return { lookups, layer: Layer.succeed(UserClaims.UserClaims, service) }
}

const collect = (
  claims: UserClaims.UserClaimsRecord[string],
  claimNames: ReadonlyArray<string>,
  claimsLocales?: ReadonlyArray<string>,
  answer?: UserClaims.UserClaimsService["lookup"]
) => {
  const { layer, lookups } = recording(claims, answer)
  return UserClaims.collectClaims({ subject, claimNames, claimsLocales }).pipe(
    Effect.map((result) => ({ result, lookups })),
    Effect.provide(layer)
  )
}

const names = {
  family_name: "Yamada",
  "family_name#ja": "山田",
  "family_name#ja-Kana-JP": "ヤマダ",
  "family_name#en": "Yamada (en)"
}

describe("collectClaims", () => {
  describe("tagged names", () => {
    it.effect("look up that language only, whatever the locales", () =>
      Effect.gen(function*() {
        const { lookups, result } = yield* collect(names, ["family_name#ja"], ["en"])
        assert.deepStrictEqual(result, { "family_name#ja": "山田" })
        assert.deepStrictEqual(lookups, ["family_name#ja"])
      }))

    it.effect("do not fall back to the untagged value", () =>
      Effect.gen(function*() {
        const { lookups, result } = yield* collect(names, ["family_name#fr"], ["en"])
        assert.deepStrictEqual(result, {})
        assert.deepStrictEqual(lookups, ["family_name#fr"])
      }))

    it.effect("keep the name as requested as the output key", () =>
      Effect.gen(function*() {
        const { result } = yield* collect(names, ["family_name#JA", "family_name#ja-kana-jp"])
        assert.deepStrictEqual(result, { "family_name#JA": "山田", "family_name#ja-kana-jp": "ヤマダ" })
      }))

    it.effect("split on the first # only", () =>
      Effect.gen(function*() {
        const { lookups, result } = yield* collect({ "a#b#c": 1, "a#b": 2 }, ["a#b#c"])
        assert.deepStrictEqual(lookups, ["a#b#c"])
        assert.deepStrictEqual(result, { "a#b#c": 1 })
        const answer: UserClaims.UserClaimsService["lookup"] = (_, name, tag) =>
          Effect.succeed(Option.some({ name, tag: Option.getOrNull(tag) }))
        const split = yield* collect({}, ["a#b#c"], [], answer)
        assert.deepStrictEqual(split.result, { "a#b#c": { name: "a", tag: "b#c" } })
      }))
  })

  describe("untagged names", () => {
    it.effect("without locales, look up the untagged value only", () =>
      Effect.gen(function*() {
        for (const locales of [undefined, []]) {
          const { lookups, result } = yield* collect(names, ["family_name"], locales)
          assert.deepStrictEqual(result, { family_name: "Yamada" })
          assert.deepStrictEqual(lookups, ["family_name"])
        }
      }))

    it.effect("with locales, take the first locale that has a value", () =>
      Effect.gen(function*() {
        const { lookups, result } = yield* collect(names, ["family_name"], ["fr", "en", "ja"])
        assert.deepStrictEqual(result, { family_name: "Yamada (en)" })
        assert.deepStrictEqual(lookups, ["family_name#fr", "family_name#en"])
      }))

    it.effect("follow the order of the locales", () =>
      Effect.gen(function*() {
        const { result } = yield* collect(names, ["family_name"], ["ja", "en"])
        assert.deepStrictEqual(result, { family_name: "山田" })
      }))

    it.effect("fall back to the untagged value after every locale", () =>
      Effect.gen(function*() {
        const { lookups, result } = yield* collect(names, ["family_name"], ["fr", "de"])
        assert.deepStrictEqual(result, { family_name: "Yamada" })
        assert.deepStrictEqual(lookups, ["family_name#fr", "family_name#de", "family_name"])
      }))

    it.effect("treat a name ending in # as untagged, keeping the key as requested", () =>
      Effect.gen(function*() {
        const { lookups, result } = yield* collect(names, ["family_name#"], ["ja"])
        assert.deepStrictEqual(lookups, ["family_name#ja"])
        assert.deepStrictEqual(result, { "family_name#": "山田" })
      }))
  })

  describe("locales", () => {
    it.effect("drop case-insensitive duplicates, keeping the first", () =>
      Effect.gen(function*() {
        const { lookups } = yield* collect({ given_name: "Taro" }, ["given_name"], ["ja", "JA", "en", "Ja"])
        assert.deepStrictEqual(lookups, ["given_name#ja", "given_name#en", "given_name"])
        const first = yield* collect({ given_name: "Taro" }, ["given_name"], ["JA", "ja"])
        assert.deepStrictEqual(first.lookups, ["given_name#JA", "given_name"])
      }))

    it.effect("drop empty locales", () =>
      Effect.gen(function*() {
        const { lookups } = yield* collect({ given_name: "Taro" }, ["given_name"], ["", "en", ""])
        assert.deepStrictEqual(lookups, ["given_name#en", "given_name"])
        const none = yield* collect({ given_name: "Taro" }, ["given_name"], ["", ""])
        assert.deepStrictEqual(none.lookups, ["given_name"])
      }))
  })

  describe("names and values", () => {
    it.effect("skip empty names and names with an empty name part, without asking the store", () =>
      Effect.gen(function*() {
        const { lookups, result } = yield* collect({ "": 1, "#ja": 2 }, ["", "#ja", "#"], ["ja"])
        assert.deepStrictEqual(result, {})
        assert.deepStrictEqual(lookups, [])
      }))

    it.effect("skip missing values and keep the others", () =>
      Effect.gen(function*() {
        const { result } = yield* collect({ given_name: "Taro" }, ["email", "given_name", "phone_number"], ["ja"])
        assert.deepStrictEqual(result, { given_name: "Taro" })
      }))

    it.effect("skip null values, and try the next locale after a Some(null)", () =>
      Effect.gen(function*() {
        const stored = yield* collect({ email: null, nickname: undefined, given_name: "Taro" }, [
          "email",
          "nickname",
          "given_name"
        ])
        assert.deepStrictEqual(stored.result, { given_name: "Taro" })
        const answer: UserClaims.UserClaimsService["lookup"] = (_, __, tag) =>
          Effect.succeed(Option.isSome(tag) && tag.value === "en" ? Option.some("Taro") : Option.some(null))
        const { lookups, result } = yield* collect({}, ["given_name", "email"], ["ja", "en"], answer)
        assert.deepStrictEqual(result, { given_name: "Taro", email: "Taro" })
        assert.deepStrictEqual(lookups, ["given_name#ja", "given_name#en", "email#ja", "email#en"])
      }))

    it.effect("keep falsy values that are not null", () =>
      Effect.gen(function*() {
        const { result } = yield* collect({ a: 0, b: false, c: "" }, ["a", "b", "c"])
        assert.deepStrictEqual(result, { a: 0, b: false, c: "" })
      }))

    it.effect("give {} for an unknown subject", () =>
      Effect.gen(function*() {
        const result = yield* UserClaims.collectClaims({ subject: "nobody", claimNames: ["given_name"] }).pipe(
          Effect.provide(UserClaims.layerFromRecord({ [subject]: { given_name: "Taro" } }))
        )
        assert.deepStrictEqual(result, {})
      }))

    it.effect("skip prototype names, so the output keeps Object.prototype", () =>
      Effect.gen(function*() {
        const answer: UserClaims.UserClaimsService["lookup"] = () => Effect.succeed(Option.some({ polluted: true }))
        const { lookups, result } = yield* collect({}, ["__proto__", "constructor", "prototype", "x"], [], answer)
        assert.deepStrictEqual(lookups, ["x"])
        assert.deepStrictEqual(Object.keys(result), ["x"])
        assert.strictEqual(Object.getPrototypeOf(result), Object.prototype)
        assert.isUndefined(({} as Record<string, unknown>).polluted)
      }))

    it.effect("works through layerFromRecord", () =>
      Effect.gen(function*() {
        const result = yield* UserClaims.collectClaims({
          subject,
          claimNames: ["given_name", "family_name", "family_name#ja"],
          claimsLocales: ["en"]
        }).pipe(Effect.provide(UserClaims.layerFromRecord({ [subject]: { given_name: "Taro", ...names } })))
        assert.deepStrictEqual(result, { given_name: "Taro", family_name: "Yamada (en)", "family_name#ja": "山田" })
      }))
  })
})

describe("UserClaims.fromRecord", () => {
  const lookup = (data: UserClaims.UserClaimsRecord, s: string, name: string, tag?: string) =>
    Effect.runSync(UserClaims.fromRecord(data).lookup(s, name, Option.fromNullable(tag)))

  it("finds untagged and tagged values", () => {
    assert.deepStrictEqual(lookup({ [subject]: names }, subject, "family_name"), Option.some("Yamada"))
    assert.deepStrictEqual(lookup({ [subject]: names }, subject, "family_name", "ja"), Option.some("山田"))
    assert.deepStrictEqual(lookup({ [subject]: { "family_name#ja": "山田" } }, subject, "family_name"), Option.none())
  })

  it("matches language tags whatever their case", () => {
    assert.deepStrictEqual(
      lookup({ [subject]: { "family_name#JA": "山田" } }, subject, "family_name", "ja"),
      Option.some("山田")
    )
    assert.deepStrictEqual(
      lookup({ [subject]: { "family_name#ja-kana-jp": "ヤマダ" } }, subject, "family_name", "ja-Kana-JP"),
      Option.some("ヤマダ")
    )
    assert.deepStrictEqual(
      lookup({ [subject]: { "family_name#ja": "山田" } }, subject, "family_name", "jA"),
      Option.some("山田")
    )
  })

  it("prefers the exact spelling of a tag, and compares claim names exactly", () => {
    const data = { [subject]: { "name#JA": "upper", "name#ja": "lower" } }
    assert.deepStrictEqual(lookup(data, subject, "name", "ja"), Option.some("lower"))
    assert.deepStrictEqual(lookup(data, subject, "name", "JA"), Option.some("upper"))
    assert.deepStrictEqual(lookup(data, subject, "Name", "ja"), Option.none())
    assert.deepStrictEqual(lookup(data, subject, "nam", "e#ja"), Option.none())
  })

  it("gives None for a missing subject, a missing claim, null and undefined", () => {
    const data = { [subject]: { email: null, phone_number: undefined, given_name: "Taro" } }
    assert.deepStrictEqual(lookup(data, "nobody", "given_name"), Option.none())
    assert.deepStrictEqual(lookup(data, subject, "family_name"), Option.none())
    assert.deepStrictEqual(lookup(data, subject, "email"), Option.none())
    assert.deepStrictEqual(lookup(data, subject, "phone_number"), Option.none())
    assert.deepStrictEqual(lookup(data, subject, "given_name"), Option.some("Taro"))
  })

  it("never answers from a prototype", () => {
    const data = { [subject]: { given_name: "Taro" } }
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", "prototype"]) {
      assert.deepStrictEqual(lookup(data, subject, name), Option.none(), name)
      assert.deepStrictEqual(lookup(data, subject, name, "ja"), Option.none(), `${name}#ja`)
      assert.deepStrictEqual(lookup(data, name, "given_name"), Option.none(), `subject ${name}`)
      assert.deepStrictEqual(lookup(data, name, "constructor"), Option.none(), `subject ${name}, constructor`)
    }
  })
})
