/**
 * The application's checks of a backchannel request (CIBA Core 7.1): the `login_hint_token`'s expiry,
 * the `user_code`, the binding message; each with a default. The default binding message check
 * (`bindingMessageCheck`) lets through only short text that reads the same on every device: no
 * control, format (bidirectional, zero-width, ...), separator, private-use or unassigned code
 * points, at most 3 combining marks stacked on a character, 1 to 64 user-perceived characters
 * (grapheme clusters); emoji, their sequences and every script's ordinary text pass.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { unverifiedPayload } from "./internal/unverifiedJwt.js"

/**
 * What a deployment's profile requires of every backchannel request, beyond Authlete's checks of the
 * client's registration (`FapiCiba.profile` for FAPI-CIBA). Default: nothing more.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackchannelProfile {
  /** Requests must be signed (a `request` object); an unsigned one is 400 `invalid_request`. */
  readonly signedRequestRequired: boolean
  /** Requests must carry a `binding_message`; one without is failed with `INVALID_BINDING_MESSAGE`. */
  readonly bindingMessageRequired: boolean
  /** The delivery modes served; a client of another is failed with `UNAUTHORIZED_CLIENT`. */
  readonly deliveryModes: ReadonlyArray<"POLL" | "PING" | "PUSH">
}

/**
 * The application's checks of a backchannel request, each with a default.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackchannelChecksService {
  /** What every request must be, beyond Authlete's checks. Default: `openProfile` (nothing more). */
  readonly profile: BackchannelProfile
  /** Whether a `login_hint_token` has expired. Default: its `exp` (when it is a JWT) is past. */
  readonly isLoginHintTokenExpired: (token: string, nowMillis: number) => Effect.Effect<boolean>
  /**
   * Whether the `user_code` is the user's, for clients that require one. Default: no user has a
   * code, so every code is refused: an application whose clients require codes provides this.
   */
  readonly isUserCodeValid: (subject: string, userCode: string) => Effect.Effect<boolean>
  /**
   * Whether the binding message can be shown to the user (CIBA Core 7.1: short, plain text).
   * Default: `bindingMessageCheck()`, 1 to 64 grapheme clusters of visible text (see
   * `bindingMessageProblem` for the rules).
   */
  readonly isBindingMessageValid: (message: string) => Effect.Effect<boolean>
}

/** The `exp` of a compact JWS or JWT, read without verifying it (it only decides expiry). */
const expiryOf = (token: string): number | undefined => {
  const exp = unverifiedPayload(token)?.exp
  return typeof exp === "number" ? exp : undefined
}

/**
 * How the default binding message check measures a message.
 *
 * @since 0.1.0
 * @category models
 */
export interface BindingMessageOptions {
  /**
   * The most user-perceived characters (grapheme clusters: `✅`, `👨‍👩‍👧‍👦`, `🇯🇵` and `स्ते` count one each)
   * a message may hold. A whole number, at least 1. Default 64.
   */
  readonly maxLength?: number | undefined
}

const DEFAULT_MAX_LENGTH = 64
/**
 * The most UTF-16 code units one grapheme cluster may hold. The longest emoji sequences hold 15
 * (a kiss with two skin tones), a subdivision flag 14, an Indic conjunct cluster about 10.
 */
const MAX_CLUSTER_UNITS = 32
/**
 * The most nonspacing or enclosing marks (Mn, Me) stacked in a row on one character. Vietnamese,
 * Thai and Devanagari need 2, pointed Hebrew and Tibetan stacks 3; five acute accents on an `e` are
 * refused. Spacing marks (Mc) take their own room: they neither count nor end the run.
 */
const MAX_STACKED_MARKS = 3

const ZERO_WIDTH_JOINER = "\u200d"
/**
 * Code points that are not shown as themselves: controls (Cc), format characters (Cf: bidirectional
 * controls, zero-width characters, U+00AD, U+FEFF, tags), surrogates (Cs), private use (Co),
 * unassigned (Cn), line and paragraph separators (Zl, Zp) and the other default-ignorable ones
 * (U+034F, Hangul fillers, ...). The joiner of an emoji sequence and variation selectors are let
 * through apart.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u
const VARIATION_SELECTOR = /\p{Variation_Selector}/u
const PICTOGRAPH = /\p{Extended_Pictographic}/u
/** What may stand between a pictograph and the joiner that follows it (UAX #29, rule GB11). */
const PICTOGRAPH_EXTENDER = /[\p{M}\p{Emoji_Modifier}]/u
const STACKING_MARK = /[\p{Mn}\p{Me}]/u
const SPACING_MARK = /\p{Mc}/u
const STARTS_WITH_MARK = /^\p{M}/u
const VISIBLE = /\P{White_Space}/u
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

const codePointName = (character: string) =>
  `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`

/** Whether the zero-width joiner at `i` joins two pictographs of an emoji sequence (`👨‍👩‍👧`, `❤️‍🔥`). */
const joinsPictographs = (codePoints: ReadonlyArray<string>, i: number): boolean => {
  if (!PICTOGRAPH.test(codePoints[i + 1] ?? "")) return false
  let before = i - 1
  while (before >= 0 && PICTOGRAPH_EXTENDER.test(codePoints[before]!)) before--
  return before >= 0 && PICTOGRAPH.test(codePoints[before]!)
}

const maxLengthOf = (options: BindingMessageOptions): number => {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) {
    throw new RangeError(`maxLength must be a whole number of at least 1, not ${maxLength}`)
  }
  return maxLength
}

let segmenter: Intl.Segmenter | undefined
const graphemes = (text: string) => (segmenter ??= new Intl.Segmenter("und", { granularity: "grapheme" })).segment(text)

