/**
 * `effect-authlete complete`: one completion sent to Authlete, configured from the `AUTHLETE_*`
 * environment, and what came of it.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as AuthleteClient from "../AuthleteClient.js"
import {
  completeBackchannelAuthentication,
  type CompleteBackchannelAuthenticationInput
} from "../BackchannelAuthenticationCompletion.js"
import * as ClientNotifier from "../ClientNotifier.js"
import { UndiciTransport } from "../undici/index.js"
import { list, runCommand } from "./CliOptions.js"
import type { ValuesOf } from "./internal/args.js"

const some = <A, B extends object>(value: A | undefined, make: (value: A) => B): Partial<B> =>
  value === undefined ? {} : make(value)

export const program = (flags: ValuesOf<"complete">) =>
  Effect.gen(function*() {
    const input: CompleteBackchannelAuthenticationInput = {
      ticket: flags.ticket,
      result: flags.result,
      subject: flags.subject,
      ...some(flags.sub, (sub) => ({ sub })),
      ...some(flags.authTime, (authTime) => ({ authTime })),
      ...some(flags.acr, (acr) => ({ acr })),
      ...(flags.claims.length === 0 ? {} : { claims: flags.claims }),
      ...some(flags.scopes, (scopes) => ({ scopes: list(scopes) })),
      ...some(flags.consentedClaims, (names) => ({ consentedClaims: list(names) })),
      ...some(flags.errorDescription, (errorDescription) => ({ errorDescription })),
      ...some(flags.errorUri, (errorUri) => ({ errorUri })),
      ...some(flags.accessTokenDuration, (accessTokenDuration) => ({ accessTokenDuration })),
      ...some(flags.refreshTokenDuration, (refreshTokenDuration) => ({ refreshTokenDuration }))
    }
    const outcome = yield* completeBackchannelAuthentication(input)
    const { action, resultCode, resultMessage } = outcome.response
    yield* Console.log(
      `outcome:     ${outcome._tag === "Notified" ? `Notified (the client answered ${outcome.status})` : "NoAction"}`
    )
    yield* Console.log(`action:      ${action ?? ""}`)
    yield* Console.log(`result code: ${resultCode ?? ""}`)
    yield* Console.log(`message:     ${resultMessage ?? ""}`)
  }).pipe(
    Effect.provide(
      Layer.mergeAll(AuthleteClient.layerConfig(), ClientNotifier.layer()).pipe(Layer.provide(UndiciTransport.layer))
    )
  )

export const run = (flags: ValuesOf<"complete">): void => runCommand("complete", program(flags))
