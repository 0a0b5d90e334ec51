/**
 * One compiler for every schema of this library: it walks a schema's AST once and returns plain
 * functions that decode (wire → program) or encode (program → wire, checking every rule on the way),
 * with the schema's own filters, declarations and transformations doing the judging. Nothing is
 * written twice: a rule lives in its schema, and property tests hold the compiled functions equal to
 * `effect/Schema`.
 *
 * Why not `Schema.decode` itself: it spends tens of µs per request; its issue de-duplication is
 * quadratic (100,000 unknown fields take minutes); with `errors: "all"` it checks every element of
 * an array before the array's bound; and it reads a getter as often as it looks at a field. The
 * compiled functions are linear in the input, keep at most `maxIssues` issues (counting the rest),
 * check a bound before the elements when the bound says it can (`BoundFirst`), and read every field
 * of the input exactly once into a fresh value, which is what gets sent.
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as AST from "effect/SchemaAST"
import {
  annotatedMessage,
  type Context,
  expected,
  FAIL,
  MAX_ISSUES,
  messageOf,
  newContext,
  type Refusal,
  report,
  reportParseIssue,
  type Run
} from "./codecReport.js"
import * as Walk from "./codecWalk.js"

export { type Fail, type Issue, MAX_ISSUES, type Refusal, refusalOfParseIssue } from "./codecReport.js"

export interface CompileOptions {
  /** Refuse fields the schema does not name (requests), or drop them (responses). */
  readonly strict: boolean
  /** How many issues are kept; the rest are only counted. */
  readonly maxIssues?: number | undefined
}

/**
 * An annotation for a filter that may judge the input before its elements are checked (a length
 * bound, say): the predicate tells when the raw input has the shape the filter reads.
 */
export const BoundFirstId: unique symbol = Symbol.for("effect-authlete/annotation/BoundFirst")

/**
 * An annotation for an optional property signature whose `null` means "absent"
 * (`Schema.optionalWith(X, { nullable: true })`, or a field whose null is left off the wire): the
 * compiled codec drops nulls as it reads the struct, without the second pass over the whole object
 * that the schema's property transformations take. (Encoding such a struct, a null the Type side
 * does not allow is dropped rather than refused.)
 */
export const NullMeansAbsentId: unique symbol = Symbol.for("effect-authlete/annotation/NullMeansAbsent")

// ---------------------------------------------------------------------------------------- compiler

const PARSE_OPTIONS_STRICT: AST.ParseOptions = { errors: "all", onExcessProperty: "error" }
const PARSE_OPTIONS_LENIENT: AST.ParseOptions = { errors: "all", onExcessProperty: "ignore" }

/** Runs what a filter, declaration or transformation returned, which is an `Either` when it is synchronous. */
const settle = (ctx: Context, result: unknown, ast: AST.AST, input: unknown): unknown => {
  if (Either.isEither(result)) {
    if (Either.isRight(result)) return result.right
    reportParseIssue(ctx, result.left as ParseResult.ParseIssue, [])
    return FAIL
  }
  report(ctx, `${messageOf(ast, input)} (its check is not synchronous)`)
  return FAIL
}

/** Whether a node's Type and Encoded sides are the same (no transformation or declaration inside). */
const isInvariant = (ast: AST.AST): boolean => {
  switch (ast._tag) {
    case "Transformation":
    case "Declaration":
    case "Suspend":
      return false
    case "Refinement":
      return isInvariant(ast.from)
    case "Union":
      return ast.types.every(isInvariant)
    case "TupleType":
      return ast.elements.every((e) => isInvariant(e.type)) && ast.rest.every((r) => isInvariant(r.type))
    case "TypeLiteral":
      return ast.propertySignatures.every((ps) => isInvariant(ps.type)) &&
        ast.indexSignatures.every((is) => isInvariant(is.type))
    default:
      return true
  }
}

/** A `Schema.Class` declaration: its encoding takes instances and plain objects of its fields alike. */
const isClassDeclaration = (ast: AST.Declaration): boolean =>
  ast.typeParameters.length === 1 && Option.isSome(AST.getSurrogateAnnotation(ast))

class Compiler {
  private readonly memo = new Map<AST.AST, Run>()
  private readonly options: AST.ParseOptions

