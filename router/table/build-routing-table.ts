// buildRoutingTable: Kubernetes objects (plain JSON) in, a frozen RoutingTable snapshot out. Pure:
// no I/O, no clock, no logging; odd values become diagnostics, never exceptions. Given the previous
// snapshot it rebuilds only the services whose inputs changed and shares the other entries, so
// consumers can keep per-service caches (Maglev tables) keyed by entry identity. It still passes
// over every input to group it (~50 ms for 10000 services); a source that knows which objects
// changed calls updateRoutingTable (update-routing-table.ts) instead, which costs only them.

import type { KubeEndpointSlice, KubePod, KubeService } from "./kubernetes-objects.ts";
import type { EndpointsFrom, RoutingTable, ServiceEntry, TableDiagnostic } from "./routing-table.ts";
import { serviceKey } from "./routing-table.ts";
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
  sliceServiceKey,
  sortGlobal,
  stateOf,
  type BuildState,
} from "./table-build-state.ts";
import { diagnostic } from "./table-diagnostic.ts";

export { isBuiltFrom } from "./table-build-state.ts";

export interface RoutingTableInput {
  readonly services: Iterable<KubeService>;
  /** Read in "EndpointSlices" mode (the default). */
  readonly endpointSlices?: Iterable<KubeEndpointSlice>;
  /** Labels for slice endpoints whose targetRef names a known Pod; the endpoints in "Pods" mode. */
  readonly pods?: Iterable<KubePod>;
  readonly endpointsFrom?: EndpointsFrom;
}

/**
 * Builds a snapshot. With `previous`, a service whose Service object, EndpointSlices and (in slice
 * mode) targeted Pods are all unchanged keeps its previous entry (the same object); in Pods mode a
 * change to any pod of a namespace rebuilds that namespace's services.
 *
 * @example
 * const table = buildRoutingTable({ services, endpointSlices, pods });
 * current = buildRoutingTable({ services, endpointSlices, pods }, current); // one reference swap
 */
