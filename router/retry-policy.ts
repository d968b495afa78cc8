// When a failed try may be sent again, and how many retries may be in flight at once.
//
// A retry is safe when nothing reached the backend (a refused or failed connection: the
// transport says sentRequest false and keeps the body replayable), whatever the method; or when
// the method is idempotent (RFC 9110 section 9.2.2) and carries no body, and the connection was
// reset before any response: a keep-alive connection the backend closed as the request went out
// (the race behind Kubernetes 76580 / Traefik 4452 errors during rollouts). Timeouts are not
// retried: the backend may still be working on the request, and a retry doubles the load on a
// service that is already slow.
//
// The budget is Envoy's (config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget): retries in
// flight may be at most `budgetPercent` of the requests in flight, but at least
// `minRetryConcurrency`, so retries never multiply an outage.
import type { UpstreamError } from "./forward/upstream-transport.ts";

export interface RetryOptions {
  /** Tries after the first; default 2. */
  readonly maxRetries: number;
  /** Default 20 (%). */
  readonly budgetPercent: number;
  /** Default 3. */
  readonly minRetryConcurrency: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = Object.freeze({ maxRetries: 2, budgetPercent: 20, minRetryConcurrency: 3 });

const idempotent = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** Whether this failure of this request may be tried again on another endpoint. */
export function retryable(error: UpstreamError, method: string, hasBody: boolean): boolean {
  if (error.kind === "aborted" || error.kind === "timeout") return false;
  if (!error.sentRequest) return true;
  return error.kind === "reset" && !hasBody && idempotent.has(method);
}

/** Counts requests and retries in flight and says whether one more retry fits the budget. */
export class RetryBudget {
  readonly #options: RetryOptions;
  #active = 0;
  #retrying = 0;

  constructor(options: RetryOptions = DEFAULT_RETRY_OPTIONS) {
    this.#options = options;
  }

  get maxRetries(): number {
    return this.#options.maxRetries;
  }

  requestStarted(): void {
    this.#active++;
  }

  requestEnded(): void {
    this.#active--;
  }

  /** Takes a retry slot if the budget allows; give it back with retryEnded. */
  tryRetry(): boolean {
    const allowed = Math.max(this.#options.minRetryConcurrency, Math.floor((this.#active * this.#options.budgetPercent) / 100));
    if (this.#retrying >= allowed) return false;
    this.#retrying++;
    return true;
  }

  retryEnded(): void {
    this.#retrying--;
  }
}
