/**
 * Compiled codecs for the hot path of `/complete`: the request's encoding (on the compiled checks of
 * `completeRequestChecks.ts`) and the response's decoding, written out field by field. They only
 * ever answer "this is the result" or "ask the schema": anything they do not accept goes to the
 * schema, which stays the reference and reports every problem. Property tests keep the two equal.
 *
 * Why: Effect Schema spends about 25 µs on each of these; a completion's whole budget is about 50 µs.
 */
import { Either, type ParseResult, Schema } from "effect"
import {
  BackchannelAuthenticationCompleteRequest,
  type BackchannelAuthenticationCompleteRequestJson,
  strictParseOptions
} from "../BackchannelAuthenticationCompleteRequest.js"
import {
  AuthorizationDetails,
  AuthorizationDetailsElement,
  BackchannelAuthenticationCompleteResponse,
  Pair
} from "../BackchannelAuthenticationCompleteResponse.js"
import * as Checks from "./completeRequestChecks.js"

/** What a compiled codec answers when the schema has to decide. */
const ASK_SCHEMA: unique symbol = Symbol("ask the schema")
type Answer<A> = A | typeof ASK_SCHEMA

/** The wire JSON of an accepted request: the fields in the schema's order, JSON-text fields as text. */
const compiledEncode = (request: unknown): Answer<BackchannelAuthenticationCompleteRequestJson> => {
  if (!Checks.accepts(request)) return ASK_SCHEMA
  const out: Record<string, unknown> = {}
  for (const { jsonText, name } of Checks.fields) {
    const value = request[name]
    if (value !== undefined) out[name] = jsonText ? JSON.stringify(value) : value
  }
  return out as unknown as BackchannelAuthenticationCompleteRequestJson
}

const schemaEncode = Schema.encodeUnknownEither(BackchannelAuthenticationCompleteRequest)

/**
 * Validates a request (an instance or a plain object of its shape) and encodes it to wire JSON.
 */
export const encodeCompleteRequest = (
  request: unknown
): Either.Either<BackchannelAuthenticationCompleteRequestJson, ParseResult.ParseError> => {
  const compiled = compiledEncode(request)
  return compiled === ASK_SCHEMA ? schemaEncode(request, strictParseOptions) : Either.right(compiled)
}

/**
 * An instance of a `Schema.Class` from fields already decoded: what `new Class(props, true)` builds
 * (the prototype and the fields as own properties), without the constructor's pass over every
 * field looking for defaults, which these classes do not have (about 40% of a decode). A test holds
 * it to the constructor.
 */
export const instanceOf = <A>(Class: { readonly prototype: A }, props: object): A =>
  Object.assign(Object.create(Class.prototype as object), props)

type Decoder = (value: unknown) => Answer<unknown>

const ofType = (type: "string" | "number" | "boolean"): Decoder => (value) => typeof value === type ? value : ASK_SCHEMA

const strings: Decoder = (value) =>
  Array.isArray(value) && value.every((item) => typeof item === "string") ? [...value] : ASK_SCHEMA

const pairs: Decoder = (value) => {
  if (!Array.isArray(value)) return ASK_SCHEMA
  const out: Array<Pair> = []
  for (const item of value) {
    if (typeof item !== "object" || item === null || Array.isArray(item)) return ASK_SCHEMA
    const { key, value: pairValue } = item as { key?: unknown; value?: unknown }
    const props: { key?: string; value?: string } = {}
    if (typeof key === "string") props.key = key
    else if (key !== undefined && key !== null) return ASK_SCHEMA
    if (typeof pairValue === "string") props.value = pairValue
    else if (pairValue !== undefined && pairValue !== null) return ASK_SCHEMA
    out.push(instanceOf(Pair, props))
  }
  return out
}

const string = ofType("string")
const number = ofType("number")
const boolean = ofType("boolean")

/** Decodes the listed fields of an object (absent and `null` read as absent), or asks the schema. */
const fieldsOf = (
  value: unknown,
  decoders: ReadonlyArray<readonly [string, Decoder]>,
  props: Record<string, unknown> = {}
): Answer<Record<string, unknown>> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return ASK_SCHEMA
  const input = value as Record<string, unknown>
  for (const [name, decode] of decoders) {
    const field = input[name]
    if (field === undefined || field === null) continue
    const decoded = decode(field)
    if (decoded === ASK_SCHEMA) return ASK_SCHEMA
    props[name] = decoded
  }
  return props
}

const elementDecoders: ReadonlyArray<readonly [string, Decoder]> = [
  ["type", string],
  ["locations", strings],
  ["actions", strings],
  ["dataTypes", strings],
  ["identifier", string],
  ["privileges", strings],
  ["otherFields", string]
]

const authorizationDetails: Decoder = (value) => {
  const props = fieldsOf(value, [["elements", (elements) => {
    if (!Array.isArray(elements)) return ASK_SCHEMA
    const out: Array<AuthorizationDetailsElement> = []
    for (const element of elements) {
      const fields = fieldsOf(element, elementDecoders)
      // `type` is the one required field.
      if (fields === ASK_SCHEMA || fields.type === undefined) return ASK_SCHEMA
      out.push(instanceOf(AuthorizationDetailsElement, fields))
    }
    return out
  }]])
  return props === ASK_SCHEMA ? ASK_SCHEMA : instanceOf(AuthorizationDetails, props)
}

// Every response field: absent and `null` read as absent; unknown fields are ignored.
const responseDecoders: ReadonlyArray<readonly [string, Decoder]> = [
  ["resultCode", string],
  ["resultMessage", string],
  ["action", string],
  ["responseContent", string],
  ["clientId", number],
  ["clientIdAlias", string],
  ["clientIdAliasUsed", boolean],
  ["clientName", string],
  ["deliveryMode", string],
  ["clientNotificationEndpoint", string],
  ["clientNotificationToken", string],
  ["authReqId", string],
  ["accessToken", string],
  ["refreshToken", string],
  ["idToken", string],
  ["accessTokenDuration", number],
  ["refreshTokenDuration", number],
  ["idTokenDuration", number],
  ["jwtAccessToken", string],
  ["resources", strings],
  ["authorizationDetails", authorizationDetails],
  ["serviceAttributes", pairs],
  ["clientAttributes", pairs],
  ["grantId", string],
  ["clientEntityId", string],
  ["clientEntityIdUsed", boolean],
  ["metadataDocumentLocation", string],
  ["metadataDocumentUsed", boolean]
]

const compiledDecode = (json: unknown): Answer<BackchannelAuthenticationCompleteResponse> => {
  // Decoded straight into the instance (see `instanceOf`): no intermediate object to copy.
  const response = fieldsOf(json, responseDecoders, Object.create(BackchannelAuthenticationCompleteResponse.prototype))
  return response === ASK_SCHEMA ? ASK_SCHEMA : response as BackchannelAuthenticationCompleteResponse
}

const schemaDecode = Schema.decodeUnknownEither(BackchannelAuthenticationCompleteResponse)

/** Decodes Authlete's answer (parsed JSON) into the response. */
export const decodeCompleteResponse = (
  json: unknown
): Either.Either<BackchannelAuthenticationCompleteResponse, ParseResult.ParseError> => {
  const compiled = compiledDecode(json)
  return compiled === ASK_SCHEMA ? schemaDecode(json) : Either.right(compiled)
}

/** For the tests that hold the compiled codecs to the schemas. */
export { ASK_SCHEMA, compiledDecode, compiledEncode }
