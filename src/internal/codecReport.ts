/**
 * How the compiled codecs (`internal/codec`) tell why an input was refused: the issues they keep
 * and count, and the sentence each one reads as, naming the field and the rule but never the
 * refused value. The schema's own `message` annotations speak first; the node's kind otherwise.
 */
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as AST from "effect/SchemaAST"

/** One broken rule: where, and which rule as a sentence. */
export interface Issue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

/** Why an input was refused: the first issues, and how many there were in all. */
export interface Refusal {
  readonly issues: ReadonlyArray<Issue>
  readonly total: number
}

/** The default cap on kept issues. */
export const MAX_ISSUES = 100

/** What a compiled step returns once it has reported why it refused its input. */
export const FAIL: unique symbol = Symbol("effect-authlete/codec/FAIL")
export type Fail = typeof FAIL

/** A compiled step: the value it made of its input, or `FAIL` once it has reported why not. */
export type Run = (input: unknown, ctx: Context) => unknown

/** Where a run is (the path of the value at hand), and the issues it has found so far. */
export interface Context {
  readonly path: Array<PropertyKey>
  readonly max: number
  issues: Array<Issue> | undefined
  total: number
}

export const newContext = (max: number, path: Array<PropertyKey> = []): Context => ({
  path,
  max,
  issues: undefined,
  total: 0
})

/** Counts an issue, and keeps it while fewer than `max` are kept (its message is built only then). */
export const report = (ctx: Context, message: string | (() => string), key?: PropertyKey): void => {
  ctx.total++
  const issues = ctx.issues ??= []
  if (issues.length < ctx.max) {
    issues.push({
      path: key === undefined ? [...ctx.path] : [...ctx.path, key],
      message: typeof message === "string" ? message : message()
    })
  }
}

// ---------------------------------------------------------------------------------------- messages

/** The `message` annotation of a node, when it gives a plain sentence. */
export const annotatedMessage = (
  ast: AST.AST,
  actual: unknown
): { message: string; override: boolean } | undefined => {
  const annotation = ast.annotations[AST.MessageAnnotationId] as AST.MessageAnnotation | undefined
  if (annotation === undefined) return undefined
  const out = annotation(new ParseResult.Type(ast, actual))
  if (typeof out === "string") return { message: out, override: false }
  if (typeof out === "object" && out !== null && "message" in out && typeof out.message === "string") {
    return { message: out.message, override: out.override === true }
  }
  return undefined
}

const literalText = (literal: AST.LiteralValue): string =>
  typeof literal === "bigint" ? `${literal}n` : JSON.stringify(literal)

/** What a node expects, as the end of a sentence that never shows the value it refused. */
export const expected = (ast: AST.AST): string => {
  switch (ast._tag) {
    case "StringKeyword":
      return "a string"
    case "NumberKeyword":
      return "a number"
    case "BooleanKeyword":
      return "a boolean"
    case "UndefinedKeyword":
      return "absent"
    case "Literal":
      return literalText(ast.literal)
    case "TypeLiteral":
      return "an object"
    case "TupleType":
      return "an array"
    case "Union": {
      const literals = literalsOf(ast)
      return literals !== undefined
        ? `one of ${literals.map(literalText).join(", ")}`
        : ast.types.map(expected).join(" or ")
    }
    default:
      return Option.match(AST.getIdentifierAnnotation(ast), {
        onNone: () => String(ast),
        onSome: (identifier) => identifier
      })
  }
}

export const messageOf = (ast: AST.AST, actual: unknown): string =>
  annotatedMessage(ast, actual)?.message ?? `must be ${expected(ast)}`

/** The literals of a union made of literals only, or `undefined`. */
const literalsOf = (ast: AST.Union): ReadonlyArray<AST.LiteralValue> | undefined => {
  const out: Array<AST.LiteralValue> = []
  for (const member of ast.types) {
    if (member._tag === "Literal") out.push(member.literal)
    else if (member._tag === "Union" && literalsOf(member) !== undefined) out.push(...literalsOf(member)!)
    else return undefined
  }
  return out
}

/**
 * Reports a Schema `ParseIssue` (from a filter, a declaration or a transformation) as issues at the
 * current path: messages from the schema's own sentences, never the refused value.
 */
export const reportParseIssue = (
  ctx: Context,
  issue: ParseResult.ParseIssue,
  path: ReadonlyArray<PropertyKey>
): void => {
  const at = (message: string, extra: ReadonlyArray<PropertyKey> = path) => {
    ctx.total++
    const issues = ctx.issues ??= []
    if (issues.length < ctx.max) issues.push({ path: [...ctx.path, ...extra], message })
  }
  switch (issue._tag) {
    case "Type":
    case "Forbidden":
      return at(issue.message ?? messageOf(issue.ast, issue.actual))
    case "Missing":
      return at("is required")
    case "Unexpected":
      // Reported on the object that holds the field, by name.
      return at(`unknown field \`${String(path[path.length - 1])}\``, path.slice(0, -1))
    case "Pointer":
      return reportParseIssue(ctx, issue.issue, [...path, ...(Array.isArray(issue.path) ? issue.path : [issue.path])])
    case "Refinement":
    case "Transformation": {
      const own = annotatedMessage(issue.ast, issue.actual)
      return own?.override ? at(own.message) : reportParseIssue(ctx, issue.issue, path)
    }
    case "Composite": {
      const own = annotatedMessage(issue.ast, issue.actual)
      if (own?.override) return at(own.message)
      const inner = Array.isArray(issue.issues) ? issue.issues : [issue.issues as ParseResult.ParseIssue]
      // A union's literal members (`undefined` of an optional field, `null` of a nullable one) only
      // add noise beside the real complaint, as the compiled union reports it too.
      const meaningful = issue.ast._tag === "Union"
        ? inner.filter((member) =>
          !(member._tag === "Type" && (member.ast._tag === "UndefinedKeyword" || member.ast._tag === "Literal"))
        )
        : inner
      if (meaningful.length === 0) return at(own?.message ?? messageOf(issue.ast, issue.actual))
      for (const member of meaningful) reportParseIssue(ctx, member, path)
    }
  }
}

/** The issues of a Schema `ParseError` (or issue), for errors built from one. */
export const refusalOfParseIssue = (issue: ParseResult.ParseIssue, maxIssues = MAX_ISSUES): Refusal => {
  const ctx = newContext(maxIssues)
  reportParseIssue(ctx, issue, [])
  return { issues: ctx.issues ?? [], total: ctx.total }
}
