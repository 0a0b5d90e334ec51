/**
 * The command line's grammar: one table of the commands and their flags, parsed with `node:util`'s
 * `parseArgs` (strict), with help and usage errors written here. Nothing heavy is imported: `--help`,
 * `--version` and every usage mistake are answered before `effect` is loaded.
 */
import { parseArgs } from "node:util"

export const PROGRAM = "effect-authlete"

/** How a flag's value is read. `strings` is a string that may be repeated (all values kept, in order). */
export type FlagType = "string" | "integer" | "boolean" | "choice" | "strings"

export interface Flag {
  /** The name after `--`. */
  readonly name: string
  readonly type: FlagType
  readonly description: string
  /** What the value is called in help (`URL`, `FILE`); choices name themselves. */
  readonly value?: string
  readonly choices?: ReadonlyArray<string>
  /** A choice that may be repeated (all values kept, in order). */
  readonly repeated?: boolean
  readonly default?: string | number | ReadonlyArray<string>
  readonly required?: boolean
  readonly min?: number
  readonly max?: number
  /** A flag that cannot be given with this one. */
  readonly excludes?: string
}

export interface CommandSpec {
  readonly name: string
  readonly summary: string
  /** Paragraphs after the flags in the command's help. */
  readonly notes?: ReadonlyArray<string>
  readonly flags: ReadonlyArray<Flag>
}

const VARIABLES = "AUTHLETE_BASE_URL, AUTHLETE_API_VERSION (V3 unless V2), AUTHLETE_SERVICE_APIKEY " +
  "(the service id in v3), AUTHLETE_SERVICE_ACCESSTOKEN (v3), AUTHLETE_SERVICE_APISECRET (v2)."

const port = (description: string) =>
  ({ name: "port", type: "integer", min: 0, max: 65_535, default: 0, value: "PORT", description }) as const
const json = (description: string) => ({ name: "json", type: "boolean", description }) as const

