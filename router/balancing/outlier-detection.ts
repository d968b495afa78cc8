// Passive health: one service's outlier detection, after Envoy's (envoy.config.cluster.v3.
// OutlierDetection: consecutive_5xx with local-origin errors folded in, base_ejection_time,
// max_ejection_time, max_ejection_percent). The router reports how each try to an endpoint ended;
// after `consecutiveFailures` failures in a row the endpoint is ejected, and the balancer
// (service-balancer.ts, through ejection-layer.ts) passes over it until the ejection ends.
//
// What counts:
//   - failure: no connection (connect), a connection reset mid-exchange (reset), an answer that is
//     not HTTP (protocol), no answer in time (timeout: Envoy counts it as a gateway failure too),
//     or a 5xx status;
//   - success: any other status whose response ended without an error; it resets the count;
//   - neither: "aborted", the client went away or its request body broke off as vipr read it
//     (closed or reset mid-upload: a transport reports that as "aborted", never as a reset of the
//     pod's), and anything vipr refused before dialling (TRACE, userinfo, an https target, an
//     upgrade): no try was made. That says nothing about the endpoint, and counting it would let
//     clients that hang up eject a healthy pod (issue 17: ten abandoned uploads ejected one).
//
// The n-th ejection of an endpoint lasts baseEjectionMs x n, at most maxEjectionMs (Envoy's
// ejection multiplier). Worked example with the defaults: 30 s, then 60 s, 90 s, ... 300 s.
// The multiplier decays as in Envoy (outlier_detection.interval, 10 s by default): each full
// `decayIntervalMs` the endpoint spends out of ejection lowers it by one, so a pod that failed once
// last week starts again at 30 s, while one that keeps failing climbs. An entry with nothing left
// on record (no failure in a row, multiplier 0) is dropped, so the store holds failing endpoints
// only. The decay is computed when an entry is read; no timer runs.
// An ejection is refused when the service would then have more than maxEjectionPercent of its
// eligible endpoints ejected, and one endpoint always stays: with 2 endpoints at 50 % one may be
// ejected, with 1 endpoint none, so a bad deploy degrades a service but never blackholes it.
//
// Entries are keyed by identity and address (a restarted pod with a new address starts clean) and
// are made on the first failure only, so healthy traffic costs one Map miss per try.

export interface OutlierDetectionOptions {
  /** Failures in a row that eject an endpoint. Default 5. */
  readonly consecutiveFailures?: number;
  /** First ejection's length; the n-th lasts n times this. Default 30 000 ms. */
  readonly baseEjectionMs?: number;
  /** Longest ejection. Default 300 000 ms. */
  readonly maxEjectionMs?: number;
  /** Most of a service's eligible endpoints ejected at once, in percent. Default 50. */
  readonly maxEjectionPercent?: number;
  /** Time out of ejection that lowers the multiplier by one. Default 10 000 ms (Envoy's interval). */
  readonly decayIntervalMs?: number;
  /** Milliseconds; default Date.now. */
  readonly now?: () => number;
}

export const DEFAULT_OUTLIER_DETECTION = Object.freeze({
  consecutiveFailures: 5,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 50,
  decayIntervalMs: 10_000,
});

/** One endpoint as /debug/table shows it. */
export interface EndpointHealthView {
  readonly identity: string;
  readonly address: string;
  readonly consecutiveFailures: number;
  /** Times ejected so far (the multiplier of the next ejection's length). */
  readonly ejections: number;
  /** Epoch milliseconds the current ejection ends; null when not ejected. */
  readonly ejectedUntil: number | null;
}

class EndpointHealth {
  consecutive = 0;
  /** The multiplier as of `decayedAt`. */
  ejections = 0;
  /** 0 when not ejected. */
  ejectedUntil = 0;
  /** When the multiplier was last brought up to date (decay counts whole intervals from here). */
  decayedAt = 0;
  readonly identity: string;
  readonly address: string;
  constructor(identity: string, address: string) {
    this.identity = identity;
    this.address = address;
  }
}

/** A response status that counts as a failed try (see the header). */
export function isFailureStatus(status: number): boolean {
  return status >= 500 && status <= 599;
}

export class OutlierDetector {
  readonly consecutiveFailures: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
  readonly decayIntervalMs: number;
  readonly #now: () => number;
  readonly #byKey = new Map<string, EndpointHealth>();
  /** Entries with ejectedUntil != 0 (some may have expired; #sweep clears them). */
  #ejected = 0;
  /** The earliest ejectedUntil among them: before it, nothing can have expired. */
  #nextExpiry = Number.POSITIVE_INFINITY;

