// Run before the browser tests: they need Debian's Chromium (playwright-core downloads no browser).
import { existsSync } from "node:fs"

const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
if (!existsSync(chromium)) {
  console.error(
    `Chromium is missing: apt-get install -y chromium (looked for ${chromium}; CHROMIUM_PATH names another)`
  )
  process.exit(1)
}
