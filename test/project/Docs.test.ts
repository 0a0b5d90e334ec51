/**
 * Every code block of the documentation compiles as a reader would paste it: each ```ts block of the
 * README and each ```ts block of a doc comment under `src/` is a module of its own, type-checked
 * (strict, NodeNext, `exactOptionalPropertyTypes`) against the built package, `effect-authlete` and
 * its entries resolved through package.json `exports` to `dist/esm`. It needs `npm run build` first
 * (`npm ci` runs it). A block whose fence reads ```ts fragment is not checked; there are few.
 *
 * `EFFECT_AUTHLETE_DOCS_README=<file>` checks another README (to see the test fail, for one).
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import {
  docCommentBlocks,
  documentationBlocks,
  formatFailures,
  markdownBlocks,
  typeCheckBlocks
} from "../support/docs.js"

const root = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "")
const readme = process.env.EFFECT_AUTHLETE_DOCS_README ?? path.join(root, "README.md")

/** The blocks checked today; a block removed or turned into a fragment lowers it. */
const MIN_CHECKED = 18
const MAX_SKIPPED = 3

describe("the documentation's code", () => {
  it("every ```ts block of the README and of the doc comments compiles against the built package", () => {
    assert.isTrue(
      fs.existsSync(path.join(root, "dist", "esm", "index.d.ts")),
      "dist/esm is missing: run `npm run build` first"
    )
    const blocks = documentationBlocks(root, readme)
    const result = typeCheckBlocks(blocks, root)
    console.log(
      `docs: ${result.checked.length} blocks checked, ${result.skipped.length} skipped` +
        result.skipped.map((block) => `\n  skipped (fragment): ${block.origin}`).join("")
    )
    assert.isAtMost(result.skipped.length, MAX_SKIPPED, "too many ```ts fragment blocks")
    assert.isAtLeast(result.checked.length, MIN_CHECKED, "fewer blocks checked than before")
    assert.isTrue(result.global.length === 0 && result.failures.length === 0, `\n${formatFailures(result)}`)
  })

  it("the extractor finds ts and typescript fences, in Markdown and doc comments, and skips fragments", () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "effect-authlete-docs-extract-"))
    try {
      const markdown = path.join(folder, "README.md")
      fs.writeFileSync(
        markdown,
        ["# t", "```sh", "npm test", "```", "```ts", "const a: number = 1", "```", "", "```typescript", "let b", "```"]
          .concat(["```ts fragment", "c", "```"])
          .join("\n")
      )
      const source = path.join(folder, "A.ts")
      fs.writeFileSync(
        source,
        ["/**", " * @example", " * ```ts", " * const d = 1", " * ```", " */", "export {}"].join("\n")
      )
      const found = markdownBlocks(markdown, folder)
      assert.deepStrictEqual(found.map((block) => [block.origin, block.code, block.fragment]), [
        ["README.md:5", "const a: number = 1\n", false],
        ["README.md:9", "let b\n", false],
        ["README.md:12", "c\n", true]
      ])
      assert.deepStrictEqual(docCommentBlocks(source, folder).map((block) => [block.origin, block.code]), [
        ["A.ts:3", "const d = 1\n"]
      ])
    } finally {
      fs.rmSync(folder, { recursive: true, force: true })
    }
  })
})
