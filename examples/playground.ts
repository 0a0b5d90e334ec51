/**
 * The playground in a browser: the simulator, an authorization server built from this library, and
 * its two pages, on 127.0.0.1. Run it with `npx tsx examples/playground.ts` (`PORT` to choose the
 * port, 8080 by default), open the two addresses it prints side by side, and stop it with Ctrl-C.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { Pages, Playground } from "effect-authlete/playground"

const PlaygroundLive = Playground.layer({
  port: Number(process.env.PORT ?? 8080),
  interval: 2, // seconds between polls
  expiresIn: 120, // seconds an auth_req_id lives
  userCodeRequired: ["PING"], // clients that require a user_code
  routes: Pages.pages() // the authentication device and the consumption device
})

const program = Effect.gen(function*() {
  const { issuer } = yield* Playground.Playground
  const { clientUrl, deviceUrl } = Pages.pageUrls(issuer)
  yield* Console.log(`issuer:                ${issuer}`)
  yield* Console.log(`consumption device:    ${clientUrl}`)
  yield* Console.log(`authentication device: ${deviceUrl}`)
  return yield* Effect.never
})

NodeRuntime.runMain(program.pipe(Effect.provide(PlaygroundLive)))
