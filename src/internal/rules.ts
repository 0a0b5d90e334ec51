/**
 * Field rules shared by the request schemas. Every rule returns a sentence when it is broken, and no
 * message ever repeats the value it judged: values may be secrets (caller-chosen access tokens) or
 * personal data (claims).
 */
import * as SchemaArbitrary from "effect/Arbitrary"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as AST from "effect/SchemaAST"
import { BoundFirstId } from "./codec.js"

/** Ours: the longest value accepted in a free-text field, so a runaway string is refused early. */
export const MAX_TEXT_LENGTH = 8_192
/**
 * Ours: the most bytes `claims`, `jwtAtClaims` or `idtHeaderParams` may take in the request body (the
 * JSON text, escaped as a JSON string, in UTF-8).
 */
export const MAX_JSON_BYTES = 1_048_576
/** Ours: the deepest nesting accepted inside those JSON objects. */
export const MAX_JSON_DEPTH = 32
/** Ours: the most entries accepted in `scopes`, `consentedClaims` or `properties`. */
export const MAX_ARRAY_LENGTH = 1_000
/** Authlete's documented limit on `subject`. */
export const MAX_SUBJECT_LENGTH = 100
/** Authlete's limit on the stored, encrypted form of `properties`. */
export const MAX_PROPERTIES_BYTES = 65_535
/** Authlete's advice for caller-chosen access tokens: 192 bits of entropy, 32 base64url characters. */
export const MIN_ACCESS_TOKEN_LENGTH = 32

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
// RFC 6749 scope-token and error_description character sets.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/
const ERROR_DESCRIPTION = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/
const ERROR_URI = /^[\x21\x23-\x5b\x5d-\x7e]*$/
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/
const WHITESPACE = /\s/

export const formatCount = (n: number): string => n.toLocaleString("en-US")

/** Whether a UTF-16 high surrogate at `i` is followed by its low half. */
const isSurrogatePair = (s: string, i: number): boolean => {
  const code = s.charCodeAt(i)
  if (code < 0xd800 || code > 0xdbff || i + 1 >= s.length) return false
  const next = s.charCodeAt(i + 1)
  return next >= 0xdc00 && next <= 0xdfff
}

/** A string, with a type error that reads as a sentence. */
export const Text = Schema.String.annotations({ message: () => "must be a string" })

/** A boolean, likewise. */
export const Boolean = Schema.Boolean.annotations({ message: () => "must be a boolean" })

type Arbitrary<A> = NonNullable<Schema.Annotations.Filter<A>["arbitrary"]>

/**
 * Refines `Text` with a check that returns the broken rule as a sentence, or `undefined`; the
 * arbitrary generates valid values for property tests (users' too).
 */
export const text = (check: (s: string) => string | undefined, arbitrary: Arbitrary<string>) =>
  Text.pipe(Schema.filter(check, { arbitrary }))

const tooLong = (s: string, max = MAX_TEXT_LENGTH): string | undefined =>
  s.length > max ? `must be at most ${formatCount(max)} characters` : undefined

// Each rule is a plain check, returning the broken rule as a sentence or `undefined`, so that the
// schemas below judge values, and the compiled codecs (internal/codec.ts) call the schemas' own filters.

export const nonEmptyText = (s: string): string | undefined => s.length === 0 ? "must not be empty" : tooLong(s)

export const subject = (s: string): string | undefined =>
  s.length === 0
    ? "must not be empty"
    : s.length > MAX_SUBJECT_LENGTH || !PRINTABLE_ASCII.test(s)
    ? `must be at most ${MAX_SUBJECT_LENGTH} characters of printable ASCII (Authlete's documented limit)`
    : undefined

export const scopeToken = (s: string): string | undefined =>
  s.length === 0
    ? "must not be empty"
    : !SCOPE_TOKEN.test(s)
    ? "must be an OAuth scope token: printable ASCII without spaces, '\"' or '\\' (RFC 6749 section 3.3)"
    : tooLong(s)

export const errorDescription = (s: string): string | undefined =>
  !ERROR_DESCRIPTION.test(s)
    ? "must hold only printable ASCII characters other than '\"' and '\\' (RFC 6749 %x20-21 / %x23-5B / %x5D-7E)"
    : tooLong(s)

