/**
 * What every client sends and what the canned Authlete answers, shared by the server, the clients
 * and the library-only workloads.
 */

/**
 * The service the clients address: `POST /api/{SERVICE_ID}/backchannel/authentication[/complete|/issue]`
 * and `POST /api/{SERVICE_ID}/auth/token`.
 */
export const SERVICE_ID = "715948317"
/** The bearer token every client sends (the canned server checks nothing). */
export const ACCESS_TOKEN = "bench-service-access-token-0123456789abcdef"
export const COMPLETE_PATH = `/api/${SERVICE_ID}/backchannel/authentication/complete`
export const AUTHENTICATION_PATH = `/api/${SERVICE_ID}/backchannel/authentication`
export const ISSUE_PATH = `/api/${SERVICE_ID}/backchannel/authentication/issue`
export const TOKEN_PATH = `/api/${SERVICE_ID}/auth/token`

/**
 * The headers `AuthleteClient` sends with a POST (`src/AuthleteClient.ts`, `postHeaders`), in its
 * order: the raw clients send exactly these (undici adds host, connection and content-length to both).
 */
export const REQUEST_HEADERS: Readonly<Record<string, string>> = {
  authorization: `Bearer ${ACCESS_TOKEN}`,
  accept: "application/json",
  "content-type": "application/json"
}

/** The server's fixed 200 body: Authlete's POLL/AUTHORIZED example plus a few fields. */
export const CANNED_RESPONSE = {
  resultCode: "A198001",
  resultMessage: "[A198001] Successfully updated the database so that the token endpoint can generate tokens " +
    "(mode = poll, result = AUTHORIZED).",
  action: "NO_ACTION",
  authReqId: "_mzc-ZQdAhSPuMxTlO-MC_oqaOqYCrdNQ39PVxisaiE",
  clientId: 26862190133482,
  clientIdAliasUsed: false,
  clientName: "My CIBA Client",
  deliveryMode: "POLL",
  accessTokenDuration: 0,
  refreshTokenDuration: 0,
  idTokenDuration: 0,
  grantId: "p2zqnHGMWlUwtY0nFy0Pz8UjAx6dqNdN0SZSp0nAqAE",
  serviceAttributes: [
    { key: "attribute1-key", value: "attribute1-value" },
    { key: "attribute2-key", value: "attribute2-value" }
  ]
} as const

/** The action every client must report for the canned /complete body (checked on every call). */
export const EXPECTED_ACTION = "NO_ACTION"

/**
 * The server's fixed 200 body for `/backchannel/authentication`: Authlete's USER_IDENTIFICATION
 * example (a POLL client, login_hint) plus the fields a typical answer carries: the ticket the
 * `backchannel-seq` clients hand to `/issue`, and the hint `UserIdentifier.layerFromRecord` resolves.
 */
export const CANNED_AUTHENTICATION_RESPONSE = {
  resultCode: "A179001",
  resultMessage: "[A179001] The backchannel authentication request was processed successfully.",
  action: "USER_IDENTIFICATION",
  clientId: 26862190133482,
  clientIdAliasUsed: false,
  clientName: "My CIBA Client",
  clientAuthMethod: "CLIENT_SECRET_BASIC",
  deliveryMode: "POLL",
  scopes: [{ name: "openid", defaultEntry: false }, { name: "profile", defaultEntry: false }],
  claimNames: ["given_name", "family_name", "email", "email_verified"],
  hintType: "LOGIN_HINT",
  hint: "user-1",
  bindingMessage: "W4SCT",
  userCodeRequired: false,
  requestedExpiry: 0,
  ticket: "NFIHGx_btVrWmtAD093D-87JxvT4DAtuijEkLVHbS4Q",
  serviceAttributes: [
    { key: "attribute1-key", value: "attribute1-value" },
    { key: "attribute2-key", value: "attribute2-value" }
  ]
} as const

/** The action every client must report for the canned /backchannel/authentication body. */
export const EXPECTED_AUTHENTICATION_ACTION = "USER_IDENTIFICATION"

/** What stands for the `auth_req_id` in `ISSUE_RESPONSE_TEMPLATE` (no character JSON escapes). */
const AUTH_REQ_ID_SLOT = "@@AUTH_REQ_ID@@"

