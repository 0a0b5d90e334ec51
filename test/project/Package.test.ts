/**
 * The package as a user installs it: the tarball `npm pack` writes, unpacked into a clean folder with
 * only the peers the README lists for what the user imports (`support/installed.ts`). Each entry
 * loads and works with exactly its peers; `effect-authlete/sql` works with one database driver; the
 * command line runs its help without any optional peer and names the one a command lacks; CommonJS
 * and ES module consumers both work; the root entry loads none of `@effect/platform`'s server or
 * serialization packages.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { OPTIONAL_PEERS } from "../../src/internal/peers.js"
import { type Installed, installedHere, installWith } from "../support/installed.js"

const root = fileURLToPath(new URL("../../", import.meta.url))
const manifest = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as {
  license: string
  repository?: { url?: unknown }
  peerDependencies: Record<string, string>
  peerDependenciesMeta: Record<string, { optional?: boolean }>
}

// The peers the README's Install section and "Running on several nodes" list for each entry.
const CORE = ["effect", "@effect/platform", "@effect/experimental"]
const UNDICI = [...CORE, "undici"]
const NODE = [...CORE, "@effect/platform-node", "undici"]
const ENGINE = [
  ...CORE,
  "@effect/platform-node",
  "@effect/workflow",
  "@effect/cluster",
  "@effect/rpc",
  "@effect/sql"
]
const POSTGRES = [...ENGINE, "@effect/sql-pg"]
const SQLITE = [...ENGINE, "@effect/sql-sqlite-node", "better-sqlite3"]
const EVERYTHING = [...new Set([...NODE, ...POSTGRES, ...SQLITE, "openid-client"])]

/** Runs an ES module script in the folder; its stdout, or a failure with what it printed. */
const run = (installed: Installed, name: string, script: string, env?: Record<string, string>): string => {
  const file = installed.write(name, script)
  const result = installed.node([file], env === undefined ? undefined : { env })
  assert.strictEqual(result.status, 0, `${name} exited ${result.status}:\n${result.stderr}${result.stdout}`)
  assert.notMatch(result.stderr, /\n\s+at /, `${name} printed a stack trace`)
  return result.stdout.trim()
}

const withInstall = <A>(peers: ReadonlyArray<string>, use: (installed: Installed) => A): A => {
  const installed = installWith(peers)
  try {
    return use(installed)
  } finally {
    installed.remove()
  }
}

