// Concurrency limits: requests in flight, router-wide and per service, each one counted from the
// moment it is admitted until its response body has ended (or it failed). A request over a limit
// is answered 503 `overloaded` at once, with Retry-After, never queued: Envoy's circuit breakers
// (cluster max_requests, "x-envoy-overloaded") and NGINX's limit_conn behave the same way, and a
// queue in a proxy only hides the overload from the client while it holds memory.
//
// Router-wide (`maxRequests`, default 10000): bounds what one vipr process holds at once (each
// request in flight costs buffers, sockets and objects), so a flood sheds load instead of running
// the process out of memory. Per service (annotation vipr.io/max-requests, default none): keeps one
// slow or flooded service from taking every slot, as Envoy's per-cluster breaker does.

import type { ServiceEntry } from "./table/routing-table.ts";

export const MAX_REQUESTS_ANNOTATION = "vipr.io/max-requests";
export const DEFAULT_MAX_REQUESTS = 10_000;

/** Why a request was not admitted; undefined when it was. */
export interface Overload {
  readonly scope: "router" | "service";
  readonly limit: number;
  readonly message: string;
}

export class ConcurrencyLimits {
  readonly maxRequests: number;
  #total = 0;
  /** In flight by service key; a service leaves the map at 0, so it holds busy services only. */
  readonly #byService = new Map<string, number>();
  /** The per-service limit of each entry (0: none), read from its annotations once per entry;
   * entries are replaced, never edited, when their Service changes. */
  readonly #limitOf = new WeakMap<ServiceEntry, number>();
  readonly #log: (line: string) => void;

  /** `maxRequests`: router-wide limit, 0 for none. */
  constructor(maxRequests: number = DEFAULT_MAX_REQUESTS, log: (line: string) => void = () => {}) {
    if (!(Number.isInteger(maxRequests) && maxRequests >= 0)) throw new RangeError(`maxRequests must be a whole number >= 0, got ${maxRequests}`);
    this.maxRequests = maxRequests;
    this.#log = log;
  }

  /** Requests in flight now, router-wide. */
  get inFlight(): number {
    return this.#total;
  }

  /** Admits a request for `service`, or says which limit it would pass. Every admitted request
   * must be released exactly once. */
  admit(service: ServiceEntry): Overload | undefined {
    if (this.maxRequests > 0 && this.#total >= this.maxRequests) {
      return { scope: "router", limit: this.maxRequests, message: `vipr has ${this.#total} requests in flight, its limit (--max-requests ${this.maxRequests}); try again shortly` };
    }
    const limit = this.#serviceLimit(service);
    const current = this.#byService.get(service.key) ?? 0;
    if (limit > 0 && current >= limit) {
      return { scope: "service", limit, message: `service ${service.key} has ${current} requests in flight, its limit (${MAX_REQUESTS_ANNOTATION}: ${limit}); try again shortly` };
    }
    this.#total++;
    this.#byService.set(service.key, current + 1);
    return undefined;
  }

  release(serviceKey: string): void {
    this.#total--;
    const current = this.#byService.get(serviceKey) ?? 0;
    if (current <= 1) this.#byService.delete(serviceKey);
    else this.#byService.set(serviceKey, current - 1);
  }

  #serviceLimit(service: ServiceEntry): number {
    let limit = this.#limitOf.get(service);
    if (limit === undefined) {
      limit = 0;
      const text = service.annotations[MAX_REQUESTS_ANNOTATION];
      if (text !== undefined) {
        const n = Number(text);
        if (text.trim() !== "" && Number.isInteger(n) && n >= 1) limit = n;
        else this.#log(`service ${service.key}: ${MAX_REQUESTS_ANNOTATION}: ${JSON.stringify(text)} is not a whole number of at least 1; no per-service limit`);
      }
      this.#limitOf.set(service, limit);
    }
    return limit;
  }
}
