/**
 * The `{ resultCode, resultMessage }` body Authlete sends with errors (and with every response).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Result codes start with `A`; the third digit from the right is the class (0 success, 1 Authlete
 * error, 2 service error, 3 client error).
 *
 * @since 0.1.0
 * @category models
 */
export class AuthleteResult extends Schema.Class<AuthleteResult>("effect-authlete/AuthleteResult")({
  resultCode: Schema.optionalWith(Schema.String, { nullable: true }),
  resultMessage: Schema.optionalWith(Schema.String, { nullable: true })
}) {}