export const errorUri = (s: string): string | undefined =>
  !URI_SCHEME.test(s)
    ? "must be an absolute URI (a scheme such as https: followed by the rest)"
    : !ERROR_URI.test(s)
    ? "must hold only the characters RFC 6749 allows in error_uri (%x21 / %x23-5B / %x5D-7E)"
    : tooLong(s)

export const accessToken = (s: string): string | undefined =>
  s.length < MIN_ACCESS_TOKEN_LENGTH
    ? `must be at least ${MIN_ACCESS_TOKEN_LENGTH} characters (Authlete advises 192 bits of entropy)`
    : WHITESPACE.test(s)
    ? "must not contain whitespace"
    : tooLong(s)

export const seconds = (n: number): string | undefined =>
  Number.isSafeInteger(n) && n >= 0
    ? undefined
    : `must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER} (0 means not set)`

export const TOO_MANY_ENTRIES = `must have at most ${formatCount(MAX_ARRAY_LENGTH)} entries`

export const arrayLength = (items: ReadonlyArray<unknown>): string | undefined =>
  items.length > MAX_ARRAY_LENGTH ? TOO_MANY_ENTRIES : undefined

export const includesOpenId = (scopes: ReadonlyArray<string>): string | undefined =>
  scopes.includes("openid") ? undefined : "must include \"openid\" (CIBA requests are OpenID Connect requests)"

/** A required or optional string that must not be empty. */
export const NonEmptyText = text(nonEmptyText, () => (fc) => fc.string({ minLength: 1, maxLength: 40 }))

export const Subject = text(subject, () => (fc) => fc.stringMatching(/^[\x20-\x7e]{1,100}$/))

export const ScopeToken = text(scopeToken, () => (fc) => fc.stringMatching(/^[\x21\x23-\x5b\x5d-\x7e]{1,24}$/))

export const ErrorDescription = text(
  errorDescription,
  () => (fc) => fc.stringMatching(/^[\x20\x21\x23-\x5b\x5d-\x7e]{0,80}$/)
)

export const ErrorUri = text(errorUri, () => (fc) => fc.webUrl().filter((url) => ERROR_URI.test(url)))

export const AccessToken = text(accessToken, () => (fc) => fc.stringMatching(/^[A-Za-z0-9_-]{32,64}$/))

/** Seconds: a whole number from 0 (meaning "not set") to `Number.MAX_SAFE_INTEGER`. */
export const Seconds = Schema.Number.annotations({ message: () => "must be a number" }).pipe(
  Schema.filter(seconds, {
    arbitrary: () => (fc) => fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2_000_000_000 }), fc.maxSafeNat())
  })
)

/** An array of at most `MAX_ARRAY_LENGTH` items; the bound is looked at before the items. */
export const array = <A, I, R>(item: Schema.Schema<A, I, R>) =>
  Schema.Array(item).annotations({ message: () => "must be an array" }).pipe(
    Schema.filter(arrayLength, {
      arbitrary: (from) => (fc) => from(fc).map((items) => items.slice(0, 4)),
      [BoundFirstId]: Array.isArray
    })
  )

export const Scopes = array(ScopeToken).pipe(
  Schema.filter(includesOpenId, {
    arbitrary: () => (fc) => fc.array(SchemaArbitrary.make(ScopeToken)).map((scopes) => ["openid", ...scopes])
  })
)

/** Names that would reach an object's prototype if a careless consumer merged them. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"])

/** The message of a value that cannot be read: a getter or a `Proxy` trap threw, or the `Proxy` was revoked. */
export const UNREADABLE = "could not be read (a getter or Proxy trap threw)"

/**
 * Whether a value is a plain object (its prototype `Object.prototype` or `null`), or `undefined` when
 * that cannot be told: on a `Proxy` whose trap throws, or a revoked one, even `Array.isArray` and
 * `Object.getPrototypeOf` throw.
 */
export const plainObjectOrUnreadable = (u: unknown): boolean | undefined => {
  if (typeof u !== "object" || u === null) return false
  try {
    if (Array.isArray(u)) return false
    const proto = Object.getPrototypeOf(u)
    return proto === Object.prototype || proto === null
  } catch {
    return undefined
  }
}

/** Whether a value is a plain object; never throws (a value that cannot be read is not one). */
export const isPlainObject = (u: unknown): u is { readonly [x: string]: unknown } => plainObjectOrUnreadable(u) === true

