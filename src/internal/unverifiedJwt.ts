/**
 * The payload of a compact JWS or JWT, read without verifying it: for what only steers the server
 * (a hint token's expiry, the client an assertion names for counting), never for what it trusts.
 */
export const unverifiedPayload = (token: string): Readonly<Record<string, unknown>> | undefined => {
  const payload = token.split(".")[1]
  if (payload === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")))
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? parsed as Record<string, unknown>
      : undefined
  } catch {
    return undefined
  }
}
