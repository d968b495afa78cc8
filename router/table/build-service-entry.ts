// One service's entry of the routing table from its objects: the Service, its EndpointSlices (or,
// in Pods mode, the Pods of its namespace), and the Pods slice endpoints name for their labels.
// Pure: the same objects give an equal entry. RoutingTableBuilder decides when to call it.

import type { KubeEndpointSlice, KubePod, KubeService } from "./kubernetes-objects.ts";
import type { EndpointsFrom, ServiceEntry, TableDiagnostic } from "./routing-table.ts";
import { finalizeEndpoints, type EndpointDraft } from "./endpoint-draft.ts";
import { endpointsFromPods } from "./endpoints-from-pods.ts";
import { endpointsFromSlices } from "./endpoints-from-slices.ts";
import { namespaceOf } from "./object-identity.ts";
import { readServiceSpec } from "./read-service-spec.ts";

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
  const namespace = namespaceOf(service);
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