/** Whether a value is an array, or `undefined` when that cannot be told (a revoked `Proxy`). */
export const arrayOrUnreadable = (u: unknown): boolean | undefined => {
  try {
    return Array.isArray(u)
  } catch {
    return undefined
  }
}

/**
 * An array of at most `MAX_ARRAY_LENGTH` items, read once into a fresh array of ours; `undefined` for
 * any other value, which the rules refuse as it is (a longer array on its length, before its items).
 * Throws what a getter or a `Proxy` trap throws: call it where that is caught.
 */
export const copyShortArray = (u: unknown): Array<unknown> | undefined => {
  if (!Array.isArray(u)) return undefined
  const length: unknown = u.length
  if (typeof length !== "number" || !(length <= MAX_ARRAY_LENGTH)) return undefined
  const out: Array<unknown> = []
  for (let i = 0; i < length; i++) out.push(u[i])
  return out
}

/**
 * The UTF-8 bytes of a string written as a JSON string, without building it: as `JSON.stringify`
 * writes it, or (`gson`) as Gson does with its default HTML-safe escaping, which Authlete's server
 * may use: `< > & = '` and U+2028/U+2029 as six-byte `\\uXXXX` escapes too, lone surrogates raw.
 */
export const jsonStringBytes = (s: string, gson = false): number => {
  let bytes = 2
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i)
    if (code === 0x22 || code === 0x5c) bytes += 2
    else if (code < 0x20) {
      bytes += code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d
        ? 2
        : 6
    } else if (code < 0x80) bytes += gson && HTML_ESCAPED.has(code) ? 6 : 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdfff) {
      if (isSurrogatePair(s, i)) {
        bytes += 4
        i++
      } else bytes += gson ? 3 : 6
    } else bytes += gson && (code === 0x2028 || code === 0x2029) ? 6 : 3
  }
  return bytes
}

/**
 * Whether `s`, written as a JSON string, takes at most `max` bytes. No code unit takes more than six
 * (`\\uXXXX`), so a short string is not counted at all.
 */
export const fitsJsonStringBytes = (s: string, max: number): boolean =>
  2 + 6 * s.length <= max || jsonStringBytes(s) <= max

// `<`, `>`, `&`, `=` and `'`: what Gson's HTML-safe writer escapes among ASCII.
const HTML_ESCAPED: ReadonlySet<number> = new Set([0x3c, 0x3e, 0x26, 0x3d, 0x27])

const tooManyBytes = `must be at most ${formatCount(MAX_JSON_BYTES)} bytes as JSON text in the request body`

/** A broken rule inside a JSON value: where (below the field) and which. */
export interface JsonIssue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

/**
 * Copies a JSON object while checking it: plain objects, arrays, strings, finite numbers, booleans
 * and null, at most `MAX_JSON_DEPTH` deep, no prototype keys, and small enough. Every value is read
 * once, and the copy (fresh plain objects and arrays, no `toJSON` of the caller's) is what gets sent.
 * The size is bounded from below as it goes (each UTF-16 unit is at least a byte), so a huge value
 * stops the walk early; the exact count is taken on the JSON text (`MAX_JSON_BYTES`).
 */