/** The `auth_req_id` the canned `/issue` answers its `n`th request with: fixed width, so every body has one length. */
export const issuedAuthReqId = (n: number) => `gPuMxTlO-MC_oqaOqYCrdNQ39PVxisaiE-${String(n % 1e9).padStart(9, "0")}`

/**
 * The server's 200 body for `/backchannel/authentication/issue`, Authlete's `OK` answer: the
 * `auth_req_id` (in `authReqId` and in `responseContent`) differs per request, as Authlete's does, so
 * the backchannel program's `PendingRequestStore` gains one entry per call.
 */
const ISSUE_RESPONSE_TEMPLATE = JSON.stringify({
  resultCode: "A183001",
  resultMessage: "[A183001] The backchannel authentication request was processed successfully.",
  action: "OK",
  responseContent: JSON.stringify({ auth_req_id: AUTH_REQ_ID_SLOT, expires_in: 600, interval: 5 }),
  authReqId: AUTH_REQ_ID_SLOT,
  expiresIn: 600,
  interval: 5
})
const ISSUE_RESPONSE_PARTS = ISSUE_RESPONSE_TEMPLATE.split(AUTH_REQ_ID_SLOT)

/** The canned `/issue` body for its `n`th request (a join of fixed parts: cheap for the server). */
export const issueResponseText = (n: number): string => ISSUE_RESPONSE_PARTS.join(issuedAuthReqId(n))

/** The action every client must report for the canned /issue and /auth/token bodies. */
export const EXPECTED_OK_ACTION = "OK"

/** What the canned token endpoint answers, as the client would see it (`responseContent`). */
const TOKEN_CONTENT = {
  access_token: "7FfwOnGjVHwxXhs0lmHDVZ4ybpQ8QvSgmNyiTk1qS2o",
  refresh_token: "xkL8W1cQ2s0jXQ0oEvKf3v3d3oTbZ0f0q8Y2rF6pZ7U",
  token_type: "Bearer",
  expires_in: 3600,
  scope: "openid profile",
  id_token: "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleS0yMDI0In0.eyJpc3MiOiJodHRwczovL2FzLmV4YW1wbGUuY29tIiwic3ViIjoi" +
    "dXNlci0xIiwiYXVkIjoiMjY4NjIxOTAxMzM0ODIiLCJleHAiOjE3MDAwMDM2MDAsImlhdCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJl"
}

/**
 * The server's fixed 200 body for `/auth/token`: Authlete's `OK` answer to a CIBA token request
 * (the user decided): the tokens, `responseContent` with the token JSON, durations, client, subject.
 */
export const CANNED_TOKEN_RESPONSE = {
  resultCode: "A050001",
  resultMessage: "[A050001] The token request (grant_type=urn:openid:params:grant-type:ciba) was processed " +
    "successfully.",
  action: "OK",
  responseContent: JSON.stringify(TOKEN_CONTENT),
  accessToken: TOKEN_CONTENT.access_token,
  accessTokenExpiresAt: 1_700_003_600_000,
  accessTokenDuration: 3600,
  refreshToken: TOKEN_CONTENT.refresh_token,
  refreshTokenExpiresAt: 1_700_086_400_000,
  refreshTokenDuration: 86400,
  idToken: TOKEN_CONTENT.id_token,
  grantType: "CIBA",
  clientId: 26862190133482,
  clientIdAliasUsed: false,
  subject: "user-1",
  scopes: ["openid", "profile"],
  clientAuthMethod: "CLIENT_SECRET_BASIC",
  grantId: "p2zqnHGMWlUwtY0nFy0Pz8UjAx6dqNdN0SZSp0nAqAE",
  serviceAttributes: [
    { key: "attribute1-key", value: "attribute1-value" },
    { key: "attribute2-key", value: "attribute2-value" }
  ]
} as const

/** The client's credentials the backchannel authentication endpoint took from HTTP Basic. */
export const CLIENT_ID = "26862190133482"
export const CLIENT_SECRET = "bench-client-secret-0123456789abcdefghijklmnopqrstuvwxyz"

/**
 * The `auth-seq` request, exactly as the wire carries it (and as every client passes it): the
 * client's form body in `parameters` (its notification token varies per call, so nothing can be
 * cached) and the credentials from HTTP Basic.
 */
