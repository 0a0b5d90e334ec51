/**
 * The import rule of ARCHITECTURE.md: every import between modules of `src/` goes from a layer to
 * itself or a layer above it, `internal/` modules stay in their area, and no module imports a
 * package's barrel.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const src = fileURLToPath(new URL("../../src/", import.meta.url))

const MODELS = [
  "AuthleteApi",
  "AuthleteError",
  "AuthleteResult",
  "BackchannelAuthentication",
  "BackchannelAuthenticationCompleteRequest",
  "BackchannelAuthenticationCompleteResponse",
  "BackchannelAuthenticationCompleteResult",
  "BackchannelAuthenticationFail",
  "BackchannelAuthenticationIssue",
  "CibaMetrics",
  "ClientCertificate",
  "ClientCredentials",
  "Property",
  "ServiceConfiguration",
  "ServiceJwks",
  "Token",
  "internal/api",
  "internal/models",
  "internal/openLiteral",
  "internal/peers",
  "internal/rules",
  "internal/unverifiedJwt",
  "internal/nodeBuiltin",
  "internal/digest",
  "internal/requestTarget"
]
const TRANSPORT = ["HttpTransport", "internal/deadlines", "internal/http", "internal/transport"]
const CLIENTS = ["AuthleteClient", "ClientNotifier", "internal/retry", "internal/tracing"]
const PROGRAMS = [
  "AuthenticationDevice",
  "BackchannelAuthenticationCompletion",
  "BackchannelAuthenticationEndpoint",
  "BackchannelChecks",
  "BackchannelLimits",
  "Claims",
  "Decisions",
  "DeviceDecision",
  "Discovery",
  "EndpointResponse",
  "FapiCiba",
  "PendingRequest",
  "PendingRequestStore",
  "TokenEndpoint",
  "UserClaims",
  "UserIdentifier",
  "index"
]

/** A module's layer (ARCHITECTURE.md): the areas beside the layers sit between them. */
const layerOf = (module: string): number => {
  // The codec's modules (internal/codec*) and the client's (internal/client*, internal/authlete*) by their prefix.
  if (MODELS.includes(module) || module.startsWith("internal/codec")) return 1
  if (TRANSPORT.includes(module) || module.startsWith("undici/")) return 2
  if (CLIENTS.includes(module) || /^internal\/(client|authlete)/.test(module)) return 3
  if (module.startsWith("simulator/")) return 3.5
  if (PROGRAMS.includes(module)) return 4
  if (module.startsWith("sql/")) return 4.5
  if (module === "CibaRoutes" || module === "HealthRoutes" || module.startsWith("routes/")) return 5
  if (module.startsWith("playground/")) return 6
  if (module.startsWith("cli/")) return 7
  throw new Error(`${module} has no layer in ARCHITECTURE.md: add it to the table and to this test`)
}

/** The area a module belongs to: a subfolder with an entry, or the root. */
const areaOf = (module: string) => module.includes("/") && !module.startsWith("internal/") ? module.split("/")[0]! : ""

/** Reaches into another area's `internal/` that ARCHITECTURE.md lists. */
const ALLOWED_REACHES = new Set([
  "cli/Demo -> simulator/internal/crypto",
  "playground/internal/idToken -> simulator/internal/crypto"
])

const modules = (): ReadonlyArray<string> => {
  const found: Array<string> = []
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (path.endsWith(".ts")) found.push(relative(src, path).replace(/\.ts$/, ""))
    }
  }
  walk(src)
  return found.sort()
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g

/** A module's imports, its comments left out (their examples import as users do). */
const importsOf = (module: string) =>
  [...readFileSync(join(src, `${module}.ts`), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").matchAll(IMPORT)].map((
    match
  ) => match[1] ?? match[2]!)

