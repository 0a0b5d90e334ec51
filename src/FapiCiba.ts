/**
 * The FAPI-CIBA profile (OpenID FAPI: Client Initiated Backchannel Authentication Profile) as one
 * layer of `BackchannelChecks`: signed authentication requests required, a binding message required,
 * POLL and PING only (PUSH refused), on top of the default checks. What FAPI-CIBA asks of clients'
 * registrations (`private_key_jwt` or mutual TLS, certificate-bound tokens, PS256/ES256) Authlete
 * enforces from the client's settings; the routes pass it the client certificate (`CibaRoutes`).
 *
 * @since 0.1.0
 */
import type * as Layer from "effect/Layer"
import * as BackchannelChecks from "./BackchannelChecks.js"

/**
 * What FAPI-CIBA requires of every backchannel request.
 *
 * @since 0.1.0
 * @category constants
 */
export const profile: BackchannelChecks.BackchannelProfile = {
  signedRequestRequired: true,
  bindingMessageRequired: true,
  deliveryModes: ["POLL", "PING"]
}

/**
 * The default checks under the FAPI-CIBA profile, with any check replaced by yours (your user codes,
 * say): `FapiCiba.layer({ isUserCodeValid })`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  checks: Partial<Omit<BackchannelChecks.BackchannelChecksService, "profile">> = {}
): Layer.Layer<BackchannelChecks.BackchannelChecks> => BackchannelChecks.layer({ ...checks, profile })
