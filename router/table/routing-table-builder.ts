// RoutingTableBuilder: routing table snapshots from a TableInputStore, each from the one before.
// Both sources feed it the same way: they write object changes into the store, then call
// update(store.takeChanges()), which rebuilds only the services those keys touch, at a cost that
// grows with them, not with the table. The first table, and the first after a change of mode, is
// a full pass over the store (still sharing what its memory shows unchanged).
//
// Its memory of the last snapshot (what each entry was built from, which services read which Pod,
// which entries have diagnostics) is this object's own state: whoever owns the builder owns it.
// Pure: no I/O, no clock, no logging; odd values become diagnostics, never exceptions. Snapshots
// are frozen; one is never edited, the next shares the entries it did not rebuild (see
// routing-table.ts), so consumers can keep per-service caches keyed by entry identity.

import type { KubeEndpointSlice, KubePod, KubeService } from "./kubernetes-objects.ts";
import type { EndpointsFrom, RoutingTable, ServiceEntry, TableDiagnostic } from "./routing-table.ts";
import { buildServiceEntry, type PodSource } from "./build-service-entry.ts";
import { HashTrieMap } from "./hash-trie-map.ts";
import { byName, keyNamespace, namespaceOf, sameList, sameObject } from "./object-identity.ts";
import { sortGlobal, unownedSliceDiagnostic } from "./table-input-check.ts";
import type { TableInputChanges, TableInputStore } from "./table-input-store.ts";

/** What a service entry was built from, kept to decide whether the next build can reuse it. */
interface ServiceInputs {
  readonly service: KubeService;
  readonly slices: readonly KubeEndpointSlice[];
  /** Slice mode: each Pod a targetRef named, as it was (undefined: not known then). */
  readonly podDeps: ReadonlyMap<string, KubePod | undefined>;
}

export interface BuildOptions {
  /** Default: the mode of the last build, else "EndpointSlices". A new mode is a full pass. */
  readonly endpointsFrom?: EndpointsFrom;
  /** The snapshot to build on; default the builder's last. Any other one (already built on) gets
   * a full pass that reuses nothing, numbered and diffed against it. */
  readonly previous?: RoutingTable | undefined;
  /** Diagnostics about input the store could not hold (table-input-check.ts), tied to no
   * service: pass them with every build while they stand. Default none. */
  readonly inputDiagnostics?: readonly TableDiagnostic[];
  /** A full pass over the store even though changes are known (reusing what is unchanged): what
   * a source does when it cannot say what changed, and the oracle incremental updates are tested
   * against. */
  readonly full?: boolean;
  /** Full passes only: an entry equal in every field to the previous snapshot's is shared
   * instead of listed as rebuilt (for a previous snapshot this builder has no memory of). */
  readonly shareEqualEntries?: boolean;
}

const noChanges: TableInputChanges = { keys: new Map(), owners: new Set() };

/**
 * @example
 * const store = new TableInputStore();
 * const builder = new RoutingTableBuilder(store);
 * store.set("Service", service);
 * router.setTable(builder.update(store.takeChanges()));
 */
export class RoutingTableBuilder {
  readonly #store: TableInputStore;
  #table: RoutingTable | undefined;
  #mode: EndpointsFrom = "EndpointSlices";
  /** By service key, for every entry of the last snapshot. */
  #inputs = new Map<string, ServiceInputs>();
  /** Slice mode: pod key -> keys of the services whose endpoints named that Pod. */
  #podDependents = new Map<string, Set<string>>();
  /** Pods mode: namespace -> pod key -> pod, as the last snapshot was built from them (the store
   * moves on between builds; this says what a namespace's services saw). */
  #podsByNamespace = new Map<string, Map<string, KubePod>>();
  /** Pods mode: namespace -> keys of its services. */
  #servicesByNamespace = new Map<string, Set<string>>();
  /** Keys of the entries that have diagnostics, sorted. */
  #withDiagnostics: string[] = [];
  #inputDiagnostics: readonly TableDiagnostic[] = [];
  /** The diagnostics tied to no service (the head of RoutingTable.diagnostics). */
  #global: readonly TableDiagnostic[] = [];

  constructor(store: TableInputStore) {
    this.#store = store;
  }

  /** The last snapshot built; undefined before the first. */
  get table(): RoutingTable | undefined {
    return this.#table;
  }