/**
 * Why a binding message cannot be shown to the user as it is, as a sentence; `undefined` when it
 * can. A message is refused when it:
 *
 * - is empty, or only white space;
 * - holds a code point that is not shown as itself: a C0 or C1 control, a bidirectional control
 *   (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069), a zero-width or other format
 *   character (U+200B, U+2060, U+FEFF, U+00AD, the tags of U+E0000 to U+E007F, ...), U+2028,
 *   U+2029, a surrogate, a private-use or unassigned code point, or another default-ignorable one
 *   (U+034F, U+3164, ...); the zero-width joiner is let through between two pictographs of an emoji
 *   sequence, and variation selectors (U+FE0F, ...) after a character;
 * - stacks more than 3 nonspacing or enclosing combining marks on one character, or starts a
 *   character with a combining mark;
 * - holds more than `maxLength` grapheme clusters (`Intl.Segmenter`), or a cluster of more than 32
 *   UTF-16 code units.
 *
 * Its time and memory grow with the input's length, and a message longer than any that could pass
 * (`maxLength` × 32 code units) is refused before it is read. A `maxLength` that is not a whole
 * number of at least 1 throws a `RangeError`.
 *
 * @since 0.1.0
 * @category validation
 */
export const bindingMessageProblem = (message: string, options: BindingMessageOptions = {}): string | undefined => {
  const maxLength = maxLengthOf(options)
  const tooLong = `The binding message is longer than ${maxLength} characters.`
  if (message.length === 0) return "The binding message is empty."
  // No message of maxLength clusters of at most MAX_CLUSTER_UNITS each is longer than this.
  if (message.length > maxLength * MAX_CLUSTER_UNITS) return tooLong
  // Printable ASCII, the usual message, is one cluster per character, with no mark and nothing hidden.
  if (PRINTABLE_ASCII.test(message)) {
    return message.length > maxLength
      ? tooLong
      : message.trim() === ""
      ? "The binding message is only white space."
      : undefined
  }
  const codePoints = Array.from(message)
  let stacked = 0
  for (let i = 0; i < codePoints.length; i++) {
    const character = codePoints[i]!
    if (character === ZERO_WIDTH_JOINER) {
      if (!joinsPictographs(codePoints, i)) {
        return "The binding message holds a zero-width joiner (U+200D) outside an emoji sequence."
      }
      continue
    }
    if (HIDDEN.test(character) && !VARIATION_SELECTOR.test(character)) {
      return `The binding message holds ${
        codePointName(character)
      }, which is not shown as itself (a control, format, separator, private-use or unassigned code point).`
    }
    if (STACKING_MARK.test(character)) {
      stacked++
      if (stacked > MAX_STACKED_MARKS) {
        return `The binding message stacks more than ${MAX_STACKED_MARKS} combining marks on one character.`
      }
    } else if (!SPACING_MARK.test(character)) {
      stacked = 0
    }
  }
  let length = 0
  for (const { segment } of graphemes(message)) {
    length++
    if (length > maxLength) return tooLong
    if (segment.length > MAX_CLUSTER_UNITS) {
      return `The binding message holds a character of more than ${MAX_CLUSTER_UNITS} code units.`
    }
    if (STARTS_WITH_MARK.test(segment)) return "The binding message holds a combining mark on no character."
  }
  if (!VISIBLE.test(message)) return "The binding message is only white space."
  return undefined
}

/**
 * The default binding message check, with a maximum length of yours: whether `bindingMessageProblem`
 * finds nothing (the problem it finds is logged at debug level). Use it as
 * `BackchannelChecks.layer({ isBindingMessageValid: BackchannelChecks.bindingMessageCheck({ maxLength: 20 }) })`.
 * A `maxLength` that is not a whole number of at least 1 throws a `RangeError` here, once.
 *
 * @since 0.1.0
 * @category validation
 */
export const bindingMessageCheck = (
  options: BindingMessageOptions = {}
): (message: string) => Effect.Effect<boolean> => {
  const settled: BindingMessageOptions = { maxLength: maxLengthOf(options) }
  return (message) =>
    Effect.suspend(() => {
      const problem = bindingMessageProblem(message, settled)
      return problem === undefined
        ? Effect.succeed(true)
        : Effect.as(Effect.logDebug(`Binding message refused: ${problem}`), false)
    })
}

/**
 * No requirement beyond Authlete's: unsigned requests, no binding message, every delivery mode.
 *
 * @since 0.1.0
 * @category constants
 */
export const openProfile: BackchannelProfile = {
  signedRequestRequired: false,
  bindingMessageRequired: false,
  deliveryModes: ["POLL", "PING", "PUSH"]
}

const defaultChecks: BackchannelChecksService = {
  profile: openProfile,
  isLoginHintTokenExpired: (token, nowMillis) =>
    Effect.sync(() => {
      const exp = expiryOf(token)
      return exp !== undefined && exp * 1000 <= nowMillis
    }),
  isUserCodeValid: () => Effect.succeed(false),
  isBindingMessageValid: bindingMessageCheck()
}

/**
 * The tag of the checks.
 *
 * @since 0.1.0
 * @category tags
 */
export class BackchannelChecks extends Context.Tag("effect-authlete/BackchannelChecks")<
  BackchannelChecks,
  BackchannelChecksService
>() {}

/**
 * @since 0.1.0
 * @category utils
 */
export const defaults = defaultChecks

/**
 * The defaults, with any check replaced by yours.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (checks: Partial<BackchannelChecksService> = {}): Layer.Layer<BackchannelChecks> =>
  Layer.succeed(BackchannelChecks, { ...defaultChecks, ...checks })
