/**
 * The application's checks of a backchannel request (CIBA Core 7.1): the `login_hint_token`'s expiry,
 * the `user_code`, the binding message; each with a default.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * The application's checks of a backchannel request, each with a default.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackchannelChecksService {
  /** Whether a `login_hint_token` has expired. Default: its `exp` (when it is a JWT) is past. */
  readonly isLoginHintTokenExpired: (token: string, nowMillis: number) => Effect.Effect<boolean>
  /**
   * Whether the `user_code` is the user's, for clients that require one. Default: no user has a
   * code, so every code is refused: an application whose clients require codes provides this.
   */
  readonly isUserCodeValid: (subject: string, userCode: string) => Effect.Effect<boolean>
  /**
   * Whether the binding message can be shown to the user. Default: 1 to 64 characters, none of them
   * control characters (CIBA Core 7.1: short, plain text).
   */
  readonly isBindingMessageValid: (message: string) => Effect.Effect<boolean>
}

/** The `exp` of a compact JWS or JWT, read without verifying it (it only decides expiry). */
const expiryOf = (token: string): number | undefined => {
  const payload = token.split(".")[1]
  if (payload === undefined) return undefined
  try {
    const text = atob(payload.replace(/-/g, "+").replace(/_/g, "/"))
    const exp = (JSON.parse(text) as { readonly exp?: unknown }).exp
    return typeof exp === "number" ? exp : undefined
  } catch {
    return undefined
  }
}

/** Whether a text holds a C0 or C1 control character. */
const hasControlCharacter = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true
  }
  return false
}

const defaultChecks: BackchannelChecksService = {
  isLoginHintTokenExpired: (token, nowMillis) =>
    Effect.sync(() => {
      const exp = expiryOf(token)
      return exp !== undefined && exp * 1000 <= nowMillis
    }),
  isUserCodeValid: () => Effect.succeed(false),
  isBindingMessageValid: (message) =>
    Effect.succeed(message.length >= 1 && message.length <= 64 && !hasControlCharacter(message))
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
