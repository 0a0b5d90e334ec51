/**
 * Optional peer dependencies, loaded when a layer or a command that needs one is built, so that an
 * application installs only the peers of what it uses (PostgreSQL's driver without SQLite's, a
 * command line without a database). A peer that is missing is a typed error naming the package and
 * the `npm install` that adds it.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** Every optional peer, with the range `package.json` declares (a test keeps the two equal). */
export const OPTIONAL_PEERS = {
  "@effect/cluster": "~0.60.2",
  "@effect/opentelemetry": "~0.64.1",
  "@effect/platform-node": "~0.108.2",
  "@effect/rpc": "~0.76.2",
  "@effect/sql": "~0.52.1",
  "@effect/sql-pg": "~0.53.0",
  "@effect/sql-sqlite-node": "~0.53.0",
  "@effect/workflow": "~0.19.1",
  "better-sqlite3": "~12.9.0",
  "@opentelemetry/exporter-prometheus": "^0.223.0",
  "@opentelemetry/sdk-metrics": "^2.12.0",
  jose: "^6.2.18",
  "node-forge": "^1.4.4",
  "openid-client": "^6.8.0",
  "undici": "^7.10.0"
} as const

/** @internal */
export type OptionalPeer = keyof typeof OPTIONAL_PEERS

/** What the simulator, the playground and the command line need. */
export const NODE_PEERS: ReadonlyArray<OptionalPeer> = ["@effect/platform-node", "undici"]

/** What `effect-authlete/sql` needs besides a database driver. */
export const ENGINE_PEERS: ReadonlyArray<OptionalPeer> = [
  "@effect/workflow",
  "@effect/cluster",
  "@effect/rpc",
  "@effect/sql",
  "@effect/platform-node"
]

/**
 * The peers to install together with `peer`: those of the durable engine when it is the engine that
 * lacks it, the Node ones for the Node entries, any other alone.
 */
export const installedWith = (peer: OptionalPeer, forEngine = false): ReadonlyArray<OptionalPeer> =>
  forEngine && ENGINE_PEERS.includes(peer)
    ? ENGINE_PEERS
    : NODE_PEERS.includes(peer)
    ? NODE_PEERS
    : ENGINE_PEERS.includes(peer)
    ? ENGINE_PEERS
    : [peer]

/** What to run to add a peer (and the peers that come with it). */
export const installCommand = (packages: ReadonlyArray<OptionalPeer>): string =>
  `npm install ${packages.map((name) => `${name}@${OPTIONAL_PEERS[name]}`).join(" ")}`

/**
 * The optional peer an `ERR_MODULE_NOT_FOUND` (ESM) or `MODULE_NOT_FOUND` (CommonJS) names, if the
 * error is one and the package is one of ours.
 */
export const missingPeerOf = (error: unknown): OptionalPeer | undefined => {
  if (typeof error !== "object" || error === null) return undefined
  const { code, message } = error as { code?: unknown; message?: unknown }
  if ((code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") || typeof message !== "string") return undefined
  // "Cannot find package 'x' imported from ..." (ESM), "Cannot find module 'x/y'" (CommonJS)
  const specifier = /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1]
  if (specifier === undefined) return undefined
  const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]
  return Object.hasOwn(OPTIONAL_PEERS, name!) ? name as OptionalPeer : undefined
}

/**
 * An optional peer dependency is not installed: `install` is the command that adds it.
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingPeerError extends Schema.TaggedError<MissingPeerError>()("MissingPeerError", {
  packageName: Schema.String,
  install: Schema.String
}) {
  override get message(): string {
    return `${this.packageName} is not installed: ${this.install}`
  }
}

/**
 * Loads an optional peer's module when it is needed; a missing peer fails with `MissingPeerError`,
 * any other failure to load is a defect (a broken install is not the caller's to handle).
 */
export const importPeer = <A>(
  packages: ReadonlyArray<OptionalPeer>,
  load: () => Promise<A>
): Effect.Effect<A, MissingPeerError> =>
  Effect.tryPromise({ try: load, catch: (error) => error }).pipe(
    Effect.catchAll((error) => {
      const missing = missingPeerOf(error)
      return missing === undefined
        ? Effect.die(error)
        : Effect.fail(new MissingPeerError({ packageName: missing, install: installCommand(packages) }))
    })
  )
