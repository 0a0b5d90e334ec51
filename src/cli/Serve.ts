/**
 * `effect-authlete serve`: one node of a CIBA authorization server built from this library's routes,
 * against the Authlete the `AUTHLETE_*` environment names (a real one, or `effect-authlete
 * simulate`), with its decisions carried out by the durable engine of `effect-authlete/sql` on
 * `--database`: a SQLite file (one node), or PostgreSQL, where every `serve` on the same database is
 * one authorization server.
 */
import { Command, Options } from "@effect/cli"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Console, Context, Effect, Layer, Logger, Option, Redacted, Schema } from "effect"
import { readFileSync } from "node:fs"
import * as Http from "node:http"
import { AuthenticationDevice, AuthleteClient, CibaRoutes, ClientNotifier } from "../index.js"
import { APPROVAL_PATH, defaultUsers, type PlaygroundUsers, usersLayer } from "../playground/Playground.js"
import {
  ClusterNode,
  DurableDecisions,
  NotificationVault,
  SecretBox,
  type SecretBoxService,
  secretKeyConfig,
  SqlPendingRequestStore
} from "../sql/index.js"
import { UndiciTransport } from "../undici/index.js"
import { listening, port, reportFailure } from "./CliOptions.js"

/**
 * `serve` cannot start as asked: a users file it cannot read, or no secret key.
 */
export class ServeError extends Schema.TaggedError<ServeError>("effect-authlete/cli/ServeError")("ServeError", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

const UsersFile = Schema.parseJson(Schema.Record({
  key: Schema.String,
  value: Schema.Struct({
    claims: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Unknown }), { default: () => ({}) }),
    loginHints: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
    userCode: Schema.optional(Schema.String)
  })
}))

const readUsers = (file: string) =>
  Effect.try({
    try: () => readFileSync(file, "utf8"),
    catch: (cause) => new ServeError({ detail: `The users file ${file} cannot be read: ${(cause as Error).message}` })
  }).pipe(
    Effect.flatMap(Schema.decode(UsersFile)),
    Effect.mapError((error) =>
      error._tag === "ServeError"
        ? error
        : new ServeError({ detail: `The users file ${file} is not a JSON object of users: ${error.message}` })
    )
  )

const stderrLogger = Logger.prettyLogger({ stderr: true })

const KEY_PURPOSE = "the same on every node: it encrypts the PUSH tokens and notification tokens kept in the database"

/** The box of the key, or a missing or malformed key said in words: what it is, and how to make one. */
const secretBox = secretKeyConfig.pipe(
  Effect.mapError(() =>
    new ServeError({
      detail:
        `Set EFFECT_AUTHLETE_SECRET_KEY to 32 random bytes in base64 (\`openssl rand -base64 32\`), ${KEY_PURPOSE}`
    })
  ),
  Effect.flatMap((key) =>
    Effect.mapError(SecretBox.make(key), (error) =>
      new ServeError({
        detail: `EFFECT_AUTHLETE_SECRET_KEY: ${
          error._op === "InvalidData" ? error.message : String(error)
        }. It must be ${KEY_PURPOSE}`
      }))
  )
)

/** Every layer of one node, on its database and HTTP server. */
const nodeLayer = (options: {
  readonly database: string
  readonly runner: { readonly host: string; readonly port: number }
  readonly users: PlaygroundUsers
  readonly box: SecretBoxService
  readonly automatedApproval: boolean
  readonly allowLocalNotifications: boolean
  readonly listen: { readonly host: string; readonly port: number }
}) => {
  const cluster = ClusterNode.isPostgresUrl(options.database)
    ? ClusterNode.layerPg({ url: Redacted.make(options.database), runnerAddress: options.runner })
    : ClusterNode.layerSqlite({ filename: ClusterNode.sqliteFilename(options.database) })
  const stores = Layer.mergeAll(SqlPendingRequestStore.layer, NotificationVault.layer).pipe(
    Layer.provide(Layer.succeed(SecretBox, options.box))
  )
  const { users } = options
  const services = Layer.mergeAll(
    AuthleteClient.layerConfig(),
    // The workflow retries the notification until the auth_req_id expires: one attempt per call here.
    ClientNotifier.layer({
      retry: "none",
      allowLoopback: options.allowLocalNotifications,
      allowPrivateNetworks: options.allowLocalNotifications
    }),
    usersLayer(users),
    AuthenticationDevice.layerNoop
  ).pipe(Layer.provide(UndiciTransport.layer))
  const durable = ClusterNode.layerSweeper().pipe(
    Layer.provideMerge(DurableDecisions.layer),
    Layer.provideMerge(stores),
    Layer.provideMerge(services),
    Layer.provideMerge(cluster)
  )
  const app = CibaRoutes.router(options.automatedApproval ? { automatedApproval: APPROVAL_PATH } : {})
  // The port opens once the node is ready: a request never waits on a node that is still starting.
  const listening = NodeHttpServer.layer(() => Http.createServer(), options.listen).pipe(Layer.provideMerge(durable))
  return HttpServer.serve(app).pipe(Layer.provideMerge(listening))
}

