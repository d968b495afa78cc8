// Per-request deadlines without a timer per request. Under Deno with npm packages the global
// setTimeout is the Node-compatible one (ext:deno_node/timers.ts), and a setTimeout/clearTimeout
// pair per forwarded request showed as about a tenth of the Deno transport's JS time in a V8
// profile of bench:proxy. Instead, deadlines sit in a set that one interval sweeps every
// `resolutionMs` while any are pending: a deadline fires at most that much late, which is noise
// beside timeouts of seconds.

export interface Deadline {
  readonly at: number;
  readonly fire: () => void;
}

export class Deadlines {
  readonly #pending = new Set<Deadline>();
  readonly #resolutionMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(resolutionMs = 20) {
    this.#resolutionMs = resolutionMs;
  }

  /** Calls `fire` once, `ms` from now, unless cancelled first. */
  add(ms: number, fire: () => void): Deadline {
    const deadline: Deadline = { at: performance.now() + ms, fire };
    this.#pending.add(deadline);
    if (this.#timer === undefined) this.#timer = setInterval(() => this.#sweep(), this.#resolutionMs);
    return deadline;
  }

  cancel(deadline: Deadline | undefined): void {
    if (deadline === undefined) return;
    this.#pending.delete(deadline);
    if (this.#pending.size === 0) this.#stop();
  }

  #sweep(): void {
    const now = performance.now();
    for (const deadline of this.#pending) {
      if (deadline.at > now) continue;
      this.#pending.delete(deadline);
      deadline.fire();
    }
    if (this.#pending.size === 0) this.#stop();
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
