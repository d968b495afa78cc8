// The Kubernetes source of the routing table: one list/watch loop per collection (Services,
// EndpointSlices, and Pods when asked; per namespace when a set of namespaces is chosen), all
// writing one table input store (router/table/table-input-store.ts), and one table builder
// reading it. The order is the informer's: a loop writes the store first, then the table is
// rebuilt; a burst of events (a list, one chunk of a watch, a rollout touching many slices) is
// gathered into one rebuild on the next tick. The store records the keys each write touched and
// the builder rebuilds only the services those touch, so a tick costs the services whose objects
// changed, not the whole cluster (the first table is a full pass).
// The table is published through onTable (e.g. ServiceRouter.setTable); while the API server is
// unreachable nothing is published and the last table keeps serving. Objects with values the
// builder skips or adjusts are logged once per version and counted (vipr_objects_skipped_total).
//
// Readiness: the first table is published only once every loop has its first full list (an
// informer's WaitForCacheSync), so no request ever sees services without their endpoints, and
// isReady() stays true from then on: an API outage is not a reason to take a router out of its
// Service, which would turn a control-plane failure into a data-plane one.

import type { KubeConfig } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { objectsSkippedCounter } from "../../router/observability/router-metrics.ts";
import type { EndpointsFrom, RoutingTable } from "../../router/table/routing-table.ts";
import { RoutingTableBuilder } from "../../router/table/routing-table-builder.ts";
import { SkippedObjects } from "../../router/table/skipped-objects.ts";
import { TableInputStore, type ObjectChange } from "../../router/table/table-input-store.ts";
import { systemClock, type Clock } from "./clock.ts";
import { createKubeApiClient, type FetchLike, type KubeApiClient } from "./kube-api-client.ts";
import { ListWatchLoop, type ListWatchObserver, type ListWatchTiming } from "./list-watch-loop.ts";
import { ObjectStore, type KubeObject } from "./object-store.ts";
import { SyncMetrics } from "./sync-metrics.ts";
import { watchedResources, type WatchedResource } from "./watched-resources.ts";

/** Set by the EndpointSlice controller: when the change that caused this write happened. */
export const lastChangeTriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";

export interface KubernetesSourceOptions {
  /** From loadKubeConfig (kube-config.ts). */
  readonly kubeConfig: KubeConfig;
  /** Every new table, once per rebuild. */
  readonly onTable: (table: RoutingTable) => void;
  /** Namespaces to watch; default all (one cluster-wide watch per resource). */
  readonly namespaces?: readonly string[];
  /** A label selector on Services (`app=web,tier!=db`): only matching services are routed. */
  readonly serviceSelector?: string;
  /** Watch Pods too, for the labels of slice endpoints (request-time subsets). Default false. */
  readonly watchPods?: boolean;
  /** "Pods": endpoints from Pods matched by each Service's selector, no EndpointSlices watched. */
  readonly endpointsFrom?: EndpointsFrom;
  /** Where the sync metrics go (pass RouterMetrics.registry); default a private registry. */
  readonly registry?: Registry;
  /** Failures, re-lists, skipped lines and objects. Default: nothing. */
  readonly log?: (line: string) => void;
  /** Replaces the HTTP transport (see kube-api-client.ts). */
  readonly fetch?: FetchLike;
  readonly timing?: Partial<ListWatchTiming>;
  /** How long a change waits for others before the rebuild, in ms. Default 0 (the next tick). */
  readonly coalesceMs?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Every change the loops made to the store, after it was made (see TableInputStore). */
  readonly onObjectChange?: (change: ObjectChange) => void;
}

interface Collection {
  readonly resource: WatchedResource;
  readonly store: ObjectStore<KubeObject>;
  /** Set right after the collection is made: its sink closes over the collection. */
  loop: ListWatchLoop<KubeObject>;
  lastFailure: string | undefined;
}

