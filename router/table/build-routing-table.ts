// buildRoutingTable: Kubernetes objects (plain JSON) in, a frozen RoutingTable snapshot out. Pure:
// no I/O, no clock, no logging; odd values become diagnostics, never exceptions. Given the previous
// snapshot it rebuilds only the services whose inputs changed and shares the other entries, so a
// watch event on one EndpointSlice costs one service's rebuild (plus a pass over the inputs to
// group them), and consumers can keep per-service caches (Maglev tables) keyed by entry identity.

import type { KubeEndpointSlice, KubeObjectMeta, KubePod, KubeService } from "./kubernetes-objects.ts";
import { serviceNameLabel } from "./kubernetes-objects.ts";
import type { EndpointsFrom, RoutingTable, ServiceEntry, TableDiagnostic } from "./routing-table.ts";
import { serviceKey } from "./routing-table.ts";
import { finalizeEndpoints, type EndpointDraft } from "./endpoint-draft.ts";
import { endpointsFromPods } from "./endpoints-from-pods.ts";
import { endpointsFromSlices } from "./endpoints-from-slices.ts";
import { readServiceSpec } from "./read-service-spec.ts";
import { diagnostic, show, type DiagnosticKind } from "./table-diagnostic.ts";

export interface RoutingTableInput {
  readonly services: Iterable<KubeService>;
  /** Read in "EndpointSlices" mode (the default). */
  readonly endpointSlices?: Iterable<KubeEndpointSlice>;
  /** Labels for slice endpoints whose targetRef names a known Pod; the endpoints in "Pods" mode. */
  readonly pods?: Iterable<KubePod>;
  readonly endpointsFrom?: EndpointsFrom;
}

/** What a service entry was built from, kept to decide whether the next build can reuse it. */
interface ServiceInputs {
  readonly service: KubeService;
  readonly slices: readonly KubeEndpointSlice[];
  /** Slice mode: each Pod a targetRef named, as it was (undefined: not known then). */
  readonly podDeps: ReadonlyMap<string, KubePod | undefined>;
}

interface BuildState {
  readonly endpointsFrom: EndpointsFrom;
  readonly inputs: ReadonlyMap<string, ServiceInputs>;
  /** Pods mode: namespace -> pod name -> pod. */
  readonly podsByNamespace: ReadonlyMap<string, ReadonlyMap<string, KubePod>>;
}

// Kept beside the snapshot rather than in it, so the snapshot holds only data worth showing.
const buildStates = new WeakMap<RoutingTable, BuildState>();

interface NamedObject {
  readonly metadata?: KubeObjectMeta | null | undefined;
}

/** Unchanged: the same object, or the same resourceVersion (a re-list returns new objects with the
 * same resourceVersion when nothing changed; every change gets a new one). */
function sameObject(a: NamedObject | undefined, b: NamedObject | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const rv = a.metadata?.resourceVersion;
  return typeof rv === "string" && rv !== "" && rv === b.metadata?.resourceVersion && a.metadata?.uid === b.metadata?.uid;
}

function sameList(a: readonly NamedObject[], b: readonly NamedObject[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameObject(a[i], b[i])) return false;
  return true;
}

function byName(a: NamedObject, b: NamedObject): number {
  const x = a.metadata?.name ?? "";
  const y = b.metadata?.name ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Namespace and name of an object, or a diagnostic when it has no usable name. A missing
 * namespace means "default", as kubectl applies a manifest without one. */
function identify(
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

  // EndpointSlices, grouped by the Service their kubernetes.io/service-name label names
  // (pkg/proxy/endpointslicecache.go endpointSliceCacheKeys refuses a slice without it).
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
      const label = slice.metadata?.labels?.[serviceNameLabel];
      if (typeof label !== "string" || label === "") {
        const problem = label == null ? "missing" : `${show(label)} is not a Service name`;
        global.push(
          diagnostic({ kind: "EndpointSlice", ...id }, `metadata.labels[${show(serviceNameLabel)}]`, `${problem}; slice skipped (it names no Service)`),
        );
        continue;
      }
      const key = serviceKey(id.namespace, label);
      let group = slicesByService.get(key);
      if (group === undefined) slicesByService.set(key, (group = []));
      group.push(slice);
    }
    for (const group of slicesByService.values()) group.sort(byName);
  }

  const prevState = previous === undefined ? undefined : buildStates.get(previous);
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

  const entries: Record<string, ServiceEntry> = Object.create(null);
  const inputs = new Map<string, ServiceInputs>();
  const rebuilt: string[] = [];
  const keys = [...services.keys()].sort();
  for (const key of keys) {
    const service = services.get(key)!;
    const slices = slicesByService.get(key) ?? [];
    const before = reusable?.inputs.get(key);
    const previousEntry = previous?.services[key];
    if (before !== undefined && previousEntry !== undefined && sameObject(before.service, service)) {
      const unchanged =
        mode === "Pods"
          ? !podsChangedIn(previousEntry.namespace)
          : sameList(before.slices, slices) && [...before.podDeps].every(([podKey, pod]) => sameObject(pod, podsByKey.get(podKey)));
      if (unchanged) {
        entries[key] = previousEntry;
        inputs.set(key, before);
        continue;
      }
    }
    const { entry, podDeps } = buildServiceEntry(key, service, mode, slices, podsByKey, podsByNamespace);
    entries[key] = entry;
    inputs.set(key, { service, slices, podDeps });
    rebuilt.push(key);
  }

  const removed = previous === undefined ? [] : Object.keys(previous.services).filter((key) => !services.has(key)).sort();
  const diagnostics = [...global];
  for (const key of keys) diagnostics.push(...entries[key]!.diagnostics);

  const table: RoutingTable = Object.freeze({
    generation: (previous?.generation ?? 0) + 1,
    endpointsFrom: mode,
    services: Object.freeze(entries),
    rebuilt: Object.freeze(rebuilt),
    removed: Object.freeze(removed),
    diagnostics: Object.freeze(diagnostics),
  });
  buildStates.set(table, {
    endpointsFrom: mode,
    inputs,
    podsByNamespace: mode === "Pods" ? podsByNamespace : new Map(),
  });
  return table;
}

function buildServiceEntry(
  key: string,
  service: KubeService,
  mode: EndpointsFrom,
  slices: readonly KubeEndpointSlice[],
  podsByKey: ReadonlyMap<string, KubePod>,
  podsByNamespace: ReadonlyMap<string, ReadonlyMap<string, KubePod>>,
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
      const merged = endpointsFromSlices(slices, podsByKey, out);
      drafts = merged.drafts;
      for (const podKey of merged.podKeys) podDeps.set(podKey, podsByKey.get(podKey));
    } else {
      const pods = [...(podsByNamespace.get(namespace)?.values() ?? [])].sort(byName);
      drafts = endpointsFromPods({ namespace, name, ...spec }, pods, out);
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