/** Every command, with its flags: what parsing, help and usage errors follow. */
export const COMMANDS = {
  complete: {
    name: "complete",
    summary: "Send one completion to Authlete, configured from the environment",
    notes: [`Environment: ${VARIABLES}`],
    flags: [
      {
        name: "ticket",
        type: "string",
        required: true,
        value: "TICKET",
        description: "The ticket from /backchannel/authentication"
      },
      {
        name: "result",
        type: "choice",
        required: true,
        choices: ["AUTHORIZED", "ACCESS_DENIED", "TRANSACTION_FAILED"],
        description: "What the user decided"
      },
      {
        name: "subject",
        type: "string",
        required: true,
        value: "SUBJECT",
        description: "The user's unique identifier"
      },
      { name: "sub", type: "string", value: "SUB", description: "The sub claim of the ID token, when it differs" },
      {
        name: "auth-time",
        type: "integer",
        min: 0,
        value: "SECONDS",
        description: "When the user authenticated, in seconds since the epoch"
      },
      { name: "acr", type: "string", value: "ACR", description: "The authentication context class reference" },
      {
        name: "claims",
        type: "strings",
        value: "JSON",
        description: "Claims as a JSON object; repeat to merge several, later ones winning"
      },
      {
        name: "scopes",
        type: "string",
        value: "LIST",
        description: "Comma-separated scopes replacing the requested ones (must include openid)"
      },
      {
        name: "consented-claims",
        type: "string",
        value: "LIST",
        description: "Comma-separated claims the user consented to share"
      },
      {
        name: "error-description",
        type: "string",
        value: "TEXT",
        description: "Why, when the result is not AUTHORIZED"
      },
      {
        name: "error-uri",
        type: "string",
        value: "URL",
        description: "A page explaining the error, when the result is not AUTHORIZED"
      },
      {
        name: "access-token-duration",
        type: "integer",
        min: 0,
        value: "SECONDS",
        description: "Access token lifetime (PUSH)"
      },
      {
        name: "refresh-token-duration",
        type: "integer",
        min: 0,
        value: "SECONDS",
        description: "Refresh token lifetime (PUSH)"
      }
    ]
  },
  simulate: {
    name: "simulate",
    summary: "Run the CIBA simulator on loopback in the foreground",
    flags: [
      port("The port on 127.0.0.1 (0: any free one)"),
      { name: "service-id", type: "string", value: "ID", description: "The service id (default: 12 random digits)" },
      {
        name: "access-token",
        type: "string",
        value: "TOKEN",
        description: "The service access token callers present (default: a random one)"
      },
      { name: "ping-endpoint", type: "string", value: "URL", description: "The PING client's notification endpoint" },
      { name: "push-endpoint", type: "string", value: "URL", description: "The PUSH client's notification endpoint" },
      {
        name: "interval",
        type: "integer",
        min: 0,
        value: "SECONDS",
        description: "Seconds between a client's polls (default 5)"
      },
      {
        name: "auth-req-id-lifetime",
        type: "integer",
        min: 1,
        value: "SECONDS",
        description: "Seconds an auth_req_id lives (default 600)"
      },
      {
        name: "issuer",
        type: "string",
        value: "URL",
        description: "The issuer the discovery document and the ID tokens name"
      },
      {
        name: "token-endpoint",
        type: "string",
        value: "URL",
        description: "The token endpoint the discovery document names"
      },
      {
        name: "backchannel-endpoint",
        type: "string",
        value: "URL",
        description: "The backchannel authentication endpoint the discovery document names"
      },
      { name: "jwks-uri", type: "string", value: "URL", description: "The jwks_uri the discovery document names" },
      {
        name: "latency",
        type: "integer",
        min: 0,
        value: "MILLIS",
        description: "Milliseconds added to every answer, after the call is carried out"
      },
      {
        name: "journal",
        type: "string",
        value: "FILE",
        description: "Append one JSON line per API call carried out to this file (no secrets)"
      },
      json("Print one JSON line: the URL, service and clients")
    ]
  },
  serve: {
    name: "serve",
    summary: "Run one node of the CIBA authorization server (durable; several on one PostgreSQL)",
    notes: [
      `Environment: ${VARIABLES} EFFECT_AUTHLETE_SECRET_KEY: 32 random bytes in base64 ` +
      "(`openssl rand -base64 32`), the same on every node."
    ],
    flags: [
      {
        name: "host",
        type: "string",
        default: "127.0.0.1",
        value: "ADDRESS",
        description: "The address the HTTP server listens on"
      },
      port("The HTTP port (0: any free one)"),
      {
        name: "database",
        type: "string",
        default: "effect-authlete.db",
        value: "URL|FILE",
        description: "postgres://... (every node on it is one authorization server) or a SQLite file (one node)"
      },
      {
        name: "runner-host",
        type: "string",
        default: "127.0.0.1",
        value: "ADDRESS",
        description: "PostgreSQL: the address the other nodes reach this one at"
      },
      {
        name: "runner-port",
        type: "integer",
        min: 1,
        max: 65_535,
        default: 34431,
        value: "PORT",
        description: "PostgreSQL: the port of that address (unique per node on one host, stable across restarts)"
      },
      {
        name: "users",
        type: "string",
        value: "FILE",
        description: "A JSON object of users: { subject: { claims, loginHints, userCode } }"
      },
      {
        name: "automated-approval",
        type: "boolean",
        description: "Serve POST /ciba/approve/{auth_req_id}/{allow|deny} (tests only: anyone may decide)"
      },
      {
        name: "allow-local-notifications",
        type: "boolean",
        description: "Send notifications to loopback and private addresses (local clients, tests)"
      },
      json("Print one JSON line with the node's URLs")
    ]
  },
  playground: {
    name: "playground",
    summary: "Run the simulator and an authorization server built from effect-authlete on loopback",
    flags: [
      port("The authorization server's port on 127.0.0.1 (0: any free one)"),
      { name: "interval", type: "integer", min: 0, default: 5, value: "SECONDS", description: "Seconds between polls" },
      { name: "ping-endpoint", type: "string", value: "URL", description: "The PING client's notification endpoint" },
      { name: "push-endpoint", type: "string", value: "URL", description: "The PUSH client's notification endpoint" },
      {
        name: "user-code",
        type: "choice",
        repeated: true,
        choices: ["POLL", "PING", "PUSH"],
        default: ["PING"],
        excludes: "no-user-code",
        description: "A delivery mode whose client requires a user_code (repeatable)"
      },
      { name: "no-user-code", type: "boolean", description: "No client requires a user_code" },
      json("Print one JSON line: endpoints, pages, clients and users")
    ]
  },
  demo: {
    name: "demo",
    summary: "Run every CIBA delivery mode through the playground with openid-client, and check them",
    flags: []
  }
} as const satisfies { readonly [name: string]: CommandSpec }

export type CommandName = keyof typeof COMMANDS

// The values of a command's flags, typed from the table: `--auth-time` is `authTime`, a number.
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S
type ValueOf<F extends Flag> = F["type"] extends "boolean" ? boolean
  : F["type"] extends "integer" ? number
  : F["type"] extends "strings" ? ReadonlyArray<string>
  : F["type"] extends "choice" ?
    F extends { readonly choices: ReadonlyArray<infer C> } ?
      F extends { readonly repeated: true } ? ReadonlyArray<C> : C
    : never
  : string