function resourceOf(kind: string): WatchedResource {
  const resource = watchedResources.find((r) => r.kind === kind);
  if (resource === undefined) throw new Error(`watched-resources.ts lists no ${kind}`);
  return resource;
}

/**
 * @example
 * const source = new KubernetesSource({
 *   kubeConfig: loadKubeConfig({ context }),
 *   onTable: (table) => router.setTable(table),
 *   registry: metrics.registry,
 *   log: console.error,
 * });
 * source.start();
 * const admin = createAdminApp({ isReady: () => source.isReady(), notReadyReason: () => source.notReadyReason(), ... });
 */
export class KubernetesSource {
  readonly metrics: SyncMetrics;
  readonly endpointsFrom: EndpointsFrom;
  readonly #options: KubernetesSourceOptions;
  readonly #client: KubeApiClient;
  readonly #clock: Clock;
  readonly #collections: Collection[] = [];
  readonly #store: TableInputStore;
  readonly #builder: RoutingTableBuilder;
  readonly #skipped = new SkippedObjects();
  readonly #registry: Registry;
  #table: RoutingTable | undefined;
  #timer: unknown;
  /** When the oldest change not yet in a published table arrived. */
  #pendingSince: number | undefined;
  #triggerTimes: number[] = [];
  #running = false;

