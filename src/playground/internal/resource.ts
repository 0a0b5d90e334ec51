/**
 * The playground's resource server (`GET /resource`): what a bank's API does with a
 * certificate-bound access token (RFC 8705 3). It asks the simulated Authlete's `/auth/introspection`
 * with the bearer token and the client certificate of the TLS connection; a token presented with
 * another certificate, or none, is 401 `invalid_token`. For the FAPI profile, where it shows the
 * binding end to end.
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ClientCertificate from "../../ClientCertificate.js"
import { AuthleteSimulator } from "../../simulator/index.js"

export const RESOURCE_PATH = "/resource"

const readCertificate = ClientCertificate.reader({ fromTls: true })

const refused = (error: string) =>
  HttpServerResponse.unsafeJson({ error }, {
    status: 401,
    headers: { "www-authenticate": `Bearer error="${error}"`, "cache-control": "no-store" }
  })

export const resource = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const token = /^Bearer ([\x21-\x7e]{1,4096})$/.exec(request.headers["authorization"] ?? "")?.[1]
  if (token === undefined) return refused("invalid_token")
  const certificate = yield* readCertificate(ClientCertificate.connectionOf(request)).pipe(
    Effect.orElseSucceed(() => undefined)
  )
  const simulator = yield* AuthleteSimulator.AuthleteSimulator
  const answer = yield* Effect.tryPromise(() =>
    fetch(`${simulator.baseUrl}/api/${simulator.serviceId}/auth/introspection`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${Redacted.value(simulator.accessToken)}`,
        "content-type": "application/json"
      },
      body: JSON.stringify({
        token,
        ...(certificate === undefined ? {} : { clientCertificate: certificate.clientCertificate })
      })
    }).then((response) =>
      response.json() as Promise<{ action?: string; subject?: string; scopes?: ReadonlyArray<string> }>
    )
  ).pipe(
    Effect.orElseSucceed(() =>
      ({ action: "INTERNAL_SERVER_ERROR" }) as { action?: string; subject?: string; scopes?: ReadonlyArray<string> }
    )
  )
  return answer.action === "OK"
    ? HttpServerResponse.unsafeJson({ sub: answer.subject, scope: (answer.scopes ?? []).join(" ") }, {
      headers: { "cache-control": "no-store" }
    })
    : refused("invalid_token")
})
