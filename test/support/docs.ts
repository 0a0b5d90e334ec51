/**
 * The code blocks of the documentation, and a type check of them against the built package: every
 * ```ts (or ```typescript) block of the README and every ```ts block in a doc comment under `src/`,
 * each its own module, all in one TypeScript program whose `effect-authlete` is the package as
 * installed (its `exports`, `dist/esm/*.d.ts`).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import ts from "typescript"

/** One code block: where it came from, its code, and whether its fence says it is a fragment. */
export interface DocBlock {
  /** `README.md:52`: the file (relative to the repository) and the line of the opening fence. */
  readonly origin: string
  readonly file: string
  /** The line of the opening fence (1-based). */
  readonly fenceLine: number
  readonly code: string
  /** The fence reads ```ts fragment: not checked, on purpose. */
  readonly fragment: boolean
}

const FENCE = /^\s*(`{3,})\s*([^\s`]*)\s*(.*)$/

/** The ```ts blocks of some lines; `firstLine` is the line number of `lines[0]`. */
const blocksOfLines = (lines: ReadonlyArray<string>, file: string, firstLine: number): Array<DocBlock> => {
  const blocks: Array<DocBlock> = []
  let open: { fence: string; language: string; rest: string; line: number; body: Array<string> } | undefined
  lines.forEach((line, index) => {
    const match = FENCE.exec(line)
    if (open === undefined) {
      if (match !== null) {
        open = {
          fence: match[1]!,
          language: match[2]!.toLowerCase(),
          rest: match[3]!,
          line: firstLine + index,
          body: []
        }
      }
      return
    }
    if (match !== null && match[1]!.length >= open.fence.length && match[2] === "" && match[3] === "") {
      if (open.language === "ts" || open.language === "typescript") {
        blocks.push({
          origin: `${file}:${open.line}`,
          file,
          fenceLine: open.line,
          code: open.body.join("\n") + "\n",
          fragment: /\bfragment\b/.test(open.rest)
        })
      }
      open = undefined
      return
    }
    open.body.push(line)
  })
  return blocks
}

/** The ```ts and ```typescript blocks of a Markdown file. */
export const markdownBlocks = (file: string, root: string): Array<DocBlock> =>
  blocksOfLines(fs.readFileSync(file, "utf8").split(/\r?\n/), displayName(file, root), 1)

/** A file inside the repository by its relative path, one outside by its absolute path. */
const displayName = (file: string, root: string): string => {
  const relative = path.relative(root, file)
  return relative.startsWith("..") || path.isAbsolute(relative) ? path.resolve(file) : relative
}

/** The ```ts blocks inside the doc comments (`/** ... *\/`) of one source file, ` * ` stripped. */
export const docCommentBlocks = (file: string, root: string): Array<DocBlock> => {
  const text = fs.readFileSync(file, "utf8")
  const relative = displayName(file, root)
  const blocks: Array<DocBlock> = []
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const startLine = text.slice(0, comment.index).split("\n").length
    const lines = comment[0]
      .replace(/^\/\*\*/, "")
      .replace(/\*\/$/, "")
      .split(/\r?\n/)
      .map((line) => line.replace(/^\s*\* ?/, ""))
    blocks.push(...blocksOfLines(lines, relative, startLine))
  }
  return blocks
}

const sourceFiles = (directory: string): Array<string> =>
  fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name)
    if (entry.isDirectory()) return sourceFiles(full)
    return entry.isFile() && /\.(m|c)?tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [full] : []
  }).sort()

/** Every block of the README and of the doc comments under `src/`. */
export const documentationBlocks = (
  root: string,
  readme: string = path.join(root, "README.md")
): Array<DocBlock> => [
  ...markdownBlocks(readme, root),
  ...sourceFiles(path.join(root, "src")).flatMap((file) => docCommentBlocks(file, root))
]

/** A block that does not compile, with TypeScript's messages, each at its line in the documentation. */
export interface BlockFailure {
  readonly block: DocBlock
  readonly diagnostics: ReadonlyArray<string>
}

export interface CheckResult {
  readonly checked: ReadonlyArray<DocBlock>
  readonly skipped: ReadonlyArray<DocBlock>
  readonly failures: ReadonlyArray<BlockFailure>
  /** Diagnostics that belong to no block (the options, a missing package). */
  readonly global: ReadonlyArray<string>
}

export const compilerOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2022.d.ts"],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  moduleDetection: ts.ModuleDetectionKind.Force, // each block is a module of its own
  strict: true,
  exactOptionalPropertyTypes: true,
  skipLibCheck: true,
  esModuleInterop: true,
  types: ["node"],
  noEmit: true
}

/**
 * Type-checks the blocks that are not fragments, each as its own module of one program, in a fresh
 * folder whose `node_modules` has `effect-authlete` → the repository (so its package.json `exports`
 * lead to `dist/`) and every entry of the repository's `node_modules`.
 */
export const typeCheckBlocks = (blocks: ReadonlyArray<DocBlock>, root: string): CheckResult => {
  const checked = blocks.filter((block) => !block.fragment)
  const skipped = blocks.filter((block) => block.fragment)
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "effect-authlete-docs-"))
  try {
    const modules = path.join(folder, "node_modules")
    fs.mkdirSync(modules)
    for (const entry of fs.readdirSync(path.join(root, "node_modules"))) {
      if (entry === "effect-authlete" || entry.startsWith(".")) continue
      fs.symlinkSync(path.join(root, "node_modules", entry), path.join(modules, entry), "dir")
    }
    fs.symlinkSync(root, path.join(modules, "effect-authlete"), "dir")
    fs.writeFileSync(path.join(folder, "package.json"), JSON.stringify({ type: "module", private: true }))
    const files = new Map<string, DocBlock>()
    checked.forEach((block, index) => {
      const name = path.join(
        folder,
        `${String(index).padStart(3, "0")}-${block.file.replace(/[^A-Za-z0-9]+/g, "_")}-${block.fenceLine}.ts`
      )
      fs.writeFileSync(name, block.code)
      files.set(name, block)
    })
    const program = ts.createProgram({ rootNames: [...files.keys()], options: { ...compilerOptions } })
    const byBlock = new Map<DocBlock, Array<string>>()
    const global: Array<string> = []
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n  ")
      const block = diagnostic.file === undefined ? undefined : files.get(path.resolve(diagnostic.file.fileName))
      if (block === undefined || diagnostic.file === undefined || diagnostic.start === undefined) {
        global.push(`${diagnostic.file?.fileName ?? "(options)"}: TS${diagnostic.code}: ${message}`)
        continue
      }
      const { character, line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
      const list = byBlock.get(block) ?? []
      list.push(`${block.file}:${block.fenceLine + 1 + line}:${character + 1} TS${diagnostic.code}: ${message}`)
      byBlock.set(block, list)
    }
    const failures = checked.flatMap((block) => {
      const diagnostics = byBlock.get(block)
      return diagnostics === undefined ? [] : [{ block, diagnostics }]
    })
    return { checked, skipped, failures, global }
  } finally {
    fs.rmSync(folder, { recursive: true, force: true })
  }
}

/** The failures as a report: each block by origin, then its diagnostics. */
export const formatFailures = (result: CheckResult): string =>
  [
    ...result.global.map((line) => `(no block) ${line}`),
    ...result.failures.map(({ block, diagnostics }) =>
      `${block.origin} does not compile:\n${diagnostics.map((line) => `    ${line}`).join("\n")}`
    )
  ].join("\n")