describe("the package", () => {
  it("names its license and repository, and ships what the README links to", () => {
    assert.strictEqual(manifest.license, "MIT")
    assert.include(readFileSync(`${root}LICENSE`, "utf8"), "MIT License")
    assert.isString(manifest.repository?.url)
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

  it("the optional peers the code names for `npm install` are the ones package.json declares", () => {
    const optional = Object.entries(manifest.peerDependencies).filter(([name]) =>
      manifest.peerDependenciesMeta[name]?.optional === true
    )
    assert.deepStrictEqual(Object.fromEntries(optional.sort()), { ...OPTIONAL_PEERS })
    for (const peer of EVERYTHING) assert.isTrue(installedHere().has(peer), `${peer} is not installed here`)
  })
})

describe("each entry with only its own peers", () => {
  it("effect-authlete and effect-authlete/routes: effect, @effect/platform and @effect/experimental", () =>
    withInstall(CORE, (installed) => {
      const out = run(
        installed,
        "core.mjs",
        `
        import * as Effect from "effect/Effect"
        import { BackchannelAuthenticationCompleteRequest } from "effect-authlete"
        import { CibaRoutes } from "effect-authlete/routes"
        const refused = await Effect.runPromise(Effect.flip(
          BackchannelAuthenticationCompleteRequest.validateCompleteRequest({ ticket: "", result: "AUTHORIZED", subject: "u" })
        ))
        console.log(refused._tag, typeof CibaRoutes.router())
        `
      )
      assert.strictEqual(out, "AuthleteValidationError object")
      // And nothing more: the next entries' peers are not there.
      const undici = installed.node(["--input-type=module", "-e", "await import('effect-authlete/undici')"])
      assert.notStrictEqual(undici.status, 0)
      assert.include(undici.stderr, "'undici'")
    }))

  it("effect-authlete/undici: and undici", () =>
    withInstall(UNDICI, (installed) => {
      const out = run(
        installed,
        "undici.mjs",
        `
        import * as Effect from "effect/Effect"
        import * as Layer from "effect/Layer"
        import { HttpTransport } from "effect-authlete"
        import { UndiciTransport } from "effect-authlete/undici"
        const transport = await Effect.runPromise(Effect.scoped(Effect.map(Layer.build(UndiciTransport.layer), (context) => typeof context)))
        console.log(transport, typeof HttpTransport.HttpTransport)
        `
      )
      assert.strictEqual(out, "object function")
    }))

  it("effect-authlete/simulator and /playground: and @effect/platform-node", () =>
    withInstall(NODE, (installed) => {
      const out = run(
        installed,
        "simulator.mjs",
        `
        import * as Effect from "effect/Effect"
        import * as Layer from "effect/Layer"
        import { AuthleteClient } from "effect-authlete"
        import { AuthleteSimulator } from "effect-authlete/simulator"
        import { Playground } from "effect-authlete/playground"
        const configuration = await Effect.runPromise(
          Effect.flatMap(AuthleteClient.AuthleteClient, (client) => client.serviceConfiguration({})).pipe(
            Effect.provide(AuthleteSimulator.layerClient({ issuer: "https://as.example" }))
          )
        )
        const issuer = await Effect.runPromise(Effect.scoped(Effect.map(Layer.build(Playground.layer()), () => "playground up")))
        console.log(configuration.issuer, issuer)
        `
      )
      assert.strictEqual(out, "https://as.example playground up")
    }))

  it("effect-authlete/sql on SQLite: without PostgreSQL's packages", () =>
    withInstall(SQLITE, (installed) => {
      const out = run(
        installed,
        "sqlite.mjs",
        `
        import * as Effect from "effect/Effect"
        import * as Layer from "effect/Layer"
        import * as Redacted from "effect/Redacted"
        import { SqlClient } from "@effect/sql/SqlClient"
        import { ClusterNode } from "effect-authlete/sql"
        const sqlite = await Effect.runPromise(Effect.scoped(
          Effect.flatMap(SqlClient, (sql) => sql\`SELECT 1 AS one\`).pipe(
            Effect.provide(ClusterNode.layerSqlite({ filename: "node.db" }))
          )
        ))
        const pg = await Effect.runPromise(Effect.flip(Effect.scoped(Layer.build(ClusterNode.layerPg({
          url: Redacted.make("postgres://127.0.0.1:1/none"),
          runnerAddress: { host: "127.0.0.1", port: 0 }
        })))))
        console.log(JSON.stringify(sqlite), pg._tag, pg.packageName)
        console.log(pg.install)
        `
      )
      assert.strictEqual(
        out,
        `[{"one":1}] MissingPeerError @effect/sql-pg\nnpm install @effect/sql-pg@${OPTIONAL_PEERS["@effect/sql-pg"]}`
      )
    }))

  it("effect-authlete/sql on PostgreSQL: without SQLite's packages", () =>
    withInstall(POSTGRES, (installed) => {
      const out = run(
        installed,
        "pg.mjs",
        `
        import * as Effect from "effect/Effect"
        import * as Layer from "effect/Layer"
        import * as Redacted from "effect/Redacted"
        import { ClusterNode } from "effect-authlete/sql"
        // No server listens there: the driver loads, and the connection is what fails.
        const pg = await Effect.runPromise(Effect.flip(Effect.scoped(Layer.build(ClusterNode.layerPg({
          url: Redacted.make("postgres://127.0.0.1:1/none"),
          runnerAddress: { host: "127.0.0.1", port: 0 }
        })))))
        const sqlite = await Effect.runPromise(Effect.flip(Effect.scoped(Layer.build(ClusterNode.layerSqlite({ filename: "node.db" })))))
        console.log(pg._tag, sqlite._tag, sqlite.packageName)
        console.log(sqlite.install)
        `
      )
      assert.strictEqual(
        out,
        "SqlError MissingPeerError @effect/sql-sqlite-node\n" +
          `npm install @effect/sql-sqlite-node@${OPTIONAL_PEERS["@effect/sql-sqlite-node"]} ` +
          `better-sqlite3@${OPTIONAL_PEERS["better-sqlite3"]}`
      )
    }))
})

describe("the effect-authlete command with only its own peers", () => {
  const cli = "node_modules/effect-authlete/dist/esm/cli/main.js"
  const authlete = {
    AUTHLETE_BASE_URL: "http://127.0.0.1:9",
    AUTHLETE_SERVICE_APIKEY: "1",
    AUTHLETE_SERVICE_ACCESSTOKEN: "token",
    EFFECT_AUTHLETE_SECRET_KEY: Buffer.alloc(32, 7).toString("base64")
  }

  it("--help and --version need no optional peer at all", () =>
    withInstall(CORE, (installed) => {
      const help = installed.node([cli, "--help"])
      assert.strictEqual(help.status, 0, help.stderr)
      for (const command of ["complete", "simulate", "serve", "playground", "demo"]) {
        assert.include(help.stdout, command)
      }
      const version = installed.node([cli, "--version"])
      assert.strictEqual(version.status, 0, version.stderr)
      assert.strictEqual(version.stdout.trim(), JSON.parse(readFileSync(`${root}package.json`, "utf8")).version)
      const playground = installed.node([cli, "playground"])
      assert.strictEqual(playground.status, 2, playground.stderr)
      assert.match(
        playground.stderr.trim(),
        /^effect-authlete: playground needs (@effect\/platform-node|undici), which is not installed: npm install @effect\/platform-node@\S+ undici@\S+$/
      )
    }))

  it("a command that lacks a peer exits 2 with one line naming it and the npm install that adds it", () =>
    withInstall(NODE, (installed) => {
      const serve = installed.node([cli, "serve", "--database", "node.db"], { env: authlete })
      assert.strictEqual(serve.status, 2, serve.stderr)
      const line = serve.stderr.trim()
      assert.notInclude(line, "\n")
      assert.match(line, /^effect-authlete: serve needs (@effect\/[a-z-]+), which is not installed: npm install /)
      const demo = installed.node([cli, "demo"])
      assert.strictEqual(demo.status, 2, demo.stderr)
      assert.strictEqual(
        demo.stderr.trim(),
        `effect-authlete: demo needs openid-client, which is not installed: npm install openid-client@${
          OPTIONAL_PEERS["openid-client"]
        }`
      )
      // Nothing was written before the peer was found missing.
      assert.deepStrictEqual(readdirSync(installed.folder).sort(), ["node_modules", "package.json"])
    }))

  it("serve on SQLite without PostgreSQL's driver, and the other way round, names the missing driver", () =>
    withInstall([...NODE, ...POSTGRES], (installed) => {
      const serve = installed.node([cli, "serve", "--database", "node.db"], { env: authlete })
      assert.strictEqual(serve.status, 2, serve.stderr)
      assert.strictEqual(
        serve.stderr.trim(),
        "effect-authlete: serve needs @effect/sql-sqlite-node, which is not installed: " +
          `npm install @effect/sql-sqlite-node@${OPTIONAL_PEERS["@effect/sql-sqlite-node"]} better-sqlite3@${
            OPTIONAL_PEERS["better-sqlite3"]
          }`
      )
    }))
})

describe("CommonJS and ES module consumers", () => {
  const entries = ["effect-authlete", "effect-authlete/routes", "effect-authlete/undici", "effect-authlete/simulator"]
    .concat(["effect-authlete/playground", "effect-authlete/sql"])

  // An entry's names, and its namespaces' names (`AuthleteClient.layer`), sorted.
  const namesOf =
    `const namesOf = (module) => Object.keys(module).filter((key) => key !== "__esModule").flatMap((key) =>
    module[key] !== null && typeof module[key] === "object" && !Array.isArray(module[key])
      ? [key, ...Object.keys(module[key]).filter((inner) => inner !== "__esModule").map((inner) => key + "." + inner)]
      : [key]).sort()`

  it("require() and import both load every entry, with the same exports", () =>
    withInstall(EVERYTHING, (installed) => {
      const names = (format: "cjs" | "esm") =>
        JSON.parse(run(
          installed,
          `names.${format === "cjs" ? "cjs" : "mjs"}`,
          format === "cjs"
            ? `${namesOf}\nconsole.log(JSON.stringify(${
              JSON.stringify(entries)
            }.map((entry) => namesOf(require(entry)))))`
            : `${namesOf}\nconsole.log(JSON.stringify(await Promise.all(${
              JSON.stringify(entries)
            }.map(async (entry) => namesOf(await import(entry))))))`
        )) as ReadonlyArray<ReadonlyArray<string>>
      const required = names("cjs")
      const imported = names("esm")
      assert.deepStrictEqual(required, imported)
      assert.isAbove(required[0]!.length, 120)
      // require() gets the CommonJS build, import the ES modules.
      const where = run(
        installed,
        "where.cjs",
        `console.log(require.resolve("effect-authlete"), require.resolve("effect-authlete/sql"))`
      )
      assert.match(where, /dist\/cjs\/index\.js .*dist\/cjs\/sql\/index\.js$/)
    }))

  it("in one process, a layer from either build provides the other's service (tags are one by key)", () =>
    withInstall(EVERYTHING, (installed) => {
      const out = run(
        installed,
        "mixed.mjs",
        `
        import { createRequire } from "node:module"
        import * as Effect from "effect/Effect"
        const require = createRequire(import.meta.url)
        const cjs = require("effect-authlete")
        const esm = await import("effect-authlete")
        const answer = { issuer: "https://as.example" }
        const use = (Tag) => Effect.flatMap(Tag, (client) => client.serviceConfiguration({}))
        const a = await Effect.runPromise(Effect.provide(use(esm.AuthleteClient.AuthleteClient), cjs.AuthleteClient.layerTest({ serviceConfiguration: () => Effect.succeed(answer) })))
        const b = await Effect.runPromise(Effect.provide(use(cjs.AuthleteClient.AuthleteClient), esm.AuthleteClient.layerTest({ serviceConfiguration: () => Effect.succeed(answer) })))
        console.log(cjs.AuthleteClient.AuthleteClient === esm.AuthleteClient.AuthleteClient, cjs.AuthleteClient.AuthleteClient.key === esm.AuthleteClient.AuthleteClient.key, a.issuer, b.issuer)
        `
      )
      assert.strictEqual(out, "false true https://as.example https://as.example")
    }))

  it("TypeScript reads the CommonJS declarations as CommonJS and the ES module ones as ES modules", () =>
    withInstall(EVERYTHING, (installed) => {
      const source = entries.map((entry, index) =>
        `import * as entry${index} from "${entry}"\nvoid entry${index}`
      ).join(
        "\n"
      ) + `\nexport const tag: string = entry0.AuthleteClient.AuthleteClient.key\n`
      const files = [installed.write("consumer.cts", source), installed.write("consumer.mts", source)]
      const program = ts.createProgram(files, {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: []
      })
      const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) =>
        `${diagnostic.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`
      )
      assert.deepStrictEqual(diagnostics, [])
      const resolved = program.getSourceFiles().map((file) => file.fileName).filter((name) =>
        name.includes("effect-authlete/dist/")
      )
      assert.isTrue(resolved.some((name) => name.includes("/dist/cjs/index.d.ts")))
      assert.isTrue(resolved.some((name) => name.includes("/dist/esm/index.d.ts")))
    }))
})