/**
 * The `serve` command.
 */
export const serve = Command.make(
  "serve",
  {
    host: Options.text("host").pipe(
      Options.withDescription("The address the HTTP server listens on"),
      Options.withDefault("127.0.0.1")
    ),
    port: port("The HTTP port (0: any free one)"),
    database: Options.text("database").pipe(
      Options.withDescription(
        "postgres://... (every node on it is one authorization server) or a SQLite file (a single node)"
      ),
      Options.withDefault("effect-authlete.db")
    ),
    runnerHost: Options.text("runner-host").pipe(
      Options.withDescription("PostgreSQL: the address the other nodes reach this one at"),
      Options.withDefault("127.0.0.1")
    ),
    runnerPort: Options.integer("runner-port").pipe(
      Options.withDescription(
        "PostgreSQL: the port of that address (unique per node on one host, stable across restarts)"
      ),
      Options.withDefault(34431)
    ),
    users: Options.file("users", { exists: "yes" }).pipe(
      Options.withDescription("A JSON object of users: { subject: { claims, loginHints, userCode } }"),
      Options.optional
    ),
    automatedApproval: Options.boolean("automated-approval").pipe(
      Options.withDescription(`Serve POST ${APPROVAL_PATH}/{auth_req_id}/{allow|deny} (tests only: anyone may decide)`)
    ),
    allowLocalNotifications: Options.boolean("allow-local-notifications").pipe(
      Options.withDescription("Send notifications to loopback and private addresses (local clients, tests)")
    ),
    json: Options.boolean("json").pipe(Options.withDescription("Print one JSON line with the node's URLs"))
  },
  (flags) =>
    Effect.gen(function*() {
      const users: PlaygroundUsers = Option.isSome(flags.users) ? yield* readUsers(flags.users.value) : defaultUsers
      const box = yield* secretBox
      const context = yield* Layer.build(nodeLayer({
        database: flags.database,
        runner: { host: flags.runnerHost, port: flags.runnerPort },
        users,
        box,
        automatedApproval: flags.automatedApproval,
        allowLocalNotifications: flags.allowLocalNotifications,
        listen: { host: flags.host, port: flags.port }
      }))
      const address = Context.get(context, HttpServer.HttpServer).address
      const origin = address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : "http://localhost"
      const postgres = ClusterNode.isPostgresUrl(flags.database)
      const info = {
        issuer: origin,
        backchannelAuthenticationEndpoint: `${origin}/backchannel`,
        tokenEndpoint: `${origin}/token`,
        discovery: `${origin}/.well-known/openid-configuration`,
        jwksUri: `${origin}/jwks`,
        ...(flags.automatedApproval
          ? { automatedApprovalUrl: `${origin}${APPROVAL_PATH}/{auth_req_id}/{action}` }
          : {}),
        database: postgres ? "postgresql" : "sqlite",
        ...(postgres ? { runnerAddress: `${flags.runnerHost}:${flags.runnerPort}` } : {}),
        pid: process.pid
      }
      yield* flags.json
        ? Console.log(JSON.stringify(info))
        : Console.log(`effect-authlete: serving ${origin} (${info.database}); press Ctrl-C to stop.`)
      return yield* Effect.never
    }).pipe(
      Effect.scoped,
      listening(flags.port),
      reportFailure,
      // Logs go to stderr: stdout carries what the command prints (one JSON line with --json).
      Effect.provide(Layer.merge(
        Logger.replace(Logger.defaultLogger, stderrLogger),
        Logger.replace(Logger.prettyLoggerDefault, stderrLogger)
      ))
    )
).pipe(Command.withDescription("Run one node of the CIBA authorization server (durable; several on one PostgreSQL)"))
