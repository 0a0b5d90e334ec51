#!/usr/bin/env node
/**
 * `effect-authlete`: parses the arguments and answers `--help`, `--version` and usage mistakes with
 * Node alone; only then loads the module of the command that runs (and with it `effect` and the
 * peers that command needs). A command whose optional peer is missing says which one, and how to
 * install it, in one line.
 *
 * Exit codes: 0 success, 1 a command that ran and failed, 2 a usage mistake or a missing peer.
 */
import { readFileSync } from "node:fs"
import { type CommandName, hint, parseCommandLine, PROGRAM, type ValuesOf } from "./internal/args.js"

/** The version in package.json (dist/esm/cli/main.js is three folders down; src/cli/main.ts two). */
const version = (): string => {
  for (const path of ["../../../package.json", "../../package.json"]) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8")) as {
        name?: unknown
        version?: unknown
      }
      if (manifest.name === "effect-authlete" && typeof manifest.version === "string") return manifest.version
    } catch {
      // not this one
    }
  }
  return "unknown"
}

type Runner<C extends CommandName> = (values: ValuesOf<C>) => void

/** Each command's module, loaded only when that command runs. */
const commands: { readonly [C in CommandName]: () => Promise<Runner<C>> } = {
  complete: () => import("./Complete.js").then((module) => module.run),
  simulate: () => import("./Simulate.js").then((module) => module.run),
  serve: () => import("./Serve.js").then((module) => module.run),
  playground: () => import("./PlaygroundCommand.js").then((module) => module.run),
  demo: () => import("./Demo.js").then((module) => module.run)
}

const usageError = (message: string, command?: CommandName) => {
  process.stderr.write(`${PROGRAM}: ${message}\n${hint(command)}\n`)
  process.exitCode = 2
}

const load = async <C extends CommandName>(command: C): Promise<Runner<C> | undefined> => {
  try {
    return await (commands[command] as () => Promise<Runner<C>>)()
  } catch (error) {
    // Loaded only now: the lookup of the peers needs `effect` (a required peer).
    const { installCommand, installedWith, missingPeerOf } = await import("../internal/peers.js")
    const peer = missingPeerOf(error)
    if (peer === undefined) throw error
    process.stderr.write(
      `${PROGRAM}: ${command} needs ${peer}, which is not installed: ${
        installCommand(installedWith(peer, command === "serve"))
      }\n`
    )
    process.exitCode = 2
    return undefined
  }
}

const parsed = parseCommandLine(process.argv.slice(2))
switch (parsed._tag) {
  case "Help":
    process.stdout.write(parsed.text)
    break
  case "Version":
    process.stdout.write(`${version()}\n`)
    break
  case "UsageError":
    usageError(parsed.message, parsed.command)
    break
  case "Run": {
    const { command, values } = parsed
    const run = (await load(command)) as ((values: unknown) => void) | undefined
    run?.(values)
    break
  }
}
