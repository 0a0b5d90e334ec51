/**
 * The simulator's record of the requests it authenticated: the latest ones, at most so many and at
 * most so many bytes, the oldest dropped first. Each change is one synchronous step.
 */
import * as Effect from "effect/Effect"
import type { ReceivedRequest } from "../AuthleteSimulator.js"

export interface RecordLimits {
  /** The most requests kept. */
  readonly maxRequests: number
  /** The most bytes kept, counted as `bytesOf` counts them. */
  readonly maxBytes: number
}

export interface Recorder {
  /** Keeps a request; its body is left out when the request alone is over `maxBytes`. */
  readonly add: (entry: ReceivedRequest, bodyBytes: number) => Effect.Effect<void>
  /** The requests kept, oldest first. */
  readonly all: Effect.Effect<ReadonlyArray<ReceivedRequest>>
}

/** A request's size: its body's bytes as they came, its method, path and headers' characters. */
const sizeOf = (entry: ReceivedRequest, bodyBytes: number): number => {
  let size = bodyBytes + entry.method.length + entry.path.length
  for (const name in entry.headers) size += name.length + entry.headers[name]!.length
  return size
}

export const makeRecorder = (limits: RecordLimits): Recorder => {
  // A queue: `entries[first]` is the oldest kept; the dropped ones are cut off now and then.
  let entries: Array<{ readonly entry: ReceivedRequest; readonly size: number }> = []
  let first = 0
  let bytes = 0
  const dropOldest = () => {
    bytes -= entries[first]!.size
    entries[first++] = undefined!
    if (first > 1024 && first * 2 > entries.length) {
      entries = entries.slice(first)
      first = 0
    }
  }
  return {
    add: (received, bodyBytes) =>
      Effect.sync(() => {
        let entry = received
        let size = sizeOf(entry, bodyBytes)
        if (size > limits.maxBytes) {
          entry = { ...received, body: undefined }
          size = sizeOf(entry, 0)
          if (size > limits.maxBytes) return
        }
        while (
          first < entries.length && (entries.length - first >= limits.maxRequests || bytes + size > limits.maxBytes)
        ) {
          dropOldest()
        }
        entries.push({ entry, size })
        bytes += size
      }),
    all: Effect.sync(() => entries.slice(first).map(({ entry }) => entry))
  }
}
