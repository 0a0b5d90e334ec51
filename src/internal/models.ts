/**
 * What every request and response model of the CIBA APIs shares.
 */
import { Effect, type ParseResult, Schema } from "effect"
import type { ParseOptions } from "effect/SchemaAST"
import { AuthleteValidationError } from "../AuthleteError.js"

/**
 * Decoding and encoding report every problem at once and refuse unknown fields, which are almost
 * always typos.
 */
export const strictParseOptions: ParseOptions = { errors: "all", onExcessProperty: "error" }

/** A response field: optional on the wire, `null` read as absent (Authlete omits what it lacks). */
export const responseField = <A, I>(schema: Schema.Schema<A, I>) => Schema.optionalWith(schema, { nullable: true })

/** Decodes wire-shaped input into a request, collecting every broken rule. */
export const validator = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknown(schema)
  return (input: unknown): Effect.Effect<A, AuthleteValidationError> =>
    Effect.mapError(
      decode(input, strictParseOptions),
      (error: ParseResult.ParseError) => AuthleteValidationError.fromParseError(error)
    )
}
