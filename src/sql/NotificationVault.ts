/**
 * Where the durable engine keeps what it must deliver, between Authlete's answer and the client:
 * the notification `/complete` produced (for PUSH, the tokens), the client's notification token
 * (to rebuild a PING should that answer be lost), and the last notification endpoint Authlete
 * reported for each client. Secrets are sealed with `SecretBox` (AES-256-GCM) before they reach the
 * database, and deleted once delivered or expired.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { ClientNotification } from "../ClientNotifier.js"
import { BATCH_ROWS } from "./internal/retention.js"
import { migrate, tables } from "./Migrations.js"
import * as SecretBox from "./SecretBox.js"

/**
 * The vault could not be read or written (a database error), or a sealed value would not open.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotificationVaultError extends Schema.TaggedError<NotificationVaultError>(
  "effect-authlete/NotificationVaultError"
)("NotificationVaultError", {
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `The notification vault failed to ${this.operation}: ${this.detail}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface NotificationVaultService {
  /** Keeps the client's notification token of a request, sealed, until `expiresAt` (milliseconds). */
  readonly keepToken: (
    authReqId: string,
    token: Redacted.Redacted<string>,
    expiresAt: number
  ) => Effect.Effect<void, NotificationVaultError>
  readonly token: (authReqId: string) => Effect.Effect<Option.Option<Redacted.Redacted<string>>, NotificationVaultError>
  /** Keeps a notification to deliver, sealed whole (endpoint, token and body), until `expiresAt`. */
  readonly keepNotification: (
    authReqId: string,
    notification: ClientNotification,
    expiresAt: number
  ) => Effect.Effect<void, NotificationVaultError>
  readonly notification: (authReqId: string) => Effect.Effect<Option.Option<ClientNotification>, NotificationVaultError>
  /** Remembers the notification endpoint Authlete reported for a client. */
  readonly rememberEndpoint: (
    clientId: number,
    endpoint: string,
    nowMillis: number
  ) => Effect.Effect<void, NotificationVaultError>
  readonly endpointOf: (clientId: number) => Effect.Effect<Option.Option<string>, NotificationVaultError>
  /** Deletes every secret kept for a request (delivered, or no longer deliverable). */
  readonly forget: (authReqId: string) => Effect.Effect<void, NotificationVaultError>
  /** Deletes the secrets of expired requests, those of at most 500 requests a call; how many. */
  readonly purgeExpired: (nowMillis: number) => Effect.Effect<number, NotificationVaultError>
  /**
   * Deletes the endpoints of clients Authlete reported none for since `beforeMillis` (no notification
   * since), at most 1,000 a call; how many. A later notification remembers the endpoint again.
   */
  readonly forgetEndpoints: (beforeMillis: number) => Effect.Effect<number, NotificationVaultError>
}

const SealedNotification = Schema.parseJson(Schema.Struct({
  endpoint: Schema.String,
  token: Schema.String,
  body: Schema.String
}))
const encodeNotification = Schema.encodeSync(SealedNotification)
const decodeNotification = Schema.decodeUnknown(SealedNotification)

type Kind = "notification-token" | "notification"

const purposeOf = (kind: Kind, authReqId: string) => `effect-authlete/${kind}:${authReqId}`

const failWith = (operation: string) => (error: SqlError | SecretBox.SecretBoxError | { readonly message: string }) =>
  new NotificationVaultError({ operation, detail: error.message })

