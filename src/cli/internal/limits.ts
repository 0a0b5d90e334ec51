/**
 * The abuse limits' flags, shared by `serve` and `playground`: `COUNT/SECONDS` for a limit over a
 * window, `COUNT` for the pending requests per user, `off` for none; read into
 * `BackchannelLimits`' options, every malformed one told.
 */
import type { BackchannelLimitsOptions, Window } from "../../BackchannelLimits.js"
import type { Flag } from "./commands.js"

const WINDOW = /^([1-9][0-9]{0,8})\/([1-9][0-9]{0,8})$/
const COUNT = /^[1-9][0-9]{0,8}$/

export const LIMIT_FLAGS = [
  {
    name: "limit-per-client",
    type: "string",
    value: "N/SECONDS|off",
    description: "Backchannel requests per client over a window, past which 429 (default 300/60)"
  },
  {
    name: "limit-per-user",
    type: "string",
    value: "N/SECONDS|off",
    description: "Backchannel requests per login hint over a window, past which 429 (default 10/600)"
  },
  {
    name: "limit-pending-per-user",
    type: "string",
    value: "N|off",
    description: "Requests waiting for one user's decision at once, past which 403 access_denied (default 5)"
  },
  {
    name: "limit-wrong-user-codes",
    type: "string",
    value: "N/SECONDS|off",
    description: "Wrong user codes per user over a window, past which their requests are refused (default 5/900)"
  }
] as const satisfies ReadonlyArray<Flag>

export interface LimitFlags {
  readonly limitPerClient?: string | undefined
  readonly limitPerUser?: string | undefined
  readonly limitPendingPerUser?: string | undefined
  readonly limitWrongUserCodes?: string | undefined
}

const windowOf = (flag: string, value: string | undefined, problems: Array<string>): Window | false | undefined => {
  if (value === undefined) return undefined
  if (value === "off") return false
  const match = WINDOW.exec(value)
  if (match === null) {
    problems.push(
      `--${flag} takes COUNT/SECONDS (both whole numbers of at least 1) or off, not ${JSON.stringify(value)}`
    )
    return undefined
  }
  return { limit: Number(match[1]), window: `${Number(match[2])} seconds` }
}

/** The options the flags give, or every problem with them in one sentence each. */
export const limitsOf = (
  flags: LimitFlags
): { readonly _tag: "Right"; readonly right: BackchannelLimitsOptions } | {
  readonly _tag: "Left"
  readonly left: ReadonlyArray<string>
} => {
  const problems: Array<string> = []
  const perClient = windowOf("limit-per-client", flags.limitPerClient, problems)
  const perUser = windowOf("limit-per-user", flags.limitPerUser, problems)
  const wrongUserCodes = windowOf("limit-wrong-user-codes", flags.limitWrongUserCodes, problems)
  const pending = flags.limitPendingPerUser
  let pendingPerUser: number | false | undefined
  if (pending === "off") pendingPerUser = false
  else if (pending !== undefined && COUNT.test(pending)) pendingPerUser = Number(pending)
  else if (pending !== undefined) {
    problems.push(`--limit-pending-per-user takes a whole number of at least 1 or off, not ${JSON.stringify(pending)}`)
  }
  return problems.length > 0
    ? { _tag: "Left", left: problems }
    : { _tag: "Right", right: { perClient, perUser, pendingPerUser, wrongUserCodes } }
}
