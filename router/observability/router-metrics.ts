// The router's Prometheus metrics. Each RouterMetrics owns its Registry (never prom-client's global
// one), so several routers in one process, as in tests, keep separate counts.
//
// Per-request counts (requests, latency, upstream errors, unknown hosts) are kept in plain cells
// found by one Map lookup and handed to prom-client only when /metrics is scraped: prom-client's
// counter and histogram validate and hash their labels on every call, 1 to 2 us per request even
// through cached `labels()` children, against a few tens of ns here. Table metrics change once per
// rebuild and go to prom-client directly.

import { Counter, Gauge, Registry } from "prom-client";
import { performanceNow } from "../monotonic-clock.ts";
import { isBuiltFrom, type RoutingTable } from "../table/routing-table.ts";
import { EndpointSeries } from "./endpoint-series.ts";
import { LatencyHistogram, type HistogramSeries } from "./latency-histogram.ts";
import { NOOP_TUNNELS, TunnelMetrics, type TunnelRecorder } from "./tunnel-metrics.ts";

export { movedShare, type MovedShareOptions } from "./moved-share.ts";

/** How a forward failed: no connection, no answer in time, connection dropped mid-exchange, or an
 * answer that is not valid HTTP. */
export type UpstreamErrorKind = "connect" | "timeout" | "reset" | "protocol";

/** What the router calls. RouterMetrics records; NoopMetrics (metrics off) does nothing. */
export interface MetricsRecorder {
  readonly enabled: boolean;
  /** One finished request to a known service ("namespace/name"): the status sent to the client
   * and the time from request to response end, in seconds. */
  requestDone(service: string, status: number, seconds: number): void;
  /** The protocol a request came in on (http/1.1, h2, h2c) and the one vipr spoke to the pod
   * ("-" when vipr answered itself): counted apart from requestDone, whose series are per service. */
  requestProtocol(protocol: string, upstream: string): void;
  /** `endpoint` names the endpoint as it is in the table (its identity, e.g. a pod name), which
   * bounds the label's values by the endpoints that exist. */
  upstreamError(service: string, endpoint: string, kind: UpstreamErrorKind): void;
  /** A request for a host that names no service. The host is not a label: any client could
   * otherwise grow the series without bound. */
  unknownHost(): void;
  /** Once per published snapshot. */
  tableBuilt(table: RoutingTable): void;
  /** The share (0..1) of a service's hash keys that its latest rebuild moved (see movedShare). */
  keysMoved(service: string, share: number): void;
  /** Passive health ejected `endpoint` (its identity) of `service`. */
  endpointEjected(service: string, endpoint: string): void;
  /** Where the ejected-endpoints gauge reads, on scrape: endpoints ejected now, by service key. */
  ejectionsFrom(source: () => Iterable<readonly [string, number]>): void;
  /** Where the in-flight gauge reads, on scrape: requests admitted and not yet ended. */
  inFlightFrom(source: () => number): void;
  /** Upgraded connections (WebSocket tunnels): tunnel-metrics.ts. */
  readonly tunnels: TunnelRecorder;
  render(): Promise<{ contentType: string; body: string }>;
}

/** vipr_objects_skipped_total{kind,reason}: input objects with a value the table builder skipped
 * or replaced by its default, counted by the source that logs them (once per object version; see
 * router/table/skipped-objects.ts). One counter per registry, shared by whoever asks for it. */
export function objectsSkippedCounter(registry: Registry): Counter<"kind" | "reason"> {
  const name = "vipr_objects_skipped_total";
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) return existing as Counter<"kind" | "reason">;
  return new Counter<"kind" | "reason">({
    name,
    help: "Input objects (Service, EndpointSlice, Pod) with a value skipped or replaced by its default, by kind and the field (list indices dropped); each object version counted once.",
    labelNames: ["kind", "reason"],
    registers: [registry],
  });
}

/** Upper bounds in seconds: 0.5 ms (a local hop through the proxy) to 10 s (a slow upstream);
 * prom-client's default buckets start at 5 ms, above most of what a sidecar adds. */
export const latencyBucketsSeconds: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

export interface RouterMetricsOptions {
  /** Default: a new Registry. Pass one to add process metrics (collectDefaultMetrics) from a
   * runtime adapter, or to serve other metrics on the same page. */
  readonly registry?: Registry;
  readonly latencyBuckets?: readonly number[];
  /** A series labelled by an endpoint or a service that left the table is dropped once a scrape
   * has reported it, or after this long without a scrape. Default 10 minutes. */
  readonly retireGoneEndpointsAfterMs?: number;
  /** Clock for that, in ms (tests). */
  readonly now?: () => number;
}

