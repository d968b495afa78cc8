// When a failed try may be sent again, and how many retries may be in flight at once.
//
// A retry is safe when nothing reached the backend (a refused or failed connection: the
// transport says sentRequest false and keeps the body replayable), whatever the method; or when
// the method is idempotent (RFC 9110 section 9.2.2) and carries no body, and the connection was
// reset before any response: a keep-alive connection the backend closed as the request went out
// (the race behind Kubernetes 76580 / Traefik 4452 errors during rollouts). Timeouts are not
// retried: the backend may still be working on the request, and a retry doubles the load on a
// service that is already slow. Nor is "aborted": the client left, or its body broke off mid-upload,
// so there is nobody to answer and no whole request to send again.
//
// The budget is Linkerd's (ServiceProfile retryBudget, after Finagle's RetryBudget): over a sliding
// window of `ttlMs`, retries may be at most `retryRatio` of the requests, plus a reserve of
// `minRetriesPerSecond` for quiet services. That bounds what retries add to a service's load over
// time (an outage is never multiplied by more than 1 + retryRatio), while a burst of safe retries
// (a pod that dies with twenty requests on its connections, all refused or reset at once) is
// absorbed: Envoy's budget counts retries in flight against requests in flight instead, and the
// soak (tests/chaos/soak.test.ts) measured that refusing such bursts: about 1 request in 1.4
// million failed with 64 requests in flight and one flaky pod per service, every one of them
// "retry_budget".
import type { UpstreamError } from "./forward/upstream-transport.ts";

export interface RetryOptions {
  /** Tries after the first; default 2. */
  readonly maxRetries: number;
  /** Retries per request over the window; default 0.2. */
  readonly retryRatio: number;
  /** Retries allowed per second whatever the traffic; default 10. */
  readonly minRetriesPerSecond: number;
  /** The window, in ms; default 10 000. */
  readonly ttlMs: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = Object.freeze({ maxRetries: 2, retryRatio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 });

const idempotent = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** Whether this failure of this request may be tried again on another endpoint. */
export function retryable(error: UpstreamError, method: string, hasBody: boolean): boolean {
  if (error.kind === "aborted" || error.kind === "timeout") return false;
  if (!error.sentRequest) return true;
  return error.kind === "reset" && !hasBody && idempotent.has(method);
}

/** Buckets the window is kept in: the window slides by a tenth of its length. */
const BUCKETS = 10;

/** Counts requests and retries over the last ttlMs and says whether one more retry fits. */
export class RetryBudget {
  readonly #options: RetryOptions;
  readonly #now: () => number;
  readonly #bucketMs: number;
  readonly #requests = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);
  /** The bucket number (time / bucketMs) the current bucket holds. */
  #current = 0;

  /** `now`: milliseconds on the router's clock (ServiceRouterOptions.now), so a test that moves
   * the router's clock moves the window too. */
  constructor(options: RetryOptions, now: () => number) {
    if (!(options.retryRatio >= 0) || !(options.minRetriesPerSecond >= 0) || !(options.ttlMs > 0) || !(Number.isInteger(options.maxRetries) && options.maxRetries >= 0)) {
      throw new RangeError(
        `retry options must have maxRetries a whole number >= 0, retryRatio and minRetriesPerSecond >= 0 and ttlMs > 0, got ${JSON.stringify(options)}`,
      );
    }
    this.#options = options;
    this.#now = now;
    this.#bucketMs = options.ttlMs / BUCKETS;
    this.#current = Math.floor(now() / this.#bucketMs);
  }

  get maxRetries(): number {
    return this.#options.maxRetries;
  }

  /** A request (not a retry) started. */
  requestStarted(): void {
    this.#requests[this.#advance()]!++;
  }

  /** Counts a retry if the budget allows one now. */
  tryRetry(): boolean {
    const slot = this.#advance();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < BUCKETS; i++) {
      requests += this.#requests[i]!;
      retries += this.#retries[i]!;
    }
    const allowed = (this.#options.minRetriesPerSecond * this.#options.ttlMs) / 1000 + this.#options.retryRatio * requests;
    if (retries + 1 > allowed) return false;
    this.#retries[slot]!++;
    return true;
  }

  /** The current bucket's index, after clearing the buckets that fell out of the window. */
  #advance(): number {
    const bucket = Math.floor(this.#now() / this.#bucketMs);
    const passed = bucket - this.#current;
    if (passed > 0) {
      for (let i = 1; i <= Math.min(passed, BUCKETS); i++) {
        const slot = (this.#current + i) % BUCKETS;
        this.#requests[slot] = 0;
        this.#retries[slot] = 0;
      }
      this.#current = bucket;
    }
    return bucket % BUCKETS;
  }
}
