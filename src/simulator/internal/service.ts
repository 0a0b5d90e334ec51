/**
 * The simulated service's metadata: `/service/configuration` (the discovery document, built from the
 * service settings, with an RFC 6902 `patch` applied when asked) and `/service/jwks/get` (the public
 * key the ID tokens are signed with).
 */
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type { ServiceConfigurationRequest } from "../../ServiceConfiguration.js"
import type { ServiceJwksRequest } from "../../ServiceJwks.js"
import { FAPI_ALGORITHMS } from "./jose.js"
import * as Codes from "./resultCodes.js"
import { type Answer, ok, type State } from "./state.js"
import { CIBA_GRANT_TYPE } from "./token.js"

type JsonValue = unknown

/** Applies RFC 6902 `add`, `remove` and `replace` operations; anything else is refused. */
const applyPatch = (document: Record<string, unknown>, patch: string): Record<string, unknown> | string => {
  let operations: unknown
  try {
    operations = JSON.parse(patch)
  } catch {
    return "it is not JSON"
  }
  if (!Array.isArray(operations)) return "it is not a JSON array of operations"
  const out = structuredClone(document)
  for (const operation of operations as ReadonlyArray<{ op?: unknown; path?: unknown; value?: JsonValue }>) {
    if (typeof operation.path !== "string" || !operation.path.startsWith("/")) return "a path is not a JSON pointer"
    const segments = operation.path.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    const last = segments.pop()!
    let parent: Record<string, unknown> = out
    for (const segment of segments) {
      const next = parent[segment]
      if (typeof next !== "object" || next === null) return `the path ${operation.path} does not exist`
      parent = next as Record<string, unknown>
    }
    if (last === "__proto__" || segments.includes("__proto__")) return "a path names a prototype"
    switch (operation.op) {
      case "add":
      case "replace":
        Object.defineProperty(parent, last, {
          value: operation.value,
          enumerable: true,
          writable: true,
          configurable: true
        })
        break
      case "remove":
        delete parent[last]
        break
      default:
        return `the operation ${JSON.stringify(operation.op)} is not supported by the simulator`
    }
  }
  return out
}

export const makeService = (state: State) => {
  const serviceConfiguration = (request: ServiceConfigurationRequest): Effect.Effect<Answer> =>
    Effect.map(Ref.get(state.service), (service) => {
      const document: Record<string, unknown> = {
        issuer: service.issuer,
        token_endpoint: service.tokenEndpoint,
        backchannel_authentication_endpoint: service.backchannelAuthenticationEndpoint,
        jwks_uri: service.jwksUri,
        scopes_supported: ["openid", "profile", "email", "address", "phone"],
        response_types_supported: ["none"],
        grant_types_supported: [CIBA_GRANT_TYPE, "refresh_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["ES256"],
        token_endpoint_auth_methods_supported: [
          "client_secret_basic",
          "client_secret_post",
          "private_key_jwt",
          "tls_client_auth",
          "self_signed_tls_client_auth"
        ],
        token_endpoint_auth_signing_alg_values_supported: [...FAPI_ALGORITHMS],
        tls_client_certificate_bound_access_tokens: true,
        backchannel_token_delivery_modes_supported: ["poll", "ping", "push"],
        backchannel_authentication_request_signing_alg_values_supported: [...FAPI_ALGORITHMS],
        backchannel_user_code_parameter_supported: true,
        claims_parameter_supported: false,
        ...service.metadata
      }
      if (request.patch === undefined) return ok(document)
      const patched = applyPatch(document, request.patch)
      return typeof patched === "string" ? { status: 400, body: Codes.patchInvalid(patched) } : ok(patched)
    })

  const serviceJwks = (_: ServiceJwksRequest): Effect.Effect<Answer> =>
    Effect.succeed(ok({ keys: [state.config.key.publicJwk] }))

  return { serviceConfiguration, serviceJwks }
}