  /** The next snapshot, after `changes` (the store's takeChanges() since the last build). */
  update(changes: TableInputChanges = noChanges, options: BuildOptions = {}): RoutingTable {
    const mode = options.endpointsFrom ?? this.#mode;
    const previous = "previous" in options ? options.previous : this.#table;
    const inputDiagnostics = options.inputDiagnostics ?? [];
    let table: RoutingTable;
    if (options.full === true || previous === undefined || previous !== this.#table || mode !== this.#mode || !(previous.services instanceof HashTrieMap)) {
      table = this.#full(mode, previous, previous !== undefined && previous === this.#table && mode === this.#mode, inputDiagnostics, options.shareEqualEntries === true);
    } else {
      table = this.#incremental(previous, previous.services, changes, inputDiagnostics);
    }
    this.#table = table;
    return table;
  }

  /** A full pass over the store; with `reuse`, entries whose inputs are unchanged are kept. */
  #full(mode: EndpointsFrom, previous: RoutingTable | undefined, reuse: boolean, inputDiagnostics: readonly TableDiagnostic[], shareEqual: boolean): RoutingTable {
    const store = this.#store;
    const before = reuse ? this.#inputs : new Map<string, ServiceInputs>();
    const podsBefore = reuse ? this.#podsByNamespace : new Map<string, Map<string, KubePod>>();
    this.#mode = mode;
    this.#inputs = new Map();
    this.#podDependents = new Map();
    this.#servicesByNamespace = new Map();
    this.#withDiagnostics = [];
    this.#podsByNamespace = new Map();
    if (mode === "Pods") {
      for (const namespace of store.namespaces("Pod")) this.#podsByNamespace.set(namespace, new Map(keyed(store.namespaceValues<KubePod>("Pod", namespace))));
    }
    const namespaceChanged = new Map<string, boolean>();
    const podsChangedIn = (namespace: string): boolean => {
      let changed = namespaceChanged.get(namespace);
      if (changed === undefined) {
        changed = !samePods(podsBefore.get(namespace), this.#podsByNamespace.get(namespace));
        namespaceChanged.set(namespace, changed);
      }
      return changed;
    };

    const pods = this.#podSource();
    const entries: [string, ServiceEntry][] = [];
    const rebuilt: string[] = [];
    let endpointCount = 0;
    const keys = [...store.keys("Service")].sort();
    for (const key of keys) {
      const service = store.get<KubeService>("Service", key)!;
      const slices = this.#slicesOf(key);
      const old = before.get(key);
      const previousEntry = previous?.services.get(key);
      let entry: ServiceEntry | undefined;
      let inputs = old;
      if (old !== undefined && previousEntry !== undefined && this.#unchanged(old, service, slices, previousEntry, podsChangedIn)) entry = previousEntry;
      else {
        const built = buildServiceEntry(key, service, mode, slices, pods);
        inputs = { service, slices, podDeps: built.podDeps };
        entry = shareEqual && previousEntry !== undefined && equalData(built.entry, previousEntry) ? previousEntry : built.entry;
        if (entry !== previousEntry) rebuilt.push(key);
      }
      entries.push([key, entry]);
      this.#remember(key, entry.namespace, inputs, undefined);
      if (entry.diagnostics.length > 0) this.#withDiagnostics.push(key);
      endpointCount += entry.endpoints.length;
    }

    const removed: string[] = [];
    if (previous !== undefined) for (const key of previous.services.keys()) if (store.get("Service", key) === undefined) removed.push(key);
    this.#inputDiagnostics = inputDiagnostics;
    this.#global = this.#globalDiagnostics();
    const services = HashTrieMap.from(entries, Object.freeze(keys));
    return snapshot(previous, mode, services, endpointCount, rebuilt, removed.sort(), this.#allDiagnostics(services));
  }

  /** The snapshot after `changes`, from `previous` (the last one) in O(changed services). */
  #incremental(previous: RoutingTable, before: HashTrieMap<ServiceEntry>, changes: TableInputChanges, inputDiagnostics: readonly TableDiagnostic[]): RoutingTable {
    const store = this.#store;
    const mode = this.#mode;
    const affected = new Set<string>(changes.keys.get("Service"));
    for (const key of changes.owners) affected.add(key);
    const changedNamespaces = new Set<string>();
    const changedPods = changes.keys.get("Pod") ?? [];
    if (mode === "EndpointSlices") {
      for (const podKey of changedPods) for (const key of this.#podDependents.get(podKey) ?? []) affected.add(key);
    } else {
      for (const podKey of changedPods) {
        const namespace = keyNamespace(podKey);
        const known = this.#podsByNamespace.get(namespace);
        const pod = store.get<KubePod>("Pod", podKey);
        if (sameObject(known?.get(podKey), pod)) continue;
        changedNamespaces.add(namespace);
        if (pod !== undefined) {
          if (known === undefined) this.#podsByNamespace.set(namespace, new Map([[podKey, pod]]));
          else known.set(podKey, pod);
        } else {
          known?.delete(podKey);
          if (known?.size === 0) this.#podsByNamespace.delete(namespace);
        }
      }
      for (const namespace of changedNamespaces) for (const key of this.#servicesByNamespace.get(namespace) ?? []) affected.add(key);
    }

    const pods = this.#podSource();
    const set: [string, ServiceEntry][] = [];
    const removed: string[] = [];
    const rebuilt: string[] = [];
    let endpointCount = previous.endpointCount;
    let diagnosticsChanged = false;
    for (const key of [...affected].sort()) {
      const oldEntry = before.get(key);
      const oldInputs = this.#inputs.get(key);
      const service = store.get<KubeService>("Service", key);
      if (service === undefined) {
        if (oldEntry === undefined) continue;
        removed.push(key);
        endpointCount -= oldEntry.endpoints.length;
        if (oldEntry.diagnostics.length > 0) diagnosticsChanged = true;
        setInSorted(this.#withDiagnostics, key, false);
        this.#remember(key, oldEntry.namespace, undefined, oldInputs);
        continue;
      }
      const slices = this.#slicesOf(key);
      if (oldInputs !== undefined && oldEntry !== undefined && this.#unchanged(oldInputs, service, slices, oldEntry, (namespace) => changedNamespaces.has(namespace))) continue;
      const { entry, podDeps } = buildServiceEntry(key, service, mode, slices, pods);
      set.push([key, entry]);
      rebuilt.push(key);
      endpointCount += entry.endpoints.length - (oldEntry?.endpoints.length ?? 0);
      if (entry.diagnostics.length > 0 || (oldEntry?.diagnostics.length ?? 0) > 0) diagnosticsChanged = true;
      setInSorted(this.#withDiagnostics, key, entry.diagnostics.length > 0);
      this.#remember(key, entry.namespace, { service, slices, podDeps }, oldInputs);
    }

    this.#inputDiagnostics = inputDiagnostics;
    const global = this.#globalDiagnostics();
    if (!sameDiagnostics(global, this.#global)) {
      this.#global = global;
      diagnosticsChanged = true;
    }
    const services = before.with(set, removed);
    return snapshot(previous, mode, services, endpointCount, rebuilt, removed, diagnosticsChanged ? this.#allDiagnostics(services) : previous.diagnostics);
  }

  /** The one rule for reusing an entry: the same Service object and, in slice mode, the same
   * slices and targeted Pods; in Pods mode, no pod of its namespace changed. */
  #unchanged(
    before: ServiceInputs,
    service: KubeService,
    slices: readonly KubeEndpointSlice[],
    entry: ServiceEntry,
    podsChangedIn: (namespace: string) => boolean,
  ): boolean {
    if (!sameObject(before.service, service)) return false;
    if (this.#mode === "Pods") return !podsChangedIn(entry.namespace);
    if (!sameList(before.slices, slices)) return false;
    for (const [podKey, pod] of before.podDeps) if (!sameObject(pod, this.#store.get("Pod", podKey))) return false;
    return true;
  }

  #slicesOf(serviceKey: string): KubeEndpointSlice[] {
    return this.#mode === "EndpointSlices" ? [...this.#store.ownedBy<KubeEndpointSlice>("EndpointSlice", serviceKey)].sort(byName) : [];
  }

  /** Pods by key (slice endpoint labels) and by namespace, sorted by name (Pods mode), for one build. */
  #podSource(): PodSource {
    const store = this.#store;
    const sorted = new Map<string, KubePod[]>();
    return {
      byKey: { get: (key) => store.get<KubePod>("Pod", key) },
      inNamespace: (namespace) => {
        let list = sorted.get(namespace);
        if (list === undefined) sorted.set(namespace, (list = [...store.namespaceValues<KubePod>("Pod", namespace)].sort(byName)));
        return list;
      },
    };
  }

  /** Records what an entry was built from, and (slice mode) which Pods it depends on; `before` is
   * what it was built from until now, if anything. */
  #remember(key: string, namespace: string, inputs: ServiceInputs | undefined, before: ServiceInputs | undefined): void {
    if (before !== undefined) {
      for (const podKey of before.podDeps.keys()) {
        const dependents = this.#podDependents.get(podKey);
        dependents?.delete(key);
        if (dependents?.size === 0) this.#podDependents.delete(podKey);
      }
    }
    if (inputs === undefined) {
      this.#inputs.delete(key);
      const inNamespace = this.#servicesByNamespace.get(namespace);
      inNamespace?.delete(key);
      if (inNamespace?.size === 0) this.#servicesByNamespace.delete(namespace);
      return;
    }
    this.#inputs.set(key, inputs);
    for (const podKey of inputs.podDeps.keys()) {
      let dependents = this.#podDependents.get(podKey);
      if (dependents === undefined) this.#podDependents.set(podKey, (dependents = new Set()));
      dependents.add(key);
    }
    if (this.#mode === "Pods") {
      let inNamespace = this.#servicesByNamespace.get(namespace);
      if (inNamespace === undefined) this.#servicesByNamespace.set(namespace, (inNamespace = new Set()));
      inNamespace.add(key);
    }
  }

  /** The input's own diagnostics and, in slice mode, the stored slices that name no Service. */
  #globalDiagnostics(): readonly TableDiagnostic[] {
    const out: TableDiagnostic[] = [];
    if (this.#mode === "EndpointSlices") for (const slice of this.#store.unowned<KubeEndpointSlice>("EndpointSlice")) unownedSliceDiagnostic(slice, out);
    out.push(...this.#inputDiagnostics);
    return Object.freeze(sortGlobal(out));
  }

  /** RoutingTable.diagnostics: the global ones, then each service's, by key. */
  #allDiagnostics(services: HashTrieMap<ServiceEntry>): readonly TableDiagnostic[] {
    const out = [...this.#global];
    for (const key of this.#withDiagnostics) out.push(...services.get(key)!.diagnostics);
    return Object.freeze(out);
  }
}

function snapshot(
  previous: RoutingTable | undefined,
  mode: EndpointsFrom,
  services: HashTrieMap<ServiceEntry>,
  endpointCount: number,
  rebuilt: string[],
  removed: string[],
  diagnostics: readonly TableDiagnostic[],
): RoutingTable {
  const generation = (previous?.generation ?? 0) + 1;
  const table: RoutingTable = {
    generation,
    endpointsFrom: mode,
    services,
    endpointCount,
    rebuilt: Object.freeze(rebuilt),
    removed: Object.freeze(removed),
    diagnostics,
  };
  // Not enumerable: they name a snapshot and are not its content, so two builds of the same
  // objects stay equal (and JSON of a table does not show them).
  Object.defineProperty(table, "id", { value: Symbol(`routing table ${generation}`), enumerable: false });
  if (previous?.id !== undefined) Object.defineProperty(table, "builtFrom", { value: previous.id, enumerable: false });
  return Object.freeze(table);
}

function* keyed(pods: Iterable<KubePod>): Generator<[string, KubePod]> {
  for (const pod of pods) yield [`${namespaceOf(pod)}/${pod.metadata!.name!}`, pod];
}

function samePods(before: ReadonlyMap<string, KubePod> | undefined, now: ReadonlyMap<string, KubePod> | undefined): boolean {
  if ((before?.size ?? 0) !== (now?.size ?? 0)) return false;
  if (now !== undefined) for (const [key, pod] of now) if (!sameObject(before?.get(key), pod)) return false;
  return true;
}

function sameDiagnostics(a: readonly TableDiagnostic[], b: readonly TableDiagnostic[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.message !== b[i]!.message) return false;
  return true;
}

/** Inserts or removes `key` in a sorted array. */
function setInSorted(sorted: string[], key: string, present: boolean): void {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  const found = sorted[lo] === key;
  if (present && !found) sorted.splice(lo, 0, key);
  else if (!present && found) sorted.splice(lo, 1);
}

/** Deep equality of plain, acyclic data (entries are frozen JSON-like values). Hand-written:
 * router/ may not import node:util's isDeepStrictEqual, and a library would be a dependency for
 * twenty lines. */
function equalData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equalData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  for (const k of ak) if (!Object.hasOwn(b, k) || !equalData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}
