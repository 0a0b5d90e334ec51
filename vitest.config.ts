import { fileURLToPath } from "node:url"
import { configDefaults, defineConfig } from "vitest/config"

// Tests import the package by its name, as users do, but run against the sources.
const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^effect-authlete\/simulator$/, replacement: src("simulator/index.ts") },
      { find: /^effect-authlete\/undici$/, replacement: src("undici/index.ts") },
      { find: /^effect-authlete\/playground$/, replacement: src("playground/index.ts") },
      { find: /^effect-authlete\/sql$/, replacement: src("sql/index.ts") },
      { find: /^effect-authlete\/routes$/, replacement: src("routes/index.ts") },
      { find: /^effect-authlete$/, replacement: src("index.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    // The browser tests need Chromium (`npm run test:browser`), the cluster test PostgreSQL
    // (`npm run test:cluster`).
    exclude: [...configDefaults.exclude, "test/browser/**", "test/cluster/**"],
    testTimeout: 120_000
  }
})
