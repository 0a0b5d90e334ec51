/**
 * Encryption at rest for the secrets a durable authorization server must keep for a while: PUSH
 * tokens and client notification tokens. AES-256-GCM with a fresh 96-bit nonce per value, and the
 * value's purpose (say `notification:<auth_req_id>`) as additional data, so that a sealed value
 * cannot be moved to another row and be opened there. The key comes from `Config.redacted`
 * (`EFFECT_AUTHLETE_SECRET_KEY` by default): 32 bytes, base64 or base64url.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"

/**
 * A sealed value could not be opened: it is not one this box wrote (`Malformed`), or it does not
 * authenticate with this key and purpose (`Forged`: another key, another row, or tampered with).
 * Neither the value nor the key is part of the error.
 *
 * @since 0.1.0
 * @category errors
 */
export class SecretBoxError extends Schema.TaggedError<SecretBoxError>("effect-authlete/SecretBoxError")(
  "SecretBoxError",
  { reason: Schema.Literal("Malformed", "Forged") }
) {
  override get message(): string {
    return this.reason === "Malformed"
      ? "A sealed secret is not in the format this library writes"
      : "A sealed secret does not open with this key (another key, another purpose, or altered)"
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SecretBoxService {
  /** Encrypts `plaintext` for `purpose`; the result is printable ASCII (`v1.` then base64url). */
  readonly seal: (plaintext: string, purpose: string) => Effect.Effect<string>
  /** Decrypts what `seal` gave for the same purpose. */
  readonly open: (sealed: string, purpose: string) => Effect.Effect<string, SecretBoxError>
}

const VERSION = "v1."
const NONCE_BYTES = 12
const TAG_BYTES = 16

/** The 32 bytes of a key written in base64 or base64url, or why it is not one. */
const keyBytes = (text: string): Either.Either<Buffer, string> => {
  const trimmed = text.trim()
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return Either.left("must be base64 or base64url")
  const bytes = Buffer.from(trimmed.replace(/-/g, "+").replace(/_/g, "/"), "base64")
  return bytes.length === 32
    ? Either.right(bytes)
    : Either.left(`must be 32 bytes (AES-256), not ${bytes.length}; make one with \`openssl rand -base64 32\``)
}

const boxOf = (key: Buffer): SecretBoxService => ({
  seal: (plaintext, purpose) =>
    Effect.sync(() => {
      const nonce = randomBytes(NONCE_BYTES)
      const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES })
      cipher.setAAD(Buffer.from(purpose, "utf8"))
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
      return VERSION + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64url")
    }),
  open: (sealed, purpose) =>
    Effect.suspend(() => {
      if (!sealed.startsWith(VERSION)) return Effect.fail(new SecretBoxError({ reason: "Malformed" }))
      const bytes = Buffer.from(sealed.slice(VERSION.length), "base64url")
      if (bytes.length < NONCE_BYTES + TAG_BYTES) return Effect.fail(new SecretBoxError({ reason: "Malformed" }))
      const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, NONCE_BYTES), {
        authTagLength: TAG_BYTES
      })
      decipher.setAAD(Buffer.from(purpose, "utf8"))
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
      try {
        const body = bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)
        return Effect.succeed(Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8"))
      } catch {
        return Effect.fail(new SecretBoxError({ reason: "Forged" }))
      }
    })
})

/**
 * The variable `SecretBox.layerConfig` reads by default.
 *
 * @since 0.1.0
 * @category config
 */
export const secretKeyConfig: Config.Config<Redacted.Redacted<string>> = Config.redacted("EFFECT_AUTHLETE_SECRET_KEY")

/**
 * The tag of the box.
 *
 * @since 0.1.0
 * @category tags
 */
export class SecretBox extends Context.Tag("effect-authlete/SecretBox")<SecretBox, SecretBoxService>() {}

/**
 * A box over a key of 32 bytes, base64 or base64url; a bad key fails with `ConfigError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (key: Redacted.Redacted<string>): Either.Either<SecretBoxService, ConfigError.ConfigError> =>
  Either.mapBoth(keyBytes(Redacted.value(key)), {
    onLeft: (why) => ConfigError.InvalidData([], `The secret key ${why}`),
    onRight: boxOf
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (key: Redacted.Redacted<string>): Layer.Layer<SecretBox, ConfigError.ConfigError> =>
  Layer.effect(SecretBox, make(key))

/**
 * The key from `Config` (default `EFFECT_AUTHLETE_SECRET_KEY`), read with `Config.redacted`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<Redacted.Redacted<string>> = secretKeyConfig
): Layer.Layer<SecretBox, ConfigError.ConfigError> =>
  Layer.effect(SecretBox, Effect.flatMap(config, (key) => make(key)))

/**
 * A fresh random key, base64: what `EFFECT_AUTHLETE_SECRET_KEY` holds (the same on every node).
 *
 * @since 0.1.0
 * @category utils
 */
export const generateKey = (): Redacted.Redacted<string> => Redacted.make(randomBytes(32).toString("base64"))
