/**
 * An extra property attached to the access token Authlete issues.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Models from "./internal/models.js"
import * as Rules from "./internal/rules.js"

/**
 * `{ key, value, hidden? }`: hidden properties are stored with the token but never shown to the client.
 *
 * @since 0.1.0
 * @category models
 */
export class Property extends Models.Class<Property>("effect-authlete/Property")({
  key: Rules.NonEmptyText,
  value: Rules.Text,
  hidden: Schema.optional(Rules.Boolean)
}) {}

/**
 * An upper bound on the size Authlete stores for a set of properties. Authlete turns them into a
 * JSON array of string arrays, encrypts that with AES/CBC/PKCS5Padding and base64url-encodes the
 * result; the stored text must not exceed 65,535 bytes. The bound assumes the worst where Authlete
 * does not say: `"false"` written for every `hidden`, every character Gson escapes written as
 * Gson writes it (HTML-safe), a 16-byte IV stored in front, and base64 padding.
 *
 * @since 0.1.0
 * @category limits
 */
export const storedPropertiesSize = (
  properties: ReadonlyArray<{ readonly key: string; readonly value: string }>
): number => {
  // "[" + "]" + commas between entries; each entry is ["key","value","false"].
  let json = 2 + Math.max(0, properties.length - 1)
  for (const property of properties) {
    json += 2 + 2 + Rules.jsonStringBytes(property.key, true) + Rules.jsonStringBytes(property.value, true) + 7
  }
  const cipher = 16 * (Math.floor(json / 16) + 1) + 16
  return 4 * Math.ceil(cipher / 3)
}

/**
 * The `properties` field: at most the entries Authlete can store. Entries are `{ key, value, hidden? }`
 * objects, so a `Property` instance and a plain object of its shape are both taken.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Properties = Rules.array(Schema.Struct(Property.fields)).pipe(
  Schema.filter((properties) => {
    const size = storedPropertiesSize(properties)
    return size > Rules.MAX_PROPERTIES_BYTES
      ? `take ${Rules.formatCount(size)} bytes once Authlete encrypts and base64url-encodes them; ` +
        `the limit is ${Rules.formatCount(Rules.MAX_PROPERTIES_BYTES)}`
      : undefined
  })
)
