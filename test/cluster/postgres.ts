/**
 * The PostgreSQL the cluster test runs on: `EFFECT_AUTHLETE_TEST_PG_URL`, or the one `.ci/postgres
 * start` makes. Run before the test (`npm run test:cluster`) to say plainly what is missing.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { existsSync } from "node:fs"
import { delimiter, join } from "node:path"

export const postgresUrl = process.env.EFFECT_AUTHLETE_TEST_PG_URL ??
  "postgres://postgres@127.0.0.1:15432/effect_authlete_test"

/** The URL without its password, to show. */
export const shownUrl = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")

/** A PostgreSQL client on the test database. */
export const layer = Layer.unwrapEffect(
  Effect.sync(() => PgClient.layer({ url: Redacted.make(postgresUrl), maxConnections: 2, connectTimeout: "3 seconds" }))
)

/** Drops and recreates the `public` schema: every table of an earlier run goes. */
export const reset = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`DROP SCHEMA IF EXISTS public CASCADE`
  yield* sql`CREATE SCHEMA public`
})

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, "/"))

/** An error and the causes under it, in words. */
const explain = (error: unknown): string => {
  const parts: Array<string> = []
  for (let cause = error; cause instanceof Error && parts.length < 4; cause = cause.cause) parts.push(cause.message)
  return parts.join(": ") || String(error)
}

/** Debian's `prometheus`, which the operations test runs to scrape the nodes (`PROMETHEUS_PATH`, else on PATH). */
const prometheusFound = (): boolean => {
  if (process.env.PROMETHEUS_PATH !== undefined) return existsSync(process.env.PROMETHEUS_PATH)
  return (process.env.PATH ?? "").split(delimiter).some((directory) => existsSync(join(directory, "prometheus")))
}

if (isMain) {
  if (!prometheusFound()) {
    console.error(
      "The cluster test scrapes the nodes with a real Prometheus, and none is installed:\n" +
        "  as root, `apt-get install -y prometheus` (Debian's package), or set PROMETHEUS_PATH to a prometheus binary."
    )
    process.exit(1)
  }
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`).pipe(
    Effect.provide(layer),
    Effect.timeout("10 seconds"),
    Effect.either,
    Effect.runPromise
  ).then((result) => {
    if (result._tag === "Right") return console.log(`PostgreSQL for the cluster test: ${shownUrl(postgresUrl)}`)
    console.error(
      `The cluster test needs a PostgreSQL whose database it may wipe, and cannot reach ${shownUrl(postgresUrl)}:\n` +
        `  ${explain(result.left)}\n` +
        "Start a throwaway one with `.ci/postgres start` (as root: it installs Debian's postgresql when missing),\n" +
        "or set EFFECT_AUTHLETE_TEST_PG_URL=postgres://user:password@host:port/database to one of yours."
    )
    process.exit(1)
  })
}
