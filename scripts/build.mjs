// The build: tsc writes the ES modules and their declarations to dist/esm; Babel turns those into
// CommonJS in dist/cjs (as Effect 3's own packages are built), where the declarations are copied so
// that a CommonJS consumer's TypeScript reads them as CommonJS. The command line is ESM only.
import { execFileSync } from "node:child_process"
import { rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
const run = (bin, args) => execFileSync(process.execPath, [require.resolve(bin), ...args], { stdio: "inherit" })

rmSync("dist", { recursive: true, force: true })
run("typescript/bin/tsc", ["-p", "tsconfig.build.json"])
run("@babel/cli/bin/babel.js", [
  "dist/esm",
  "--out-dir",
  "dist/cjs",
  "--config-file",
  "./babel.cjs.json",
  "--source-maps",
  "--copy-files",
  // The command line is an ES module program (its bin is dist/esm/cli/main.js).
  "--ignore",
  "dist/esm/cli/**",
  "--no-copy-ignored",
  "--quiet"
])
writeFileSync("dist/cjs/package.json", JSON.stringify({ type: "commonjs" }) + "\n")
