/**
 * The package as a user installs it: the tarball `npm pack` writes, unpacked into a fresh folder
 * outside this repository whose `node_modules` holds exactly the peers named, each linked from this
 * repository's install. Node resolves the package's own imports from that folder only, so a peer that
 * is not named cannot be found, as on a machine where it was never installed; the peers' own
 * dependencies resolve from where they really live, as npm would have installed them.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../", import.meta.url))

let tarball: string | undefined
/** Packs the built package once per test file (the build is `npm run build`, which `npm ci` runs). */
const packed = (): string => {
  if (tarball !== undefined) return tarball
  const into = mkdtempSync(join(tmpdir(), "effect-authlete-pack-"))
  const [{ filename }] = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", into], {
      cwd: root,
      encoding: "utf8"
    })
  ) as [{ filename: string }]
  tarball = join(into, filename)
  return tarball
}

export interface Installed {
  readonly folder: string
  /** Runs `node` in the folder; stdout, stderr and the exit code. */
  readonly node: (
    args: ReadonlyArray<string>,
    options?: { readonly env?: Record<string, string> }
  ) => { readonly stdout: string; readonly stderr: string; readonly status: number | null }
  readonly write: (name: string, text: string) => string
  readonly remove: () => void
}

/** A fresh folder with the packed package and exactly `peers` installed. */
export const installWith = (peers: ReadonlyArray<string>): Installed => {
  const folder = mkdtempSync(join(tmpdir(), "effect-authlete-consumer-"))
  const modules = join(folder, "node_modules")
  mkdirSync(join(modules, "@effect"), { recursive: true })
  execFileSync("tar", ["-xzf", packed(), "-C", modules])
  renameSync(join(modules, "package"), join(modules, "effect-authlete"))
  for (const peer of new Set(peers)) symlinkSync(join(root, "node_modules", peer), join(modules, peer), "dir")
  writeFileSync(join(folder, "package.json"), JSON.stringify({ name: "consumer", private: true }))
  return {
    folder,
    node: (args, options) => {
      const result = spawnSync(process.execPath, args, {
        cwd: folder,
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", ...options?.env },
        timeout: 60_000
      })
      return { stdout: result.stdout, stderr: result.stderr, status: result.status }
    },
    write: (name, text) => {
      writeFileSync(join(folder, name), text)
      return join(folder, name)
    },
    remove: () => rmSync(folder, { recursive: true, force: true })
  }
}

/** The top-level packages of this repository's install (what a peer list may name). */
export const installedHere = (): ReadonlySet<string> =>
  new Set(
    readdirSync(join(root, "node_modules")).flatMap((name) =>
      name.startsWith("@")
        ? readdirSync(join(root, "node_modules", name)).map((inner) => `${name}/${inner}`)
        : [name]
    )
  )
