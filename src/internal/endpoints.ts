/**
 * The four CIBA APIs as data: path, request and response schemas, and which request values are
 * secrets to keep out of errors. The live client and the test layer are both built from this table.
 */
import type { Effect, Either, ParseResult } from "effect"
import { Schema } from "effect"
import { BackchannelAuthenticationRequest, BackchannelAuthenticationResponse } from "../BackchannelAuthentication.js"
import {
  BackchannelAuthenticationCompleteRequest,
  type BackchannelAuthenticationCompleteRequestJson,
  strictParseOptions
} from "../BackchannelAuthenticationCompleteRequest.js"
import { BackchannelAuthenticationCompleteResponse } from "../BackchannelAuthenticationCompleteResponse.js"
import {
  BackchannelAuthenticationFailRequest,
  BackchannelAuthenticationFailResponse
} from "../BackchannelAuthenticationFail.js"
import {
  BackchannelAuthenticationIssueRequest,
  BackchannelAuthenticationIssueResponse
} from "../BackchannelAuthenticationIssue.js"
import * as Codecs from "./codecs.js"

export interface Endpoint<Request, RequestJson, Response> {
  readonly path: string
  /** Validates a request (an instance or a plain object of its shape) and encodes it to wire JSON. */
  readonly encode: (request: Request) => Either.Either<RequestJson, ParseResult.ParseError>
  /** Decodes wire JSON back into a request (the test layer hands handlers what the wire held). */
  readonly decodeRequest: (json: RequestJson) => Effect.Effect<Request, ParseResult.ParseError>
  readonly decodeResponse: (json: unknown) => Either.Either<Response, ParseResult.ParseError>
  /** Values of the request that must not appear in an error. */
  readonly secretsOf: (request: Request) => ReadonlyArray<string | undefined>
}

const endpoint = <Request, RequestJson, Response, ResponseJson>(
  path: string,
  request: Schema.Schema<Request, RequestJson>,
  response: Schema.Schema<Response, ResponseJson>,
  secretsOf: (request: Request) => ReadonlyArray<string | undefined>
): Endpoint<Request, RequestJson, Response> => {
  const encode = Schema.encodeUnknownEither(request)
  return {
    path,
    encode: (value) => encode(value, strictParseOptions),
    decodeRequest: Schema.decode(request),
    decodeResponse: Schema.decodeUnknownEither(response),
    secretsOf
  }
}

/** `client_secret` and the hint tokens a form-encoded CIBA request may carry. */
const formSecrets = (parameters: string): ReadonlyArray<string> => {
  try {
    const form = new URLSearchParams(parameters)
    return ["client_secret", "login_hint_token", "id_token_hint", "client_notification_token", "request"]
      .flatMap((name) => form.getAll(name))
  } catch {
    return []
  }
}

export const backchannelAuthentication = endpoint(
  "/backchannel/authentication",
  BackchannelAuthenticationRequest,
  BackchannelAuthenticationResponse,
  (request) => [request.clientSecret, ...formSecrets(request.parameters)]
)

export const backchannelAuthenticationIssue = endpoint(
  "/backchannel/authentication/issue",
  BackchannelAuthenticationIssueRequest,
  BackchannelAuthenticationIssueResponse,
  (request) => [request.ticket]
)

export const backchannelAuthenticationFail = endpoint(
  "/backchannel/authentication/fail",
  BackchannelAuthenticationFailRequest,
  BackchannelAuthenticationFailResponse,
  (request) => [request.ticket]
)

// The hot path: compiled codecs, with the schemas as the reference (internal/codecs.ts).
export const backchannelAuthenticationComplete: Endpoint<
  BackchannelAuthenticationCompleteRequest,
  BackchannelAuthenticationCompleteRequestJson,
  BackchannelAuthenticationCompleteResponse
> = {
  ...endpoint(
    "/backchannel/authentication/complete",
    BackchannelAuthenticationCompleteRequest,
    BackchannelAuthenticationCompleteResponse,
    (request) => [request.ticket, request.accessToken]
  ),
  encode: (request) => Codecs.encodeCompleteRequest(request),
  decodeResponse: Codecs.decodeCompleteResponse
}