/** A count not yet handed to prom-client, with the label set it is counted under. */
class PendingCount {
  pending = 0;
  readonly labels: Readonly<Record<string, string>>;
  constructor(labels: Readonly<Record<string, string>>) {
    this.labels = labels;
  }
}

const KIND_LABELS: Readonly<Record<UpstreamErrorKind, Readonly<Record<"kind", UpstreamErrorKind>>>> = Object.freeze({
  connect: Object.freeze({ kind: "connect" }),
  timeout: Object.freeze({ kind: "timeout" }),
  reset: Object.freeze({ kind: "reset" }),
  protocol: Object.freeze({ kind: "protocol" }),
});

/** A service's cells. Most requests of a service share a status (200), so the last one used is
 * checked before the map; a 600-slot array per service would cost ~5 kB each on a gateway with
 * thousands of services. */
class ServiceCells {
  lastStatus = -1;
  lastCount: PendingCount | undefined = undefined;
  /** By status code 100..599; 0 collects anything outside that range. */
  readonly byStatus = new Map<number, PendingCount>();
  readonly latency: HistogramSeries;
  constructor(latency: HistogramSeries) {
    this.latency = latency;
  }
}

export class RouterMetrics implements MetricsRecorder {
  readonly enabled = true;
  readonly registry: Registry;
  readonly #services = new Map<string, ServiceCells>();
  readonly #requestCounts: PendingCount[] = [];
  /** protocol -> upstream_protocol -> requests since the last scrape: two lookups of strings the
   * request already has, no key built per request. */
  readonly #protocolCounts = new Map<string, Map<string, { pending: number }>>();
  /** Services that left the table, with when, and whether a scrape has reported them since. */
  readonly #goneServices = new Map<string, { readonly at: number; reported: boolean; countAtReport: number }>();
  readonly #requestsCounter: Counter<"service" | "code">;
  readonly #retireAfterMs: number;
  readonly #now: () => number;
  readonly #errorCounts: EndpointSeries;
  readonly #ejectionCounts: EndpointSeries;
  #lastTable: RoutingTable | undefined;
  #ejectedSource: (() => Iterable<readonly [string, number]>) | undefined;
  #inFlightSource: (() => number) | undefined;
  #unknownHosts = 0;
  readonly #latency: LatencyHistogram;
  readonly #tableRebuilds: Counter;
  readonly #tableServices: Gauge;
  readonly #tableEndpoints: Gauge;
  readonly #tableGeneration: Gauge;
  readonly #keysMoved: Gauge<"service">;
  readonly tunnels: TunnelRecorder;

