// updateRoutingTable: the next snapshot from the previous one and the keys of what changed, at a
// cost that grows with the changed services, not with the table. It gives the same snapshot a
// full build (build-routing-table.ts) of the same objects would, field for field: services,
// endpointCount, rebuilt, removed, diagnostics, generation (tests/router/update-routing-table.test.ts
// checks it over random change sequences). The objects are read through a RoutingTableIndex (the
// Kubernetes source keeps one beside its stores: routing-input-index.ts).

import type { KubeEndpointSlice, KubePod, KubeService } from "./kubernetes-objects.ts";
import type { EndpointsFrom, RoutingTable, ServiceEntry, TableDiagnostic } from "./routing-table.ts";
import { buildRoutingTable, type RoutingTableInput } from "./build-routing-table.ts";
import { HashTrieMap } from "./hash-trie-map.ts";
import {
  allDiagnostics,
  buildServiceEntry,
  byName,
  identify,
  registerTable,
  remember,
  sameList,
  sameObject,
  setInSorted,
  sliceServiceKey,
  sortGlobal,
  takeState,
  type PodSource,
} from "./table-build-state.ts";

/** The objects of a table, found by what a service's entry is built from. Keys are
 * "namespace/name", a missing namespace counted as "default" (as buildRoutingTable counts it). */
export interface RoutingTableIndex {
  readonly endpointsFrom: EndpointsFrom;
  service(key: string): KubeService | undefined;
  /** The EndpointSlices whose kubernetes.io/service-name label names this service (any order). */
  slicesOf(serviceKey: string): Iterable<KubeEndpointSlice>;
  pod(key: string): KubePod | undefined;
  /** Pods mode: the Pods of a namespace (any order). */
  podsIn(namespace: string): Iterable<KubePod>;
  /** EndpointSlices without a usable service-name label (they become diagnostics). */
  slicesWithoutService(): Iterable<KubeEndpointSlice>;
  /** Every object, for a full build when an update cannot be made. */
  input(): RoutingTableInput;
}

/** What changed since the previous snapshot, by key. */
export interface RoutingTableChanges {
  /** Services whose Service object or EndpointSlices were added, changed or deleted. A slice that
   * moved from one service to another (its label changed) changes both. */
  readonly services: Iterable<string>;
  /** Pods added, changed or deleted: the builder finds the services they feed (slice mode: those
   * whose endpoints name the Pod; Pods mode: every service of the Pod's namespace). */
  readonly pods?: Iterable<string>;
}

const namespaceOf = (key: string): string => key.slice(0, key.indexOf("/"));

/**
 * The snapshot after `changes`, built from `previous` in O(changed services). Falls back to a
 * full build when it cannot update: no previous snapshot, another mode, or a previous snapshot
 * that was already updated (each snapshot's builder state moves to the one made from it).
 *
 * @example
 * table = updateRoutingTable(table, index, { services: ["shop/web"] });
 */
