/**
 * What every request and response model of the Authlete APIs shares.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { ParseOptions } from "effect/SchemaAST"
import { AuthleteValidationError } from "../AuthleteError.js"
import * as Codec from "./codec.js"

/**
 * Decoding and encoding report every problem at once and refuse unknown fields, which are almost
 * always typos.
 */
export const strictParseOptions: ParseOptions = { errors: "all", onExcessProperty: "error" }

/** A response field: optional on the wire, `null` read as absent (Authlete omits what it lacks). */
export const responseField = <A, I>(schema: Schema.Schema<A, I>) =>
  Schema.optionalWith(schema, { nullable: true }).annotations({ [Codec.NullMeansAbsentId]: true })

/** Decodes wire-shaped input into a request, collecting every broken rule. */
export const validator = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Codec.decoder(schema, { strict: true })
  return (input: unknown): Effect.Effect<A, AuthleteValidationError> =>
    Effect.suspend(() => Either.mapLeft(decode(input), AuthleteValidationError.fromRefusal))
}

/**
 * Instances the library built from input it had just checked in full, on their way to being sent
 * and not yet handed to anyone (the completion program's request): their encoding skips a second
 * check. An instance a user built is checked again when sent, since it may have been changed since.
 */
export const checkedByLibrary = new WeakSet<object>()

const validationDisabled = (options: Schema.MakeOptions | undefined): boolean =>
  options === true || (typeof options === "object" && options.disableValidation === true)

/**
 * `Schema.Class` for requests, whose constructor checks the fields with the compiled validator: every
 * broken rule at once, readably (`AuthleteValidationError`), in about a microsecond. (Effect 3.22's
 * own constructor validates through the schema, recompiling it on every `new` when a field
 * transforms, and throws a `ParseError` naming only the first problem.) The instance holds a fresh
 * copy of what was checked.
 */
export const Class = <Self = never>(identifier: string) => <Fields extends Schema.Struct.Fields>(fields: Fields) => {
  const Base = Schema.Class<Self>(identifier)(fields)
  const validate = Codec.validator(Schema.Struct(fields), { strict: true })
  const hasDefaults = Object.values(fields).some((field) => {
    if (!Schema.isPropertySignature(field)) return false
    const ast = field.ast
    return (ast._tag === "PropertySignatureDeclaration" ? ast.defaultValue : ast.to.defaultValue) !== undefined
  })
  const Checked = class extends (Base as any) {
    constructor(props: unknown = {}, options?: Schema.MakeOptions) {
      let fields = props
      if (!validationDisabled(options)) {
        const checked = validate(props)
        if (Either.isLeft(checked)) throw AuthleteValidationError.fromRefusal(checked.left, "Build")
        fields = checked.right
      }
      if (hasDefaults) {
        super(fields, true)
        return
      }
      // What the base constructor would build when no field has a default, without its two more
      // copies and its pass over every field looking for defaults.
      return Object.assign(Object.create(new.target.prototype), fields)
    }
  }
  return Checked as unknown as typeof Base
}
