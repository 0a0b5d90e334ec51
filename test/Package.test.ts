/**
 * The package can be installed from a clone as the README says: it has a license and a repository,
 * and what the README links to ships in the tarball.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))
const manifest = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as Record<string, unknown>

describe("the package", () => {
  it("names its license and repository, and ships what the README links to", () => {
    assert.strictEqual(manifest.license, "MIT")
    assert.include(readFileSync(`${root}LICENSE`, "utf8"), "MIT License")
    assert.isString((manifest.repository as { url?: unknown } | undefined)?.url)
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" })
    ) as ReadonlyArray<{ files: ReadonlyArray<{ path: string }> }>
    const shipped = new Set(packed[0]!.files.map((file) => file.path))
    const readme = readFileSync(`${root}README.md`, "utf8")
    const links = [...readme.matchAll(/\]\((?!https?:|#)([^)\s]+)\)/g)].map((match) => match[1]!)
    assert.isAbove(links.length, 2)
    for (const link of links) assert.isTrue(shipped.has(link), `${link} is linked from the README but not packed`)
    assert.isTrue(shipped.has("LICENSE"))
    assert.isTrue(shipped.has("README.md"))
  })
})
