/**
 * The compiled codecs' walks over a value's parts (`internal/codec` compiles the parts): every field
 * or element of the input read once, checked, and kept in a fresh object or array. A strict struct (a
 * request) is walked by the schema's fields, refusing the others; a lenient one (a response) by the
 * input's own fields, dropping the others. Both read a field the same way (`readField`).
 */
import type * as AST from "effect/SchemaAST"
import { type Context, FAIL, messageOf, report, type Run } from "./codecReport.js"

/** A property signature, compiled. */
export interface Property {
  readonly name: PropertyKey
  readonly optional: boolean
  readonly run: Run
}

/** An index signature, compiled: its key's check and its value's. */
export interface Index {
  readonly key: Run
  readonly run: Run
}

/** A tuple's element, compiled. */
export interface Element {
  readonly optional: boolean
  readonly run: Run
}

const isObject = (u: unknown): u is Record<PropertyKey, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Reads one field the input holds through its compiled property, and keeps what it made in `out`
 * unless the struct has failed or the field's `null` means absent. Returns whether the struct has
 * failed, this field included.
 */
const readField = (
  ctx: Context,
  input: Record<PropertyKey, unknown>,
  name: PropertyKey,
  run: Run,
  out: Record<PropertyKey, unknown>,
  failed: boolean,
  nullMeansAbsent: ReadonlySet<PropertyKey>
): boolean => {
  // Each field is read once: what was checked is what is kept.
  const value = input[name]
  ctx.path.push(name)
  const decoded = run(value, ctx)
  ctx.path.pop()
  if (decoded === FAIL) return true
  if (!failed && !(decoded === null && nullMeansAbsent.has(name))) out[name] = decoded
  return failed
}

/**
 * A struct, walked by the schema's fields once the input's others are refused (strict) or read by an
 * index signature; a lenient one without index signatures is walked by the input's fields instead
 * (`byInput`). `into` makes the object the fields are read into (a class's fresh instance, say), so
 * that no second object is built and copied.
 */
export const struct = (
  ast: AST.TypeLiteral,
  properties: ReadonlyArray<Property>,
  indexes: ReadonlyArray<Index>,
  strict: boolean,
  nullMeansAbsent: ReadonlySet<PropertyKey>,
  into: () => Record<PropertyKey, unknown>
): Run => {
  if (!strict && indexes.length === 0) return byInput(ast, properties, nullMeansAbsent, into)
  const names = new Set<PropertyKey>(properties.map((p) => p.name))
  return (input, ctx) => {
    if (!isObject(input)) {
      report(ctx, messageOf(ast, input))
      return FAIL
    }
    let failed = false
    const out = into()
    if (indexes.length > 0 || strict) {
      for (const key of Object.keys(input)) {
        if (names.has(key)) continue
        if (indexes.length === 0) {
          report(ctx, () => `unknown field \`${key}\``)
          failed = true
          continue
        }
        const value = input[key]
        ctx.path.push(key)
        for (const index of indexes) {
          if (index.key(key, ctx) === FAIL) failed = true
          else {
            const decoded = index.run(value, ctx)
            if (decoded === FAIL) failed = true
            else if (!failed) {
              Object.defineProperty(out, key, {
                value: decoded,
                enumerable: true,
                writable: true,
                configurable: true
              })
            }
          }
        }
        ctx.path.pop()
      }
    }
    for (let i = 0; i < properties.length; i++) {
      const property = properties[i]
      const name = property.name
      if (!Object.hasOwn(input, name)) {
        if (!property.optional) {
          report(ctx, "is required", name)
          failed = true
        }
        continue
      }
      failed = readField(ctx, input, name, property.run, out, failed, nullMeansAbsent)
    }
    return failed ? FAIL : out
  }
}

/**
 * A struct whose unknown fields are dropped (a response): read by the input's own fields, so that
 * the cost follows the answer's size rather than the schema's (Authlete's token response declares
 * over fifty fields and sends a dozen).
 */
const byInput = (
  ast: AST.TypeLiteral,
  properties: ReadonlyArray<Property>,
  nullMeansAbsent: ReadonlySet<PropertyKey>,
  into: () => Record<PropertyKey, unknown>
): Run => {
  const byName = new Map(properties.map((property) => [property.name, property]))
  const required = properties.filter((property) => !property.optional)
  return (input, ctx) => {
    if (!isObject(input)) {
      report(ctx, messageOf(ast, input))
      return FAIL
    }
    let failed = false
    let requiredSeen = 0
    const out = into()
    for (const name of Object.keys(input)) {
      const property = byName.get(name)
      if (property === undefined) continue
      if (!property.optional) requiredSeen++
      failed = readField(ctx, input, name, property.run, out, failed, nullMeansAbsent)
    }
    if (requiredSeen < required.length) {
      for (const property of required) {
        if (!Object.prototype.propertyIsEnumerable.call(input, property.name)) {
          report(ctx, "is required", property.name)
          failed = true
        }
      }
    }
    return failed ? FAIL : out
  }
}

/** An array: its leading elements, then the `rest` (none: no more entries allowed). */
export const tuple =
  (ast: AST.TupleType, elements: ReadonlyArray<Element>, rest: Run | undefined): Run => (input, ctx) => {
    if (!Array.isArray(input)) {
      report(ctx, messageOf(ast, input))
      return FAIL
    }
    const out: Array<unknown> = []
    let failed = false
    const length = input.length
    for (let i = 0; i < elements.length; i++) {
      if (i >= length) {
        if (!elements[i].optional) {
          report(ctx, "is required", i)
          failed = true
        }
        continue
      }
      ctx.path.push(i)
      const value = elements[i].run(input[i], ctx)
      ctx.path.pop()
      if (value === FAIL) failed = true
      else out.push(value)
    }
    if (rest === undefined) {
      for (let i = elements.length; i < length; i++) {
        report(ctx, "is an unexpected entry", i)
        failed = true
      }
    } else {
      for (let i = elements.length; i < length; i++) {
        ctx.path.push(i)
        const value = rest(input[i], ctx)
        ctx.path.pop()
        if (value === FAIL) failed = true
        else if (!failed) out.push(value)
      }
    }
    return failed ? FAIL : out
  }
