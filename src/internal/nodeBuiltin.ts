/**
 * A Node built-in module where the runtime has one (Node, Bun, Deno), taken with
 * `process.getBuiltinModule` rather than an import, so that the modules that use it load anywhere.
 */
export const nodeBuiltin = <A>(name: `node:${string}`): A | undefined =>
  (globalThis as { readonly process?: { readonly getBuiltinModule?: (name: string) => unknown } }).process
    ?.getBuiltinModule?.(name) as A | undefined
