import { defineConfig } from "vitest/config"
import base from "./vitest.config.js"

// The pages in Debian's Chromium (`npm run test:browser`): the aliases of vitest.config.ts, the
// browser tests only, one file at a time.
export default defineConfig({
  ...base,
  test: {
    include: ["test/browser/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false
  }
})
