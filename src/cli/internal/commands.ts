/**
 * The command line's table: every command and its flags, from which parsing, help and usage errors
 * follow (`args`, `help`), and the types of the values a command's flags give. It imports only the
 * limits' flags (`limits`, which imports nothing at run time):
 * `--help`, `--version` and every usage mistake are answered before `effect` is loaded.
 */
export const PROGRAM = "effect-authlete"

/** How a flag's value is read. `strings` is a string that may be repeated (all values kept, in order). */
export type FlagType = "string" | "integer" | "boolean" | "choice" | "strings"

export interface Flag {
  /** The name after `--`. */
  readonly name: string
  readonly type: FlagType
  readonly description: string
  /** What the value is called in help (`URL`, `FILE`); choices name themselves. */
  readonly value?: string
  readonly choices?: ReadonlyArray<string>
  /** A choice that may be repeated (all values kept, in order). */
  readonly repeated?: boolean
  readonly default?: string | number | ReadonlyArray<string>
  readonly required?: boolean
  readonly min?: number
  readonly max?: number
  /** A flag that cannot be given with this one. */
  readonly excludes?: string
}

export interface CommandSpec {
  readonly name: string
  readonly summary: string
  /** Paragraphs after the flags in the command's help. */
  readonly notes?: ReadonlyArray<string>
  readonly flags: ReadonlyArray<Flag>
}

import { LIMIT_FLAGS } from "./limits.js"
import { OPERATIONS_FLAGS } from "./operations.js"
import { TLS_FLAGS } from "./tls.js"

const VARIABLES = "AUTHLETE_BASE_URL, AUTHLETE_API_VERSION (V3 unless V2), AUTHLETE_SERVICE_APIKEY " +
  "(the service id in v3), AUTHLETE_SERVICE_ACCESSTOKEN (v3), AUTHLETE_SERVICE_APISECRET (v2)."

const port = (description: string) =>
  ({ name: "port", type: "integer", min: 0, max: 65_535, default: 0, value: "PORT", description }) as const
const json = (description: string) => ({ name: "json", type: "boolean", description }) as const