const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const box = yield* SecretBox.SecretBox
  const secrets = sql(tables.sealedSecrets)
  const endpoints = sql(tables.clientEndpoints)

  const keep = (authReqId: string, kind: Kind, plaintext: string, expiresAt: number, operation: string) =>
    Effect.flatMap(
      box.seal(plaintext, purposeOf(kind, authReqId)),
      (sealed) =>
        sql`INSERT INTO ${secrets} ${
          sql.insert({ auth_req_id: authReqId, kind, sealed, expires_at: expiresAt })
        } ON CONFLICT (auth_req_id, kind) DO UPDATE SET sealed = ${sealed}, expires_at = ${expiresAt}`
    ).pipe(
      Effect.asVoid,
      Effect.mapError(failWith(operation))
    )

  const read = (authReqId: string, kind: Kind, operation: string) =>
    sql<{ readonly sealed: string }>`SELECT sealed FROM ${secrets}
      WHERE auth_req_id = ${authReqId} AND kind = ${kind}`.pipe(
      Effect.flatMap((rows) =>
        rows[0] === undefined
          ? Effect.succeedNone
          : Effect.asSome(box.open(rows[0].sealed, purposeOf(kind, authReqId)))
      ),
      Effect.mapError(failWith(operation))
    )

  const service: NotificationVaultService = {
    keepToken: (authReqId, token, expiresAt) =>
      keep(authReqId, "notification-token", Redacted.value(token), expiresAt, "keep a notification token"),
    token: (authReqId) =>
      Effect.map(read(authReqId, "notification-token", "read a notification token"), Option.map(Redacted.make)),
    keepNotification: (authReqId, notification, expiresAt) =>
      keep(
        authReqId,
        "notification",
        encodeNotification({ ...notification, token: Redacted.value(notification.token) }),
        expiresAt,
        "keep a notification"
      ),
    notification: (authReqId) =>
      read(authReqId, "notification", "read a notification").pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeedNone,
          onSome: (text) =>
            decodeNotification(text).pipe(
              Effect.map((sealed) => Option.some({ ...sealed, token: Redacted.make(sealed.token) })),
              Effect.mapError(failWith("read a notification"))
            )
        }))
      ),
    rememberEndpoint: (clientId, endpoint, nowMillis) =>
      sql`INSERT INTO ${endpoints} ${sql.insert({ client_id: clientId, endpoint, updated_at: nowMillis })}
        ON CONFLICT (client_id) DO UPDATE SET endpoint = ${endpoint}, updated_at = ${nowMillis}`.pipe(
        Effect.asVoid,
        Effect.mapError(failWith("remember a notification endpoint"))
      ),
    endpointOf: (clientId) =>
      sql<{ readonly endpoint: string }>`SELECT endpoint FROM ${endpoints} WHERE client_id = ${clientId}`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0]?.endpoint)),
        Effect.mapError(failWith("read a notification endpoint"))
      ),
    forget: (authReqId) =>
      sql`DELETE FROM ${secrets} WHERE auth_req_id = ${authReqId}`.pipe(
        Effect.asVoid,
        Effect.mapError(failWith("forget a request's secrets"))
      ),
    purgeExpired: (nowMillis) =>
      // A request has at most two secrets: half a batch of requests is at most a batch of rows.
      sql<{ readonly auth_req_id: string }>`DELETE FROM ${secrets} WHERE expires_at <= ${nowMillis}
        AND auth_req_id IN (
          SELECT auth_req_id FROM ${secrets} WHERE expires_at <= ${nowMillis} LIMIT ${BATCH_ROWS / 2}
        ) RETURNING auth_req_id`.pipe(
        Effect.map((rows) => rows.length),
        Effect.mapError(failWith("forget expired secrets"))
      ),
    forgetEndpoints: (beforeMillis) =>
      sql<{ readonly client_id: number }>`DELETE FROM ${endpoints} WHERE updated_at < ${beforeMillis} AND client_id IN (
          SELECT client_id FROM ${endpoints} WHERE updated_at < ${beforeMillis} LIMIT ${BATCH_ROWS}
        ) RETURNING client_id`.pipe(
        Effect.map((rows) => rows.length),
        Effect.mapError(failWith("forget old notification endpoints"))
      )
  }
  return service
})

/**
 * The tag of the vault.
 *
 * @since 0.1.0
 * @category tags
 */
export class NotificationVault extends Context.Tag("effect-authlete/NotificationVault")<
  NotificationVault,
  NotificationVaultService
>() {}

/**
 * Runs the migrations, then keeps secrets in the application's `SqlClient`, sealed by `SecretBox`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<NotificationVault, NotificationVaultError, SqlClient.SqlClient | SecretBox.SecretBox> =
  Layer
    .effect(
      NotificationVault,
      Effect.zipRight(Effect.mapError(migrate, failWith("migrate its tables")), make)
    )
