/**
 * `effect-authlete serve`: one node of a CIBA authorization server built from this library's routes,
 * against the Authlete the `AUTHLETE_*` environment names (a real one, or `effect-authlete
 * simulate`), with its decisions carried out by the durable engine of `effect-authlete/sql` on
 * `--database`: a SQLite file (one node), or PostgreSQL, where every `serve` on the same database is
 * one authorization server.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { readFileSync } from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import { AuthenticationDevice, AuthleteClient, BackchannelLimits, CibaMetrics, ClientNotifier } from "../index.js"
import { APPROVAL_PATH, defaultUsers, type PlaygroundUsers, usersLayer } from "../playground/Playground.js"
import { CibaRoutes, HealthRoutes } from "../routes/index.js"
import {
  ClusterNode,
  ClusterReadiness,
  DurableDecisions,
  Migrations,
  NotificationVault,
  SecretBox,
  SqlPendingRequestStore,
  SqlRateLimiterStore
} from "../sql/index.js"
import { UndiciTransport } from "../undici/index.js"
import { explain, listening, runCommand } from "./CliOptions.js"
import type { ValuesOf } from "./internal/args.js"
import { limitsOf } from "./internal/limits.js"
import * as Observability from "./internal/observability.js"
import { durationMillis, otlpEndpointProblem } from "./internal/operations.js"
import { tlsProblems } from "./internal/tls.js"

/**
 * `serve` cannot start as asked: settings missing or invalid (Authlete's, the secret key, a users
 * file it cannot read), every one of them in `detail`.
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

const KEY_PURPOSE = "the same on every node: it encrypts the PUSH tokens and notification tokens kept in the database"

/** The box of the key, or a missing or malformed key said in words: what it is, and how to make one. */
const secretBox = SecretBox.secretKeyConfig.pipe(
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

/**
 * `CibaMetrics.pendingRequests`, counted in the database every five seconds: every node shows the
 * whole cluster's count (take the maximum across nodes, not the sum).
 */
const pendingGauge = Layer.scopedDiscard(Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const count = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const rows = yield* sql<{ readonly pending: number | string }>`SELECT count(*) AS pending
      FROM ${sql(Migrations.tables.pendingRequests)} WHERE state = 'pending' AND expires_at > ${now}`
    yield* Metric.set(CibaMetrics.pendingRequests, Number(rows[0]?.pending ?? 0))
  })
  yield* count.pipe(
    Effect.catchAll((error) => Effect.logDebug(`Could not count the pending requests: ${error.message}`)),
    Effect.repeat(Schedule.spaced("5 seconds")),
    Effect.forkScoped
  )
}))

