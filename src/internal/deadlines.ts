/**
 * The deadlines of a transport's requests in flight, on one timer. A service gives all its requests
 * the same timeout, so they expire in the order they started: a queue in start order is a queue in
 * deadline order, a request that settles leaves it in constant time, and one timer, set for the
 * oldest, serves them all. (A timer per request costs Node's timer lists an insert and an unenroll on
 * every call, several microseconds.) A request whose deadline comes before the newest one's (a retry
 * cut short by its budget) gets a timer of its own.
 */

/** What a deadline watches: told once, when its time is up, unless it left before. */
export interface Expiring {
  readonly expire: () => void
  /** @internal the queue's links and the time it expires (milliseconds on `performance.now()`). */
  deadlineAt: number
  previous: Expiring | undefined
  next: Expiring | undefined
  ownTimer: ReturnType<typeof setTimeout> | undefined
}

export class Deadlines {
  private oldest: Expiring | undefined = undefined
  private newest: Expiring | undefined = undefined
  private timer: ReturnType<typeof setTimeout> | undefined = undefined

  /** Starts `item`'s deadline, `millis` from now. */
  add(item: Expiring, millis: number): void {
    const at = performance.now() + millis
    item.deadlineAt = at
    if (this.newest !== undefined && at < this.newest.deadlineAt) {
      item.ownTimer = setTimeout(item.expire, millis)
      return
    }
    item.previous = this.newest
    item.next = undefined
    if (this.newest === undefined) this.oldest = item
    else this.newest.next = item
    this.newest = item
    if (this.timer === undefined) this.arm(millis)
  }

  /** Ends `item`'s deadline: it settled first. */
  remove(item: Expiring): void {
    if (item.ownTimer !== undefined) {
      clearTimeout(item.ownTimer)
      item.ownTimer = undefined
      return
    }
    const { next, previous } = item
    if (previous === undefined) {
      if (this.oldest !== item) return
      this.oldest = next
    } else {
      previous.next = next
    }
    if (next === undefined) this.newest = previous
    else next.previous = previous
    item.previous = item.next = undefined
  }

  // Not a reason to keep the process alive: a request in flight holds its socket, which is.
  private arm(millis: number) {
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(millis)))
    this.timer.unref()
  }

  // The timer is left running when the oldest settles (clearing it would cost what is saved);
  // when it fires early it is set again for the oldest still waiting.
  private readonly fire = () => {
    this.timer = undefined
    const now = performance.now()
    while (this.oldest !== undefined && this.oldest.deadlineAt <= now) {
      const item = this.oldest
      this.remove(item)
      item.expire()
    }
    if (this.oldest !== undefined) this.arm(this.oldest.deadlineAt - now)
  }
}
