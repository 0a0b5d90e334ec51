/**
 * The command line's help: the program's and each command's, written from the table of commands
 * (`commands`), and the hint after a usage error.
 */
import { type CommandName, COMMANDS, type CommandSpec, type Flag, PROGRAM } from "./commands.js"

/** The line after a usage error. */
export const hint = (command?: CommandName | undefined): string =>
  `Run "${PROGRAM}${command === undefined ? "" : ` ${command}`} --help" for usage.`

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
