/**
 * A complete CIBA completion with claims, as an authorization server runs it. Run it with
 * `npx tsx examples/complete-with-claims.ts`: Authlete is the embedded simulator, and the client's
 * notification is recorded instead of sent, so it needs no account and no network.
 */
import { Console, Effect, Layer, Redacted } from "effect"
import { AuthleteClient, BackchannelAuthenticationCompletion, ClientNotifier, UserClaims } from "effect-authlete"
import { AuthleteSimulator } from "effect-authlete/simulator"

// The application's user store; `#ja` marks a value in Japanese.
const Users = UserClaims.layerFromRecord({
  "user-1": { given_name: "Taro", family_name: "Yamada", "family_name#ja": "山田", email: "taro@example.com" }
})

const program = Effect.gen(function*() {
  const simulator = yield* AuthleteSimulator.AuthleteSimulator
  const authlete = yield* AuthleteClient.AuthleteClient
  const client = yield* simulator.clientFor("PUSH")
  yield* simulator.setClientNotificationEndpoint(client.clientId, "https://client.example.com/ciba/cb")

  // 1. A client's backchannel authentication request arrives; Authlete checks it and gives a ticket
  //    and the claims the client asked for (from its scopes).
  const request = yield* authlete.backchannelAuthentication({
    parameters: "scope=openid%20profile%20email&login_hint=user-1&client_notification_token=cnt-0123456789abcdef",
    clientId: String(client.clientId),
    clientSecret: client.clientSecret
  })
  const ticket = request.ticket!
  yield* authlete.backchannelAuthenticationIssue({ ticket })

  // 2. The user approves on their device, sharing their name but not their email. The server
  //    collects the requested claims in the user's language, adds one of its own, and completes.
  const outcome = yield* BackchannelAuthenticationCompletion.completeBackchannelAuthentication({
    ticket,
    result: "AUTHORIZED",
    subject: "user-1",
    authTime: Math.floor(Date.now() / 1000),
    acr: "urn:example:acr:device",
    claims: [
      yield* UserClaims.collectClaims({
        subject: "user-1",
        claimNames: request.claimNames ?? [],
        claimsLocales: ["ja"]
      }),
      { member_since: 2019 }
    ],
    consentedClaims: ["given_name", "family_name", "member_since"]
  })

  // 3. In PUSH mode Authlete minted the tokens; the client's endpoint received them.
  yield* Console.log(`outcome: ${outcome._tag}, action ${outcome.response.action}, ${outcome.response.resultCode}`)
  const [notification] = yield* Effect.flatMap(
    ClientNotifier.ClientNotifierRecorder,
    (recorder) => recorder.notifications
  )
  const pushed = JSON.parse(notification.body) as { id_token: string }
  const idToken = JSON.parse(Buffer.from(pushed.id_token.split(".")[1], "base64url").toString("utf8"))
  yield* Console.log(`notified ${notification.endpoint} (token ${Redacted.value(notification.token).slice(0, 4)}…)`)
  yield* Console.log("ID token claims:", {
    sub: idToken.sub,
    given_name: idToken.given_name,
    family_name: idToken.family_name,
    member_since: idToken.member_since,
    email: idToken.email
  })
})

program.pipe(
  Effect.provide(Layer.mergeAll(AuthleteSimulator.layerClient(), ClientNotifier.layerTest(), Users)),
  Effect.runPromise
)
