/**
 * The library-only workloads: one operation each, compiled once, run 100,000 times by bench/child.ts.
 * Each has a primary form (the schema work the target is about) and a `withJson` form that adds
 * the `JSON.stringify`/`JSON.parse` a client does around it.
 */
import {
  BackchannelAuthenticationCompleteRequest$outboundSchema,
  BackchannelAuthenticationCompleteResponse$inboundSchema
} from "@authlete/typescript-sdk/models"
import { Effect, Either, Schema } from "effect"
import {
  AuthleteApi,
  BackchannelAuthenticationCompleteRequest,
  BackchannelAuthenticationCompletion
} from "../src/index.js"
import { codecsOf } from "../src/internal/api.js"
import { fullRequestFields, fullRequestWire, fullResponse, programInput } from "./fixtures.js"

export interface LibraryOp {
  /** What one operation does, for the report. */
  readonly description: string
  readonly run: () => unknown
  readonly withJson: () => unknown
}

const encodeRequest = Schema.encodeSync(
  BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest,
  BackchannelAuthenticationCompleteRequest.strictParseOptions
)
const validateRequest = Schema.decodeUnknownSync(
  BackchannelAuthenticationCompleteRequest.BackchannelAuthenticationCompleteRequest,
  BackchannelAuthenticationCompleteRequest.strictParseOptions
)
const responseText = JSON.stringify(fullResponse)
const { decodeResponse: decodeCompleteResponse, encodeRequest: encodeCompleteRequest } = codecsOf(
  AuthleteApi.AuthleteApis.backchannelAuthenticationComplete
)

const effectEncode: LibraryOp = {
  description: "what AuthleteClient does with each request: validate every rule of all 18 fields " +
    "(program side, claims as objects) and encode to the wire object (the codec compiled from the schema)",
  run: () => Either.getOrThrow(encodeCompleteRequest(fullRequestFields)),
  withJson: () => JSON.stringify(Either.getOrThrow(encodeCompleteRequest(fullRequestFields)))
}

const preparedInput = programInput(0)
const prepare = () =>
  Either.getOrThrow(
    Effect.runSync(Effect.either(BackchannelAuthenticationCompletion.prepareCompleteRequest(preparedInput)))
  )

const effectPrepare: LibraryOp = {
  description: "what completeBackchannelAuthentication does before AuthleteClient: " +
    "Effect.runSync(Effect.either(prepareCompleteRequest(input))) of the program workloads' input " +
    "(two claim sources merged, filtered by consentedClaims, the rest validated); with JSON: then " +
    "encoded and serialised, the whole wire body",
  run: prepare,
  withJson: () => JSON.stringify(Either.getOrThrow(encodeCompleteRequest(prepare())))
}

const effectValidate: LibraryOp = {
  description: "Schema.decodeUnknownSync(request, strict) of wire input (all 18 fields) + Schema.encodeSync",
  run: () => encodeRequest(validateRequest(fullRequestWire)),
  withJson: () => JSON.stringify(encodeRequest(validateRequest(fullRequestWire)))
}

const effectDecode: LibraryOp = {
  description: "what AuthleteClient does with each answer: decode a parsed full response into the " +
    "BackchannelAuthenticationCompleteResponse class (the codec compiled from the schema)",
  run: () => Either.getOrThrow(decodeCompleteResponse(fullResponse)),
  withJson: () => Either.getOrThrow(decodeCompleteResponse(JSON.parse(responseText)))
}

const zodEncode: LibraryOp = {
  description: "the SDK's BackchannelAuthenticationCompleteRequest$outboundSchema.parse (zod) of all 18 fields",
  run: () => BackchannelAuthenticationCompleteRequest$outboundSchema.parse(fullRequestWire),
  withJson: () => JSON.stringify(BackchannelAuthenticationCompleteRequest$outboundSchema.parse(fullRequestWire))
}

const zodDecode: LibraryOp = {
  description:
    "the SDK's BackchannelAuthenticationCompleteResponse$inboundSchema.parse (zod) of a parsed full response",
  run: () => BackchannelAuthenticationCompleteResponse$inboundSchema.parse(fullResponse),
  withJson: () => BackchannelAuthenticationCompleteResponse$inboundSchema.parse(JSON.parse(responseText))
}

/** `ops[client][workload]` */
export const ops: Record<string, Record<string, LibraryOp>> = {
  "effect-authlete": { encode: effectEncode, prepare: effectPrepare, validate: effectValidate, decode: effectDecode },
  "sdk-zod": { encode: zodEncode, decode: zodDecode }
}