export const authenticationRequestWire = (i: number) => ({
  parameters: "scope=openid+profile&login_hint=user-1&binding_message=W4SCT" +
    `&client_notification_token=8d67dc78-7faa-4d41-aabd-67707b374255-${i}`,
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET
})

/**
 * The `token-seq` request: what a token endpoint received from a CIBA client polling with its
 * `auth_req_id` (varying per call), and the credentials from HTTP Basic. The wire JSON of
 * `/auth/token`, and the input of `handleTokenRequest`, are the same object.
 */
export const tokenRequestWire = (i: number) => ({
  parameters: "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba" +
    `&auth_req_id=_mzc-ZQdAhSPuMxTlO-MC_oqaOqYCrdNQ39PVx-${i}`,
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET
})

/**
 * The `backchannel-seq` request, the same for every call (the server's `auth_req_id` varies): the
 * client's form body and the credentials from HTTP Basic; the wire JSON of `/backchannel/authentication`
 * and the input of `handleBackchannelAuthentication` alike.
 */
export const backchannelRequestWire = () => ({
  parameters: "scope=openid+profile&login_hint=user-1&binding_message=W4SCT",
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET
})

/** What the program workloads' user store gives for user-1 (a fresh object per call, as a store would). */
const userClaims = () => ({
  given_name: "Taro",
  family_name: "Yamada",
  "family_name#ja": "山田",
  email: "taro@example.com",
  email_verified: true
})

/** The claims the user consented to share (`email_verified` is left out, so it is dropped). */
const PROGRAM_CONSENTED_CLAIMS = ["given_name", "family_name", "email", "member_since"] as const

/**
 * The `program-*` workloads' input to `completeBackchannelAuthentication` (the program the README
 * leads with): two claim sources, merged, filtered by `consentedClaims`. A fresh object per call.
 */
export const programInput = (i: number) => ({
  ticket: `NFIHGx_btVrWmtAD093D-87JxvT4DAtuijEk-${i}`,
  result: "AUTHORIZED" as const,
  subject: "user-1",
  authTime: 1_700_000_000,
  acr: "urn:example:acr:device",
  claims: [userClaims(), { member_since: 2019 }],
  consentedClaims: [...PROGRAM_CONSENTED_CLAIMS]
})

/**
 * The claims the program sends for `programInput`, built by hand: the two sources merged in order,
 * `email_verified` dropped (not consented; `family_name#ja` stays, as `family_name` is), as JSON text.
 */
const PROGRAM_WIRE_CLAIMS = JSON.stringify({
  given_name: "Taro",
  family_name: "Yamada",
  "family_name#ja": "山田",
  email: "taro@example.com",
  member_since: 2019
})

/**
 * The wire JSON the program sends for `programInput(i)`, field for field in the order the library
 * writes it (bench/effect-clients.ts checks that, before timing, on the library's own output): what
 * the floor and the SDK send in the program workloads.
 */
export const programRequestWire = (i: number) => ({
  ticket: `NFIHGx_btVrWmtAD093D-87JxvT4DAtuijEk-${i}`,
  result: "AUTHORIZED" as const,
  subject: "user-1",
  authTime: 1_700_000_000,
  acr: "urn:example:acr:device",
  claims: PROGRAM_WIRE_CLAIMS,
  consentedClaims: [...PROGRAM_CONSENTED_CLAIMS]
})

/** The claims of the ID token in the network workloads' request. */
export const CLAIMS = { given_name: "Taro", family_name: "Yamada", "family_name#ja": "山田" } as const

/**
 * The network workloads' request, as a typical POLL completion: ticket, result, subject, auth time
 * and claims. `ticket` varies per call so nothing can be cached. `claims` is an object here (the
 * program side); on the wire it is JSON text.
 */
export const networkRequestFields = (i: number) => ({
  ticket: `NFIHGx_btVrWmtAD093D-87JxvT4DAtuijEk-${i}`,
  result: "AUTHORIZED" as const,
  subject: "john",
  authTime: 1_700_000_000,
  claims: CLAIMS
})

/** The same request as wire JSON (what the floor clients send). */
export const networkRequestWire = (i: number) => ({
  ticket: `NFIHGx_btVrWmtAD093D-87JxvT4DAtuijEk-${i}`,
  result: "AUTHORIZED" as const,
  subject: "john",
  authTime: 1_700_000_000,
  claims: JSON.stringify(CLAIMS)
})