describe("the layers of src/ (ARCHITECTURE.md)", () => {
  it("every module imports only its own layer and the layers above it", () => {
    const wrong: Array<string> = []
    for (const module of modules()) {
      for (const specifier of importsOf(module).filter((s) => s.startsWith("."))) {
        const target = relative(src, resolve(dirname(join(src, module)), specifier)).replace(/\.js$/, "")
        if (layerOf(target) > layerOf(module)) {
          wrong.push(`${module} (layer ${layerOf(module)}) -> ${target} (layer ${layerOf(target)})`)
        }
      }
    }
    assert.deepStrictEqual(wrong, [])
  })

  it("internal/ modules stay in their area, but for the reaches ARCHITECTURE.md lists", () => {
    const reaches: Array<string> = []
    for (const module of modules()) {
      for (const specifier of importsOf(module).filter((s) => s.startsWith("."))) {
        const target = relative(src, resolve(dirname(join(src, module)), specifier)).replace(/\.js$/, "")
        // The root's internal/ serves the root and the areas beside it; an area's internal/ is its own.
        if (/^[^/]+\/internal\//.test(target) && areaOf(target) !== areaOf(module)) {
          reaches.push(`${module} -> ${target}`)
        }
      }
    }
    assert.deepStrictEqual(reaches.filter((reach) => !ALLOWED_REACHES.has(reach)), [])
    // The listed reaches are still there; when one goes, it goes from the list too.
    assert.deepStrictEqual([...new Set(reaches)].sort(), [...ALLOWED_REACHES].sort())
  })

  it("no module imports a package's barrel", () => {
    const barrels = ["effect", "@effect/platform", "@effect/platform-node", "@effect/sql", "@effect/cluster"]
      .concat(["@effect/workflow", "@effect/sql-pg", "@effect/sql-sqlite-node", "@effect/rpc", "@effect/experimental"])
    const wrong = modules().flatMap((module) =>
      importsOf(module).filter((specifier) => barrels.includes(specifier)).map((specifier) => `${module}: ${specifier}`)
    )
    assert.deepStrictEqual(wrong, [])
  })

  it("the rule sees a wrong import (a program importing a route)", () => {
    assert.isAbove(layerOf("CibaRoutes"), layerOf("TokenEndpoint"))
    assert.isAbove(layerOf("sql/DurableDecisions"), layerOf("DeviceDecision"))
    assert.throws(() => layerOf("NewModule"), /has no layer/)
  })
})

describe("one module, one concept (ARCHITECTURE.md)", () => {
  const entries = ["index", "routes/index", "undici/index", "simulator/index", "playground/index", "sql/index"]

  it("no module is over 450 lines", () => {
    const long = modules().map((module) =>
      [module, readFileSync(join(src, `${module}.ts`), "utf8").split("\n").length] as const
    )
      .filter(([, lines]) => lines > 450)
    assert.deepStrictEqual(long, [])
  })

  it("every entry exports its modules as namespaces named after them, and only types from internal/", () => {
    const wrong = entries.flatMap((entry) =>
      [...readFileSync(join(src, `${entry}.ts`), "utf8").matchAll(/^export\b.*$/gm)].map((match) => match[0])
        .filter((line) => {
          const namespace = /^export \* as (\w+) from "\.\.?\/(?:[\w]+\/)?(\w+)\.js"$/.exec(line)
          if (namespace !== null) return namespace[1] !== namespace[2]
          return !/^export type \{ [\w, ]+ \} from "\.\/internal\/\w+\.js"$/.test(line)
        })
        .map((line) => `${entry}: ${line}`)
    )
    assert.deepStrictEqual(wrong, [])
  })

  it("a service is made by the functions beside its tag: no tag has statics", () => {
    const withStatics = modules().flatMap((module) => {
      const source = ts.createSourceFile(
        module,
        readFileSync(join(src, `${module}.ts`), "utf8"),
        ts.ScriptTarget.Latest
      )
      return source.statements.filter((statement): statement is ts.ClassDeclaration =>
        ts.isClassDeclaration(statement) &&
        /Context\.Tag\(/.test(statement.heritageClauses?.[0]?.getText(source) ?? "") &&
        statement.members.some((member) =>
          ts.getModifiers(member as ts.HasModifiers)?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword) === true
        )
      ).map((statement) => `${module}: ${statement.name?.text}`)
    })
    assert.deepStrictEqual(withStatics, [])
  })

  it("no two exported types or values of the entries share a name, but the functions beside each tag", () => {
    const config = ts.getParsedCommandLineOfConfigFile(join(src, "..", "tsconfig.build.json"), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: () => {}
    })!
    const program = ts.createProgram(entries.map((entry) => join(src, `${entry}.ts`)), config.options)
    const checker = program.getTypeChecker()
    const places = new Map<string, Array<string>>()
    const walk = (symbol: ts.Symbol, prefix: string) => {
      for (const exported of checker.getExportsOfModule(symbol)) {
        const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
        const declaration = target.declarations?.[0]
        if (declaration !== undefined && ts.isSourceFile(declaration)) {
          walk(target, `${prefix}${exported.name}.`)
          continue
        }
        places.set(exported.name, [...(places.get(exported.name) ?? []), `${prefix}${exported.name}`])
      }
    }
    for (const entry of entries) {
      walk(checker.getSymbolAtLocation(program.getSourceFile(join(src, `${entry}.ts`))!)!, "")
    }
    const shared = [...places].filter(([name, where]) =>
      new Set(where).size > 1 && !/^(make|layer\w*|defaults)$/.test(name)
    )
    assert.deepStrictEqual(shared, [])
    assert.isAbove(places.size, 150)
  })
})
