/**
 * Generated requests for property tests: valid ones, and valid ones with one field made hostile, a
 * required field removed, or an unknown field added.
 */
import { Arbitrary, FastCheck as fc } from "effect"
import { BackchannelAuthenticationCompleteRequest } from "effect-authlete"

/** Valid requests as a program holds them (claims as objects). */
export const validRequest = Arbitrary.make(
  BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest
)

/** A claims object nested `depth` levels deep. */
const deep = (depth: number): Record<string, unknown> => {
  let node: Record<string, unknown> = { leaf: true }
  for (let i = 0; i < depth; i++) node = { nested: node }
  return node
}

const huge = "x".repeat(100_000)

/** Values that break a rule of the field they are put in. */
const hostileValues: Record<string, ReadonlyArray<unknown>> = {
  ticket: ["", 42, null, huge, ["t"], { toString: "t" }],
  result: ["DENIED", "authorized", "", 1, null],
  subject: ["", "x".repeat(101), "山田", "tab\t", 7, huge],
  sub: ["", 3, null, huge],
  authTime: [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "1", Number.MAX_SAFE_INTEGER + 2, null],
  acr: ["", false, null],
  claims: [
    "[1]",
    "null",
    "{oops",
    42,
    [1, 2],
    [{ ok: 1 }, "not json"],
    JSON.parse("{\"__proto__\":{\"polluted\":true}}"),
    "{\"__proto__\":{\"polluted\":true}}",
    { constructor: { prototype: { polluted: true } } },
    { prototype: 1 },
    deep(40),
    { big: 10n },
    { fn: () => 1 },
    { when: new Date(0) },
    `{"a":"${"x".repeat(1_100_000)}"}`
  ],
  properties: [
    [{ key: "", value: "v" }],
    [{ key: "k", value: 1 }],
    [{ key: "k", value: "v", hidden: "yes" }],
    [{
      key: "k",
      value: "x".repeat(70_000)
    }],
    "k=v",
    [null]
  ],
  scopes: [["profile"], ["openid", "two words"], ["openid", ""], "openid", [1]],
  idtHeaderParams: ["[]", "null", 1, [{}], JSON.parse("{\"__proto__\":{}}")],
  errorDescription: ["say \"no\"", "back\\slash", "line\nbreak", "é", 5, huge],
  errorUri: ["relative/path", "https://example.com/a b", "https://example.com/\"", 5, ""],
  consentedClaims: [[""], "given_name", [1], [null]],
  jwtAtClaims: ["[]", 7, deep(40), JSON.parse("{\"constructor\":1}")],
  accessToken: ["short", `${"a".repeat(32)} b`, 32, huge + "\n"],
  accessTokenDuration: [-5, 0.5, "60", Number.NaN],
  refreshTokenDuration: [-5, 0.5, "60", Number.POSITIVE_INFINITY],
  idTokenAudType: ["both", "", 1, ["array"]]
}

/** A valid input with one field made hostile, a required field removed, or an unknown field added. */
export const invalidInput = fc.tuple(validRequest, fc.nat()).chain(([request, pick]) => {
  const input: Record<string, unknown> = { ...request }
  const fields = Object.keys(hostileValues)
  const field = fields[pick % fields.length]
  return fc.oneof(
    fc.constantFrom(...hostileValues[field]).map((value) => ({ ...input, [field]: value })),
    fc.constantFrom("ticket", "result", "subject").map((required) => {
      const { [required]: _, ...rest } = input
      return rest
    }),
    // defineProperty, so that even `__proto__` becomes an own field rather than a prototype.
    fc.constantFrom("subjct", "tiket", "claim", "__proto__").map((unknown) =>
      Object.defineProperty({ ...input }, unknown, { value: 1, enumerable: true })
    )
  )
})
