// What buildRoutingTable and updateRoutingTable share: how one service entry is built from its
// objects, the rules that decide whether an entry can be reused, and the builder's memory of a
// snapshot (what each entry was built from, who depends on which Pod, which entries have
// diagnostics). That memory is kept beside the snapshot in a WeakMap, so the snapshot holds only
// data worth showing. Private to router/table.

import type { KubeEndpointSlice, KubeObjectMeta, KubePod, KubeService } from "./kubernetes-objects.ts";
import { serviceNameLabel } from "./kubernetes-objects.ts";
import type { EndpointsFrom, RoutingTable, ServiceEntry, TableDiagnostic } from "./routing-table.ts";
import { serviceKey } from "./routing-table.ts";
import { finalizeEndpoints, type EndpointDraft } from "./endpoint-draft.ts";
import { endpointsFromPods } from "./endpoints-from-pods.ts";
import { endpointsFromSlices } from "./endpoints-from-slices.ts";
import { readServiceSpec } from "./read-service-spec.ts";
import { diagnostic, show, type DiagnosticKind } from "./table-diagnostic.ts";

/** What a service entry was built from, kept to decide whether the next build can reuse it. */
export interface ServiceInputs {
  readonly service: KubeService;
  readonly slices: readonly KubeEndpointSlice[];
  /** Slice mode: each Pod a targetRef named, as it was (undefined: not known then). */
  readonly podDeps: ReadonlyMap<string, KubePod | undefined>;
}

/**
 * The builder's memory of one snapshot. A full build makes a new one; an update takes its
 * previous snapshot's, edits it in place and hands it to the new snapshot (the previous one then
 * has none, and a later build from it is a full one: correct, only slower).
 */
export interface BuildState {
  readonly endpointsFrom: EndpointsFrom;
  /** By service key, for every entry of the snapshot. */
  readonly inputs: Map<string, ServiceInputs>;
  /** Slice mode: pod key -> keys of the services whose endpoints named that Pod. */
  readonly podDependents: Map<string, Set<string>>;
  /** Pods mode: namespace -> pod name -> pod, as the snapshot was built from them. */
  readonly podsByNamespace: Map<string, Map<string, KubePod>>;
  /** Pods mode: namespace -> keys of its services. */
  readonly servicesByNamespace: Map<string, Set<string>>;
  /** Keys of the entries that have diagnostics, sorted. */
  readonly withDiagnostics: string[];
  /** The diagnostics about objects tied to no service (the head of RoutingTable.diagnostics). */
  global: readonly TableDiagnostic[];
}

const buildStates = new WeakMap<RoutingTable, BuildState>();
/** A token per snapshot, and the token of the snapshot it was built from: tokens, not tables, so
 * a snapshot does not keep its whole history alive. */
const tokens = new WeakMap<RoutingTable, object>();
const bases = new WeakMap<RoutingTable, object>();

export function stateOf(table: RoutingTable): BuildState | undefined {
  return buildStates.get(table);
}

/** Moves a state to a new snapshot (see BuildState). */
export function takeState(table: RoutingTable): BuildState | undefined {
  const state = buildStates.get(table);
  buildStates.delete(table);
  return state;
}

export function registerTable(table: RoutingTable, state: BuildState, previous: RoutingTable | undefined): void {
  buildStates.set(table, state);
  tokens.set(table, {});
  const basis = previous === undefined ? undefined : tokens.get(previous);
  if (basis !== undefined) bases.set(table, basis);
}

/** True when `table` was built with `previous` as its previous snapshot, so its `rebuilt` and
 * `removed` list every difference between the two. */
export function isBuiltFrom(table: RoutingTable, previous: RoutingTable): boolean {
  const basis = bases.get(table);
  return basis !== undefined && basis === tokens.get(previous);
}

interface NamedObject {
  readonly metadata?: KubeObjectMeta | null | undefined;
}

/** Unchanged: the same object, or the same resourceVersion (a re-list returns new objects with the
 * same resourceVersion when nothing changed; every change gets a new one). */
export function sameObject(a: NamedObject | undefined, b: NamedObject | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const rv = a.metadata?.resourceVersion;
  return typeof rv === "string" && rv !== "" && rv === b.metadata?.resourceVersion && a.metadata?.uid === b.metadata?.uid;
}

export function sameList(a: readonly NamedObject[], b: readonly NamedObject[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameObject(a[i], b[i])) return false;
  return true;
}

