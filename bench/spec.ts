/**
 * The plan: clients, workloads, and what a child reports. Shared by bench/run.ts and bench/child.ts.
 */

export type NetworkClient =
  | "effect-undici"
  | "effect-undici-limits"
  | "effect-platform"
  | "effect-fetch"
  | "platform-raw"
  | "fetch-effect"
  | "sdk"
  | "dispatch"
  | "effect-floor"
  | "undici"
  | "fetch"
export type LibraryClient = "effect-authlete" | "sdk-zod"
export type ClientName = NetworkClient | LibraryClient

export type WorkloadName =
  | "seq"
  | "c32"
  | "program-seq"
  | "program-c32"
  | "auth-seq"
  | "token-seq"
  | "backchannel-seq"
  | "encode"
  | "prepare"
  | "validate"
  | "decode"
  | "memory"

/**
 * What one network call is: `complete` (`AuthleteClient.backchannelAuthenticationComplete` of a
 * typical POLL request; the others send its wire JSON), `program` (`completeBackchannelAuthentication`
 * of the README's input; the others send the wire JSON it produces), `authentication`
 * (`AuthleteClient.backchannelAuthentication`), `token` (the token endpoint program
 * `handleTokenRequest`; the others send its `/auth/token` body) or `backchannel` (the backchannel
 * authentication endpoint program `handleBackchannelAuthentication`; the others make its two calls,
 * `/backchannel/authentication` then `/backchannel/authentication/issue`).
 */
export type Operation = "complete" | "program" | "authentication" | "token" | "backchannel"

export interface Workload {
  readonly name: WorkloadName
  /** What is measured, with `{calls}` standing for the count. */
  readonly title: string
  readonly kind: "network" | "library"
  /** Network workloads: what each call does. */
  readonly operation?: Operation
  /** Timed operations (completions or library operations). */
  readonly calls: number
  /** Untimed operations first, in the same process. */
  readonly warmup: number
  readonly concurrency: number
  /** Rounds this workload runs in (default: all); the memory workload is a trend within one process. */
  readonly rounds?: number
  readonly clients: ReadonlyArray<ClientName>
}

export const CLIENT_TITLES: Record<ClientName, string> = {
  "effect-undici": "effect-authlete over UndiciTransport.layer (effect-authlete/undici)",
  "effect-undici-limits":
    "effect-undici with BackchannelLimits.layerMemory counting every request (per client and per user)",
  "effect-platform": "effect-authlete over HttpTransport.layer + NodeHttpClient.layerUndici (@effect/platform-node)",
  "effect-fetch": "effect-authlete over HttpTransport.layerFetch",
  "platform-raw": "NodeHttpClient.layerUndici's HttpClient used directly (what effect-platform runs over; no library)",
  "fetch-effect": "FetchHttpClient.layer's HttpClient used directly (what effect-fetch runs over; no library)",
  sdk: "@authlete/typescript-sdk (ciba.complete, ciba.processAuthentication, ciba.issue, token.process)",
  dispatch: "undici Pool.dispatch, one handler object + JSON (the floor)",
  "effect-floor": "the floor inside Effect: the same dispatch in Effect.async, run by runtime.runPromise (no library)",
  undici: "undici Pool.request + JSON (reference)",
  fetch: "global fetch + JSON (reference)",
  "effect-authlete": "effect-authlete (Effect Schema)",
  "sdk-zod": "@authlete/typescript-sdk models (zod)"
}

/** The HTTP client the README recommends for Node: the one the targets are judged on. */
export const RECOMMENDED: NetworkClient = "effect-undici"
/** What every ratio is against. */
export const FLOOR: NetworkClient = "dispatch"

/** What any Effect client pays at least: the floor's requests in `Effect.async`, run by a default runtime. The targets are judged against it. */
export const EFFECT_FLOOR: NetworkClient = "effect-floor"
export const EFFECT_CLIENTS: ReadonlyArray<ClientName> = ["effect-undici", "effect-platform", "effect-fetch"]

const network: ReadonlyArray<NetworkClient> = [
  "effect-undici",
  "effect-platform",
  "effect-fetch",
  "platform-raw",
  "fetch-effect",
  "sdk",
  "dispatch",
  "effect-floor",
  "undici",
  "fetch"
]

/** The program, authentication and endpoint workloads: the recommended client, the floor and the SDK. */
const few: ReadonlyArray<NetworkClient> = ["effect-undici", "effect-floor", "dispatch", "sdk"]

