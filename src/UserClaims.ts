/**
 * Claim values from the application's user store, and Authlete's algorithm that collects the claims
 * a CIBA request asked for (with language tags and `claims_locales`).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Rules from "./internal/rules.js"

/**
 * What `UserClaims` provides: one claim value of one user, in one language when `languageTag` is
 * `Some`. `None` means "no value"; a `Some(null)` is read as `None` too.
 *
 * @since 0.1.0
 * @category models
 */
export interface UserClaimsService {
  readonly lookup: (
    subject: string,
    claimName: string,
    languageTag: Option.Option<string>
  ) => Effect.Effect<Option.Option<unknown>>
}

/**
 * Plain claim data per subject; a key may carry a language tag (`"family_name#ja"`).
 *
 * @since 0.1.0
 * @category models
 */
export type UserClaimsRecord = { readonly [subject: string]: { readonly [claim: string]: unknown } }

// Reads an own property only, so names such as `__proto__` or `constructor` never reach a prototype.
const own = (record: { readonly [x: string]: unknown }, key: string): unknown =>
  Object.hasOwn(record, key) ? record[key] : undefined

// BCP47 tags compare case-insensitively (RFC 5646 section 2.1.1); the exact spelling is tried first so
// that the common case needs no scan.
const ownTagged = (claims: { readonly [x: string]: unknown }, claimName: string, tag: string): unknown => {
  const exact = `${claimName}#${tag}`
  if (Object.hasOwn(claims, exact)) return claims[exact]
  const prefix = `${claimName}#`
  const wanted = tag.toLowerCase()
  const key = Object.keys(claims).find((key) =>
    key.startsWith(prefix) && key.slice(prefix.length).toLowerCase() === wanted
  )
  return key === undefined ? undefined : claims[key]
}

/**
 * The application's user store, as Authlete's `UserClaimProvider`: implement `lookup` over it, or
 * start with `UserClaims.layerFromRecord` in tests and demos.
 *
 * @since 0.1.0
 * @category tags
 */
export class UserClaims extends Context.Tag("effect-authlete/UserClaims")<UserClaims, UserClaimsService>() {}

/**
 * A `UserClaims` over plain data. A missing subject, a missing claim, or a `null`/`undefined` value
 * is `None`; language tags in keys match whatever their case.
 *
 * @example
 * ```ts
 * import { UserClaims } from "effect-authlete"
 *
 * UserClaims.fromRecord({ "user-1": { given_name: "Taro", "family_name#ja": "山田" } })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromRecord = (data: UserClaimsRecord): UserClaimsService => ({
  lookup: (subject, claimName, languageTag) =>
    Effect.sync(() => {
      const claims = own(data, subject)
      if (!Predicate.isRecord(claims)) return Option.none()
      return Option.fromNullable(
        Option.match(languageTag, {
          onNone: () => own(claims, claimName),
          onSome: (tag) => ownTagged(claims, claimName, tag)
        })
      )
    })
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layerFromRecord = (data: UserClaimsRecord): Layer.Layer<UserClaims> =>
  Layer.succeed(UserClaims, fromRecord(data))

/**
 * @since 0.1.0
 * @category models
 */
export interface CollectClaimsOptions {
  readonly subject: string
  /** The `claimNames` of the `/backchannel/authentication` response. */
  readonly claimNames: ReadonlyArray<string>
  /** The request's `claims_locales`, most preferred first. */
  readonly claimsLocales?: ReadonlyArray<string> | undefined
}

// Step 1: BCP47 tags are case-insensitive, so `ja` and `JA` are one locale; the first spelling stays.
const normalizeLocales = (locales: ReadonlyArray<string>): ReadonlyArray<string> => {
  const seen = new Set<string>()
  return locales.filter((locale) => {
    const key = locale.toLowerCase()
    if (locale.length === 0 || seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/**
 * Collects the claims a request asked for, exactly as Authlete's reference handlers do:
 *
 * 1. `claimsLocales` lose empty entries and case-insensitive duplicates (the first one stays);
 * 2. an empty claim name is skipped; a name is split on its first `#` into name and language tag,
 *    and skipped when the name part is empty;
 * 3. a tagged name is looked up in that language; an untagged one without locales is looked up
 *    without a language; otherwise each locale is tried in order, then no language; the first value wins;
 * 4. missing values are skipped; each value is kept under the name as requested (`family_name#ja`);
 * 5. the result may be `{}`, which means "no claims" (leave `claims` out of the request).
 *
 * A name ending in `#` has an empty tag, which Authlete treats as no tag (it is still kept under the
 * name as requested).
 *
 * @since 0.1.0
 * @category claims
 */
export const collectClaims: (
  options: CollectClaimsOptions
) => Effect.Effect<Record<string, unknown>, never, UserClaims> = Effect.fn("UserClaims.collectClaims")(
  function*(options: CollectClaimsOptions) {
    const users = yield* UserClaims
    const locales = normalizeLocales(options.claimsLocales ?? [])
    // A store that answers `Some(null)` means "no value", as Authlete's null does.
    const lookup = (name: string, tag: Option.Option<string>) =>
      Effect.map(users.lookup(options.subject, name, tag), Option.flatMap(Option.fromNullable))

    const valueOf = Effect.fnUntraced(function*(name: string, tag: string) {
      if (tag !== "") return yield* lookup(name, Option.some(tag))
      for (const locale of locales) {
        const value = yield* lookup(name, Option.some(locale))
        if (Option.isSome(value)) return value
      }
      return yield* lookup(name, Option.none())
    })

    const claims: Record<string, unknown> = {}
    for (const claimName of options.claimNames) {
      // Prototype keys are skipped rather than looked up: assigning `__proto__` would change the
      // output's prototype, and the request rules refuse these names in `claims` anyway.
      if (claimName.length === 0 || Rules.PROTOTYPE_KEYS.has(claimName)) continue
      const hash = claimName.indexOf("#")
      const name = hash === -1 ? claimName : claimName.slice(0, hash)
      const tag = hash === -1 ? "" : claimName.slice(hash + 1)
      if (name.length === 0) continue
      const value = yield* valueOf(name, tag)
      if (Option.isSome(value)) claims[claimName] = value.value
    }
    return claims
  }
)
