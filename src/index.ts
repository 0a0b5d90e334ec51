/**
 * @since 0.1.0
 */
export * from "./AuthleteApi.js"
export * from "./AuthleteClient.js"
export * from "./AuthleteError.js"
export * from "./AuthleteResult.js"
export * from "./BackchannelAuthentication.js"
export * from "./BackchannelAuthenticationCompleteRequest.js"
export * from "./BackchannelAuthenticationCompleteResponse.js"
export * from "./BackchannelAuthenticationCompleteResult.js"
export * from "./BackchannelAuthenticationCompletion.js"
export * from "./BackchannelAuthenticationFail.js"
export * from "./BackchannelAuthenticationIssue.js"
export * from "./Claims.js"
export * from "./ClientNotifier.js"
export * from "./HttpTransport.js"
export * from "./Property.js"
export * from "./UserClaims.js"