  /**
   * `trusted` (encoding only): the value is one the library built from input it had just checked in
   * full, so the program side's rules are not checked again; only the steps that change the value
   * (and the size of JSON text, which only encoding knows) run.
   */
  constructor(
    private readonly strict: boolean,
    private readonly decoding: boolean,
    private readonly trusted = false
  ) {
    this.options = strict ? PARSE_OPTIONS_STRICT : PARSE_OPTIONS_LENIENT
  }

  compile(ast: AST.AST): Run {
    const known = this.memo.get(ast)
    if (known !== undefined) return known
    // Recursive schemas meet themselves: a forward reference until the node is built.
    this.memo.set(ast, (input, ctx) => built(input, ctx))
    const built = this.build(ast)
    this.memo.set(ast, built)
    return built
  }

  private build(ast: AST.AST): Run {
    switch (ast._tag) {
      case "StringKeyword":
        return this.check(ast, (u) => typeof u === "string")
      case "NumberKeyword":
        return this.check(ast, (u) => typeof u === "number")
      case "BooleanKeyword":
        return this.check(ast, (u) => typeof u === "boolean")
      case "UndefinedKeyword":
      case "VoidKeyword":
        return this.check(ast, (u) => u === undefined)
      case "UnknownKeyword":
      case "AnyKeyword":
        return (input) => input
      case "Literal": {
        const literal = ast.literal
        return this.check(ast, (u) => u === literal)
      }
      case "Union":
        return this.union(ast)
      case "TupleType":
        return this.tuple(ast)
      case "TypeLiteral":
        return this.typeLiteral(ast)
      case "Refinement":
        return this.refinement(ast)
      case "Declaration":
        return this.declaration(ast)
      case "Transformation":
        return this.transformation(ast)
      case "Suspend": {
        let inner: Run | undefined
        return (input, ctx) => (inner ??= this.compile(ast.f()))(input, ctx)
      }
      default:
        throw new Error(`effect-authlete: the codec compiler does not handle ${ast._tag} (${String(ast)})`)
    }
  }

  private check(ast: AST.AST, is: (u: unknown) => boolean): Run {
    return (input, ctx) => {
      if (is(input)) return input
      report(ctx, messageOf(ast, input))
      return FAIL
    }
  }

  private union(ast: AST.Union): Run {
    const literals = new Set<unknown>()
    const others: Array<AST.AST> = []
    const collect = (member: AST.AST) => {
      if (member._tag === "Literal") literals.add(member.literal)
      else if (member._tag === "UndefinedKeyword") literals.add(undefined)
      else if (member._tag === "Union" && Object.getOwnPropertySymbols(member.annotations).length === 0) {
        member.types.forEach(collect)
      } else others.push(member)
    }
    ast.types.forEach(collect)
    const runs = others.map((member) => this.compile(member))
    const own = (input: unknown) => annotatedMessage(ast, input)
    if (runs.length === 1 && ast.annotations[AST.MessageAnnotationId] === undefined) {
      // The common `X | undefined` and open enums: the one non-literal member speaks for the union.
      const [only] = runs as [Run]
      return (input, ctx) => literals.has(input) ? input : only(input, ctx)
    }
    return (input, ctx) => {
      if (literals.has(input)) return input
      for (const run of runs) {
        const probe = newContext(ctx.max, ctx.path)
        const out = run(input, probe)
        if (out !== FAIL) return out
      }
      report(ctx, own(input)?.message ?? `must be ${expected(ast)}`)
      return FAIL
    }
  }

  private tuple(ast: AST.TupleType): Run {
    const elements = ast.elements.map((element) => ({ optional: element.isOptional, run: this.compile(element.type) }))
    const [rest, ...after] = ast.rest.map((r) => this.compile(r.type))
    if (after.length > 0) throw new Error("effect-authlete: the codec compiler does not handle elements after a rest")
    return Walk.tuple(ast, elements, rest)
  }

  /**
   * `into`, when given, makes the object the fields are read into (a class's fresh instance), so
   * that no second object is built and copied.
   */
  private typeLiteral(
    ast: AST.TypeLiteral,
    nullMeansAbsent: ReadonlySet<PropertyKey> = new Set(),
    into: () => Record<PropertyKey, unknown> = () => ({})
  ): Run {
    const properties = ast.propertySignatures.map((ps) => ({
      name: ps.name,
      optional: ps.isOptional,
      run: this.compile(ps.type)
    }))
    const indexes = ast.indexSignatures.map((is) => ({
      key: this.compile(is.parameter),
      run: this.compile(is.type)
    }))
    return Walk.struct(ast, properties, indexes, this.strict, nullMeansAbsent, into)
  }