export function buildRoutingTable(input: RoutingTableInput, previous?: RoutingTable): RoutingTable {
  const mode: EndpointsFrom = input.endpointsFrom ?? "EndpointSlices";
  const global: TableDiagnostic[] = [];

  const services = new Map<string, KubeService>();
  for (const service of input.services) {
    const id = identify(service, "Service", "services[]", global);
    if (id === undefined) continue;
    const key = serviceKey(id.namespace, id.name);
    if (services.has(key)) {
      global.push(diagnostic({ kind: "Service", ...id }, "metadata.name", `the Service is listed twice; the second copy skipped`));
      continue;
    }
    services.set(key, service);
  }

  // Pods: by "namespace/name" for slice endpoint labels, by namespace for Pods mode. A nameless
  // pod matters only in Pods mode (no targetRef can name it), so only there is it reported.
  const podsByKey = new Map<string, KubePod>();
  const podsByNamespace = new Map<string, Map<string, KubePod>>();
  for (const pod of input.pods ?? []) {
    const id = identify(pod, "Pod", "pods[]", mode === "Pods" ? global : []);
    if (id === undefined) continue;
    const key = serviceKey(id.namespace, id.name);
    if (podsByKey.has(key)) {
      if (mode === "Pods") global.push(diagnostic({ kind: "Pod", ...id }, "metadata.name", "the Pod is listed twice; the second copy skipped"));
      continue;
    }
    podsByKey.set(key, pod);
    let inNamespace = podsByNamespace.get(id.namespace);
    if (inNamespace === undefined) podsByNamespace.set(id.namespace, (inNamespace = new Map()));
    inNamespace.set(id.name, pod);
  }

  // EndpointSlices, grouped by the Service their kubernetes.io/service-name label names.
  const slicesByService = new Map<string, KubeEndpointSlice[]>();
  if (mode === "EndpointSlices") {
    const seen = new Set<string>();
    for (const slice of input.endpointSlices ?? []) {
      const id = identify(slice, "EndpointSlice", "endpointSlices[]", global);
      if (id === undefined) continue;
      const sliceKey = serviceKey(id.namespace, id.name);
      if (seen.has(sliceKey)) {
        global.push(diagnostic({ kind: "EndpointSlice", ...id }, "metadata.name", "the EndpointSlice is listed twice; the second copy skipped"));
        continue;
      }
      seen.add(sliceKey);
      const key = sliceServiceKey(slice, id, global);
      if (key === undefined) continue;
      let group = slicesByService.get(key);
      if (group === undefined) slicesByService.set(key, (group = []));
      group.push(slice);
    }
    for (const group of slicesByService.values()) group.sort(byName);
  }

  const prevState = previous === undefined ? undefined : stateOf(previous);
  const reusable = prevState !== undefined && prevState.endpointsFrom === mode ? prevState : undefined;
  const namespaceChanged = new Map<string, boolean>();
  const podsChangedIn = (namespace: string): boolean => {
    let changed = namespaceChanged.get(namespace);
    if (changed === undefined) {
      const before = reusable?.podsByNamespace.get(namespace);
      const now = podsByNamespace.get(namespace);
      changed = (before?.size ?? 0) !== (now?.size ?? 0);
      if (!changed && now !== undefined) {
        for (const [name, pod] of now) {
          if (!sameObject(before?.get(name), pod)) {
            changed = true;
            break;
          }
        }
      }
      namespaceChanged.set(namespace, changed);
    }
    return changed;
  };
  const sortedPods = new Map<string, KubePod[]>();
  const pods = {
    byKey: podsByKey,
    inNamespace: (namespace: string): KubePod[] => {
      let list = sortedPods.get(namespace);
      if (list === undefined) sortedPods.set(namespace, (list = [...(podsByNamespace.get(namespace)?.values() ?? [])].sort(byName)));
      return list;
    },
  };

  const state: BuildState = {
    endpointsFrom: mode,
    inputs: new Map(),
    podDependents: new Map(),
    podsByNamespace: mode === "Pods" ? podsByNamespace : new Map(),
    servicesByNamespace: new Map(),
    withDiagnostics: [],
    global: Object.freeze(sortGlobal(global)),
  };
  const entries: [string, ServiceEntry][] = [];
  const rebuilt: string[] = [];
  let endpointCount = 0;
  const keys = [...services.keys()].sort();
  for (const key of keys) {
    const service = services.get(key)!;
    const slices = slicesByService.get(key) ?? [];
    const before = reusable?.inputs.get(key);
    const previousEntry = previous?.services.get(key);
    let entry: ServiceEntry | undefined;
    let inputs: { service: KubeService; slices: readonly KubeEndpointSlice[]; podDeps: ReadonlyMap<string, KubePod | undefined> } | undefined;
    if (before !== undefined && previousEntry !== undefined && sameObject(before.service, service)) {
      const unchanged =
        mode === "Pods"
          ? !podsChangedIn(previousEntry.namespace)
          : sameList(before.slices, slices) && [...before.podDeps].every(([podKey, pod]) => sameObject(pod, podsByKey.get(podKey)));
      if (unchanged) {
        entry = previousEntry;
        inputs = before;
      }
    }
    if (entry === undefined || inputs === undefined) {
      const built = buildServiceEntry(key, service, mode, slices, pods);
      entry = built.entry;
      inputs = { service, slices, podDeps: built.podDeps };
      rebuilt.push(key);
    }
    entries.push([key, entry]);
    remember(state, key, entry.namespace, inputs, undefined);
    if (entry.diagnostics.length > 0) state.withDiagnostics.push(key);
    endpointCount += entry.endpoints.length;
  }

  const removed: string[] = [];
  if (previous !== undefined) for (const key of previous.services.keys()) if (!services.has(key)) removed.push(key);
  const servicesMap = HashTrieMap.from(entries, Object.freeze(keys));
  const table: RoutingTable = Object.freeze({
    generation: (previous?.generation ?? 0) + 1,
    endpointsFrom: mode,
    services: servicesMap,
    endpointCount,
    rebuilt: Object.freeze(rebuilt),
    removed: Object.freeze(removed.sort()),
    diagnostics: allDiagnostics(state, (key) => servicesMap.get(key)),
  });
  registerTable(table, state, previous);
  return table;
}