export function byName(a: NamedObject, b: NamedObject): number {
  const x = a.metadata?.name ?? "";
  const y = b.metadata?.name ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Namespace and name of an object, or a diagnostic when it has no usable name. A missing
 * namespace means "default", as kubectl applies a manifest without one. */
export function identify(
  object: unknown,
  kind: DiagnosticKind,
  field: string,
  out: TableDiagnostic[],
): { namespace: string; name: string } | undefined {
  if (object == null || typeof object !== "object") {
    out.push(diagnostic({ kind, namespace: "", name: "" }, field, `${show(object)} is not an object; skipped`));
    return undefined;
  }
  const meta = (object as NamedObject).metadata;
  const namespace = typeof meta?.namespace === "string" && meta.namespace !== "" ? meta.namespace : "default";
  const name = meta?.name;
  if (typeof name !== "string" || name === "") {
    const problem = name == null ? "missing" : `${show(name)} is not a name`;
    out.push(diagnostic({ kind, namespace, name: "" }, "metadata.name", `${problem}; ${kind} skipped`));
    return undefined;
  }
  return { namespace, name };
}

/** The key of the Service an EndpointSlice belongs to, by its kubernetes.io/service-name label
 * (pkg/proxy/endpointslicecache.go endpointSliceCacheKeys refuses a slice without it), or a
 * diagnostic. */
export function sliceServiceKey(slice: KubeEndpointSlice, id: { namespace: string; name: string }, out: TableDiagnostic[]): string | undefined {
  const label = slice.metadata?.labels?.[serviceNameLabel];
  if (typeof label === "string" && label !== "") return serviceKey(id.namespace, label);
  const problem = label == null ? "missing" : `${show(label)} is not a Service name`;
  out.push(diagnostic({ kind: "EndpointSlice", ...id }, `metadata.labels[${show(serviceNameLabel)}]`, `${problem}; slice skipped (it names no Service)`));
  return undefined;
}

const kindRank: Readonly<Record<DiagnosticKind, number>> = { Service: 0, Pod: 1, EndpointSlice: 2 };

/** Diagnostics of objects tied to no service in one order whatever the order of the input: by
 * kind (Services, Pods, EndpointSlices), then namespace and name; one object's keep their order. */
export function sortGlobal(diagnostics: TableDiagnostic[]): TableDiagnostic[] {
  return diagnostics.sort(
    (a, b) => kindRank[a.kind] - kindRank[b.kind] || (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

/** RoutingTable.diagnostics: the global ones, then each service's, by key. */
export function allDiagnostics(state: BuildState, entry: (key: string) => ServiceEntry | undefined): readonly TableDiagnostic[] {
  const out = [...state.global];
  for (const key of state.withDiagnostics) out.push(...entry(key)!.diagnostics);
  return Object.freeze(out);
}

/** Inserts or removes `key` in a sorted array. */
export function setInSorted(sorted: string[], key: string, present: boolean): void {
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

/** Where a service entry's endpoints come from: Pods by key (slice endpoint labels), and Pods by
 * namespace, sorted by name (Pods mode). */
export interface PodSource {
  readonly byKey: Pick<ReadonlyMap<string, KubePod>, "get">;
  inNamespace(namespace: string): readonly KubePod[];
}

export function buildServiceEntry(
  key: string,
  service: KubeService,
  mode: EndpointsFrom,
  slices: readonly KubeEndpointSlice[],
  pods: PodSource,
): { entry: ServiceEntry; podDeps: ReadonlyMap<string, KubePod | undefined> } {
  const out: TableDiagnostic[] = [];
  const meta = service.metadata!;
  const namespace = typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : "default";
  const name = meta.name!;
  const spec = readServiceSpec(service, { kind: "Service", namespace, name }, out);

  const podDeps = new Map<string, KubePod | undefined>();
  let drafts: EndpointDraft[] = [];
  // kube-proxy ignores the endpoints of an ExternalName service: it is a DNS alias.
  if (spec.type !== "ExternalName") {
    if (mode === "EndpointSlices") {
      const merged = endpointsFromSlices(slices, pods.byKey, out);
      drafts = merged.drafts;
      for (const podKey of merged.podKeys) podDeps.set(podKey, pods.byKey.get(podKey));
    } else {
      drafts = endpointsFromPods({ namespace, name, ...spec }, pods.inNamespace(namespace), out);
    }
  }

  const uid = typeof meta.uid === "string" && meta.uid !== "" ? { uid: meta.uid } : {};
  const resourceVersion =
    typeof meta.resourceVersion === "string" && meta.resourceVersion !== "" ? { resourceVersion: meta.resourceVersion } : {};
  const entry: ServiceEntry = {
    key,
    namespace,
    name,
    ...uid,
    ...resourceVersion,
    ...spec,
    endpointsFrom: mode,
    endpoints: finalizeEndpoints(drafts),
    diagnostics: Object.freeze(out),
  };
  return { entry: Object.freeze(entry), podDeps };
}

/** Records what an entry was built from, and (slice mode) which Pods it depends on; `before` is
 * what it was built from until now, if anything. */
export function remember(state: BuildState, key: string, namespace: string, inputs: ServiceInputs | undefined, before: ServiceInputs | undefined): void {
  if (before !== undefined) {
    for (const podKey of before.podDeps.keys()) {
      const dependents = state.podDependents.get(podKey);
      dependents?.delete(key);
      if (dependents?.size === 0) state.podDependents.delete(podKey);
    }
  }
  if (inputs === undefined) {
    state.inputs.delete(key);
    const inNamespace = state.servicesByNamespace.get(namespace);
    inNamespace?.delete(key);
    if (inNamespace?.size === 0) state.servicesByNamespace.delete(namespace);
    return;
  }
  state.inputs.set(key, inputs);
  for (const podKey of inputs.podDeps.keys()) {
    let dependents = state.podDependents.get(podKey);
    if (dependents === undefined) state.podDependents.set(podKey, (dependents = new Set()));
    dependents.add(key);
  }
  if (state.endpointsFrom === "Pods") {
    let inNamespace = state.servicesByNamespace.get(namespace);
    if (inNamespace === undefined) state.servicesByNamespace.set(namespace, (inNamespace = new Set()));
    inNamespace.add(key);
  }
}
