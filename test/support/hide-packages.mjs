// Loaded with `node --import`: makes the packages named in EFFECT_AUTHLETE_TEST_HIDE (comma-separated)
// impossible to resolve, as on a machine where those optional peers are not installed. Node's own
// error is imitated: ERR_MODULE_NOT_FOUND, "Cannot find package '<name>' imported from <parent>".
import { register } from "node:module"

register(
  "data:text/javascript," + encodeURIComponent(`
    const hidden = (process.env.EFFECT_AUTHLETE_TEST_HIDE ?? "").split(",").filter((name) => name !== "")
    export async function resolve(specifier, context, next) {
      const name = hidden.find((name) => specifier === name || specifier.startsWith(name + "/"))
      if (name !== undefined) {
        const error = new Error("Cannot find package '" + name + "' imported from " + context.parentURL)
        error.code = "ERR_MODULE_NOT_FOUND"
        throw error
      }
      return next(specifier, context)
    }
  `)
)