/** Every command, with its flags: what parsing, help and usage errors follow. */
export const COMMANDS = {
  complete: {
    name: "complete",
    summary: "Send one completion to Authlete, configured from the environment",
    notes: [`Environment: ${VARIABLES}`],
    flags: [
      {
        name: "ticket",
        type: "string",
        required: true,
        value: "TICKET",
        description: "The ticket from /backchannel/authentication"
      },
      {
        name: "result",
        type: "choice",
        required: true,
        choices: ["AUTHORIZED", "ACCESS_DENIED", "TRANSACTION_FAILED"],
        description: "What the user decided"
      },
      {
        name: "subject",
        type: "string",
        required: true,
        value: "SUBJECT",
        description: "The user's unique identifier"
      },
      { name: "sub", type: "string", value: "SUB", description: "The sub claim of the ID token, when it differs" },
      {
        name: "auth-time",
        type: "integer",
        min: 0,
        value: "SECONDS",
        description: "When the user authenticated, in seconds since the epoch"
      },
      { name: "acr", type: "string", value: "ACR", description: "The authentication context class reference" },
      {
        name: "claims",
        type: "strings",
        value: "JSON",
        description: "Claims as a JSON object; repeat to merge several, later ones winning"
      },
      {
        name: "scopes",
        type: "string",
        value: "LIST",
        description: "Comma-separated scopes replacing the requested ones (must include openid)"
      },
      {
        name: "consented-claims",
        type: "string",
        value: "LIST",
        description: "Comma-separated claims the user consented to share"
      },
      {
        name: "error-description",
        type: "string",
        value: "TEXT",
        description: "Why, when the result is not AUTHORIZED"
      },
      {
        name: "error-uri",
        type: "string",
        value: "URL",
        description: "A page explaining the error, when the result is not AUTHORIZED"
      },
      {
        name: "access-token-duration",
        type: "integer",
        min: 0,
        value: "SECONDS",
        description: "Access token lifetime (PUSH)"
      },
      {
        name: "refresh-token-duration",
        type: "integer",
        min: 0,
        value: "SECONDS",
        description: "Refresh token lifetime (PUSH)"
      }
    ]
  },
  simulate: {
    name: "simulate",
    summary: "Run the CIBA simulator on loopback in the foreground",
    flags: [
      port("The port on 127.0.0.1 (0: any free one)"),
      { name: "service-id", type: "string", value: "ID", description: "The service id (default: 12 random digits)" },
      {
        name: "access-token",
        type: "string",
        value: "TOKEN",
        description: "The service access token callers present (default: a random one)"
      },
      { name: "ping-endpoint", type: "string", value: "URL", description: "The PING client's notification endpoint" },
      { name: "push-endpoint", type: "string", value: "URL", description: "The PUSH client's notification endpoint" },
      {
        name: "interval",
        type: "integer",
        min: 0,
        value: "SECONDS",
        description: "Seconds between a client's polls (default 5)"
      },
      {
        name: "auth-req-id-lifetime",
        type: "integer",
        min: 1,
        value: "SECONDS",
        description: "Seconds an auth_req_id lives (default 600)"
      },
      {
        name: "issuer",
        type: "string",
        value: "URL",
        description: "The issuer the discovery document and the ID tokens name"
      },
      {
        name: "token-endpoint",
        type: "string",
        value: "URL",
        description: "The token endpoint the discovery document names"
      },
      {
        name: "backchannel-endpoint",
        type: "string",
        value: "URL",
        description: "The backchannel authentication endpoint the discovery document names"
      },
      { name: "jwks-uri", type: "string", value: "URL", description: "The jwks_uri the discovery document names" },
      {
        name: "user-code",
        type: "choice",
        repeated: true,
        choices: ["POLL", "PING", "PUSH"],
        description: "A delivery mode whose client requires a user_code (repeatable; default none)"
      },
      {
        name: "latency",
        type: "integer",
        min: 0,
        value: "MILLIS",
        description: "Milliseconds added to every answer, after the call is carried out"
      },
      {
        name: "journal",
        type: "string",
        value: "FILE",
        description: "Append one JSON line per API call carried out to this file (no secrets)"
      },
      json("Print one JSON line: the URL, service and clients")
    ]
  },
  serve: {
    name: "serve",
    summary: "Run one node of the CIBA authorization server (durable; several on one PostgreSQL)",
    notes: [
      `Environment: ${VARIABLES} EFFECT_AUTHLETE_SECRET_KEY: 32 random bytes in base64 ` +
      "(`openssl rand -base64 32`), the same on every node."
    ],
    flags: [
      {
        name: "host",
        type: "string",
        default: "127.0.0.1",
        value: "ADDRESS",
        description: "The address the HTTP server listens on"
      },
      port("The HTTP port (0: any free one)"),
      {
        name: "database",
        type: "string",
        default: "effect-authlete.db",
        value: "URL|FILE",
        description: "postgres://... (every node on it is one authorization server) or a SQLite file (one node)"
      },
      {
        name: "runner-host",
        type: "string",
        default: "127.0.0.1",
        value: "ADDRESS",
        description: "PostgreSQL: the address the other nodes reach this one at"
      },
      {
        name: "runner-port",
        type: "integer",
        min: 1,
        max: 65_535,
        default: 34431,
        value: "PORT",
        description: "PostgreSQL: the port of that address (unique per node on one host, stable across restarts)"
      },
      {
        name: "users",
        type: "string",
        value: "FILE",
        description: "A JSON object of users: { subject: { claims, loginHints, userCode } }"
      },
      {
        name: "automated-approval",
        type: "boolean",
        description: "Serve POST /ciba/approve/{auth_req_id}/{allow|deny} (tests only: anyone may decide)"
      },
      {
        name: "allow-local-notifications",
        type: "boolean",
        description: "Send notifications to loopback and private addresses (local clients, tests)"
      },
      ...TLS_FLAGS,
      ...LIMIT_FLAGS,
      ...OPERATIONS_FLAGS,
      json("Print one JSON line with the node's URLs")
    ]
  },
  playground: {
    name: "playground",
    summary: "Run the simulator and an authorization server built from effect-authlete on loopback",
    flags: [
      port("The authorization server's port on 127.0.0.1 (0: any free one)"),
      { name: "interval", type: "integer", min: 0, default: 5, value: "SECONDS", description: "Seconds between polls" },
      { name: "ping-endpoint", type: "string", value: "URL", description: "The PING client's notification endpoint" },
      { name: "push-endpoint", type: "string", value: "URL", description: "The PUSH client's notification endpoint" },
      {
        name: "user-code",
        type: "choice",
        repeated: true,
        choices: ["POLL", "PING", "PUSH"],
        default: ["PING"],
        excludes: "no-user-code",
        description: "A delivery mode whose client requires a user_code (repeatable)"
      },
      { name: "no-user-code", type: "boolean", description: "No client requires a user_code" },
      {
        name: "profile",
        type: "choice",
        choices: ["plain", "fapi-ciba"],
        default: "plain",
        description:
          "fapi-ciba: HTTPS with mutual TLS, its own CA, and four FAPI clients (private_key_jwt, tls_client_auth)"
      },
      ...TLS_FLAGS,
      ...LIMIT_FLAGS,
      json("Print one JSON line: endpoints, pages, clients and users")
    ]
  },
  demo: {
    name: "demo",
    summary: "Run every CIBA delivery mode through the playground with openid-client, and check them",
    flags: []
  }
} as const satisfies { readonly [name: string]: CommandSpec }

export type CommandName = keyof typeof COMMANDS

// The values of a command's flags, typed from the table: `--auth-time` is `authTime`, a number.
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S
type ValueOf<F extends Flag> = F["type"] extends "boolean" ? boolean
  : F["type"] extends "integer" ? number
  : F["type"] extends "strings" ? ReadonlyArray<string>
  : F["type"] extends "choice" ?
    F extends { readonly choices: ReadonlyArray<infer C> } ?
      F extends { readonly repeated: true } ? ReadonlyArray<C> : C
    : never
  : string
type Given<F extends Flag> = F["required"] extends true ? ValueOf<F>
  : undefined extends F["default"] ? F["type"] extends "boolean" | "strings" ? ValueOf<F>
    : F extends { readonly repeated: true } ? ValueOf<F>
    : ValueOf<F> | undefined
  : ValueOf<F>

export type FlagValues<Flags extends ReadonlyArray<Flag>> = {
  readonly [F in Flags[number] as Camel<F["name"]>]: Given<F>
}
export type ValuesOf<C extends CommandName> = FlagValues<(typeof COMMANDS)[C]["flags"]>