  private refinement(ast: AST.Refinement): Run {
    const options = this.options
    const filter = ast.filter
    const boundFirst = ast.annotations[BoundFirstId] as ((u: unknown) => boolean) | undefined
    const judge = (value: unknown, ctx: Context): unknown => {
      const issue = filter(value, options, ast)
      if (Option.isNone(issue)) return value
      reportParseIssue(ctx, issue.value, [])
      return FAIL
    }
    if (this.trusted) return this.compile(ast.from)
    if (this.decoding || isInvariant(ast.from)) {
      const from = this.compile(ast.from)
      return (input, ctx) => {
        if (boundFirst !== undefined && boundFirst(input) && judge(input, ctx) === FAIL) return FAIL
        const value = from(input, ctx)
        return value === FAIL ? FAIL : judge(value, ctx)
      }
    }
    // Encoding through a transformation: the Type side is checked whole, then encoded.
    const validate = compiler(this.strict, true).compile(AST.typeAST(ast))
    const encodeFrom = this.compile(ast.from)
    return (input, ctx) => {
      const value = validate(input, ctx)
      return value === FAIL ? FAIL : encodeFrom(value, ctx)
    }
  }

  private declaration(ast: AST.Declaration): Run {
    if (!this.decoding && (isClassDeclaration(ast) || (this.trusted && ast.typeParameters.length === 0))) {
      // A class: the encoding of its fields that follows checks every one of them. A trusted leaf
      // (such as a JSON object) is a check, which has been made.
      return (input) => input
    }
    const options = this.options
    const parse = (this.decoding ? ast.decodeUnknown : ast.encodeUnknown)(...ast.typeParameters)
    return (input, ctx) => settle(ctx, parse(input, options, ast), ast, input)
  }

  private transformation(ast: AST.Transformation): Run {
    const fast = this.decoding ? this.fastDecoding(ast) : this.nullsAsAbsent(ast)
    if (fast !== undefined) return fast
    const transform = this.transform(ast)
    const first = this.compile(this.decoding ? ast.from : ast.to)
    const second = this.compile(this.decoding ? ast.to : ast.from)
    return (input, ctx) => {
      const a = first(input, ctx)
      if (a === FAIL) return FAIL
      const b = transform(a, ctx, input)
      return b === FAIL ? FAIL : second(b, ctx)
    }
  }

  /**
   * Two decodings that skip work the schema does but cannot change the outcome: a struct whose
   * property transformations only read `null` as absent (no second pass over the object), and a
   * `Schema.Class` without constructor defaults, built straight from its prototype (its constructor
   * would copy the fields twice and look for defaults field by field).
   */
  private fastDecoding(ast: AST.Transformation): Run | undefined {
    const kind = ast.transformation
    if (kind._tag === "TypeLiteralTransformation") return this.nullsAsAbsent(ast)
    if (kind._tag === "FinalTransformation" && ast.to._tag === "Declaration" && isClassDeclaration(ast.to)) {
      const probe = kind.decode({}, this.options, ast, {})
      if (!Either.isEither(probe) || Either.isLeft(probe)) return undefined
      const instance = probe.right
      if (typeof instance !== "object" || instance === null || Reflect.ownKeys(instance).length > 0) return undefined
      const prototype = Object.getPrototypeOf(instance) as object
      const into = () => Object.create(prototype) as Record<PropertyKey, unknown>
      // The fields are read straight into the instance when they are a struct.
      const from = ast.from._tag === "TypeLiteral"
        ? this.typeLiteral(ast.from, new Set(), into)
        : ast.from._tag === "Transformation"
        ? this.nullsAsAbsent(ast.from, into)
        : undefined
      if (from !== undefined) return from
      const props = this.compile(ast.from)
      return (input, ctx) => {
        const decoded = props(input, ctx)
        return decoded === FAIL ? FAIL : Object.assign(into(), decoded)
      }
    }
    return undefined
  }

  /**
   * A struct whose property transformations only read `null` as absent, if it is one: one pass over
   * its encoded side. Decoding, that side's property types decode each field; encoding, they check
   * the field's Type side before encoding it, as their transformations do.
   */
  private nullsAsAbsent(ast: AST.Transformation, into?: () => Record<PropertyKey, unknown>): Run | undefined {
    const kind = ast.transformation
    if (kind._tag !== "TypeLiteralTransformation" || ast.from._tag !== "TypeLiteral" || ast.to._tag !== "TypeLiteral") {
      return undefined
    }
    const marked = new Set(
      ast.to.propertySignatures.filter((ps) => ps.annotations[NullMeansAbsentId] === true).map((ps) => ps.name)
    )
    const onlyNulls = kind.propertySignatureTransformations.every((pst) => pst.from === pst.to && marked.has(pst.to))
    return onlyNulls ? this.typeLiteral(ast.from, marked, into) : undefined
  }