type Given<F extends Flag> = F["required"] extends true ? ValueOf<F>
  : undefined extends F["default"] ? F["type"] extends "boolean" | "strings" ? ValueOf<F>
    : F extends { readonly repeated: true } ? ValueOf<F>
    : ValueOf<F> | undefined
  : ValueOf<F>

export type FlagValues<Flags extends ReadonlyArray<Flag>> = {
  readonly [F in Flags[number] as Camel<F["name"]>]: Given<F>
}
export type ValuesOf<C extends CommandName> = FlagValues<(typeof COMMANDS)[C]["flags"]>

export type Parsed =
  | { readonly _tag: "Help"; readonly text: string }
  | { readonly _tag: "Version" }
  | { readonly _tag: "UsageError"; readonly message: string; readonly command?: CommandName | undefined }
  | { readonly [C in CommandName]: { readonly _tag: "Run"; readonly command: C; readonly values: ValuesOf<C> } }[
    CommandName
  ]

/** The line after a usage error. */
export const hint = (command?: CommandName | undefined): string =>
  `Run "${PROGRAM}${command === undefined ? "" : ` ${command}`} --help" for usage.`

const camel = (name: string) => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())

const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/** The closest of `candidates`, when it is close enough to be what was meant. */
const closest = (word: string, candidates: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const d = distance(word, candidate)
    if (d < bestDistance) [best, bestDistance] = [candidate, d]
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

// Help

const placeholder = (flag: Flag): string =>
  flag.type === "boolean" ? "" : ` ${flag.type === "choice" ? flag.choices!.join("|") : flag.value ?? "VALUE"}`

const usageWord = (flag: Flag): string => {
  const word = `--${flag.name}${placeholder(flag)}`
  const repeated = flag.type === "strings" || flag.repeated === true
  return flag.required === true ? `${word}${repeated ? "..." : ""}` : `[${word}]${repeated ? "..." : ""}`
}

/** Words joined into lines of at most `width` columns, continuation lines indented. */
const wrap = (words: ReadonlyArray<string>, first: string, indent: string, width = 100): string => {
  const lines: Array<string> = []
  let line = first
  for (const word of words) {
    if (line.length + 1 + word.length > width && line.trim() !== "") {
      lines.push(line)
      line = `${indent}${word}`
    } else line = line === "" ? word : `${line} ${word}`
  }
  lines.push(line)
  return lines.join("\n")
}

const describeDefault = (flag: Flag): string =>
  flag.default === undefined
    ? flag.required === true ? " (required)" : ""
    : ` (default: ${Array.isArray(flag.default) ? flag.default.join(", ") : String(flag.default)})`

const commandHelp = (command: CommandSpec): string => {
  const usage = wrap(
    [...command.flags.map(usageWord), "[--help]"],
    `Usage: ${PROGRAM} ${command.name}`,
    " ".repeat(`Usage: ${PROGRAM} ${command.name} `.length)
  )
  const rows = [
    ...command.flags.map((
      flag
    ) => [`--${flag.name}${placeholder(flag)}`, `${flag.description}${describeDefault(flag)}`]),
    ["-h, --help", "Show this help"]
  ]
  const column = Math.min(34, Math.max(...rows.map(([left]) => left!.length)) + 2)
  const indent = " ".repeat(column + 2)
  const table = rows.map(([left, right]) => {
    const text = wrap(right!.split(" "), indent.slice(1), indent).slice(indent.length)
    return left!.length + 2 > column ? `  ${left}\n${indent}${text}` : `  ${left!.padEnd(column)}${text}`
  })
  return [
    usage,
    "",
    `${command.summary}.`,
    "",
    ...(command.flags.length === 0 ? [] : ["Flags:"]),
    ...table,
    ...(command.notes ?? []).flatMap((note) => ["", wrap(note.split(" "), "", "")])
  ].join("\n") + "\n"
}

const mainHelp = (): string => {
  const commands = Object.values(COMMANDS) as ReadonlyArray<CommandSpec>
  const width = Math.max(...commands.map((command) => command.name.length)) + 3
  return [
    `Usage: ${PROGRAM} <command> [flags]`,
    `       ${PROGRAM} <command> --help`,
    `       ${PROGRAM} --version`,
    "",
    "Authlete CIBA for Effect, from the command line.",
    "",
    "Commands:",
    ...commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    "",
    `Run "${PROGRAM} <command> --help" for a command's flags.`
  ].join("\n") + "\n"
}

/** The help of one command, or of the program. */
export const helpText = (command?: CommandName | undefined): string =>
  command === undefined ? mainHelp() : commandHelp(COMMANDS[command])

// Parsing

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
