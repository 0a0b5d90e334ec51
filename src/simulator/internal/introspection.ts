/**
 * The simulated `/auth/introspection` (Authlete's introspection API, for a resource server): what an
 * access token stands for, and whether it may be used with this request. Authlete's documented
 * answers: no `token` → `BAD_REQUEST`; unknown or expired (removed on that first look) →
 * `UNAUTHORIZED`; `scopes` not covered → `FORBIDDEN` `insufficient_scope`; another `subject` →
 * `FORBIDDEN` `invalid_request`; otherwise `OK` with `Bearer error="invalid_request"`. A
 * certificate-bound token presented without its certificate is `UNAUTHORIZED` `invalid_token` (RFC
 * 8705 3; Authlete documents that it checks the binding, not the answer).
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as AuthleteApi from "../../AuthleteApi.js"
import { authleteAuthorizationDetails } from "./authorizationDetails.js"
import { certificateThumbprint, readCertificate } from "./certificates.js"
import * as Codes from "./resultCodes.js"
import { type Answer, compact, ok, type State } from "./state.js"

const OptionalText = Schema.optional(Schema.String)

/** Authlete's `IntrospectionRequest`, the members the simulator reads (DPoP ones are accepted, unread). */
export const IntrospectionRequest = Schema.Struct({
  token: OptionalText,
  scopes: Schema.optional(Schema.Array(Schema.String)),
  subject: OptionalText,
  clientCertificate: OptionalText,
  dpop: OptionalText,
  htm: OptionalText,
  htu: OptionalText,
  resources: Schema.optional(Schema.Array(Schema.String)),
  acrValues: Schema.optional(Schema.Array(Schema.String)),
  maxAge: Schema.optional(Schema.Number)
})

/** A decoded `/auth/introspection` request. */
export type IntrospectionRequest = typeof IntrospectionRequest.Type

/**
 * The API as the simulator's router sees it. Not one of `AuthleteApis` (the library does not call
 * it); Authlete's number for it was not confirmed, so its result codes use the simulator's own 903.
 */
export const IntrospectionApi: AuthleteApi.AuthleteApi<IntrospectionRequest, typeof IntrospectionRequest.Encoded> = {
  method: "POST",
  path: "/auth/introspection",
  apiNumber: 903,
  request: IntrospectionRequest,
  response: Schema.Unknown,
  secretFields: ["token"],
  secretFormParameters: [],
  repeatable: true
}

/** The behaviour of `/auth/introspection` over the simulator's state. */
export const makeIntrospection = (state: State) => {
  const refuse = (
    action: "BAD_REQUEST" | "UNAUTHORIZED" | "FORBIDDEN",
    error: string,
    cause: Codes.Result,
    extra: Record<string, unknown> = {}
  ): Answer => ok({ ...cause, action, responseContent: Codes.bearerChallenge(error, cause), ...extra })

  const introspection = (request: IntrospectionRequest): Effect.Effect<Answer> =>
    Effect.map(state.now, (at) => {
      const token = request.token
      if (token === undefined || token === "") {
        return refuse("BAD_REQUEST", "invalid_request", Codes.introspectionTokenMissing)
      }
      const record = state.accessTokens.get(token)
      if (record === undefined) {
        return refuse("UNAUTHORIZED", "invalid_token", Codes.introspectionTokenUnknown, { existent: false })
      }
      if (at >= record.expiresAt) {
        // Authlete removes an expired token the first time it is asked about it.
        state.accessTokens.delete(token)
        return refuse("UNAUTHORIZED", "invalid_token", Codes.introspectionTokenExpired, { existent: true })
      }
      const known = compact({
        clientId: record.clientId,
        clientIdAliasUsed: record.clientIdAliasUsed,
        subject: record.subject,
        scopes: [...record.scopes],
        existent: true,
        expiresAt: record.expiresAt,
        refreshable: record.refreshToken !== undefined && state.refreshTokens.has(record.refreshToken),
        certificateThumbprint: record.certificateThumbprint,
        authorizationDetails: authleteAuthorizationDetails(record.authorizationDetails),
        properties: record.properties?.map((property) => ({ ...property }))
      })
      if (record.certificateThumbprint !== undefined) {
        const presented = readCertificate(request.clientCertificate)
        if (presented === undefined || certificateThumbprint(presented) !== record.certificateThumbprint) {
          return refuse("UNAUTHORIZED", "invalid_token", Codes.introspectionCertificateMismatch, {
            ...known,
            usable: false
          })
        }
      }
      const sufficient = (request.scopes ?? []).every((scope) => record.scopes.includes(scope))
      if (!sufficient) {
        return refuse("FORBIDDEN", "insufficient_scope", Codes.introspectionScopeInsufficient, {
          ...known,
          usable: true,
          sufficient: false
        })
      }
      if (request.subject !== undefined && request.subject !== record.subject) {
        return refuse("FORBIDDEN", "invalid_request", Codes.introspectionSubjectMismatch, {
          ...known,
          usable: true,
          sufficient: true
        })
      }
      return ok({
        ...Codes.introspectionOk,
        action: "OK",
        responseContent: "Bearer error=\"invalid_request\"",
        ...known,
        usable: true,
        sufficient: true
      })
    })

  return { introspection }
}
