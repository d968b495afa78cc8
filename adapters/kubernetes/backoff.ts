// Jittered, capped exponential backoff between failed list or watch attempts.
//
// client-go's reflector waits with NewExponentialBackoffManager(800ms, 30s, 2min, 2.0, 1.0): start
// at 800 ms, double each failure, cap at 30 s. Its jitter adds up to 100% on top, so a delay can
// reach twice the cap; here the jitter is taken off instead ("equal jitter"), so the cap is a real
// upper bound and a delay is never below (1 - jitter) of its step. Jitter matters: after an API
// server restart every router in the cluster fails at once, and without it they would all retry in
// the same instant, again and again.
//
// Worked example with the defaults (initial 800 ms, factor 2, cap 30 s, jitter 0.5):
// failure 1 waits 400..800 ms, failure 2 800..1600 ms, 3: 1.6..3.2 s, ... failure 7 and later 15..30 s.

export interface BackoffOptions {
  /** The first step, in ms. Default 800 (client-go's reflector). */
  readonly initialMs?: number;
  /** No step exceeds this, in ms. Default 30000 (client-go's reflector). */
  readonly maxMs?: number;
  /** Growth per failure. Default 2. */
  readonly factor?: number;
  /** Share of a step taken off at random, 0..1. Default 0.5. */
  readonly jitter?: number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #failures = 0;

  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    const { initialMs = 800, maxMs = 30_000, factor = 2, jitter = 0.5 } = options;
    if (!(initialMs >= 0 && maxMs >= initialMs)) throw new RangeError(`backoff needs 0 <= initialMs <= maxMs, got initialMs ${initialMs}, maxMs ${maxMs}`);
    if (!(factor >= 1)) throw new RangeError(`backoff factor must be at least 1, got ${factor}`);
    if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`backoff jitter must be from 0 to 1, got ${jitter}`);
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#factor = factor;
    this.#jitter = jitter;
    this.#random = random;
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /** The delay before the next attempt; counts one more failure. */
  next(): number {
    const step = Math.min(this.#maxMs, this.#initialMs * this.#factor ** Math.min(this.#failures, 64));
    this.#failures++;
    return step * (1 - this.#jitter * this.#random());
  }

  /** After a success: the next failure starts from the first step again. */
  reset(): void {
    this.#failures = 0;
  }
}
