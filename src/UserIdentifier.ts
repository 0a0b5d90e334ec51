/**
 * The application's user directory: which user a backchannel request's hint (`login_hint`,
 * `login_hint_token` or `id_token_hint`) names.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/**
 * How the client named the user (`login_hint`, `login_hint_token` or `id_token_hint`), as Authlete
 * reports it; `sub` is the subject of an `id_token_hint`.
 *
 * @since 0.1.0
 * @category models
 */
export interface UserHint {
  readonly type: "LOGIN_HINT" | "LOGIN_HINT_TOKEN" | "ID_TOKEN_HINT" | (string & {})
  readonly value: string
  readonly sub?: string | undefined
}

/**
 * The application's user directory: which user a hint names.
 *
 * @since 0.1.0
 * @category models
 */
export interface UserIdentifierService {
  /** The subject of the user the hint names, or `None` (the client gets `unknown_user_id`). */
  readonly identify: (hint: UserHint) => Effect.Effect<Option.Option<string>>
}

/**
 * The tag of the user directory.
 *
 * @since 0.1.0
 * @category tags
 */
export class UserIdentifier extends Context.Tag("effect-authlete/UserIdentifier")<
  UserIdentifier,
  UserIdentifierService
>() {}

/**
 * Users by subject, each with the login hints that name them (the subject always does); an
 * `id_token_hint` names the user of its `sub`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromRecord = (
  users: { readonly [subject: string]: { readonly loginHints?: ReadonlyArray<string> | undefined } }
): Layer.Layer<UserIdentifier> => {
  const bySubjectOrHint = new Map<string, string>()
  for (const [subject, user] of Object.entries(users)) {
    bySubjectOrHint.set(subject, subject)
    for (const hint of user.loginHints ?? []) bySubjectOrHint.set(hint, subject)
  }
  return Layer.succeed(UserIdentifier, {
    identify: (hint) =>
      Effect.succeed(
        hint.type === "ID_TOKEN_HINT"
          ? Option.fromNullable(hint.sub === undefined ? undefined : bySubjectOrHint.get(hint.sub))
          : Option.fromNullable(bySubjectOrHint.get(hint.value))
      )
  })
}