/** Every layer of one node, on its database and HTTP server. */
const nodeLayer = (options: {
  readonly database: string
  readonly runner: { readonly host: string; readonly port: number }
  readonly users: PlaygroundUsers
  readonly authlete: AuthleteClient.AuthleteClientOptions
  readonly box: SecretBox.SecretBoxService
  readonly automatedApproval: boolean
  readonly allowLocalNotifications: boolean
  readonly limits: BackchannelLimits.BackchannelLimitsOptions
  /** HTTPS: the certificate, its key and, for mutual TLS, the CAs whose certificates are asked for. */
  readonly tls: { readonly cert: string; readonly key: string; readonly clientCa?: string | undefined } | undefined
  readonly clientCertificate: CibaRoutes.CibaRoutesOptions["clientCertificate"]
  readonly listen: { readonly host: string; readonly port: number }
  readonly health: { readonly livePath: string; readonly readyPath: string }
  /** How long finished flows stay in the database. */
  readonly retentionMillis: number
}) => {
  const cluster = ClusterNode.isPostgresUrl(options.database)
    ? ClusterNode.layerPg({ url: Redacted.make(options.database), runnerAddress: options.runner })
    : ClusterNode.layerSqlite({ filename: ClusterNode.sqliteFilename(options.database) })
  const stores = Layer.mergeAll(
    SqlPendingRequestStore.layer,
    NotificationVault.layer,
    // Counted in the database: every node on it holds one limit.
    BackchannelLimits.layer(options.limits).pipe(Layer.provide(SqlRateLimiterStore.layer))
  ).pipe(Layer.provide(Layer.succeed(SecretBox.SecretBox, options.box)))
  const { users } = options
  const services = Layer.mergeAll(
    AuthleteClient.layer(options.authlete),
    // The workflow retries the notification until the auth_req_id expires: one attempt per call here.
    ClientNotifier.layer({
      retry: "none",
      allowLoopback: options.allowLocalNotifications,
      allowPrivateNetworks: options.allowLocalNotifications
    }),
    usersLayer(users),
    AuthenticationDevice.layerNoop
  ).pipe(Layer.provide(UndiciTransport.layer))
  const durable = ClusterNode.layerSweeper({ retention: Duration.millis(options.retentionMillis) }).pipe(
    Layer.provideMerge(DurableDecisions.layer),
    Layer.provideMerge(stores),
    Layer.provideMerge(services),
    Layer.provideMerge(cluster)
  )
  const app = CibaRoutes.router({
    ...(options.automatedApproval ? { automatedApproval: APPROVAL_PATH } : {}),
    ...(options.clientCertificate === undefined ? {} : { clientCertificate: options.clientCertificate })
  })
  const { tls } = options
  const createServer = (): Http.Server =>
    tls === undefined
      ? Http.createServer()
      : Https.createServer({
        cert: tls.cert,
        key: tls.key,
        // Mutual TLS: certificates asked for, judged by Authlete (as FAPI deployments do), not here.
        ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false })
      }) as unknown as Http.Server
  // The port opens once the node is ready: a request never waits on a node that is still starting.
  const listening = NodeHttpServer.layer(createServer, options.listen).pipe(Layer.provideMerge(durable))
  // Health for the load balancer: the database answers, the node holds its share of the cluster,
  // and Authlete's configuration was read recently.
  const served = Layer.unwrapEffect(
    Effect.map(HealthRoutes.authleteCheck(), (authlete) =>
      HttpServer.serve(HttpRouter.concat(
        app,
        HealthRoutes.healthRouter({
          livePath: options.health.livePath,
          readyPath: options.health.readyPath,
          checks: [
            { name: "database", check: Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`) },
            { name: "cluster", check: ClusterReadiness.holdsShare() },
            authlete
          ]
        })
      )))
  )
  return Layer.mergeAll(served, pendingGauge).pipe(Layer.provideMerge(listening))
}

/**
 * Every setting, read and checked before anything is opened or written: each one missing or invalid
 * is told, all of them at once.
 */
const settings = (flags: ValuesOf<"serve">) =>
  Effect.all({
    authlete: Effect.mapError(AuthleteClient.environmentConfig, (error) => new ServeError({ detail: explain(error) })),
    box: secretBox,
    users: flags.users === undefined ? Effect.succeed<PlaygroundUsers>(defaultUsers) : readUsers(flags.users),
    tls: Effect.suspend(() => {
      const problems = tlsProblems(flags)
      if (problems.length > 0) return Effect.fail(new ServeError({ detail: problems.join("; ") }))
      if (flags.tlsCert === undefined || flags.tlsKey === undefined) return Effect.succeed(undefined)
      const read = (flag: string, file: string) =>
        Effect.try({
          try: () => readFileSync(file, "utf8"),
          catch: (cause) => new ServeError({ detail: `--${flag} ${file} cannot be read: ${(cause as Error).message}` })
        })
      return Effect.all({
        cert: read("tls-cert", flags.tlsCert),
        key: read("tls-key", flags.tlsKey),
        clientCa: flags.clientCa === undefined ? Effect.succeed(undefined) : read("client-ca", flags.clientCa)
      })
    }),
    retentionMillis: Effect.suspend(() => {
      const problems: Array<string> = []
      const retention = durationMillis(flags.retention)
      if (retention === undefined) {
        problems.push(`--retention ${flags.retention} is not a duration such as 30s, 15m, 12h or 7d`)
      }
      for (
        const [flag, path] of [
          ["health-live-path", flags.healthLivePath],
          ["health-ready-path", flags.healthReadyPath],
          ["metrics-path", flags.metricsPath]
        ] as const
      ) {
        if (!path.startsWith("/")) problems.push(`--${flag} ${path} must start with /`)
      }
      const otlp = flags.otlpEndpoint === undefined ? undefined : otlpEndpointProblem(flags.otlpEndpoint)
      if (otlp !== undefined) problems.push(otlp)
      return problems.length > 0 || retention === undefined
        ? Effect.fail(new ServeError({ detail: problems.join("; ") }))
        : Effect.succeed(retention)
    }),
    limits: Effect.suspend(() => {
      const limits = limitsOf(flags)
      return limits._tag === "Right"
        ? Effect.succeed(limits.right)
        : Effect.fail(new ServeError({ detail: limits.left.join("; ") }))
    })
  }, { mode: "validate" }).pipe(
    Effect.mapError((errors) => {
      const details = Object.values(errors).flatMap((error) => error._tag === "Some" ? [error.value.detail] : [])
      return new ServeError({
        detail: details.length === 1
          ? details[0]!
          : `serve cannot start:\n${details.map((detail) => `  - ${detail}`).join("\n")}`
      })
    })
  )

const nonEmpty = (value: string | undefined) => value === undefined || value === "" ? undefined : value

/**
 * The `serve` command's program.
 */
export const program = (flags: ValuesOf<"serve">) => {
  const otlpEndpoint = flags.otlpEndpoint ?? nonEmpty(process.env["OTEL_EXPORTER_OTLP_ENDPOINT"])
  return Effect.gen(function*() {
    const { authlete, box, limits, retentionMillis, tls, users } = yield* settings(flags)
    const context = yield* Layer.build(nodeLayer({
      database: flags.database,
      runner: { host: flags.runnerHost, port: flags.runnerPort },
      users,
      authlete,
      box,
      automatedApproval: flags.automatedApproval,
      allowLocalNotifications: flags.allowLocalNotifications,
      limits,
      tls,
      clientCertificate: flags.clientCertificateHeader !== undefined
        ? { header: flags.clientCertificateHeader, trustedProxies: flags.trustedProxy }
        : tls?.clientCa !== undefined
        ? { fromTls: true }
        : undefined,
      listen: { host: flags.host, port: flags.port },
      health: { livePath: flags.healthLivePath, readyPath: flags.healthReadyPath },
      retentionMillis
    }))
    const metrics = flags.metricsPort === undefined
      ? undefined
      : yield* Observability.prometheusLayer({
        host: flags.metricsHost,
        port: flags.metricsPort,
        path: flags.metricsPath
      })
    const address = Context.get(context, HttpServer.HttpServer).address
    const scheme = tls === undefined ? "http" : "https"
    const origin = address._tag === "TcpAddress"
      ? `${scheme}://${address.hostname}:${address.port}`
      : `${scheme}://localhost`
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
      ...(metrics === undefined ? {} : { metricsUrl: metrics.url }),
      ...(otlpEndpoint === undefined ? {} : { otlpEndpoint }),
      pid: process.pid
    }
    yield* flags.json
      ? Console.log(JSON.stringify(info))
      : Console.log(`effect-authlete: serving ${origin} (${info.database}); press Ctrl-C to stop.`)
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    listening(flags.port),
    // Around everything the node runs: its fibers log in this format and trace to this endpoint.
    Effect.provide(otlpEndpoint === undefined ? Layer.empty : Observability.otlpLayer(otlpEndpoint)),
    Effect.provide(Observability.loggerLayer(flags.logFormat, flags.logLevel))
  )
}

/**
 * The `serve` command.
 */
export const run = (flags: ValuesOf<"serve">): void => runCommand("serve", program(flags))
