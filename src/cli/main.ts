#!/usr/bin/env node
/**
 * `effect-authlete`: loads the command line, which needs the optional peers `@effect/cli` and
 * `@effect/platform-node`; when one is missing it says which to install instead of a stack trace.
 */
const OPTIONAL_PEERS = ["@effect/cli", "@effect/platform-node", "undici"] as const

import("./Cli.js").catch((error: unknown) => {
  const text = error instanceof Error ? error.message : String(error)
  const missing = OPTIONAL_PEERS.find((name) => text.includes(`'${name}'`) || text.includes(`"${name}"`))
  if (missing === undefined || (error as { code?: unknown }).code !== "ERR_MODULE_NOT_FOUND") throw error
  console.error(
    `effect-authlete: the command line needs ${missing}; install it: npm install @effect/cli@~0.77.2 ` +
      "@effect/platform-node@~0.108.2 undici@^7.10.0"
  )
  process.exitCode = 1
})
