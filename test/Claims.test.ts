import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { AuthleteError, Claims } from "effect-authlete"

const merge = (sources: ReadonlyArray<unknown>, options?: Claims.MergeClaimsOptions) =>
  Effect.runSync(Effect.either(Claims.mergeClaims(sources as ReadonlyArray<Claims.ClaimsSource>, options)))

const merged = (sources: ReadonlyArray<unknown>, options?: Claims.MergeClaimsOptions) => {
  const result = merge(sources, options)
  if (Either.isLeft(result)) return assert.fail(result.left.message)
  return result.right
}

/** The single issue of a rejection. */
const rejection = (sources: ReadonlyArray<unknown>, options?: Claims.MergeClaimsOptions) => {
  const result = merge(sources, options)
  if (Either.isRight(result)) return assert.fail(`expected a rejection, got ${JSON.stringify(result.right)}`)
  assert.instanceOf(result.left, AuthleteError.AuthleteValidationError)
  assert.strictEqual(result.left.issues.length, 1)
  return { ...result.left.issues[0]!, error: result.left }
}

const deepFreeze = <A>(value: A): A => {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

const assertPrototypeClean = () => {
  assert.isFalse(Object.hasOwn(Object.prototype, "polluted"))
  assert.isUndefined(({} as Record<string, unknown>).polluted)
}

describe("mergeClaims", () => {
  describe("merging", () => {
    it.effect("lets later sources win key by key", () =>
      Effect.gen(function*() {
        const result = yield* Claims.mergeClaims([{ a: 1, b: 1, c: 1 }, { b: 2 }, { c: 3, d: 3 }])
        assert.deepStrictEqual(result, { a: 1, b: 2, c: 3, d: 3 })
      }))

    it.effect("merges plain objects recursively", () =>
      Effect.gen(function*() {
        const result = yield* Claims.mergeClaims([
          { address: { country: "JP", locality: "Osaka", geo: { lat: 1, lon: 2 } } },
          { address: { locality: "Tokyo", postal_code: "100-0001", geo: { lat: 3 } } }
        ])
        assert.deepStrictEqual(result, {
          address: { country: "JP", locality: "Tokyo", postal_code: "100-0001", geo: { lat: 3, lon: 2 } }
        })
      }))

    it.effect("replaces arrays whole", () =>
      Effect.gen(function*() {
        const result = yield* Claims.mergeClaims([{ groups: ["a", "b", "c"], x: [{ a: 1 }] }, {
          groups: ["d"],
          x: [{ b: 2 }]
        }])
        assert.deepStrictEqual(result, { groups: ["d"], x: [{ b: 2 }] })
      }))

    it.effect("replaces scalars, and values of a different kind, whole", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(
          yield* Claims.mergeClaims([{ a: "x", b: 1, c: true }, { a: "y", b: 2, c: false }]),
          { a: "y", b: 2, c: false }
        )
        assert.deepStrictEqual(yield* Claims.mergeClaims([{ address: { country: "JP" } }, { address: "Tokyo" }]), {
          address: "Tokyo"
        })
        assert.deepStrictEqual(yield* Claims.mergeClaims([{ address: "Tokyo" }, { address: { country: "JP" } }]), {
          address: { country: "JP" }
        })
        assert.deepStrictEqual(yield* Claims.mergeClaims([{ a: [1] }, { a: { b: 1 } }]), { a: { b: 1 } })
        assert.deepStrictEqual(yield* Claims.mergeClaims([{ a: { b: 1 } }, { a: [1] }]), { a: [1] })
      }))

    it.effect("removes a key given null, at the top level and nested", () =>
      Effect.gen(function*() {
        const result = yield* Claims.mergeClaims([
          { email: "taro@example.com", given_name: "Taro", address: { country: "JP", locality: "Tokyo" } },
          { email: null, address: { locality: null } }
        ])
        assert.deepStrictEqual(result, { given_name: "Taro", address: { country: "JP" } })
        assert.isFalse(Object.hasOwn(result, "email"))
      }))

    it.effect("drops nulls of a first source or of a new object, but keeps them inside arrays", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* Claims.mergeClaims([{ a: null, b: { c: null, d: 1 }, e: [null, 1] }]), {
          b: { d: 1 },
          e: [null, 1]
        })
        assert.deepStrictEqual(yield* Claims.mergeClaims([{ a: 1 }, { a: null }, { a: 2 }]), { a: 2 })
      }))

    it.effect("keeps language-tagged names as keys of their own", () =>
      Effect.gen(function*() {
        const result = yield* Claims.mergeClaims([
          { family_name: "Yamada", "family_name#ja": "山田" },
          { family_name: "YAMADA" },
          { "family_name#ja-Kana-JP": "ヤマダ", "family_name#ja": null }
        ])
        assert.deepStrictEqual(result, { family_name: "YAMADA", "family_name#ja-Kana-JP": "ヤマダ" })
      }))

    it.effect("reads JSON text sources", () =>
      Effect.gen(function*() {
        const result = yield* Claims.mergeClaims([
          "{\"given_name\":\"Taro\",\"address\":{\"country\":\"JP\"}}",
          { address: { locality: "Tokyo" } },
          "{\"given_name\":\"Jiro\",\"family_name#ja\":\"山田\"}"
        ])
        assert.deepStrictEqual(result, {
          given_name: "Jiro",
          address: { country: "JP", locality: "Tokyo" },
          "family_name#ja": "山田"
        })
      }))

    it.effect("skips undefined sources", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* Claims.mergeClaims([undefined, { a: 1 }, undefined, "{\"b\":2}"]), { a: 1, b: 2 })
        assert.deepStrictEqual(yield* Claims.mergeClaims([undefined]), {})
        assert.deepStrictEqual(yield* Claims.mergeClaims([]), {})
      }))

    it("gives plain objects with Object.prototype, also from null-prototype sources", () => {
      const source = Object.assign(Object.create(null) as Record<string, unknown>, { a: { b: 1 } })
      const result = merged([source])
      assert.deepStrictEqual(result, { a: { b: 1 } })
      assert.strictEqual(Object.getPrototypeOf(result), Object.prototype)
      assert.strictEqual(Object.getPrototypeOf(result.a), Object.prototype)
    })

    it("leaves its inputs unchanged and shares nothing with them", () => {
      const first = deepFreeze({ address: { country: "JP", locality: "Osaka" }, groups: ["a"], email: "x" })
      const second = deepFreeze({ address: { locality: "Tokyo", region: null }, email: null, list: [{ a: 1 }] })
      const before = structuredClone([first, second])
      const result = merged([first, second])
      assert.deepStrictEqual([first, second], before)
      assert.deepStrictEqual(result, {
        address: { country: "JP", locality: "Tokyo" },
        groups: ["a"],
        list: [{ a: 1 }]
      })
      assert.notStrictEqual(result.address, first.address)
      assert.notStrictEqual(result.groups, first.groups)
      assert.notStrictEqual(result.list, second.list)
      assert.notStrictEqual((result.list as Array<unknown>)[0], second.list[0])
      // Changing the result must not reach the frozen inputs (strict mode would throw if it did).
      const groups = result.groups as Array<string>
      const address = result.address as Record<string, unknown>
      groups.push("b")
      address.country = "US"
      assert.deepStrictEqual([first, second], before)
    })
  })

  describe("bad sources", () => {
    const secret = "taro@example.com"
    const cases: ReadonlyArray<readonly [string, unknown, RegExp]> = [
      ["JSON that does not parse", `{"email":"${secret}"`, /must be JSON text of an object; it does not parse as JSON/],
      ["an empty string", "", /does not parse as JSON/],
      ["JSON of an array", `["${secret}"]`, /must be JSON text of an object; it holds an array/],
      ["JSON of a number", "42", /it holds a number/],
      ["JSON of null", "null", /it holds null/],
      ["JSON of a string", `"${secret}"`, /it holds a string/],
      ["JSON of a boolean", "true", /it holds a boolean/],
      ["an array", [secret], /must be a plain object or JSON text of one, not an array/],
      ["a number", 42, /not a number/],
      ["null", null, /not null/],
      ["a boolean", false, /not a boolean/],
      ["a non-plain object", new Date(0), /not a class instance/],
      ["a class instance", new (class Claims {})(), /not a class instance/]
    ]

    for (const [label, source, message] of cases) {
      it(`refuses ${label} at its index, without repeating it`, () => {
        const issue = rejection([{ a: 1 }, source])
        assert.deepStrictEqual(issue.path, [1])
        assert.match(issue.message, message)
        assert.notInclude(issue.error.message, secret)
        assert.notInclude(issue.error.message, "42")
        assert.deepStrictEqual(rejection([undefined, undefined, source], { path: ["claims"] }).path, ["claims", 2])
      })
    }

    it("stops at the first bad source", () => {
      assert.deepStrictEqual(rejection([{}, "[]", 42]).path, [1])
    })

    it("refuses values JSON cannot hold, at their key", () => {
      assert.deepStrictEqual(rejection([{ a: { n: Number.NaN } }]).path, [0, "a", "n"])
      assert.deepStrictEqual(rejection([{ f: () => 1 }]).path, [0, "f"])
      assert.deepStrictEqual(rejection([{ d: { when: new Date(0) } }]).path, [0, "d", "when"])
      const cycle: Record<string, unknown> = {}
      cycle.self = cycle
      assert.match(rejection([cycle]).message, /must nest at most 32 levels deep/)
    })
  })

  describe("sources that cannot be read", () => {
    const boom = () => {
      throw new Error("boom")
    }
    const revoked = () => {
      const { proxy, revoke } = Proxy.revocable([], {})
      revoke()
      return proxy
    }
    // Each throws where a reflective call reads it: `Object.getPrototypeOf`, `Array.isArray` (a revoked
    // Proxy), `Object.keys`, a getter, or the `length` and items of the sources themselves.
    const cases: ReadonlyArray<readonly [string, () => unknown, ReadonlyArray<string | number>]> = [
      ["a source whose getPrototypeOf trap throws", () => [{ a: 1 }, new Proxy({}, { getPrototypeOf: boom })], [
        "claims",
        1
      ]],
      ["a revoked Proxy as a source", () => [{ a: 1 }, revoked()], ["claims", 1]],
      ["a source whose ownKeys trap throws", () => [new Proxy({ a: 1 }, { ownKeys: boom })], ["claims", 0]],
      [
        "a nested object whose getPrototypeOf trap throws",
        () => [{ a: { b: new Proxy({}, { getPrototypeOf: boom }) } }],
        [
          "claims",
          0,
          "a",
          "b"
        ]
      ],
      ["a revoked Proxy inside an array", () => [{ a: [1, revoked()] }], ["claims", 0, "a", 1]],
      ["sources that are a revoked Proxy", () => revoked(), ["claims"]],
      ["sources whose length cannot be read", () => new Proxy([{ a: 1 }], { get: boom }), ["claims"]],
      ["sources whose second item cannot be read", () =>
        new Proxy([{ a: 1 }, { b: 2 }], {
          get: (target, key) => key === "1" ? boom() : Reflect.get(target, key)
        }), ["claims", 1]]
    ]

    for (const [label, sources, path] of cases) {
      it(`refuses ${label} as a validation error naming where`, () => {
        const issue = rejection(sources() as ReadonlyArray<unknown>, { path: ["claims"] })
        assert.deepStrictEqual(issue.path, path)
        assert.match(issue.message, /could not be read \(a getter or Proxy trap threw\)/)
        assert.notInclude(issue.error.message, "boom")
      })
    }
  })

  describe("prototype keys", () => {
    it("are refused at their path, in objects, in arrays and in JSON text", () => {
      const issue = rejection([{}, JSON.parse("{\"a\":{\"__proto__\":{\"x\":1}}}")])
      assert.deepStrictEqual(issue.path, [1, "a", "__proto__"])
      assert.match(issue.message, /must not be named "__proto__" \(a prototype key\)/)
      assert.deepStrictEqual(rejection([{ constructor: 1 }]).path, [0, "constructor"])
      assert.deepStrictEqual(rejection([{ list: [{ ok: 1 }, { prototype: 1 }] }]).path, [0, "list", 1, "prototype"])
      assert.deepStrictEqual(rejection(["{\"b\":{\"constructor\":{}}}"], { path: ["claims", "x"] }).path, [
        "claims",
        "x",
        0,
        "b",
        "constructor"
      ])
    })

    it("cannot pollute Object.prototype through JSON text", () => {
      const issue = rejection([{ a: 1 }, "{\"__proto__\":{\"polluted\":true}}"])
      assert.deepStrictEqual(issue.path, [1, "__proto__"])
      assertPrototypeClean()
    })

    it("cannot pollute Object.prototype through an object built with JSON.parse", () => {
      const source = JSON.parse("{\"__proto__\":{\"polluted\":true}}") as Record<string, unknown>
      assert.isTrue(Object.hasOwn(source, "__proto__"))
      assert.deepStrictEqual(rejection([{ a: 1 }, source]).path, [1, "__proto__"])
      assert.deepStrictEqual(rejection([{ a: { b: 1 } }, { a: source }]).path, [1, "a", "__proto__"])
      assertPrototypeClean()
    })
  })

  describe("consent", () => {
    const claims = {
      given_name: "Taro",
      family_name: "Yamada",
      "family_name#ja": "山田",
      email: "taro@example.com",
      address: { country: "JP", email: "kept: only top-level names are filtered" }
    }

    it.effect("keeps only the consented top-level claims, with their tagged forms", () =>
      Effect.gen(function*() {
        const result = yield* Claims.mergeClaims([claims], { consentedClaims: ["family_name", "address"] })
        assert.deepStrictEqual(result, {
          family_name: "Yamada",
          "family_name#ja": "山田",
          address: claims.address
        })
      }))

    it.effect("applies after merging", () =>
      Effect.gen(function*() {
        const result = yield* Claims.mergeClaims([{ email: "a" }, "{\"given_name\":\"Taro\",\"email\":\"b\"}"], {
          consentedClaims: ["email"]
        })
        assert.deepStrictEqual(result, { email: "b" })
      }))

    it("matches a tagged consent only to that tag", () => {
      assert.deepStrictEqual(Claims.filterConsentedClaims(claims, ["family_name#ja"]), { "family_name#ja": "山田" })
      assert.deepStrictEqual(Claims.filterConsentedClaims({ "a#b#c": 1, "a#b": 2, a: 3 }, ["a#b"]), { "a#b": 2 })
      assert.deepStrictEqual(Claims.filterConsentedClaims({ "a#b#c": 1, "a#b": 2, a: 3 }, ["a"]), {
        "a#b#c": 1,
        "a#b": 2,
        a: 3
      })
    })

    it("keeps nothing when nothing was consented, and leaves its input alone", () => {
      const input = deepFreeze({ ...claims })
      assert.deepStrictEqual(Claims.filterConsentedClaims(input, []), {})
      assert.deepStrictEqual(merged([claims], { consentedClaims: [] }), {})
      assert.deepStrictEqual(input, claims)
    })

    it("keeps a prototype key an own property rather than a prototype", () => {
      const input = JSON.parse("{\"__proto__\":{\"polluted\":true},\"a\":1}") as Record<string, unknown>
      const result = Claims.filterConsentedClaims(input, ["__proto__"])
      assert.strictEqual(Object.getPrototypeOf(result), Object.prototype)
      assert.deepStrictEqual(Object.keys(result), ["__proto__"])
      assertPrototypeClean()
    })
  })
})
