// Counter series labelled by endpoint (upstream errors, ejections), kept in plain cells like the
// router's other per-request counts and handed to prom-client on scrape, with one more job: a
// series whose endpoint left the table is dropped, so a gateway that lives through thousands of
// rollouts does not keep a series for every pod it ever saw (each new pod name is a new label
// value). Prometheus treats a series that disappears as stale (Prometheus docs, "Staleness");
// Envoy likewise drops a host's stats when the host leaves its cluster.
//
// Nothing counted is lost: a gone endpoint's series stays until a scrape has reported its final
// value, and goes at the next scrape after that. Without a scraper nobody can lose anything, and a
// series gone for longer than `retireAfterMs` is dropped at the next table publish regardless.

import type { Counter } from "prom-client";
import { performanceNow } from "../monotonic-clock.ts";
import type { ServiceEntry } from "../table/routing-table.ts";

/** One series: its labels, counts not yet handed to prom-client, and whether its endpoint left. */
class EndpointCount {
  pending = 0;
  /** When the endpoint was found gone from the table (the store's clock), or undefined. */
  goneAt: number | undefined = undefined;
  /** A scrape has reported this series since its endpoint left. */
  reportedGone = false;
  readonly service: string;
  readonly endpoint: string;
  /** Its key in the service's map. */
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
  constructor(service: string, endpoint: string, key: string, labels: Readonly<Record<string, string>>) {
    this.service = service;
    this.endpoint = endpoint;
    this.key = key;
    this.labels = labels;
  }
}

export interface EndpointSeriesOptions {
  /** A gone endpoint's series is dropped after this long even if nothing scraped it. Default 10 min. */
  readonly retireAfterMs?: number;
  readonly now?: () => number;
}

export class EndpointSeries {
  /** By service key, then by the series key (endpoint and any further label, NUL-joined). */
  readonly #byService = new Map<string, Map<string, EndpointCount>>();
  readonly #gone = new Set<EndpointCount>();
  readonly #retireAfterMs: number;
  readonly #now: () => number;
  #counter: Counter<string> | undefined;

  constructor(options: EndpointSeriesOptions = {}) {
    this.#retireAfterMs = options.retireAfterMs ?? 600_000;
    this.#now = options.now ?? performanceNow;
  }

  /** Series in the store, gone or not (tests, and the soak's bound). */
  get size(): number {
    let n = 0;
    for (const series of this.#byService.values()) n += series.size;
    return n;
  }

  /** Counts one for `endpoint` of `service`; `extra` labels (e.g. kind) make separate series. */
  inc(service: string, endpoint: string, extra?: Readonly<Record<string, string>>): void {
    let series = this.#byService.get(service);
    if (series === undefined) {
      series = new Map();
      this.#byService.set(service, series);
    }
    // NUL cannot occur in an endpoint identity or a label value the router sets: the key is unambiguous.
    const key = extra === undefined ? endpoint : `${endpoint}\u0000${Object.values(extra).join("\u0000")}`;
    let count = series.get(key);
    if (count === undefined) {
      count = new EndpointCount(service, endpoint, key, Object.freeze({ service, endpoint, ...extra }));
      series.set(key, count);
    }
    count.pending++;
  }

  /**
   * A new table: series of `services` (the keys whose entries may have changed) whose endpoint is
   * no longer in the service's entry are marked gone; one that came back is live again. Then
   * series gone longer than retireAfterMs are dropped.
   */
  published(services: Iterable<string>, entryOf: (key: string) => ServiceEntry | undefined): void {
    const now = this.#now();
    for (const key of services) {
      const series = this.#byService.get(key);
      if (series === undefined) continue;
      const entry = entryOf(key);
      const present = new Set<string>();
      if (entry !== undefined) for (const endpoint of entry.endpoints) present.add(endpoint.identity);
      for (const count of series.values()) {
        if (present.has(count.endpoint)) {
          count.goneAt = undefined;
          count.reportedGone = false;
          this.#gone.delete(count);
        } else if (count.goneAt === undefined) {
          count.goneAt = now;
          this.#gone.add(count);
        }
      }
    }
    for (const count of this.#gone) if (now - count.goneAt! >= this.#retireAfterMs) this.#drop(count);
  }

  /** Keys of every service with a series (for a table not built from the last one seen). */
  services(): string[] {
    return [...this.#byService.keys()];
  }

  /** On scrape, inside the counter's collect(): hands pending counts over, and drops the series of
   * gone endpoints that an earlier scrape already reported with nothing counted since. */
  collect(counter: Counter<string>): void {
    this.#counter = counter;
    for (const count of this.#gone) {
      if (count.reportedGone && count.pending === 0) this.#drop(count);
    }
    for (const series of this.#byService.values()) {
      for (const count of series.values()) {
        if (count.pending !== 0) {
          counter.inc(count.labels, count.pending);
          count.pending = 0;
        }
        if (count.goneAt !== undefined) count.reportedGone = true;
      }
    }
  }

  #drop(count: EndpointCount): void {
    this.#gone.delete(count);
    const series = this.#byService.get(count.service);
    if (series !== undefined && series.get(count.key) === count) {
      series.delete(count.key);
      if (series.size === 0) this.#byService.delete(count.service);
    }
    this.#counter?.remove(count.labels);
  }
}
