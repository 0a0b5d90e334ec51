/**
 * The application's way to reach a user on their authentication device (a push notification, an
 * app's inbox, the playground's device page): the backchannel authentication endpoint hands it each
 * request it recorded.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import type * as PendingRequest from "./PendingRequest.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface AuthenticationDeviceService {
  /** Asks the user to decide. A failure here does not fail the client's request: it is logged. */
  readonly reach: (request: PendingRequest.PendingRequest) => Effect.Effect<void>
}

/**
 * The requests handed to the device, as a stream each subscriber sees from the moment it subscribes.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthenticationDeviceFeedService {
  readonly requests: Stream.Stream<PendingRequest.PendingRequest>
}

/**
 * What `AuthenticationDevice.layerFeed` publishes to.
 *
 * @since 0.1.0
 * @category tags
 */
export class AuthenticationDeviceFeed extends Context.Tag("effect-authlete/AuthenticationDeviceFeed")<
  AuthenticationDeviceFeed,
  AuthenticationDeviceFeedService
>() {}

/**
 * The tag of the device.
 *
 * @since 0.1.0
 * @category tags
 */
export class AuthenticationDevice extends Context.Tag("effect-authlete/AuthenticationDevice")<
  AuthenticationDevice,
  AuthenticationDeviceService
>() {}

/**
 * Reaches nobody: for servers whose users look at a list of their pending requests.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNoop: Layer.Layer<AuthenticationDevice> = Layer.succeed(AuthenticationDevice, {
  reach: () => Effect.void
})

/**
 * Publishes every request to `AuthenticationDeviceFeed` (a page that updates itself subscribes to
 * it; a test takes the requests from it).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFeed: Layer.Layer<AuthenticationDevice | AuthenticationDeviceFeed> = Layer.scopedContext(
  Effect.gen(function*() {
    const hub = yield* Effect.acquireRelease(PubSub.unbounded<PendingRequest.PendingRequest>(), PubSub.shutdown)
    return Context.make(AuthenticationDevice, { reach: (request) => Effect.asVoid(PubSub.publish(hub, request)) })
      .pipe(
        Context.add(AuthenticationDeviceFeed, { requests: Stream.fromPubSub(hub) })
      )
  })
)
