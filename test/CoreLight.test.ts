/**
 * The root entry stays light: following its imports from src/index.ts reaches only `effect` and
 * `@effect/platform`, never a Node HTTP server, `@effect/cluster` or a CLI framework (those belong
 * to `effect-authlete/simulator` and the command line).
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const src = fileURLToPath(new URL("../src/", import.meta.url))
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g

/** Every package the module graph from `entry` imports, type-only imports left out. */
const packagesReachedFrom = (entry: string): ReadonlySet<string> => {
  const seen = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(file, "utf8")
    for (const match of text.matchAll(IMPORT)) {
      if (/^\s*(?:import|export)\s+type\s/.test(match[0].trimStart())) continue
      const specifier = match[1] ?? match[2]
      if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")))
      else {packages.add(
          specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]
        )}
    }
  }
  visit(entry)
  return packages
}

describe("the root entry", () => {
  it("imports only effect and @effect/platform", () => {
    assert.deepStrictEqual([...packagesReachedFrom(resolve(src, "index.ts"))].sort(), ["@effect/platform", "effect"])
  })

  it("the walk does see the heavy packages where they are used", () => {
    const simulator = packagesReachedFrom(resolve(src, "simulator/index.ts"))
    assert.isTrue(simulator.has("@effect/platform-node"))
    assert.isTrue(packagesReachedFrom(resolve(src, "cli/main.ts")).has("@effect/cli"))
    assert.isTrue(packagesReachedFrom(resolve(src, "undici/index.ts")).has("undici"))
  })
})
