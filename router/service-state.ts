// Per-service request state kept beside a routing table snapshot: for each (service entry, service
// port) its eligible endpoints and its balancer, made on the service's first request and dropped
// when a new snapshot replaces the entry. Entries of unchanged services are shared between
// snapshots (build-routing-table.ts), so their balancers, WASM tables and in-flight counts carry
// over a rebuild untouched; ClientIP affinities outlive even a changed entry (one store per
// service key), as kube-proxy's affinity outlives endpoint changes. Passive health
// (outlier-detection.ts) is kept the same way, so an ejection outlives an unrelated rebuild; a
// rebuild forgets only the endpoints that left the service. So is, for services with slow start,
// when each endpoint turned ready (ready-since.ts): adding one endpoint must not restart the ramp of
// the others. Endpoints of the first snapshot the router sees count as ready before it started
// and never ramp: at start-up the router cannot tell a pod that turned ready a second ago from one
// that has served for days, and ramping all of them together would change no share anyway.
import type { CoreEngine } from "../wasm/core-engine.ts";
import { ServiceBalancer } from "./balancing/service-balancer.ts";
import type { PolicyConfig } from "./balancing/policy-config.ts";
import { OutlierDetector, type EndpointHealthView, type OutlierDetectionOptions } from "./balancing/outlier-detection.ts";
import { READY_BEFORE_START, ReadySinceStore } from "./balancing/ready-since.ts";
import { SLOW_START_WINDOW_ANNOTATION } from "./balancing/slow-start-config.ts";
import { SessionAffinityStore } from "./balancing/session-affinity.ts";
import type { RouterTimeouts } from "./timeout-config.ts";
import { ServiceSettingsCache } from "./service-settings.ts";
import type { RandomSource } from "./balancing/least-request.ts";
import { movedShare, routesAlike } from "./observability/moved-share.ts";
import { eligibleEndpoints, type EligibilityOptions } from "./table/eligible-endpoints.ts";
import type { RoutingTable, ServiceEntry, ServicePortEntry } from "./table/routing-table.ts";

export interface ServiceStateOptions {
  readonly core: CoreEngine;
  readonly defaultPolicy: PolicyConfig;
  /** Timeouts when a service has no timeout annotation (timeout-config.ts). */
  readonly defaultTimeouts: RouterTimeouts;
  readonly eligibility: EligibilityOptions;
  readonly now: () => number;
  readonly random: RandomSource;
  /** Passive health settings; false turns ejection off. Default: outlier-detection.ts defaults. */
  readonly outlierDetection?: Omit<OutlierDetectionOptions, "now"> | false;
  /** One line per annotation problem, once per service entry. */
  readonly log: (line: string) => void;
}

interface ServiceState {
  readonly entry: ServiceEntry;
  readonly config: PolicyConfig;
  readonly timeouts: RouterTimeouts;
  /** By port name, for traffic from inside the cluster (internalTrafficPolicy). */
  readonly balancers: Map<string, ServiceBalancer>;
  /** By port name, for traffic from outside (externalTrafficPolicy), made only for services whose
   * two policies pick different endpoints (externalUsesOwnEndpoints). */
  readonly external: Map<string, ServiceBalancer>;
}

/** Where a request came from, for the traffic policy its endpoints are chosen by: "external" is
 * traffic vipr receives as a gateway (eligible-endpoints.ts). */
export type TrafficOrigin = "internal" | "external";

/** kube-proxy applies externalTrafficPolicy only to traffic that arrives through a NodePort or a
 * LoadBalancer (pkg/proxy ServicePortInfo.ExternalPolicyLocal, as eligible-endpoints.ts reads it);
 * eligibility depends on the origin through the policy alone, so when the two policies are the
 * same, external traffic shares the internal balancer (one in-flight count and one Maglev table
 * per port). */
function externalUsesOwnEndpoints(service: ServiceEntry): boolean {
  return (service.type === "NodePort" || service.type === "LoadBalancer") && service.externalTrafficPolicy !== service.internalTrafficPolicy;
}

export class ServiceStates {
  readonly #options: ServiceStateOptions;
  /** By service key: the entry the balancers were made for, its policy and timeouts (resolved
   * from its annotations once per entry), and one balancer per port name. */
  readonly #byService = new Map<string, ServiceState>();
  readonly #affinity = new Map<string, SessionAffinityStore>();
  readonly #outliers = new Map<string, OutlierDetector>();
  /** By service key, for services with slow start only. */
  readonly #readySince = new Map<string, ReadySinceStore>();
  /** The last snapshot published, to tell endpoints that were there from new ones. */
  #lastTable: RoutingTable | undefined;

