/**
 * The command line's grammar: the arguments read against one table of the commands and their flags
 * (`commands`) with `node:util`'s `parseArgs` (strict), each value checked, usage errors written
 * here; the help is written in `help`, a mistyped name's suggestion found in `suggest`. Nothing heavy
 * is imported: `--help`, `--version` and every usage mistake are answered before `effect` is loaded.
 */
import { parseArgs } from "node:util"
import { type CommandName, COMMANDS, type CommandSpec, type Flag, type ValuesOf } from "./commands.js"
import { helpText } from "./help.js"
import { closest } from "./suggest.js"

export {
  type CommandName,
  COMMANDS,
  type CommandSpec,
  type Flag,
  type FlagType,
  type FlagValues,
  PROGRAM,
  type ValuesOf
} from "./commands.js"
export { helpText, hint } from "./help.js"

export type Parsed =
  | { readonly _tag: "Help"; readonly text: string }
  | { readonly _tag: "Version" }
  | { readonly _tag: "UsageError"; readonly message: string; readonly command?: CommandName | undefined }
  | { readonly [C in CommandName]: { readonly _tag: "Run"; readonly command: C; readonly values: ValuesOf<C> } }[
    CommandName
  ]

/** A flag's key among the values: `--auth-time` is `authTime`. */
const camel = (name: string) => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())

class Usage extends Error {}

const integerRange = (flag: Flag): string =>
  flag.min !== undefined && flag.max !== undefined
    ? `an integer from ${flag.min} to ${flag.max}`
    : flag.min === 0
    ? "a non-negative integer"
    : flag.min !== undefined
    ? `an integer of at least ${flag.min}`
    : "an integer"

const readInteger = (flag: Flag, text: string): number => {
  const value = /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : NaN
  if (
    !Number.isSafeInteger(value) || (flag.min !== undefined && value < flag.min) ||
    (flag.max !== undefined && value > flag.max)
  ) throw new Usage(`--${flag.name}: expected ${integerRange(flag)}, got ${JSON.stringify(text)}`)
  return value
}

const readChoice = (flag: Flag, text: string): string => {
  const choice = flag.choices!.find((candidate) => candidate.toLowerCase() === text.trim().toLowerCase())
  if (choice === undefined) {
    throw new Usage(`--${flag.name}: expected one of ${flag.choices!.join(", ")}, got ${JSON.stringify(text)}`)
  }
  return choice
}

/** The flag named in one of `parseArgs`'s error messages (`Option '--port <value>' ...`). */
const flagInMessage = (message: string): string | undefined => /'(-{1,2}[^' =]+)/.exec(message)?.[1]

