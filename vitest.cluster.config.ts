import { defineConfig } from "vitest/config"
import base from "./vitest.config.js"

// The cluster test (`npm run test:cluster`): real processes on a real PostgreSQL, one file at a time.
export default defineConfig({
  ...(base.resolve === undefined ? {} : { resolve: base.resolve }),
  test: {
    include: ["test/cluster/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 300_000
  }
})
