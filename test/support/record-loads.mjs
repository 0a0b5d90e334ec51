// Loaded with `node --import`: appends the URL of every module loaded to the file named by
// EFFECT_AUTHLETE_TEST_LOADS, one a line (to see what a command line run really loads).
import { register } from "node:module"

register(
  "data:text/javascript," + encodeURIComponent(`
    import { appendFileSync } from "node:fs"
    const file = process.env.EFFECT_AUTHLETE_TEST_LOADS
    export async function load(url, context, next) {
      if (file !== undefined) appendFileSync(file, url + "\\n")
      return next(url, context)
    }
  `)
)
