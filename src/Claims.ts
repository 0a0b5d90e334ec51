/**
 * Merging claim sets from several places (the user store, JSON text kept with a session, values set
 * by the program) into the `claims` of a completion request, and filtering them by consent.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { AuthleteValidationError, type ValidationIssue } from "./AuthleteError.js"
import * as Rules from "./internal/rules.js"

/**
 * A claim set: a plain object, or JSON text of one; `undefined` stands for "nothing from here".
 *
 * @since 0.1.0
 * @category models
 */
export type ClaimsSource = { readonly [x: string]: unknown } | string | undefined

/**
 * @since 0.1.0
 * @category models
 */
export interface MergeClaimsOptions {
  /** Claim names the user consented to; when set, other top-level claims are dropped after merging. */
  readonly consentedClaims?: ReadonlyArray<string> | undefined
  /** Where the sources sit in the caller's input, to prefix the paths of the issues. */
  readonly path?: ReadonlyArray<string | number> | undefined
}

// Names the kind of a value without showing it: sources may hold personal data.
const kindOf = (u: unknown): string =>
  u === null
    ? "null"
    : Array.isArray(u)
    ? "an array"
    : typeof u === "object"
    ? "a class instance"
    : `a ${typeof u}`

// Turns one source into a checked copy (a plain object), or the broken rule with its path inside it.
const readSource = (
  source: unknown,
  budget: number
): { readonly claims: Record<string, unknown>; readonly budget: number } | ValidationIssue => {
  let value = source
  if (typeof source === "string") {
    const parsed = Rules.parseJsonObjectText(source)
    if (typeof parsed === "string") return { path: [], message: parsed }
    if (!Rules.isPlainObject(parsed.value)) {
      return { path: [], message: `must be JSON text of an object; it holds ${kindOf(parsed.value)}` }
    }
    value = parsed.value
  } else {
    // A `Proxy` whose traps throw, or a revoked one, cannot even be told an object or an array.
    const plain = Rules.plainObjectOrUnreadable(source)
    if (plain === undefined) return { path: [], message: Rules.UNREADABLE }
    if (!plain) return { path: [], message: `must be a plain object or JSON text of one, not ${kindOf(source)}` }
  }
  // The rules of the request's `claims` (JSON values only, bounded depth and size, no prototype keys),
  // checked per source so that the issue names the source; the depth bound also stops cycles. Each
  // value is read once, into a copy of our own.
  const copied = Rules.copyJsonObject(value, budget)
  return "value" in copied ? { claims: copied.value as Record<string, unknown>, budget: copied.budget } : copied
}

// JSON Merge Patch (RFC 7396): objects merge key by key, `null` removes a key, anything else replaces
// whole. Both sides are copies of our own (prototype keys already refused), so the target is patched
// in place and the callers' objects never change.
const mergePatch = (target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> => {
  for (const key of Object.keys(patch)) {
    const value = patch[key]
    if (value === null) delete target[key]
    else if (Rules.isPlainObject(value) && Rules.isPlainObject(target[key])) {
      target[key] = mergePatch(target[key] as Record<string, unknown>, value as Record<string, unknown>)
    } else target[key] = Rules.isPlainObject(value) ? mergePatch({}, value as Record<string, unknown>) : value
  }
  return target
}

/**
 * Keeps the top-level claims the user consented to: those whose name, or whose name before the first
 * `#` (`family_name` for `family_name#ja`), is in `consentedClaims`.
 *
 * @since 0.1.0
 * @category claims
 */
export const filterConsentedClaims = (
  claims: { readonly [x: string]: unknown },
  consentedClaims: ReadonlyArray<string>
): Record<string, unknown> => {
  const consented = new Set(consentedClaims)
  const kept: Record<string, unknown> = {}
  for (const name of Object.keys(claims)) {
    const hash = name.indexOf("#")
    if (!consented.has(name) && (hash < 0 || !consented.has(name.slice(0, hash)))) continue
    // `__proto__` is defined rather than assigned, so that it stays an own property.
    if (name === "__proto__") {
      Object.defineProperty(kept, name, { value: claims[name], enumerable: true, writable: true, configurable: true })
    } else kept[name] = claims[name]
  }
  return kept
}

/**
 * Merges claim sets; later sources win key by key. Plain objects (such as `address`) merge
 * recursively, arrays and other values are replaced whole, and a `null` removes a key at any depth
 * (RFC 7396). Language-tagged names (`family_name#ja`) are keys of their own. `undefined` sources are
 * skipped; a string source is JSON text of an object.
 *
 * Fails with an issue at `[...path, index]` for a source that is not an object, and at the key for a
 * prototype key (`__proto__`, `constructor`, `prototype`) or a value JSON cannot hold. No message
 * repeats a source's text.
 *
 * @example
 * ```ts
 * import { Claims } from "effect-authlete"
 *
 * Claims.mergeClaims([
 *   { given_name: "Taro", address: { country: "JP" } },
 *   "{\"address\":{\"locality\":\"Tokyo\"},\"family_name#ja\":\"山田\"}"
 * ], { consentedClaims: ["given_name", "family_name", "address"] })
 * ```
 *
 * @since 0.1.0
 * @category claims
 */
export const mergeClaims = (
  sources: ReadonlyArray<ClaimsSource>,
  options?: MergeClaimsOptions
): Effect.Effect<Record<string, unknown>, AuthleteValidationError> =>
  Effect.suspend(() => mergeClaimsEither(sources, options))

/** `mergeClaims`, synchronously (the completion program's path). */
export const mergeClaimsEither = (
  sources: ReadonlyArray<ClaimsSource>,
  options?: MergeClaimsOptions
): Either.Either<Record<string, unknown>, AuthleteValidationError> => {
  const prefix = options?.path ?? []
  // The sources are the caller's input: a getter or a `Proxy` trap may throw at any read (and a
  // revoked `Proxy` throws even in `Array.isArray`), which refuses the input rather than dying.
  const unreadable = (path: ReadonlyArray<string | number>) =>
    Either.left(AuthleteValidationError.single(path, Rules.UNREADABLE))
  let length: unknown
  try {
    // Read once: a `Proxy` could answer another length on the next read.
    length = Array.isArray(sources) ? sources.length : undefined
  } catch {
    return unreadable(prefix)
  }
  if (typeof length !== "number") {
    return Either.left(AuthleteValidationError.single(prefix, "must be an array of claim sets"))
  }
  if (length > Rules.MAX_ARRAY_LENGTH) {
    return Either.left(AuthleteValidationError.single(prefix, Rules.TOO_MANY_ENTRIES))
  }
  // One size budget for all the sources together, so that many sources cannot add up to much.
  let budget = Rules.MAX_JSON_BYTES
  let merged: Record<string, unknown> = {}
  for (let index = 0; index < length; index++) {
    let read: ReturnType<typeof readSource>
    try {
      const source: unknown = sources[index]
      if (source === undefined) continue
      read = readSource(source, budget)
    } catch {
      return unreadable([...prefix, index])
    }
    if (!("claims" in read)) {
      return Either.left(AuthleteValidationError.single([...prefix, index, ...read.path], read.message))
    }
    budget = read.budget
    merged = mergePatch(merged, read.claims)
  }
  return Either.right(
    options?.consentedClaims === undefined ? merged : filterConsentedClaims(merged, options.consentedClaims)
  )
}
