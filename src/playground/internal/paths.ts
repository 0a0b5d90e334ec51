/**
 * Where the playground's pages live on its server: shared by the pages' router and the playground,
 * whose PING and PUSH clients are notified at the consumption device's callbacks by default.
 */

/** The authentication device: the user's pending requests. */
export const DEVICE_PATH = "/device"

/** The consumption device: the client's side of a request. */
export const CLIENT_PATH = "/client"

/** The PING client's notification endpoint (the consumption device receives the ping). */
export const PING_CALLBACK_PATH = `${CLIENT_PATH}/callback/ping`

/** The PUSH client's notification endpoint (the consumption device receives the tokens). */
export const PUSH_CALLBACK_PATH = `${CLIENT_PATH}/callback/push`
