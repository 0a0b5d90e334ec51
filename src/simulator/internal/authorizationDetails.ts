/**
 * `authorization_details` (RFC 9396): read from a backchannel request, reported to the authorization
 * server in Authlete's shape (`{elements: [...]}`, the RFC's `datatypes` as `dataTypes`, the other
 * members as JSON text in `otherFields`), and returned to the client as the array it sent.
 */
import { compact } from "./state.js"

/** One element as the client sent it. */
export type AuthorizationDetail = { readonly type: string; readonly [member: string]: unknown }

const STRING_ARRAY_MEMBERS = ["locations", "actions", "datatypes", "privileges"] as const

const isStringArray = (u: unknown): boolean => Array.isArray(u) && u.every((item) => typeof item === "string")

/**
 * The parsed array, `undefined` when there is none, or the problem as a sentence. Every element needs
 * a non-empty string `type` (RFC 9396 2); the common members, when present, have their RFC types.
 * Authlete also checks `type` against the service's supported types; the simulator takes any.
 */
export const readAuthorizationDetails = (
  text: string | null | undefined
): { readonly details: ReadonlyArray<AuthorizationDetail> | undefined } | { readonly problem: string } => {
  if (text === null || text === undefined || text === "") return { details: undefined }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { problem: "it is not JSON." }
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return { problem: "it is not a non-empty JSON array." }
  for (const [index, element] of parsed.entries()) {
    if (typeof element !== "object" || element === null || Array.isArray(element)) {
      return { problem: `element ${index} is not a JSON object.` }
    }
    const { identifier, type } = element as Record<string, unknown>
    if (typeof type !== "string" || type === "") return { problem: `element ${index} has no string 'type'.` }
    for (const member of STRING_ARRAY_MEMBERS) {
      const value = (element as Record<string, unknown>)[member]
      if (value !== undefined && !isStringArray(value)) {
        return { problem: `'${member}' of element ${index} is not an array of strings.` }
      }
    }
    if (identifier !== undefined && typeof identifier !== "string") {
      return { problem: `'identifier' of element ${index} is not a string.` }
    }
  }
  return { details: parsed as ReadonlyArray<AuthorizationDetail> }
}

/** Authlete's `authorizationDetails` (`AuthzDetails`): the RFC's common members by name, the rest as JSON. */
export const authleteAuthorizationDetails = (details: ReadonlyArray<AuthorizationDetail> | undefined) => {
  if (details === undefined) return undefined
  return {
    elements: details.map(({ actions, datatypes, identifier, locations, privileges, type, ...rest }) =>
      compact({
        type,
        locations: locations as ReadonlyArray<string> | undefined,
        actions: actions as ReadonlyArray<string> | undefined,
        dataTypes: datatypes as ReadonlyArray<string> | undefined,
        identifier: identifier as string | undefined,
        privileges: privileges as ReadonlyArray<string> | undefined,
        otherFields: Object.keys(rest).length === 0 ? undefined : JSON.stringify(rest)
      })
    )
  }
}