describe("what the root entry loads", () => {
  /** The modules a script loads, by URL (a `module.register` hook writes each one to a file). */
  const loaded = (installed: Installed, specifier: string): ReadonlyArray<string> => {
    installed.write(
      "hooks.mjs",
      `import { appendFileSync } from "node:fs"
      export async function load(url, context, next) { appendFileSync(process.env.LOADED, url + "\\n"); return next(url, context) }`
    )
    installed.write("register.mjs", `import { register } from "node:module"; register("./hooks.mjs", import.meta.url)`)
    const log = join(installed.folder, `loaded-${specifier.replace(/\W/g, "-")}.txt`)
    const result = installed.node([
      "--import",
      "./register.mjs",
      "--input-type=module",
      "-e",
      `await import("${specifier}")`
    ], {
      env: { LOADED: log }
    })
    assert.strictEqual(result.status, 0, result.stderr)
    return readFileSync(log, "utf8").trim().split("\n")
  }
  const heavy = /\/node_modules\/(msgpackr|multipasta|find-my-way-ts)\//

  it("no module of @effect/platform's routers, multipart or MessagePack: not msgpackr, multipasta or find-my-way-ts", () =>
    withInstall(CORE, (installed) => {
      const rootModules = loaded(installed, "effect-authlete")
      assert.deepStrictEqual(rootModules.filter((url) => heavy.test(url)), [])
      assert.isTrue(rootModules.some((url) => url.includes("/effect-authlete/dist/esm/index.js")))
      // The routes' entry does load them: the hook sees what it is asked to find.
      assert.isNotEmpty(loaded(installed, "effect-authlete/routes").filter((url) => heavy.test(url)))
    }))
})