  /** Each entry's policy and timeouts, resolved once per entry (service-settings.ts). */
  readonly #settings: ServiceSettingsCache;

  constructor(options: ServiceStateOptions) {
    this.#options = options;
    this.#settings = new ServiceSettingsCache(options.defaultPolicy, options.defaultTimeouts);
  }

  /** The state of a service entry, its settings' problems logged on first use. */
  #stateOf(service: ServiceEntry): ServiceState {
    let state = this.#byService.get(service.key);
    if (state === undefined || state.entry !== service) {
      if (state !== undefined) {
        this.#free(state.balancers);
        this.#free(state.external);
      }
      const settings = this.#settings.of(service);
      for (const line of settings.diagnostics) this.#options.log(`service ${service.key}: ${line}`);
      state = { entry: service, config: settings.policy, timeouts: settings.timeouts, balancers: new Map(), external: new Map() };
      this.#byService.set(service.key, state);
    }
    return state;
  }

  /** The balancer of a service port in the current snapshot for traffic from `origin`, made on
   * first use. */
  balancer(service: ServiceEntry, port: ServicePortEntry, origin: TrafficOrigin = "internal"): ServiceBalancer {
    const state = this.#stateOf(service);
    const trafficOrigin = origin === "external" && externalUsesOwnEndpoints(service) ? "external" : "internal";
    const balancers = trafficOrigin === "external" ? state.external : state.balancers;
    let balancer = balancers.get(port.name);
    if (balancer === undefined) {
      const affinity = service.sessionAffinity.type === "ClientIP" ? this.#affinityOf(service.key) : undefined;
      const outliers = this.#outliersOf(service.key);
      const readySince = state.config.slowStart === undefined ? undefined : this.#readySince.get(service.key);
      balancer = new ServiceBalancer({
        service,
        servicePort: port,
        eligible: eligibleEndpoints(service, port, trafficOrigin === "external" ? { ...this.#options.eligibility, trafficOrigin } : this.#options.eligibility),
        config: state.config,
        core: this.#options.core,
        random: this.#options.random,
        now: this.#options.now,
        ...(affinity === undefined ? {} : { affinity }),
        ...(outliers === undefined ? {} : { outliers }),
        ...(readySince === undefined ? {} : { readySince }),
      });
      balancers.set(port.name, balancer);
    }
    return balancer;
  }

  /** The timeouts of a service entry (annotations over the router's defaults), resolved once per
   * entry: an ExternalName service, which has no balancer, is cached the same way. */
  timeoutsOf(service: ServiceEntry): RouterTimeouts {
    return this.#stateOf(service).timeouts;
  }

  /**
   * A new snapshot: balancers of services whose entries changed or went away are freed (after
   * their requests in flight). For a changed service whose hashing balancer had built a Maglev
   * table, the new table is built now (the next request needs it anyway) and the share of slots,
   * and so of hash keys, that moved to another endpoint is returned per service. `changed`: the
   * keys of every service whose entry may differ from the last snapshot's (its rebuilt and
   * removed, when it was built from the last); without it every service with state is checked.
   */
  published(table: RoutingTable, changed?: Iterable<string>): { service: string; moved: number }[] {
    const moves: { service: string; moved: number }[] = [];
    const keys = changed === undefined ? undefined : [...changed]; // read twice
    this.#trackReadiness(table, keys);
    for (const key of keys ?? [...this.#byService.keys()]) {
      const state = this.#byService.get(key);
      if (state === undefined) continue;
      const entry = table.services.get(key);
      if (entry === state.entry) continue;
      // Rebuilt but routing as before (routesAlike): no move to report, the gauge keeps its figure.
      const changedRouting = entry === undefined || !routesAlike(state.entry, entry);
      const before = new Map<string, string[]>();
      for (const [portName, balancer] of state.balancers) {
        const owners = balancer.hashSlotOwners(false);
        if (owners !== undefined) before.set(portName, owners);
      }
      this.#free(state.balancers);
      this.#free(state.external);
      this.#byService.delete(key);
      if (entry === undefined) {
        this.#affinity.delete(key);
        this.#outliers.delete(key);
        continue;
      }
      this.#outliers.get(key)?.retain(entry.endpoints);
      for (const [portName, oldOwners] of before) {
        const port = entry.ports.find((p) => p.name === portName);
        const newOwners = port === undefined ? undefined : this.balancer(entry, port).hashSlotOwners(true);
        if (newOwners === undefined || newOwners.length !== oldOwners.length) continue;
        if (changedRouting) moves.push({ service: key, moved: movedShare(oldOwners, newOwners) });
      }
    }
    return moves;
  }

  /** Passive health of every service with a failure on record, by service key, for /debug/table. */
  outlierSnapshot(): Map<string, EndpointHealthView[]> {
    const out = new Map<string, EndpointHealthView[]>();
    for (const [key, outliers] of this.#outliers) {
      const endpoints = outliers.snapshot();
      if (endpoints.length > 0) out.set(key, endpoints);
    }
    return out;
  }

  /** Services with endpoints ejected now, and how many, for the metrics gauge. */
  *ejectedCounts(): Iterable<readonly [string, number]> {
    for (const [key, outliers] of this.#outliers) {
      const count = outliers.ejectedCount();
      if (count > 0) yield [key, count];
    }
  }

  /** Brings each service's "ready since" store up to a new snapshot (before any balancer of it is
   * made). Only services with slow start keep one. */
  #trackReadiness(table: RoutingTable, changed: Iterable<string> | undefined): void {
    const last = this.#lastTable;
    this.#lastTable = table;
    const now = this.#options.now();
    if (changed === undefined || last === undefined) {
      for (const key of this.#readySince.keys()) if (!table.services.has(key)) this.#readySince.delete(key);
      for (const entry of table.services.values()) this.#observeReadiness(entry, last, now);
      return;
    }
    for (const key of changed) {
      const entry = table.services.get(key);
      if (entry === undefined) this.#readySince.delete(key);
      else this.#observeReadiness(entry, last, now);
    }
  }

  #observeReadiness(entry: ServiceEntry, last: RoutingTable | undefined, now: number): void {
    let store = this.#readySince.get(entry.key);
    if (store === undefined && !this.#slowStartOn(entry)) return; // most services: one lookup, one check
    const before = last?.services.get(entry.key);
    if (store !== undefined) {
      if (before === entry) return; // unchanged (a full rebuild shares it)
      if (!this.#slowStartOn(entry)) {
        this.#readySince.delete(entry.key);
        return;
      }
    } else {
      store = new ReadySinceStore();
      this.#readySince.set(entry.key, store);
      if (last === undefined) {
        store.observe(entry, READY_BEFORE_START);
        return;
      }
      // Slow start just turned on: what was ready in the last snapshot is warm. (A new service has
      // no last entry: its endpoints all ramp, together, so their shares stay equal.)
      if (before !== undefined) store.observe(before, READY_BEFORE_START);
    }
    store.observe(entry, now);
  }

  /** Whether a service entry has slow start; the annotation check first keeps this cheap for the
   * many services without it. */
  #slowStartOn(entry: ServiceEntry): boolean {
    if (this.#options.defaultPolicy.slowStart === undefined && !Object.hasOwn(entry.annotations, SLOW_START_WINDOW_ANNOTATION)) return false;
    return this.#settings.of(entry).policy.slowStart !== undefined;
  }

  #outliersOf(key: string): OutlierDetector | undefined {
    const settings = this.#options.outlierDetection;
    if (settings === false) return undefined;
    let outliers = this.#outliers.get(key);
    if (outliers === undefined) {
      outliers = new OutlierDetector({ ...settings, now: this.#options.now });
      this.#outliers.set(key, outliers);
    }
    return outliers;
  }

  #affinityOf(key: string): SessionAffinityStore {
    let store = this.#affinity.get(key);
    if (store === undefined) {
      store = new SessionAffinityStore({ now: this.#options.now });
      this.#affinity.set(key, store);
    }
    return store;
  }

  #free(balancers: Map<string, ServiceBalancer>): void {
    for (const balancer of balancers.values()) balancer.free();
  }

  /** Frees everything (router shutdown). */
  close(): void {
    for (const state of this.#byService.values()) {
      this.#free(state.balancers);
      this.#free(state.external);
    }
    this.#byService.clear();
    this.#affinity.clear();
    this.#outliers.clear();
    this.#readySince.clear();
    this.#lastTable = undefined;
  }
}
