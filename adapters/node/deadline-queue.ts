// Pending deadlines on one native timer, to the millisecond.
//
// Why not undici's own timers: its headersTimeout, bodyTimeout and connectTimeout run on its
// "fast timers" (undici lib/util/timers.js), one 499 ms tick with a stated resolution of 1 s, so a
// 100 ms response timeout answered after 1.01 s (issue 17). Why not a setTimeout per request: on
// Deno, where this transport runs too, the Node-compatible setTimeout/clearTimeout pair showed as
// about a tenth of a transport's JS time in a profile of bench:proxy, and
// bench/deadline-queue.bench.ts measures a try's timers at 5 to 9 times this queue's cost there
// (2 to 4 times on Node). So every pending deadline is an entry in one binary min-heap ordered by
// expiry, and one native timer is armed for the earliest.
//
// The native timer is re-armed only when a deadline earlier than the armed one is added. A
// deadline cancelled at the top (the common case: a response head arrived) leaves the timer armed
// for a moment when nothing is due; it then wakes, finds nothing, and arms for the new top. With
// a steady stream of requests that is one wake-up per timeout length, not one per request.
//
// A deadline never fires early: Node's timers count whole milliseconds of the loop's clock and
// can wake up to 1 ms before the `performance.now()` time asked for, so the queue checks its own
// clock on waking and sleeps again for what is left.

export interface DeadlineClock {
  /** Milliseconds on a monotonic clock (performance.now()). */
  now(): number;
  /** Calls `fire` once, after `ms`; must not keep the process alive by itself. */
  setTimer(fire: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** An entry of a DeadlineQueue: extend it. One object may be scheduled, cancelled and scheduled
 * again any number of times; it is in the queue at most once. */
export abstract class Deadline {
  /** When it expires, on the queue's clock; meaningful while queued. */
  at = 0;
  /** Its index in the queue's heap; -1 when not queued. Only the queue writes it. */
  slot = -1;
  /** Called once the queue's clock reached `at`, after the entry left the queue. It may schedule
   * the entry again, for a later time than `now`. */
  abstract expire(now: number): void;
}

export class DeadlineQueue {
  readonly #heap: Deadline[] = [];
  readonly #clock: DeadlineClock;
  #timer: unknown = undefined;
  /** The time the native timer is armed for; Infinity when it is not. */
  #armedFor = Infinity;

  constructor(clock: DeadlineClock) {
    this.#clock = clock;
  }

  now(): number {
    return this.#clock.now();
  }

  /** Deadlines pending. */
  get size(): number {
    return this.#heap.length;
  }

  /** Queues `deadline` to expire at `at` (moving it if it was queued). */
  schedule(deadline: Deadline, at: number): void {
    const heap = this.#heap;
    if (deadline.slot >= 0) {
      const was = deadline.at;
      deadline.at = at;
      if (at < was) this.#up(deadline.slot);
      else this.#down(deadline.slot);
    } else {
      deadline.at = at;
      deadline.slot = heap.length;
      heap.push(deadline);
      this.#up(deadline.slot);
    }
    if (at < this.#armedFor) this.#arm(at);
  }

  /** Takes `deadline` out of the queue; nothing happens if it was not queued. */
  cancel(deadline: Deadline): void {
    const slot = deadline.slot;
    if (slot < 0) return;
    deadline.slot = -1;
    const heap = this.#heap;
    const last = heap.pop()!;
    if (last === deadline) return;
    // The last entry fills the hole and moves whichever way restores the order.
    heap[slot] = last;
    last.slot = slot;
    this.#up(slot);
    this.#down(last.slot);
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const heap = this.#heap;
    const now = this.#clock.now();
    try {
      while (heap.length > 0 && heap[0]!.at <= now) {
        const due = heap[0]!;
        this.cancel(due);
        due.expire(now);
      }
    } finally {
      // Even when an expire() threw: the deadlines left must still fire.
      if (heap.length > 0 && heap[0]!.at < this.#armedFor) this.#arm(heap[0]!.at);
    }
  };

  #arm(at: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#armedFor = at;
    this.#timer = this.#clock.setTimer(this.#fire, Math.max(1, Math.ceil(at - this.#clock.now())));
  }

  #up(slot: number): void {
    const heap = this.#heap;
    const moving = heap[slot]!;
    while (slot > 0) {
      const parentSlot = (slot - 1) >> 1;
      const parent = heap[parentSlot]!;
      if (parent.at <= moving.at) break;
      heap[slot] = parent;
      parent.slot = slot;
      slot = parentSlot;
    }
    heap[slot] = moving;
    moving.slot = slot;
  }

  #down(slot: number): void {
    const heap = this.#heap;
    const length = heap.length;
    const moving = heap[slot]!;
    for (;;) {
      let child = 2 * slot + 1;
      if (child >= length) break;
      // The earlier of the two children; child + 1 < length was checked.
      if (child + 1 < length && heap[child + 1]!.at < heap[child]!.at) child++;
      const earlier = heap[child]!;
      if (moving.at <= earlier.at) break;
      heap[slot] = earlier;
      earlier.slot = slot;
      slot = child;
    }
    heap[slot] = moving;
    moving.slot = slot;
  }
}
