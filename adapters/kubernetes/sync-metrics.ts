// Prometheus metrics of the Kubernetes sync, on the Registry the router's metrics use (pass
// RouterMetrics.registry), so one /metrics page shows both. Names follow the router's: vipr_kube_*.
// Every list/watch loop is labelled by its resource and namespace ("*": all namespaces).
// The two delays answer different questions:
// - vipr_kube_event_to_table_seconds: from an event read off the watch to the table that has it
//   (vipr's own part: coalescing and the rebuild);
// - vipr_kube_network_programming_seconds: from the change that made the EndpointSlice controller
//   write a slice (its endpoints.kubernetes.io/last-change-trigger-time annotation) to the table,
//   the end-to-end figure kube-proxy reports as network_programming_duration_seconds
//   (pkg/proxy/metrics/metrics.go; the annotation has second precision, hence the coarse low end).

import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ListWatchObserver } from "./list-watch-loop.ts";

const delayBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const programmingBuckets = [0.25, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 30, 45, 60, 120, 300];

export class SyncMetrics {
  readonly registry: Registry;
  readonly #relists: Counter<"resource" | "namespace" | "reason">;
  readonly #restarts: Counter<"resource" | "namespace" | "reason">;
  readonly #events: Counter<"resource" | "namespace" | "type">;
  readonly #failures: Counter<"resource" | "namespace" | "during" | "code">;
  readonly #undecodable: Counter<"resource" | "namespace">;
  readonly #synced: Gauge<"resource" | "namespace">;
  readonly #eventToTable: Histogram;
  readonly #programming: Histogram;
  /** Last sync times (ms), handed to the gauge on scrape rather than on every event. */
  readonly #lastSyncMs = new Map<string, { labels: { resource: string; namespace: string }; ms: number }>();

  constructor(registry: Registry) {
    this.registry = registry;
    const registers = [registry];
    const lastSyncMs = this.#lastSyncMs;
    this.#relists = new Counter({ name: "vipr_kube_relists_total", help: "Full lists of a collection, by reason: initial, expired (410), undecodable (a watch line that was not an event), too-large (a watch answered 504 Too large resource version).", labelNames: ["resource", "namespace", "reason"], registers });
    this.#restarts = new Counter({ name: "vipr_kube_watch_restarts_total", help: "Watches that ended and were opened again, by reason: timeout (server ended it), expired, failed, stalled (watchdog), undecodable.", labelNames: ["resource", "namespace", "reason"], registers });
    this.#events = new Counter({ name: "vipr_kube_watch_events_total", help: "Watch events received, by type (ADDED, MODIFIED, DELETED, BOOKMARK).", labelNames: ["resource", "namespace", "type"], registers });
    this.#failures = new Counter({ name: "vipr_kube_request_failures_total", help: "Failed list and watch requests, by HTTP status or Status code (network: no answer).", labelNames: ["resource", "namespace", "during", "code"], registers });
    this.#undecodable = new Counter({ name: "vipr_kube_undecodable_lines_total", help: "Watch lines that were not a watch event, or objects without a name; each one forces a re-list.", labelNames: ["resource", "namespace"], registers });
    this.#synced = new Gauge({ name: "vipr_kube_synced", help: "1 once the first full list of the collection is in the store.", labelNames: ["resource", "namespace"], registers });
    new Gauge<"resource" | "namespace">({
      name: "vipr_kube_last_sync_timestamp_seconds",
      help: "When the collection was last known current (a list finished, an event or bookmark arrived, a watch ended cleanly), in seconds since the epoch.",
      labelNames: ["resource", "namespace"],
      registers,
      collect() {
        for (const { labels, ms } of lastSyncMs.values()) this.set(labels, ms / 1000);
      },
    });
    this.#eventToTable = new Histogram({ name: "vipr_kube_event_to_table_seconds", help: "From a watch event (or the end of a list) to the published routing table that has it.", buckets: delayBuckets, registers });
    this.#programming = new Histogram({ name: "vipr_kube_network_programming_seconds", help: "From an EndpointSlice's endpoints.kubernetes.io/last-change-trigger-time to the published routing table that has it.", buckets: programmingBuckets, registers });
  }

  /** The observer one loop reports to. */
  observer(resource: string, namespace: string | undefined, now: () => number): ListWatchObserver {
    const labels = { resource, namespace: namespace ?? "*" };
    const key = `${labels.resource}\u0000${labels.namespace}`;
    const events = new Map<string, Counter.Internal>();
    this.#synced.set(labels, 0);
    return {
      listed: ({ reason }) => {
        this.#relists.inc({ ...labels, reason });
        this.#synced.set(labels, 1);
      },
      watchEnded: ({ reason }) => {
        if (reason !== "stopped") this.#restarts.inc({ ...labels, reason });
      },
      event: (type) => {
        let child = events.get(type);
        if (child === undefined) events.set(type, (child = this.#events.labels({ ...labels, type })));
        child.inc();
      },
      failed: ({ during, error }) => this.#failures.inc({ ...labels, during, code: error.code === 0 ? error.kind : String(error.code) }),
      badLine: () => this.#undecodable.inc(labels),
      alive: () => this.#lastSyncMs.set(key, { labels, ms: now() }),
    };
  }

  tablePublished(eventToTableSeconds: number | undefined, programmingSeconds: readonly number[]): void {
    if (eventToTableSeconds !== undefined) this.#eventToTable.observe(eventToTableSeconds);
    for (const seconds of programmingSeconds) this.#programming.observe(seconds);
  }
}
