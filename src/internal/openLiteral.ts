import * as Schema from "effect/Schema"

/**
 * A string enum that stays open: the known values are typed (and offered by editors), and a value a
 * newer Authlete adds decodes as that string instead of failing.
 */
export const openLiteral = <const Literals extends readonly [string, ...Array<string>]>(
  ...literals: Literals
): Schema.Schema<Literals[number] | (string & {}), string> =>
  // `Literal | String` is just `string` to TypeScript; the cast keeps the known names visible.
  Schema.Union(Schema.Literal(...literals), Schema.String) as unknown as Schema.Schema<
    Literals[number] | (string & {}),
    string
  >