/** A request with all 18 fields set, program side (JSON-text fields as objects). */
export const fullRequestFields = {
  ticket: "NFIHGx_btVrWmtAD093D-87JxvT4DAtuijEkLVHbS4Q",
  result: "ACCESS_DENIED" as const,
  subject: "john",
  sub: "pairwise-7f3a9c",
  authTime: 1_700_000_000,
  acr: "urn:mace:incommon:iap:silver",
  claims: { given_name: "Taro", family_name: "Yamada", "family_name#ja": "山田", email: "taro@example.com" },
  properties: [
    { key: "example_parameter", value: "example_value" },
    { key: "hidden_parameter", value: "hidden_value", hidden: true }
  ],
  scopes: ["openid", "profile", "email"],
  idtHeaderParams: { kid: "key-2024", typ: "JWT" },
  errorDescription: "The user denied the request on the device.",
  errorUri: "https://as.example.com/errors/access_denied",
  consentedClaims: ["given_name", "family_name", "email"],
  jwtAtClaims: { tenant: "acme", roles: ["reader", "writer"] },
  accessToken: "Zq3kX9pL2mN8vB4cR7tY1wE6uI0oA5sD-_gH",
  accessTokenDuration: 3600,
  refreshTokenDuration: 86400,
  idTokenAudType: "array" as const
}

/** The same request as wire JSON. */
export const fullRequestWire = {
  ...fullRequestFields,
  claims: JSON.stringify(fullRequestFields.claims),
  idtHeaderParams: JSON.stringify(fullRequestFields.idtHeaderParams),
  jwtAtClaims: JSON.stringify(fullRequestFields.jwtAtClaims)
}

/** A response with every field of the response schema set (PUSH mode, so tokens are present). */
export const fullResponse = {
  resultCode: "A198002",
  resultMessage: "[A198002] Successfully generated the content of the notification (mode = push, result = AUTHORIZED).",
  action: "NOTIFICATION",
  responseContent:
    "{\"auth_req_id\":\"_mzc-ZQdAhSPuMxTlO-MC_oqaOqYCrdNQ39PVxisaiE\",\"access_token\":\"7FfwOnGjVHwxXhs0lmHDVZ4ybp\"," +
    "\"token_type\":\"Bearer\",\"expires_in\":3600,\"id_token\":\"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJqb2huIn0.sig\"}",
  clientId: 26862190133482,
  clientIdAlias: "my-ciba-client",
  clientIdAliasUsed: true,
  clientName: "My CIBA Client",
  deliveryMode: "PUSH",
  clientNotificationEndpoint: "https://client.example.com/ciba/notify",
  clientNotificationToken: "my-client-notification-token",
  authReqId: "_mzc-ZQdAhSPuMxTlO-MC_oqaOqYCrdNQ39PVxisaiE",
  accessToken: "7FfwOnGjVHwxXhs0lmHDVZ4ybp",
  refreshToken: "xkL8W1cQ2s0jXQ0oEvKf3v3d3oTbZ0f0q8Y2rF6pZ7U",
  idToken: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJqb2huIn0.sig",
  accessTokenDuration: 3600,
  refreshTokenDuration: 86400,
  idTokenDuration: 3600,
  jwtAccessToken: "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJqb2huIn0.sig",
  resources: ["https://rs.example.com/a", "https://rs.example.com/b"],
  authorizationDetails: {
    elements: [
      {
        type: "payment_initiation",
        locations: ["https://rs.example.com/payments"],
        actions: ["initiate", "status"],
        dataTypes: ["transaction"],
        identifier: "payment-1",
        privileges: ["write"],
        otherFields: "{\"instructedAmount\":{\"currency\":\"EUR\",\"amount\":\"123.50\"}}"
      }
    ]
  },
  serviceAttributes: [
    { key: "attribute1-key", value: "attribute1-value" },
    { key: "attribute2-key", value: "attribute2-value" }
  ],
  clientAttributes: [{ key: "client-attribute-key", value: "client-attribute-value" }],
  grantId: "p2zqnHGMWlUwtY0nFy0Pz8UjAx6dqNdN0SZSp0nAqAE",
  clientEntityId: "https://client.example.com/entity",
  clientEntityIdUsed: false,
  metadataDocumentLocation: "https://client.example.com/metadata.json",
  metadataDocumentUsed: false
}