  constructor(options: OutlierDetectionOptions = {}) {
    const o = { ...DEFAULT_OUTLIER_DETECTION, ...options };
    if (!Number.isInteger(o.consecutiveFailures) || o.consecutiveFailures < 1) {
      throw new RangeError(`consecutiveFailures must be an integer of at least 1, got ${o.consecutiveFailures}`);
    }
    if (!(o.baseEjectionMs > 0) || !(o.maxEjectionMs >= o.baseEjectionMs)) {
      throw new RangeError(`ejection times must satisfy 0 < baseEjectionMs <= maxEjectionMs, got ${o.baseEjectionMs} and ${o.maxEjectionMs}`);
    }
    if (!(o.maxEjectionPercent >= 0 && o.maxEjectionPercent <= 100)) {
      throw new RangeError(`maxEjectionPercent must be from 0 to 100, got ${o.maxEjectionPercent}`);
    }
    this.consecutiveFailures = o.consecutiveFailures;
    this.baseEjectionMs = o.baseEjectionMs;
    this.maxEjectionMs = o.maxEjectionMs;
    if (!(o.decayIntervalMs > 0)) throw new RangeError(`decayIntervalMs must be above 0, got ${o.decayIntervalMs}`);
    this.maxEjectionPercent = o.maxEjectionPercent;
    this.decayIntervalMs = o.decayIntervalMs;
    this.#now = options.now ?? Date.now;
  }

  /** Endpoints ejected now. The balancer's per-request check: 0 costs one compare and a clock read
   * only while some ejection is pending. */
  ejectedCount(): number {
    if (this.#ejected === 0) return 0;
    if (this.#now() >= this.#nextExpiry) this.#sweep();
    return this.#ejected;
  }

  isEjected(identity: string, address: string): boolean {
    if (this.#ejected === 0) return false;
    const entry = this.#byKey.get(keyOf(identity, address));
    return entry !== undefined && entry.ejectedUntil !== 0 && entry.ejectedUntil > this.#now();
  }

  recordSuccess(identity: string, address: string): void {
    if (this.#byKey.size === 0) return;
    const key = keyOf(identity, address);
    const entry = this.#byKey.get(key);
    if (entry === undefined) return;
    entry.consecutive = 0;
    const now = this.#now();
    if (entry.ejectedUntil <= now && this.#decay(entry, now) === 0) this.#byKey.delete(key);
  }

  /**
   * Counts a failed try. `eligibleCount`: the service's eligible endpoints, for the ejection cap.
   * Returns true when this failure ejected the endpoint.
   */
  recordFailure(identity: string, address: string, eligibleCount: number): boolean {
    const key = keyOf(identity, address);
    let entry = this.#byKey.get(key);
    if (entry === undefined) {
      entry = new EndpointHealth(identity, address);
      this.#byKey.set(key, entry);
    }
    const now = this.#now();
    if (entry.ejectedUntil !== 0) {
      if (entry.ejectedUntil > now) return false; // a try that started before the ejection
      this.#sweep();
    }
    this.#decay(entry, now);
    entry.consecutive++;
    if (entry.consecutive < this.consecutiveFailures) return false;
    // The cap: floor(percent of eligible), and never the last one.
    const allowed = Math.min(Math.floor((eligibleCount * this.maxEjectionPercent) / 100), eligibleCount - 1);
    if (this.ejectedCount() + 1 > allowed) return false;
    entry.ejections++;
    entry.consecutive = 0;
    entry.ejectedUntil = now + Math.min(this.baseEjectionMs * entry.ejections, this.maxEjectionMs);
    // Decay counts from the end of this ejection.
    entry.decayedAt = entry.ejectedUntil;
    this.#ejected++;
    if (entry.ejectedUntil < this.#nextExpiry) this.#nextExpiry = entry.ejectedUntil;
    return true;
  }

  /** Forgets endpoints that are not in `keep` (identity and address), after a table change. */
  retain(keep: Iterable<{ readonly identity: string; readonly address: string }>): void {
    if (this.#byKey.size === 0) return;
    const kept = new Set<string>();
    for (const e of keep) kept.add(keyOf(e.identity, e.address));
    for (const key of this.#byKey.keys()) if (!kept.has(key)) this.#byKey.delete(key);
    this.#sweep();
  }

  /** Every endpoint with a failure or ejection on record. */
  snapshot(): EndpointHealthView[] {
    this.ejectedCount();
    const now = this.#now();
    for (const e of this.#byKey.values()) this.#decay(e, now);
    return [...this.#byKey.values()].map((e) => ({
      identity: e.identity,
      address: e.address,
      consecutiveFailures: e.consecutive,
      ejections: e.ejections,
      ejectedUntil: e.ejectedUntil === 0 ? null : e.ejectedUntil,
    }));
  }

  /** Brings an unejected entry's multiplier up to `now`: one less per whole decayIntervalMs. */
  #decay(entry: EndpointHealth, now: number): number {
    if (entry.ejections === 0 || entry.ejectedUntil > now) return entry.ejections;
    const steps = Math.floor((now - entry.decayedAt) / this.decayIntervalMs);
    if (steps > 0) {
      entry.ejections = Math.max(0, entry.ejections - steps);
      entry.decayedAt += steps * this.decayIntervalMs;
    }
    return entry.ejections;
  }

  /** Ends expired ejections and recounts. */
  #sweep(): void {
    const now = this.#now();
    let ejected = 0;
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.#byKey.values()) {
      if (entry.ejectedUntil === 0) continue;
      if (entry.ejectedUntil <= now) {
        entry.ejectedUntil = 0;
        continue;
      }
      ejected++;
      if (entry.ejectedUntil < next) next = entry.ejectedUntil;
    }
    this.#ejected = ejected;
    this.#nextExpiry = next;
  }
}

// NUL cannot occur in an identity or an address, so the joined key is unambiguous.
function keyOf(identity: string, address: string): string {
  return `${identity}\u0000${address}`;
}