export const copyJsonObject = (
  value: unknown,
  initialBudget = MAX_JSON_BYTES
): { readonly value: { readonly [x: string]: unknown }; readonly budget: number } | JsonIssue => {
  const plain = plainObjectOrUnreadable(value)
  if (plain !== true) {
    return {
      path: [],
      message: plain === undefined ? UNREADABLE : "must be a JSON object (not an array, null, or a non-plain object)"
    }
  }
  let budget = initialBudget
  const path: Array<string | number> = []
  let issue: JsonIssue | undefined
  const refuse = (message: string, key?: string | number): typeof REFUSED => {
    issue = { path: key === undefined ? [...path] : [...path, key], message }
    return REFUSED
  }
  const copy = (node: unknown, depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) return refuse(`must nest at most ${MAX_JSON_DEPTH} levels deep`)
    switch (typeof node) {
      case "string":
        budget -= node.length + 2
        break
      case "boolean":
        budget -= 4
        break
      case "number":
        if (!Number.isFinite(node)) return refuse("must be a finite number (JSON has no NaN or Infinity)")
        budget -= 1
        break
      case "object": {
        if (node === null) {
          budget -= 4
          break
        }
        if (Array.isArray(node)) {
          budget -= 1 + node.length
          if (budget < 0) return refuse(tooManyBytes)
          const out: Array<unknown> = []
          for (let i = 0; i < node.length; i++) {
            path.push(i)
            const item = copy(node[i], depth + 1)
            path.pop()
            if (item === REFUSED) return REFUSED
            out.push(item)
          }
          return out
        }
        const plain = plainObjectOrUnreadable(node)
        if (plain === undefined) return refuse(UNREADABLE)
        if (!plain) return refuse("must be a plain JSON value")
        const object = node as { readonly [x: string]: unknown }
        budget -= 1
        const out: Record<string, unknown> = {}
        for (const key of Object.keys(object)) {
          if (PROTOTYPE_KEYS.has(key)) return refuse(`must not be named "${key}" (a prototype key)`, key)
          budget -= key.length + 4
          path.push(key)
          const item = copy(object[key], depth + 1)
          path.pop()
          if (item === REFUSED) return REFUSED
          out[key] = item
        }
        return budget < 0 ? refuse(tooManyBytes) : out
      }
      default:
        return refuse(`must be a JSON value (a ${typeof node} is not)`)
    }
    return budget < 0 ? refuse(tooManyBytes) : node
  }
  let out: unknown
  try {
    out = copy(value, 0)
  } catch {
    // A getter or a Proxy trap threw: the value cannot be read, so it is refused.
    out = refuse(UNREADABLE)
  }
  return out === REFUSED ? issue! : { value: out as { readonly [x: string]: unknown }, budget }
}

const REFUSED: unique symbol = Symbol("refused")

const jsonIssue = (ast: AST.AST, input: unknown, issue: JsonIssue): ParseResult.ParseIssue =>
  issue.path.length === 0
    ? new ParseResult.Type(ast, input, issue.message)
    : new ParseResult.Pointer(
      issue.path as [PropertyKey, ...Array<PropertyKey>],
      input,
      new ParseResult.Type(ast, input, issue.message)
    )

const copyOrFail = () => (input: unknown, _: AST.ParseOptions, ast: AST.Declaration) => {
  const copied = copyJsonObject(input)
  return "value" in copied ? ParseResult.succeed(copied.value) : ParseResult.fail(jsonIssue(ast, input, copied))
}

/** The `Type` side of a JSON-object field: a plain object of JSON values, checked and copied. */
export const JsonObject: Schema.Schema<{ readonly [x: string]: unknown }> = Schema.declare([], {
  decode: copyOrFail,
  encode: copyOrFail
}, {
  identifier: "JsonObject",
  message: () => "must be a JSON object (not an array, null, or a non-plain object)",
  arbitrary: () => (fc) =>
    fc.dictionary(
      fc.stringMatching(/^[a-z_]{1,12}(#[a-z]{2})?$/).filter((key) => !PROTOTYPE_KEYS.has(key)),
      fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }))
    )
})

/** JSON text as a field of the request body: its size there, escapes included, is bounded. */
export const parseJsonObjectText = (s: string): { readonly value: unknown } | string => {
  if (s.length > MAX_JSON_BYTES || !fitsJsonStringBytes(s, MAX_JSON_BYTES)) return tooManyBytes
  try {
    return { value: JSON.parse(s) }
  } catch {
    // JSON.parse's own message quotes the input, which may be personal data: say only what is wrong.
    return "must be JSON text of an object; it does not parse as JSON"
  }
}

/**
 * JSON text of an object on the wire, a plain object in the program. Written out rather than with
 * `Schema.parseJson` so that a parse failure never echoes the text, and so that the size counted is
 * the size sent.
 */
export const JsonObjectFromText = Schema.transformOrFail(Text, JsonObject, {
  strict: true,
  decode: (s, _, ast) => {
    const parsed = parseJsonObjectText(s)
    return typeof parsed === "string"
      ? ParseResult.fail(new ParseResult.Type(ast, s, parsed))
      : ParseResult.succeed(parsed.value as { readonly [x: string]: unknown })
  },
  encode: (o, _, ast) => {
    const text = JSON.stringify(o)
    return !fitsJsonStringBytes(text, MAX_JSON_BYTES)
      ? ParseResult.fail(new ParseResult.Type(ast, o, tooManyBytes))
      : ParseResult.succeed(text)
  }
})
