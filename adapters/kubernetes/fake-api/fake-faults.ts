// Faults the fake API server injects into requests: the next matching requests are answered with
// an error status (429 with Retry-After, 5xx, 403, 410 on a list, ...) or fail as a network error.
// Faults on open watches (stall, expire, end, break) act on the FakeWatch objects directly.

import { reasonFor, statusResponse } from "./fake-status.ts";

export type FakeVerb = "list" | "watch" | "get";

export interface RequestFault {
  /** Which requests: a verb, or any. */
  readonly verb?: FakeVerb;
  /** A resource plural ("services", "endpointslices", "pods"), or any. */
  readonly resource?: string;
  /** How many matching requests fail. Default 1. */
  readonly times?: number;
}

export interface StatusFault extends RequestFault {
  /** 403, 410, 429, 500, 503, ... */
  readonly status: number;
  /** Sent as Retry-After (seconds), e.g. with 429. */
  readonly retryAfterSeconds?: number;
  readonly message?: string;
}

interface Pending {
  readonly fault: RequestFault;
  readonly respond: () => Response;
  left: number;
}

export class FakeFaults {
  readonly #pending: Pending[] = [];

  /** The next matching requests get this status and a Status body. */
  failNext(fault: StatusFault): void {
    const reason = reasonFor(fault.status);
    const message =
      fault.message ??
      (fault.status === 410
        ? "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."
        : `fake API server: injected ${fault.status} ${reason}`);
    const headers: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { "retry-after": String(fault.retryAfterSeconds) };
    this.#pending.push({ fault, left: fault.times ?? 1, respond: () => statusResponse({ code: fault.status, reason, message }, headers) });
  }

  /** The next matching requests fail without an answer (fetch rejects, as on a reset connection). */
  networkErrorNext(fault: RequestFault = {}): void {
    this.#pending.push({ fault, left: fault.times ?? 1, respond: () => Response.error() });
  }

  /** Forgets every pending request fault. */
  clear(): void {
    this.#pending.length = 0;
  }

  get pending(): number {
    return this.#pending.reduce((sum, p) => sum + p.left, 0);
  }

  /** The injected answer for this request, if a fault matches (and counts it). */
  take(verb: FakeVerb, resource: string): Response | undefined {
    const index = this.#pending.findIndex((p) => (p.fault.verb === undefined || p.fault.verb === verb) && (p.fault.resource === undefined || p.fault.resource === resource));
    if (index === -1) return undefined;
    const pending = this.#pending[index]!;
    if (--pending.left <= 0) this.#pending.splice(index, 1);
    return pending.respond();
  }
}