export const WORKLOADS: ReadonlyArray<Workload> = [
  {
    name: "seq",
    title: "{calls} sequential completions",
    kind: "network",
    operation: "complete",
    calls: 10_000,
    warmup: 10_000,
    concurrency: 1,
    clients: network
  },
  {
    name: "c32",
    title: "{calls} completions at concurrency 32",
    kind: "network",
    operation: "complete",
    calls: 20_000,
    warmup: 10_000,
    concurrency: 32,
    clients: network
  },
  {
    name: "program-seq",
    title: "{calls} sequential completeBackchannelAuthentication programs (two claim sources, consentedClaims)",
    kind: "network",
    operation: "program",
    calls: 10_000,
    warmup: 10_000,
    concurrency: 1,
    clients: few
  },
  {
    name: "program-c32",
    title: "{calls} completeBackchannelAuthentication programs at concurrency 32 (first 3 rounds)",
    kind: "network",
    operation: "program",
    calls: 20_000,
    warmup: 10_000,
    concurrency: 32,
    // No bound, and the SDK's row alone takes about 10 s: 3 rounds keep the full run within ~10 minutes.
    rounds: 3,
    clients: few
  },
  {
    name: "auth-seq",
    title: "{calls} sequential backchannel authentication requests (/backchannel/authentication)",
    kind: "network",
    operation: "authentication",
    calls: 10_000,
    warmup: 10_000,
    concurrency: 1,
    clients: few
  },
  {
    name: "token-seq",
    title: "{calls} sequential token endpoint programs (handleTokenRequest, /auth/token; first 3 rounds)",
    kind: "network",
    operation: "token",
    calls: 10_000,
    warmup: 10_000,
    concurrency: 1,
    // No bound; 3 rounds keep the full run within ~12 minutes (the SDK's row takes ~7 s a round).
    rounds: 3,
    clients: few
  },
  {
    name: "backchannel-seq",
    title: "{calls} sequential backchannel authentication endpoint programs (handleBackchannelAuthentication: " +
      "/backchannel/authentication, then /issue; first 3 rounds)",
    kind: "network",
    operation: "backchannel",
    calls: 5_000,
    warmup: 5_000,
    concurrency: 1,
    // No bound; two requests a call: 3 rounds keep the full run within ~12 minutes.
    rounds: 3,
    clients: ["effect-undici", "effect-undici-limits", "effect-floor", "dispatch", "sdk"]
  },
  {
    name: "encode",
    title: "validate + encode a request with all 18 fields (as AuthleteClient does per call), {calls} times",
    kind: "library",
    calls: 100_000,
    warmup: 10_000,
    concurrency: 1,
    clients: ["effect-authlete", "sdk-zod"]
  },
  {
    name: "prepare",
    title: "prepareCompleteRequest of the program input (merge two claim sources, consent, validate), {calls} times",
    kind: "library",
    calls: 100_000,
    warmup: 10_000,
    concurrency: 1,
    clients: ["effect-authlete"]
  },
  {
    name: "validate",
    title: "validate wire input (all 18 fields, strict) + encode, {calls} times",
    kind: "library",
    calls: 100_000,
    warmup: 10_000,
    concurrency: 1,
    clients: ["effect-authlete"]
  },
  {
    name: "decode",
    title: "decode a full response (every field), {calls} times",
    kind: "library",
    calls: 100_000,
    warmup: 10_000,
    concurrency: 1,
    clients: ["effect-authlete", "sdk-zod"]
  },
  {
    name: "memory",
    title: "{calls} completions at concurrency 32 in one process, memory after every tenth (first round only)",
    kind: "network",
    operation: "complete",
    calls: 100_000,
    warmup: 0,
    concurrency: 32,
    rounds: 1,
    // The target is effect-undici's; the portable path over fetch needs more than a child's four minutes here.
    clients: ["effect-undici", "dispatch"]
  }
]

/** What the canned server's `GET /__stats` answers (bench/server.ts). */
export interface ServerStats {
  /** Every request but `/__stats`. */
  readonly requests: number
  /**
   * Per path: `/backchannel/authentication/complete`, `/backchannel/authentication`,
   * `/backchannel/authentication/issue`, `/auth/token`, anything else.
   */
  readonly completions: number
  readonly authentications: number
  readonly issues: number
  readonly tokens: number
  readonly unknown: number
  /** Request body bytes read. */
  readonly bytesRead: number
  readonly cpuMicros: number
}

/** What the parent tells a child. */
export interface ChildSpec {
  readonly client: ClientName
  readonly workload: WorkloadName
  readonly baseUrl: string
  readonly calls: number
  readonly warmup: number
  readonly concurrency: number
  /** The child gives up (and reports an error) past this wall-clock time. */
  readonly deadlineMs: number
}

export interface MemorySample {
  readonly calls: number
  /** RSS as found, then after a full GC, and the heap in use after it. */
  readonly rss: number
  readonly rssAfterGc: number
  readonly heapUsedAfterGc: number
}

/** What a child reports. */
export interface ChildResult {
  readonly client: ClientName
  readonly workload: WorkloadName
  readonly calls: number
  readonly wallMicros: number
  /** Wall time per operation (sequential: latency; concurrent: inverse throughput). */
  readonly perCallMicros: number
  readonly perSecond: number
  /** This process's CPU time (user + system, all threads) per operation. */
  readonly cpuPerCallMicros: number
  /** The canned server's CPU time per call, network workloads only. */
  readonly serverCpuPerCallMicros?: number
  /**
   * Request body bytes the server read per call (all its requests), network workloads only (the same
   * for every client).
   */
  readonly requestBytesPerCall?: number
  /** Peak RSS of the child (`process.resourceUsage().maxRSS`), warm-up included. */
  readonly peakRssBytes: number
  readonly memory?: ReadonlyArray<MemorySample>
  /** Library workloads: per-operation time including `JSON.stringify`/`JSON.parse`. */
  readonly withJsonPerCallMicros?: number
  /** The machine's 1-minute load average when the timing ended: above ~2, something else was running. */
  readonly loadAverage: number
}

export type ChildMessage =
  | { readonly type: "result"; readonly result: ChildResult }
  | { readonly type: "error"; readonly message: string }
