// Diagnostics about input objects tied to no service: values that are not objects, objects with
// no name, an object listed twice, an EndpointSlice that names no Service. A store holds none of
// the first three (it keys by name), so a source that takes lists from elsewhere (a file, a
// caller of buildRoutingTable) checks them here first; the last kind is found in the store.

import type { KubeEndpointSlice, KubePod, KubeService } from "./kubernetes-objects.ts";
import { serviceNameLabel } from "./kubernetes-objects.ts";
import type { EndpointsFrom, TableDiagnostic } from "./routing-table.ts";
import { namespaceOf, type NamedObject } from "./object-identity.ts";
import type { TableInputStore } from "./table-input-store.ts";
import { diagnostic, show, type DiagnosticKind } from "./table-diagnostic.ts";

/** Lists of objects to build a table from. */
export interface RoutingTableInput {
  readonly services: Iterable<KubeService>;
  /** Read in "EndpointSlices" mode (the default). */
  readonly endpointSlices?: Iterable<KubeEndpointSlice>;
  /** Labels for slice endpoints whose targetRef names a known Pod; the endpoints in "Pods" mode. */
  readonly pods?: Iterable<KubePod>;
  readonly endpointsFrom?: EndpointsFrom;
}

/** The input's objects that can be stored, each key once (the first copy), and diagnostics
 * about the others. */
export interface CheckedTableInput {
  readonly endpointsFrom: EndpointsFrom;
  readonly services: readonly KubeService[];
  readonly endpointSlices: readonly KubeEndpointSlice[];
  readonly pods: readonly KubePod[];
  readonly diagnostics: readonly TableDiagnostic[];
}

/** Namespace and name of an object, or a diagnostic when it has no usable name. */
export function identify(object: unknown, kind: DiagnosticKind, field: string, out: TableDiagnostic[]): { namespace: string; name: string } | undefined {
  if (object == null || typeof object !== "object") {
    out.push(diagnostic({ kind, namespace: "", name: "" }, field, `${show(object)} is not an object; skipped`));
    return undefined;
  }
  const namespace = namespaceOf(object as NamedObject);
  const name = (object as NamedObject).metadata?.name;
  if (typeof name !== "string" || name === "") {
    const problem = name == null ? "missing" : `${show(name)} is not a name`;
    out.push(diagnostic({ kind, namespace, name: "" }, "metadata.name", `${problem}; ${kind} skipped`));
    return undefined;
  }
  return { namespace, name };
}

function unique<T>(objects: Iterable<T> | undefined, kind: DiagnosticKind, field: string, out: TableDiagnostic[] | undefined): T[] {
  const kept: T[] = [];
  const seen = new Set<string>();
  const ignored: TableDiagnostic[] = [];
  for (const object of objects ?? []) {
    const id = identify(object, kind, field, out ?? ignored);
    if (id === undefined) continue;
    const key = `${id.namespace}/${id.name}`;
    if (seen.has(key)) {
      out?.push(diagnostic({ kind, ...id }, "metadata.name", `the ${kind} is listed twice; the second copy skipped`));
      continue;
    }
    seen.add(key);
    kept.push(object);
  }
  return kept;
}

/**
 * Sorts out what a store can hold. Only what the mode reads is reported: EndpointSlices only in
 * slice mode (in Pods mode they are not read at all), Pods without a name only in Pods mode (no
 * targetRef can name them).
 */
export function checkTableInput(input: RoutingTableInput): CheckedTableInput {
  const mode: EndpointsFrom = input.endpointsFrom ?? "EndpointSlices";
  const diagnostics: TableDiagnostic[] = [];
  const services = unique(input.services, "Service", "services[]", diagnostics);
  const pods = unique(input.pods, "Pod", "pods[]", mode === "Pods" ? diagnostics : undefined);
  const endpointSlices = mode === "EndpointSlices" ? unique(input.endpointSlices, "EndpointSlice", "endpointSlices[]", diagnostics) : [];
  return { endpointsFrom: mode, services, endpointSlices, pods, diagnostics };
}

/** Makes `store` hold exactly the objects of `input` (what a source with whole lists does: a
 * file source after a load), recording what changed. Returns what the next build needs besides
 * the changes: the mode and the diagnostics about objects the store could not hold. */
export function replaceTableInput(store: TableInputStore, input: RoutingTableInput): Pick<CheckedTableInput, "endpointsFrom" | "diagnostics"> {
  const checked = checkTableInput(input);
  store.replace("Service", checked.services);
  store.replace("EndpointSlice", checked.endpointSlices);
  store.replace("Pod", checked.pods);
  return checked;
}

/** Why a stored slice names no Service (its kubernetes.io/service-name label; see
 * table-input-store.ts sliceOwner). */
export function unownedSliceDiagnostic(slice: KubeEndpointSlice, out: TableDiagnostic[]): void {
  const label = slice.metadata?.labels?.[serviceNameLabel];
  const problem = label == null ? "missing" : `${show(label)} is not a Service name`;
  const id = { namespace: namespaceOf(slice), name: slice.metadata?.name ?? "" };
  out.push(diagnostic({ kind: "EndpointSlice", ...id }, `metadata.labels[${show(serviceNameLabel)}]`, `${problem}; slice skipped (it names no Service)`));
}

const kindRank: Readonly<Record<DiagnosticKind, number>> = { Service: 0, Pod: 1, EndpointSlice: 2 };

/** Diagnostics of objects tied to no service in one order whatever the order of the input: by
 * kind (Services, Pods, EndpointSlices), then namespace and name; one object's keep their order. */
export function sortGlobal(diagnostics: TableDiagnostic[]): TableDiagnostic[] {
  return diagnostics.sort(
    (a, b) => kindRank[a.kind] - kindRank[b.kind] || (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}