  constructor(options: KubernetesSourceOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.endpointsFrom = options.endpointsFrom ?? "EndpointSlices";
    this.#store = new TableInputStore(options.onObjectChange === undefined ? {} : { observe: options.onObjectChange });
    this.#builder = new RoutingTableBuilder(this.#store);
    this.#registry = options.registry ?? new Registry();
    this.metrics = new SyncMetrics(this.#registry);
    this.#client = createKubeApiClient(options.kubeConfig, options.fetch === undefined ? {} : { fetch: options.fetch });
    const kinds = ["Service", ...(this.endpointsFrom === "EndpointSlices" ? ["EndpointSlice"] : []), ...(options.watchPods === true || this.endpointsFrom === "Pods" ? ["Pod"] : [])];
    const namespaces: readonly (string | undefined)[] = options.namespaces === undefined || options.namespaces.length === 0 ? [undefined] : [...new Set(options.namespaces)];
    for (const kind of kinds) for (const namespace of namespaces) this.#collections.push(this.#collection(resourceOf(kind), namespace));
  }

  /** The last published table; undefined before the first full sync. */
  get table(): RoutingTable | undefined {
    return this.#table;
  }

  /** Ready once the first table is published (every collection listed); stays ready. */
  isReady(): boolean {
    return this.#table !== undefined;
  }

  /** For /readyz: which collections have not been listed yet, and why. */
  notReadyReason(): string {
    if (this.#table !== undefined) return "ready";
    const waiting = this.#collections.filter((c) => !c.loop.synced);
    if (waiting.length === 0) return "the first routing table is being built";
    return `waiting for the first full list of ${waiting.map((c) => `${c.loop.name}${c.lastFailure === undefined ? "" : ` (last failure: ${c.lastFailure})`}`).join("; ")}`;
  }

  /** Every stored object of a kind ("Service", "EndpointSlice", "Pod"), for diagnostics and tests. */
  objects(kind: string): KubeObject[] {
    return [...this.#store.values(kind)];
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const collection of this.#collections) collection.loop.start();
  }

  /** Stops every loop (the requests in flight are aborted) and closes connection pools. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#collections.map((c) => c.loop.stop()));
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#client.close();
  }

  #collection(resource: WatchedResource, namespace: string | undefined): Collection {
    const store = new ObjectStore<KubeObject>(this.#store, resource.kind, namespace);
    const log = this.#options.log;
    const isSlice = resource.kind === "EndpointSlice";
    const metrics = this.metrics.observer(resource.resource, namespace, () => this.#clock.now());
    const collection: Collection = {
      resource,
      store,
      lastFailure: undefined,
      loop: undefined as unknown as ListWatchLoop<KubeObject>,
    };
    const logged: ListWatchObserver = {
      ...metrics,
      listed: (info) => {
        metrics.listed?.(info);
        collection.lastFailure = undefined;
        if (info.reason !== "initial") log?.(`kubernetes: re-listed ${collection.loop.name} (${info.reason}): ${info.items} objects at resourceVersion ${info.resourceVersion} in ${info.ms} ms`);
      },
      failed: (info) => {
        metrics.failed?.(info);
        collection.lastFailure = info.error.message;
        log?.(`kubernetes: ${info.error.message}; retrying in ${Math.round(info.delayMs)} ms`);
      },
      watchEnded: (info) => {
        metrics.watchEnded?.(info);
        if (info.reason === "stalled" || info.reason === "expired") log?.(`kubernetes: ${info.error?.message ?? `watch ${collection.loop.name} ${info.reason}`}`);
      },
      badLine: (info) => {
        metrics.badLine?.(info);
        log?.(`kubernetes: watch ${collection.loop.name}: ${info.problem}: ${info.line}; re-listing`);
      },
    };
    collection.loop = new ListWatchLoop<KubeObject>({
      client: this.#client,
      resource,
      ...(namespace === undefined ? {} : { namespace }),
      ...(resource.kind === "Service" && this.#options.serviceSelector !== undefined ? { labelSelector: this.#options.serviceSelector } : {}),
      observer: logged,
      sink: {
        replace: (objects) => {
          const first = !collection.loop.synced;
          const changes = store.replace(objects);
          if (changes.removed.length > 0 && !first) log?.(`kubernetes: ${collection.loop.name}: ${changes.removed.length} objects were deleted while the watch was down`);
          if (first || changes.added.length + changes.updated.length + changes.removed.length > 0) this.#changed();
        },
        upsert: (object) => {
          if (!store.upsert(object)) return;
          if (isSlice) this.#noteTriggerTime(object);
          this.#changed();
        },
        remove: (object) => {
          if (!store.remove(object)) return;
          this.#changed();
        },
      },
      ...(this.#options.timing === undefined ? {} : { timing: this.#options.timing }),
      clock: this.#clock,
      ...(this.#options.random === undefined ? {} : { random: this.#options.random }),
    });
    return collection;
  }

  #noteTriggerTime(object: KubeObject): void {
    const value = object.metadata?.annotations?.[lastChangeTriggerTimeAnnotation];
    if (typeof value !== "string") return;
    const ms = Date.parse(value);
    if (Number.isFinite(ms) && this.#triggerTimes.length < 10_000) this.#triggerTimes.push(ms);
  }

  #changed(): void {
    this.#pendingSince ??= this.#clock.now();
    if (this.#timer !== undefined) return;
    this.#timer = this.#clock.setTimeout(() => this.#rebuild(), this.#options.coalesceMs ?? 0);
  }

  #rebuild(): void {
    this.#timer = undefined;
    if (!this.#running || !this.#collections.every((c) => c.loop.synced)) return;
    // Before the first table the changes are every object listed; the first build is a full one.
    const table = this.#builder.update(this.#store.takeChanges(), { endpointsFrom: this.endpointsFrom });
    this.#table = table;
    this.#reportSkipped(table);
    const now = this.#clock.now();
    const since = this.#pendingSince;
    const triggers = this.#triggerTimes;
    this.#pendingSince = undefined;
    this.#triggerTimes = [];
    this.#options.onTable(table);
    this.metrics.tablePublished(since === undefined ? undefined : (now - since) / 1000, triggers.map((ms) => Math.max(0, now - ms) / 1000));
  }

  #reportSkipped(table: RoutingTable): void {
    const news = this.#skipped.news(table, this.#store);
    if (news.length === 0) return;
    const counter = objectsSkippedCounter(this.#registry);
    for (const report of news) {
      this.#options.log?.(`kubernetes: ${report.line}`);
      counter.inc({ kind: report.kind, reason: report.reason });
    }
  }
}
