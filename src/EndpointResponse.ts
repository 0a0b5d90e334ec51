/**
 * What the authorization server's endpoint programs produce: the HTTP answer to give.
 *
 * @since 0.1.0
 */
/**
 * An HTTP answer: status, headers (lower-case names) and the body text (JSON unless the headers
 * say otherwise).
 *
 * @since 0.1.0
 * @category models
 */
export interface EndpointResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/**
 * RFC 6749 5.1: no answer that may carry a token is cached; and no browser takes a JSON answer,
 * which may echo the request, for anything else (`X-Content-Type-Options: nosniff`).
 */
const NO_STORE = { "cache-control": "no-store", pragma: "no-cache", "x-content-type-options": "nosniff" } as const

/**
 * A JSON answer that no cache keeps (`Cache-Control: no-store`, `Pragma: no-cache`) and no browser
 * sniffs (`X-Content-Type-Options: nosniff`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const json = (
  status: number,
  body: string,
  headers: Readonly<Record<string, string | undefined>> = {}
): EndpointResponse => {
  const extra: Record<string, string> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined) extra[name] = value
  }
  return { status, headers: { "content-type": "application/json", ...NO_STORE, ...extra }, body }
}

// RFC 6749 5.2: the characters `error_description` may hold.
const NOT_IN_DESCRIPTION = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g

/**
 * An OAuth error answer (RFC 6749 5.2) the server writes itself; a character `error_description`
 * may not hold (`"`, a backslash, anything beyond ASCII) is written as `'`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const oauthError = (
  status: number,
  error: string,
  description?: string,
  headers?: Readonly<Record<string, string | undefined>>
): EndpointResponse =>
  json(
    status,
    JSON.stringify(
      description === undefined
        ? { error }
        : { error, error_description: description.replace(NOT_IN_DESCRIPTION, "'") }
    ),
    headers
  )