export function updateRoutingTable(previous: RoutingTable | undefined, index: RoutingTableIndex, changes: RoutingTableChanges): RoutingTable {
  const mode = index.endpointsFrom;
  const usable = previous !== undefined && previous.endpointsFrom === mode && previous.services instanceof HashTrieMap;
  const state = usable ? takeState(previous) : undefined;
  if (previous === undefined || state === undefined || state.endpointsFrom !== mode) return buildRoutingTable({ ...index.input(), endpointsFrom: mode }, previous);
  const before = previous.services as HashTrieMap<ServiceEntry>;

  const affected = new Set<string>(changes.services);
  const changedNamespaces = new Set<string>();
  if (mode === "EndpointSlices") {
    for (const podKey of changes.pods ?? []) for (const key of state.podDependents.get(podKey) ?? []) affected.add(key);
  } else {
    for (const podKey of changes.pods ?? []) {
      const namespace = namespaceOf(podKey);
      const name = podKey.slice(namespace.length + 1);
      const known = state.podsByNamespace.get(namespace);
      const pod = index.pod(podKey);
      if (sameObject(known?.get(name), pod)) continue;
      changedNamespaces.add(namespace);
      if (pod !== undefined) {
        if (known === undefined) state.podsByNamespace.set(namespace, new Map([[name, pod]]));
        else known.set(name, pod);
      } else {
        known?.delete(name);
        if (known?.size === 0) state.podsByNamespace.delete(namespace);
      }
    }
    for (const namespace of changedNamespaces) for (const key of state.servicesByNamespace.get(namespace) ?? []) affected.add(key);
  }

  const sortedPods = new Map<string, KubePod[]>();
  const pods: PodSource = {
    byKey: { get: (key) => index.pod(key) },
    inNamespace: (namespace) => {
      let list = sortedPods.get(namespace);
      if (list === undefined) sortedPods.set(namespace, (list = [...index.podsIn(namespace)].sort(byName)));
      return list;
    },
  };

  const set: [string, ServiceEntry][] = [];
  const removed: string[] = [];
  const rebuilt: string[] = [];
  let endpointCount = previous.endpointCount;
  let diagnosticsChanged = false;
  for (const key of [...affected].sort()) {
    const oldEntry = before.get(key);
    const oldInputs = state.inputs.get(key);
    const service = index.service(key);
    if (service === undefined) {
      if (oldEntry === undefined) continue;
      removed.push(key);
      endpointCount -= oldEntry.endpoints.length;
      if (oldEntry.diagnostics.length > 0) diagnosticsChanged = true;
      setInSorted(state.withDiagnostics, key, false);
      remember(state, key, oldEntry.namespace, undefined, oldInputs);
      continue;
    }
    const slices = mode === "EndpointSlices" ? [...index.slicesOf(key)].sort(byName) : [];
    if (oldInputs !== undefined && oldEntry !== undefined && sameObject(oldInputs.service, service)) {
      const unchanged =
        mode === "Pods"
          ? !changedNamespaces.has(oldEntry.namespace)
          : sameList(oldInputs.slices, slices) && [...oldInputs.podDeps].every(([podKey, pod]) => sameObject(pod, index.pod(podKey)));
      if (unchanged) continue;
    }
    const { entry, podDeps } = buildServiceEntry(key, service, mode, slices, pods);
    set.push([key, entry]);
    rebuilt.push(key);
    endpointCount += entry.endpoints.length - (oldEntry?.endpoints.length ?? 0);
    if (entry.diagnostics.length > 0 || (oldEntry?.diagnostics.length ?? 0) > 0) diagnosticsChanged = true;
    setInSorted(state.withDiagnostics, key, entry.diagnostics.length > 0);
    remember(state, key, entry.namespace, { service, slices, podDeps }, oldInputs);
  }

  const global = mode === "EndpointSlices" ? globalDiagnostics(index) : [];
  if (!sameDiagnostics(global, state.global)) {
    state.global = Object.freeze(global);
    diagnosticsChanged = true;
  }
  const services = before.with(set, removed);
  const table: RoutingTable = Object.freeze({
    generation: previous.generation + 1,
    endpointsFrom: mode,
    services,
    endpointCount,
    rebuilt: Object.freeze(rebuilt),
    removed: Object.freeze(removed),
    diagnostics: diagnosticsChanged ? allDiagnostics(state, (key) => services.get(key)) : previous.diagnostics,
  });
  registerTable(table, state, previous);
  return table;
}

/** What a full build says about slices that name no Service (the only objects an index can hold
 * that are tied to no service: it has no nameless or duplicate objects). */
function globalDiagnostics(index: RoutingTableIndex): TableDiagnostic[] {
  const out: TableDiagnostic[] = [];
  for (const slice of index.slicesWithoutService()) {
    const id = identify(slice, "EndpointSlice", "endpointSlices[]", out);
    if (id !== undefined) sliceServiceKey(slice, id, out);
  }
  return sortGlobal(out);
}

function sameDiagnostics(a: readonly TableDiagnostic[], b: readonly TableDiagnostic[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.message !== b[i]!.message) return false;
  return true;
}