  /** The step between the two sides of a transformation, in this compiler's direction. */
  private transform(ast: AST.Transformation): (a: unknown, ctx: Context, input: unknown) => unknown {
    const options = this.options
    const kind = ast.transformation
    switch (kind._tag) {
      case "ComposeTransformation":
        return (a) => a
      case "FinalTransformation": {
        const f = this.decoding ? kind.decode : kind.encode
        return (a, ctx, input) => settle(ctx, f(a, options, ast, input), ast, input)
      }
      case "TypeLiteralTransformation": {
        // Renames and optional-to-optional steps (`optionalWith`), on the fresh object the first
        // side produced.
        const steps = kind.propertySignatureTransformations.map((pst) =>
          this.decoding
            ? { from: pst.from, to: pst.to, f: pst.decode }
            : { from: pst.to, to: pst.from, f: pst.encode }
        )
        return (a) => {
          const object = a as Record<PropertyKey, unknown>
          for (const { f, from, to } of steps) {
            const present = Object.hasOwn(object, from)
            const out = f(present ? Option.some(object[from]) : Option.none())
            if (from !== to || Option.isNone(out)) delete object[from]
            if (Option.isSome(out)) object[to] = out.value
          }
          return object
        }
      }
    }
  }
}

// One compiler per direction and strictness, so that shared sub-schemas compile once.
const compilers = new Map<string, Compiler>()
const compiler = (strict: boolean, decoding: boolean, trusted = false): Compiler => {
  const key = `${strict}/${decoding}/${trusted}`
  let found = compilers.get(key)
  if (found === undefined) {
    found = new Compiler(strict, decoding, trusted)
    compilers.set(key, found)
  }
  return found
}

/** A compiled codec: the value, or why it was refused. */
export type Codec<A> = (input: unknown) => Either.Either<A, Refusal>

const toCodec = <A>(make: () => Run, maxIssues: number): Codec<A> => {
  let run: Run | undefined
  return (input) => {
    const compiled = run ??= make()
    const ctx = newContext(maxIssues)
    let out: unknown
    try {
      out = compiled(input, ctx)
    } catch {
      // A getter, a Proxy trap or a toJSON threw: the input cannot be read, so it is refused.
      report(ctx, "could not be read (a getter or Proxy trap threw)")
      out = FAIL
    }
    return out === FAIL || ctx.total > 0
      ? Either.left({ issues: ctx.issues ?? [], total: ctx.total })
      : Either.right(out as A)
  }
}

/** Wire → program: what `Schema.decodeUnknown(schema)` gives, compiled. Compiled on first use. */
export const decoder = <A, I>(
  schema: { readonly ast: AST.AST; readonly Type: A; readonly Encoded: I },
  options: CompileOptions
): Codec<A> => toCodec(() => compiler(options.strict, true).compile(schema.ast), options.maxIssues ?? MAX_ISSUES)

/** Program → wire, checking every rule of the program side: what `Schema.encodeUnknown(schema)` gives. */
export const encoder = <A, I>(
  schema: { readonly ast: AST.AST; readonly Type: A; readonly Encoded: I },
  options: CompileOptions
): Codec<I> => toCodec(() => compiler(options.strict, false).compile(schema.ast), options.maxIssues ?? MAX_ISSUES)

/**
 * Program → wire for a value the library has just built from checked input (see `Compiler`): the
 * same wire as `encoder`, without checking the program side again.
 */
export const trustedEncoder = <A, I>(
  schema: { readonly ast: AST.AST; readonly Type: A; readonly Encoded: I },
  options: CompileOptions
): Codec<I> => toCodec(() => compiler(options.strict, false, true).compile(schema.ast), options.maxIssues ?? MAX_ISSUES)

/** Checks a program-side value: what `Schema.validate(schema)` gives. */
export const validator = <A, I>(
  schema: { readonly ast: AST.AST; readonly Type: A; readonly Encoded: I },
  options: CompileOptions
): Codec<A> =>
  toCodec(() => compiler(options.strict, true).compile(AST.typeAST(schema.ast)), options.maxIssues ?? MAX_ISSUES)
