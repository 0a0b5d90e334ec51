/**
 * RFC 9396 `authorization_details` in words a person reads on the device: each element's type, then
 * its actions, locations, data types, identifier, privileges and other members, amounts written as
 * "123.50 EUR". Only text: the page sets it as text content, so nothing in it is markup.
 */
import type * as PendingRequest from "../../PendingRequest.js"

/** How one element reads: its type, and one line per member. */
export interface ReadableDetail {
  readonly type: string
  readonly lines: ReadonlyArray<string>
}

/** The longest line shown: a member's value past it is cut with an ellipsis. */
const MAX_LINE = 200

const cut = (text: string) => text.length > MAX_LINE ? `${text.slice(0, MAX_LINE - 1)}…` : text

/** `{ amount, currency }` (RFC 9396's payment example, Open Banking's `instructedAmount`) as "123.50 EUR". */
const amountOf = (value: unknown): string | undefined => {
  if (typeof value !== "object" || value === null) return undefined
  const { amount, currency } = value as { readonly amount?: unknown; readonly currency?: unknown }
  return (typeof amount === "string" || typeof amount === "number") && typeof currency === "string"
    ? `${amount} ${currency}`
    : undefined
}

const valueText = (value: unknown): string =>
  typeof value === "string"
    ? value
    : Array.isArray(value) && value.every((item) => typeof item === "string")
    ? value.join(", ")
    : amountOf(value) ?? JSON.stringify(value)

/** "instructedAmount" as "Instructed amount". */
const label = (name: string) => {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/_/g, " ").toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

const otherMembers = (otherFields: string | undefined): ReadonlyArray<readonly [string, unknown]> => {
  if (otherFields === undefined) return []
  try {
    const parsed: unknown = JSON.parse(otherFields)
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? Object.entries(parsed) : []
  } catch {
    return [["Other fields", otherFields]]
  }
}

export const readableDetails = (
  details: ReadonlyArray<PendingRequest.AuthorizationDetail> | undefined
): ReadonlyArray<ReadableDetail> =>
  (details ?? []).map((detail) => {
    const members: Array<readonly [string, unknown]> = [
      ["actions", detail.actions],
      ["locations", detail.locations],
      ["dataTypes", detail.dataTypes],
      ["identifier", detail.identifier],
      ["privileges", detail.privileges],
      ...otherMembers(detail.otherFields)
    ]
    return {
      type: detail.type,
      lines: members.flatMap(([name, value]) =>
        value === undefined || (Array.isArray(value) && value.length === 0)
          ? []
          : [cut(`${label(name)}: ${valueText(value)}`)]
      )
    }
  })
