/**
 * Where a request to the routes was sent: its path, and its whole URL (RFC 9449's `htu`, which
 * Authlete checks a DPoP proof against) from the routes' configured base URLs or, without them, from
 * the request itself, believing `X-Forwarded-*` only from trusted proxies.
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as ClientCertificate from "../ClientCertificate.js"

/** Where a URL's path is, whether it came as a path (`/token?x`) or whole (`http://host/token`). */
export const pathOf = (url: string): string => {
  const end = url.search(/[?#]/)
  const path = end === -1 ? url : url.slice(0, end)
  return path.startsWith("/") ? path : path.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/, "")
}

/** A base URL option without its trailing slash, and its host; a `TypeError` if it is no http(s) URL without a query. */
export const baseUrlOf = (name: string, value: string | undefined) => {
  if (value === undefined) return undefined
  const url = URL.canParse(value) ? new URL(value) : undefined
  if (url === undefined || !/^https?:$/.test(url.protocol) || url.search !== "" || url.hash !== "") {
    throw new TypeError(`CibaRoutes: ${name} must be an http(s) URL without a query, not ${JSON.stringify(value)}`)
  }
  return { href: url.href.replace(/\/+$/, ""), host: url.host }
}

const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/** The last value of a header a proxy appends to: the one the proxy next to the server wrote. */
const lastOf = (value: string | undefined) => value?.split(",").at(-1)?.trim() || undefined

/**
 * The URL a request came to (RFC 9449 `htu`): below `mtlsBaseUrl` when it came to that host, else
 * below `baseUrl`; without `baseUrl`, the request's scheme, host and path (RFC 9110 7.1), the
 * `X-Forwarded-*` headers of a trusted proxy only. No URL when the request names no host.
 */
export const targetUri = (
  request: HttpServerRequest.HttpServerRequest,
  urls: Readonly<Record<"base" | "mtls", ReturnType<typeof baseUrlOf>>>,
  path: string,
  isTrusted: (address: string | undefined) => boolean
): string | undefined => {
  const connection = ClientCertificate.connectionOf(request)
  const forwarded = isTrusted(connection.remoteAddress)
  const host = (forwarded ? lastOf(request.headers["x-forwarded-host"]) : undefined) ?? request.headers["host"]
  if (urls.mtls !== undefined && host?.toLowerCase() === urls.mtls.host) return urls.mtls.href + path
  if (urls.base !== undefined) return urls.base.href + path
  if (host === undefined || !HOST.test(host)) return undefined
  const proto = forwarded ? lastOf(request.headers["x-forwarded-proto"])?.toLowerCase() : undefined
  const tls = (connection.socket as { readonly encrypted?: unknown } | undefined)?.encrypted === true
  const scheme = proto === "http" || proto === "https" ? proto : tls ? "https" : "http"
  return `${scheme}://${host}${pathOf(request.originalUrl)}`
}