  constructor(options: RouterMetricsOptions = {}) {
    const registry = options.registry ?? new Registry();
    const registers = [registry];
    this.registry = registry;
    const requestCounts = this.#requestCounts;
    this.#retireAfterMs = options.retireGoneEndpointsAfterMs ?? 600_000;
    this.#now = options.now ?? performanceNow;
    const self = this;
    const seriesOptions = {
      ...(options.retireGoneEndpointsAfterMs === undefined ? {} : { retireAfterMs: options.retireGoneEndpointsAfterMs }),
      ...(options.now === undefined ? {} : { now: options.now }),
    };
    const errorCounts = (this.#errorCounts = new EndpointSeries(seriesOptions));
    const ejectionCounts = (this.#ejectionCounts = new EndpointSeries(seriesOptions));
    // Counted in a map on the request path and added to the counter when scraped.
    const protocolCounts = this.#protocolCounts;
    new Counter<"protocol" | "upstream_protocol">({
      name: "vipr_requests_by_protocol_total",
      help: "Requests by the protocol they came in on (http/1.1, h2, h2c) and the one vipr spoke to the pod (http/1.1, h2c; - when vipr answered itself).",
      labelNames: ["protocol", "upstream_protocol"],
      registers,
      collect() {
        for (const [protocol, byUpstream] of protocolCounts) {
          for (const [upstream, cell] of byUpstream) {
            if (cell.pending === 0) continue;
            this.inc({ protocol, upstream_protocol: upstream }, cell.pending);
            cell.pending = 0;
          }
        }
      },
    });
    this.#requestsCounter = new Counter<"service" | "code">({
      name: "vipr_requests_total",
      help: "Requests to known services, by service (namespace/name) and the status code sent to the client.",
      labelNames: ["service", "code"],
      registers,
      collect() {
        self.#retireServicesOnScrape();
        flush(this, requestCounts);
      },
    });
    this.#latency = new LatencyHistogram({
      name: "vipr_request_duration_seconds",
      help: "Time from request to the end of the response, by service.",
      labelName: "service",
      buckets: options.latencyBuckets ?? latencyBucketsSeconds,
      registry,
    });
    new Counter<"service" | "endpoint" | "kind">({
      name: "vipr_upstream_errors_total",
      help: "Failed forwards, by service, endpoint and kind (connect, timeout, reset, protocol).",
      labelNames: ["service", "endpoint", "kind"],
      registers,
      collect() {
        errorCounts.collect(this);
      },
    });
    new Counter<"service" | "endpoint">({
      name: "vipr_endpoint_ejections_total",
      help: "Endpoints ejected by passive health (consecutive failures), by service and endpoint.",
      labelNames: ["service", "endpoint"],
      registers,
      collect() {
        ejectionCounts.collect(this);
      },
    });
    new Gauge<"service">({
      name: "vipr_ejected_endpoints",
      help: "Endpoints of a service that passive health has ejected now.",
      labelNames: ["service"],
      registers,
      collect() {
        // Reset first: a service whose ejections all ended, or that left the table, shows no series.
        this.reset();
        const source = self.#ejectedSource;
        if (source !== undefined) for (const [service, count] of source()) this.set({ service }, count);
      },
    });
    new Gauge({
      name: "vipr_requests_in_flight",
      help: "Requests admitted and not yet ended (their response body still streaming counts), router-wide; see --max-requests.",
      registers,
      collect() {
        this.set(self.#inFlightSource?.() ?? 0);
      },
    });
    new Counter({
      name: "vipr_unknown_host_requests_total",
      help: "Requests whose host names no service in the routing table (refused, never dialled).",
      registers,
      collect() {
        if (self.#unknownHosts !== 0) this.inc(self.#unknownHosts);
        self.#unknownHosts = 0;
      },
    });
    objectsSkippedCounter(registry);
    this.#tableRebuilds = new Counter({ name: "vipr_table_rebuilds_total", help: "Routing table snapshots published.", registers });
    this.#tableServices = new Gauge({ name: "vipr_table_services", help: "Services in the current routing table.", registers });
    this.#tableEndpoints = new Gauge({ name: "vipr_table_endpoints", help: "Endpoints in the current routing table, over all services and conditions.", registers });
    this.#tableGeneration = new Gauge({ name: "vipr_table_generation", help: "Generation of the current routing table (1 for the first build).", registers });
    this.#keysMoved = new Gauge<"service">({
      name: "vipr_hash_keys_moved_ratio",
      help: "Share of a service's hash keys (Maglev table slots) that its latest rebuild moved to another endpoint.",
      labelNames: ["service"],
      registers,
    });
    this.tunnels = new TunnelMetrics(registry);
  }

  requestProtocol(protocol: string, upstream: string): void {
    let byUpstream = this.#protocolCounts.get(protocol);
    if (byUpstream === undefined) this.#protocolCounts.set(protocol, (byUpstream = new Map()));
    const cell = byUpstream.get(upstream);
    if (cell === undefined) byUpstream.set(upstream, { pending: 1 });
    else cell.pending++;
  }

  requestDone(service: string, status: number, seconds: number): void {
    const cells = this.#services.get(service) ?? this.#addService(service);
    let count = cells.lastCount;
    if (cells.lastStatus !== status || count === undefined) {
      const slot = status >= 100 && status < 600 ? status | 0 : 0;
      count = cells.byStatus.get(slot) ?? this.#addStatus(service, cells, slot);
      cells.lastStatus = status;
      cells.lastCount = count;
    }
    count.pending++;
    cells.latency.observe(seconds);
  }

  upstreamError(service: string, endpoint: string, kind: UpstreamErrorKind): void {
    this.#errorCounts.inc(service, endpoint, KIND_LABELS[kind]);
  }

  unknownHost(): void {
    this.#unknownHosts++;
  }

  tableBuilt(table: RoutingTable): void {
    // Counts the builder keeps (RoutingTable.endpointCount), so a publish costs no walk over the table.
    const services = table.services.size;
    const endpoints = table.endpointCount;
    this.#tableRebuilds.inc();
    this.#tableServices.set(services);
    this.#tableEndpoints.set(endpoints);
    this.#tableGeneration.set(table.generation);
    // A gone service has no keys left to move; its last figure would otherwise be shown forever.
    // Its request counts and latency go as an endpoint's series do (endpoint-series.ts): reported
    // once more by a scrape, then dropped, so services that come and go (preview environments,
    // namespaces per branch) do not grow the page without bound.
    const last = this.#lastTable;
    this.#lastTable = table;
    const builtFromLast = last !== undefined && isBuiltFrom(table, last);
    // Without the lineage (a table built from scratch), every service with cells is checked.
    const removed = builtFromLast ? table.removed : [...this.#services.keys()].filter((key) => !table.services.has(key));
    for (const key of removed) {
      this.#keysMoved.remove({ service: key });
      if (this.#services.has(key) && !this.#goneServices.has(key)) this.#goneServices.set(key, { at: this.#now(), reported: false, countAtReport: 0 });
    }
    if (this.#goneServices.size > 0) {
      for (const key of this.#goneServices.keys()) if (table.services.has(key)) this.#goneServices.delete(key); // it came back
      const now = this.#now();
      for (const [key, gone] of this.#goneServices) if (now - gone.at >= this.#retireAfterMs) this.#dropService(key);
    }
    // Endpoint-labelled series of endpoints that left: only the services this table changed can
    // have lost one, when it was built from the last table seen.
    const entryOf = (key: string) => table.services.get(key);
    for (const series of [this.#errorCounts, this.#ejectionCounts]) {
      const changed = builtFromLast ? [...table.rebuilt, ...table.removed] : series.services();
      series.published(changed, entryOf);
    }
  }

  keysMoved(service: string, share: number): void {
    if (!(share >= 0 && share <= 1)) {
      throw new RangeError(`keys moved share must be a number from 0 to 1, got ${share} for ${service}`);
    }
    this.#keysMoved.set({ service }, share);
  }

  endpointEjected(service: string, endpoint: string): void {
    this.#ejectionCounts.inc(service, endpoint);
  }

  ejectionsFrom(source: () => Iterable<readonly [string, number]>): void {
    this.#ejectedSource = source;
  }

  inFlightFrom(source: () => number): void {
    this.#inFlightSource = source;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Inside the requests counter's collect(): drops gone services a scrape already reported with
   * nothing counted since; the others are reported by this scrape. */
  #retireServicesOnScrape(): void {
    for (const [key, gone] of this.#goneServices) {
      const cells = this.#services.get(key);
      const quiet = cells === undefined || ([...cells.byStatus.values()].every((c) => c.pending === 0) && cells.latency.count === gone.countAtReport);
      if (gone.reported && quiet) this.#dropService(key);
      else {
        gone.reported = true;
        gone.countAtReport = cells?.latency.count ?? 0;
      }
    }
  }

  /** Drops a gone service's series: its request counts by code and its latency histogram. */
  #dropService(key: string): void {
    this.#goneServices.delete(key);
    const cells = this.#services.get(key);
    if (cells === undefined) return;
    this.#services.delete(key);
    for (const count of cells.byStatus.values()) this.#requestsCounter.remove(count.labels);
    const list = this.#requestCounts;
    let kept = 0;
    for (const count of list) if (count.labels["service"] !== key) list[kept++] = count;
    list.length = kept;
    this.#latency.remove(key);
  }

  #addService(service: string): ServiceCells {
    const cells = new ServiceCells(this.#latency.series(service));
    this.#services.set(service, cells);
    return cells;
  }

  #addStatus(service: string, cells: ServiceCells, slot: number): PendingCount {
    const count = new PendingCount(Object.freeze({ service, code: slot === 0 ? "other" : String(slot) }));
    cells.byStatus.set(slot, count);
    this.#requestCounts.push(count);
    return count;
  }
}

/** Hands pending counts to a prom-client counter; runs inside the counter's collect(), on scrape. */
function flush(counter: Counter<string>, counts: Iterable<PendingCount>): void {
  for (const count of counts) {
    if (count.pending === 0) continue;
    counter.inc(count.labels, count.pending);
    count.pending = 0;
  }
}

/** Metrics off: the same calls, doing nothing, for comparison benchmarks and for users who do not
 * scrape. /metrics then serves a single comment line. */
export class NoopMetrics implements MetricsRecorder {
  readonly enabled = false;
  readonly tunnels = NOOP_TUNNELS;
  requestDone(_service: string, _status: number, _seconds: number): void {}
  requestProtocol(_protocol: string, _upstream: string): void {}
  upstreamError(_service: string, _endpoint: string, _kind: UpstreamErrorKind): void {}
  unknownHost(): void {}
  tableBuilt(_table: RoutingTable): void {}
  keysMoved(_service: string, _share: number): void {}
  endpointEjected(_service: string, _endpoint: string): void {}
  ejectionsFrom(_source: () => Iterable<readonly [string, number]>): void {}
  inFlightFrom(_source: () => number): void {}
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: "# vipr metrics are off by configuration\n" };
  }
}

export function createRouterMetrics(options: RouterMetricsOptions & { readonly enabled?: boolean } = {}): MetricsRecorder {
  if (options.enabled === false) return new NoopMetrics();
  return new RouterMetrics(options);
}
