// Loaded with `node --import`: makes `@effect/cli` impossible to resolve, as on a machine where the
// optional peer is not installed.
import { register } from "node:module"

register(
  "data:text/javascript," + encodeURIComponent(`
    export async function resolve(specifier, context, next) {
      if (specifier === "@effect/cli" || specifier.startsWith("@effect/cli/")) {
        const error = new Error("Cannot find package '@effect/cli' imported from the command line")
        error.code = "ERR_MODULE_NOT_FOUND"
        throw error
      }
      return next(specifier, context)
    }
  `)
)