const parseCommand = (command: CommandSpec, args: ReadonlyArray<string>) => {
  // Help wins over any mistake before it.
  const end = args.indexOf("--")
  if ((end === -1 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h")) return undefined
  const byName = new Map(command.flags.map((flag) => [flag.name, flag]))
  // What follows a flag that takes a value is that value, even when it starts with "-" (a negative
  // number, a token), unless it is one of the command's flags (`--latency --json` lacks a value).
  const isFlag = (arg: string) =>
    arg === "--" || arg === "-h" || arg === "--help" ||
    (arg.startsWith("--") && byName.has(arg.slice(2).split("=")[0]!))
  const normalized: Array<string> = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const flag = arg.startsWith("--") ? byName.get(arg.slice(2)) : undefined
    const next = args[i + 1]
    if (flag !== undefined && flag.type !== "boolean" && next?.startsWith("-") === true && !isFlag(next)) {
      normalized.push(`${arg}=${next}`)
      i++
    } else normalized.push(arg)
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: normalized,
      strict: true,
      allowPositionals: true,
      tokens: true,
      options: {
        help: { type: "boolean", short: "h" },
        ...Object.fromEntries(command.flags.map((flag) => [flag.name, {
          type: flag.type === "boolean" ? "boolean" as const : "string" as const,
          multiple: true
        }]))
      }
    })
  } catch (error) {
    const code = (error as { code?: unknown }).code
    const message = error instanceof Error ? error.message : String(error)
    const named = flagInMessage(message) ?? "a flag"
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const suggestion = named.startsWith("--")
        ? closest(named.slice(2), [...byName.keys(), "help"])
        : undefined
      throw new Usage(`unknown flag ${named}${suggestion === undefined ? "" : ` (did you mean --${suggestion}?)`}`)
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      throw new Usage(/does not take an argument/.test(message) ? `${named} takes no value` : `${named} needs a value`)
    }
    throw new Usage(message)
  }
  if (parsed.values.help === true) return undefined
  if (parsed.positionals.length > 0) {
    throw new Usage(`${command.name} takes no arguments, got ${JSON.stringify(parsed.positionals[0])}`)
  }
  const values: Record<string, unknown> = {}
  const missing: Array<string> = []
  for (const flag of command.flags) {
    const given = parsed.values[flag.name] as ReadonlyArray<string | boolean> | undefined
    const key = camel(flag.name)
    if (given === undefined || given.length === 0) {
      if (flag.required === true) missing.push(`--${flag.name}`)
      values[key] = flag.default ??
        (flag.type === "boolean" ? false : flag.type === "strings" || flag.repeated === true ? [] : undefined)
      continue
    }
    if (flag.excludes !== undefined && parsed.values[flag.excludes] !== undefined) {
      throw new Usage(`--${flag.name} and --${flag.excludes} cannot be given together`)
    }
    const repeated = flag.type === "strings" || flag.repeated === true
    if (!repeated && given.length > 1) throw new Usage(`--${flag.name} is given more than once`)
    const read = (value: string | boolean): unknown => {
      if (typeof value === "boolean") return value
      switch (flag.type) {
        case "integer":
          return readInteger(flag, value)
        case "choice":
          return readChoice(flag, value)
        default:
          return value
      }
    }
    values[key] = repeated ? given.map(read) : read(given[0]!)
  }
  if (missing.length > 0) {
    const list = missing.length === 1
      ? missing[0]
      : `${missing.slice(0, -1).join(", ")} and ${missing[missing.length - 1]}`
    throw new Usage(`${command.name} needs ${list}`)
  }
  return values
}

/** What the arguments (without `node` and the script) ask for. */
export const parseCommandLine = (args: ReadonlyArray<string>): Parsed => {
  const [first, ...rest] = args
  if (first === undefined) {
    return { _tag: "UsageError", message: "which command? (complete, simulate, serve, playground, demo)" }
  }
  if (first === "--help" || first === "-h") return { _tag: "Help", text: helpText() }
  if (first === "--version" || first === "-v") return { _tag: "Version" }
  if (first === "help") {
    const topic = rest[0]
    if (topic === undefined) return { _tag: "Help", text: helpText() }
    if (Object.hasOwn(COMMANDS, topic)) return { _tag: "Help", text: helpText(topic as CommandName) }
  }
  if (first.startsWith("-")) {
    return { _tag: "UsageError", message: `a command comes before its flags, got ${first} first` }
  }
  const name = first === "help" ? rest[0]! : first
  if (!Object.hasOwn(COMMANDS, name)) {
    const suggestion = closest(name, Object.keys(COMMANDS))
    return {
      _tag: "UsageError",
      message: `unknown command ${JSON.stringify(name)}${
        suggestion === undefined ? "" : ` (did you mean ${suggestion}?)`
      }`
    }
  }
  const command = name as CommandName
  try {
    const values = parseCommand(COMMANDS[command], rest)
    return values === undefined
      ? { _tag: "Help", text: helpText(command) }
      : { _tag: "Run", command, values } as Parsed
  } catch (error) {
    if (error instanceof Usage) return { _tag: "UsageError", message: error.message, command }
    throw error
  }
}
