/**
 * The rules of `BackchannelAuthenticationCompleteRequest`, compiled: field by field, with the very
 * checks its schema uses (`rules.ts`), in the schema's order. They only say "accepted" or "ask the
 * schema": the constructor and the encoder take this path first and fall back to the schema, which
 * stays the reference and reports every problem. Property tests keep the two in agreement.
 *
 * Why: Effect Schema spends tens of µs checking and encoding a request; a completion's whole budget
 * is about 50 µs.
 */
import { BackchannelAuthenticationCompleteResult } from "../BackchannelAuthenticationCompleteResult.js"
import { storedPropertiesSize } from "../Property.js"
import * as Rules from "./rules.js"

type Accepts = (value: unknown) => boolean

const text = (check: (s: string) => string | undefined): Accepts => (value) =>
  typeof value === "string" && check(value) === undefined

const seconds: Accepts = (value) => typeof value === "number" && Rules.seconds(value) === undefined

const jsonObject: Accepts = (value) => Rules.isPlainObject(value) && Rules.jsonObjectIssue(value) === undefined

const textArray = (
  check: (s: string) => string | undefined,
  whole?: (items: Array<string>) => string | undefined
): Accepts =>
(value) => {
  if (!Array.isArray(value) || Rules.arrayLength(value) !== undefined) return false
  for (const item of value) {
    if (typeof item !== "string" || check(item) !== undefined) return false
  }
  return whole === undefined || whole(value) === undefined
}

const results: ReadonlySet<unknown> = new Set(BackchannelAuthenticationCompleteResult.literals)

const PROPERTY_KEYS: ReadonlySet<string> = new Set(["key", "value", "hidden"])

const properties: Accepts = (value) => {
  if (!Array.isArray(value) || Rules.arrayLength(value) !== undefined) return false
  for (const item of value) {
    if (typeof item !== "object" || item === null || Array.isArray(item)) return false
    for (const key of Object.keys(item)) if (!PROPERTY_KEYS.has(key)) return false
    const { hidden, key, value: propertyValue } = item as { key?: unknown; value?: unknown; hidden?: unknown }
    if (typeof key !== "string" || Rules.nonEmptyText(key) !== undefined) return false
    if (typeof propertyValue !== "string" || (hidden !== undefined && typeof hidden !== "boolean")) return false
  }
  return storedPropertiesSize(value) <= Rules.MAX_PROPERTIES_BYTES
}

/** A field: its name, whether a value is accepted, whether it is required, and whether it is JSON text on the wire. */
export interface CompiledField {
  readonly name: string
  readonly accepts: Accepts
  readonly required: boolean
  readonly jsonText: boolean
}

const field = (
  name: string,
  accepts: Accepts,
  options: { required?: boolean; jsonText?: boolean } = {}
): CompiledField => ({
  name,
  accepts,
  required: options.required ?? false,
  jsonText: options.jsonText ?? false
})

/** In the schema's order, which the encoded JSON keeps. */
export const fields: ReadonlyArray<CompiledField> = [
  field("ticket", text(Rules.nonEmptyText), { required: true }),
  field("result", (value) => results.has(value), { required: true }),
  field("subject", text(Rules.subject), { required: true }),
  field("sub", text(Rules.nonEmptyText)),
  field("authTime", seconds),
  field("acr", text(Rules.nonEmptyText)),
  field("claims", jsonObject, { jsonText: true }),
  field("properties", properties),
  field("scopes", textArray(Rules.scopeToken, Rules.includesOpenId)),
  field("idtHeaderParams", jsonObject, { jsonText: true }),
  field("errorDescription", text(Rules.errorDescription)),
  field("errorUri", text(Rules.errorUri)),
  field("consentedClaims", textArray(Rules.nonEmptyText)),
  field("jwtAtClaims", jsonObject, { jsonText: true }),
  field("accessToken", text(Rules.accessToken)),
  field("accessTokenDuration", seconds),
  field("refreshTokenDuration", seconds),
  field("idTokenAudType", (value) => value === null || value === "array" || value === "string")
]

const names: ReadonlySet<string> = new Set(fields.map((field) => field.name))

/** An object whose own fields are all known and all accepted (program side: claims as objects). */
export const accepts = (request: unknown): request is Record<string, unknown> => {
  if (typeof request !== "object" || request === null || Array.isArray(request)) return false
  for (const key of Object.keys(request)) if (!names.has(key)) return false
  const input = request as Record<string, unknown>
  for (const { accepts, name, required } of fields) {
    const value = input[name]
    if (value === undefined ? required : !accepts(value)) return false
  }
  return true
}
