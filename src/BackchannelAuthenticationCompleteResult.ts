/**
 * What the user decided on their authentication device.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * What the user decided on their authentication device.
 *
 * @since 0.1.0
 * @category models
 */
export const BackchannelAuthenticationCompleteResult = Schema.Literal(
  "AUTHORIZED",
  "ACCESS_DENIED",
  "TRANSACTION_FAILED"
).annotations({
  identifier: "BackchannelAuthenticationCompleteResult",
  message: () => ({ message: "must be one of AUTHORIZED, ACCESS_DENIED, TRANSACTION_FAILED", override: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export type BackchannelAuthenticationCompleteResult = typeof BackchannelAuthenticationCompleteResult.Type
