/**
 * The deadlines of a transport's requests in flight, one timer per timeout. Each service sends its
 * requests with one timeout (`AuthleteClient` and `ClientNotifier` may share the transport with
 * different ones), so the requests with a given timeout expire in the order they started: a queue
 * per timeout, in start order, is in deadline order, a request that settles leaves it in constant
 * time, and one timer, set for the oldest, serves the whole queue. (A timer per request costs Node's
 * timer lists an insert and an unenroll on every call, several microseconds.) A timeout beyond the
 * first few seen (a retry cut short by its budget) gets a timer of its own.
 */

/** What a deadline watches: told once, when its time is up, unless it left before. */
export interface Expiring {
  readonly expire: () => void
  /** @internal when it expires (milliseconds on `performance.now()`), and where it waits. */
  deadlineAt: number
  previous: Expiring | undefined
  next: Expiring | undefined
  queue: DeadlineQueue | undefined
  ownTimer: ReturnType<typeof setTimeout> | undefined
}

/** The most timeouts given a queue; there are usually one or two. */
const MAX_QUEUES = 8

export class Deadlines {
  private readonly queues = new Map<number, DeadlineQueue>()

  /** Starts `item`'s deadline, `millis` from now. */
  add(item: Expiring, millis: number): void {
    let queue = this.queues.get(millis)
    if (queue === undefined && this.queues.size < MAX_QUEUES) {
      queue = new DeadlineQueue()
      this.queues.set(millis, queue)
    }
    if (queue === undefined) {
      item.ownTimer = setTimeout(item.expire, millis)
    } else {
      queue.add(item, millis)
    }
  }

  /** Ends `item`'s deadline: it settled first. */
  remove(item: Expiring): void {
    if (item.ownTimer !== undefined) {
      clearTimeout(item.ownTimer)
      item.ownTimer = undefined
    } else {
      item.queue?.remove(item)
    }
  }
}

/** The requests with one timeout, oldest first, and the timer set for the oldest. */
class DeadlineQueue {
  private oldest: Expiring | undefined = undefined
  private newest: Expiring | undefined = undefined
  private timer: ReturnType<typeof setTimeout> | undefined = undefined

  add(item: Expiring, millis: number): void {
    item.deadlineAt = performance.now() + millis
    item.queue = this
    item.previous = this.newest
    item.next = undefined
    if (this.newest === undefined) this.oldest = item
    else this.newest.next = item
    this.newest = item
    if (this.timer === undefined) this.arm(millis)
  }

  remove(item: Expiring): void {
    if (item.queue !== this) return
    const { next, previous } = item
    if (previous === undefined) this.oldest = next
    else previous.next = next
    if (next === undefined) this.newest = previous
    else next.previous = previous
    item.previous = item.next = item.queue = undefined
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
