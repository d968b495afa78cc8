// buildRoutingTable: Kubernetes objects (plain JSON) in, a frozen RoutingTable snapshot out, in
// one call, for a caller holding lists of objects (a test, a library user). Pure: no I/O, no
// clock, no logging; odd values become diagnostics, never exceptions. It stores the objects in a
// fresh TableInputStore and makes one full pass of a fresh RoutingTableBuilder, so it remembers
// nothing: given the previous snapshot, it shares each entry that came out equal to that
// snapshot's, so consumers keep their per-service caches. A source that sees object changes
// keeps one store and one builder instead (routing-table-builder.ts), which costs only the
// services those changes touch and reuses by version, not by content.

import type { RoutingTable } from "./routing-table.ts";
import { RoutingTableBuilder } from "./routing-table-builder.ts";
import { checkTableInput, type RoutingTableInput } from "./table-input-check.ts";
import { TableInputStore } from "./table-input-store.ts";

export { isBuiltFrom } from "./routing-table.ts";
export type { RoutingTableInput } from "./table-input-check.ts";

/**
 * Builds a snapshot. With `previous`, the result is numbered after it, lists what differs from it
 * (rebuilt, removed), and shares the entries that are equal to its entries.
 *
 * @example
 * const table = buildRoutingTable({ services, endpointSlices, pods });
 * current = buildRoutingTable({ services, endpointSlices, pods }, current); // one reference swap
 */
export function buildRoutingTable(input: RoutingTableInput, previous?: RoutingTable): RoutingTable {
  const checked = checkTableInput(input);
  const store = new TableInputStore();
  for (const service of checked.services) store.set("Service", service);
  for (const slice of checked.endpointSlices) store.set("EndpointSlice", slice);
  for (const pod of checked.pods) store.set("Pod", pod);
  return new RoutingTableBuilder(store).update(undefined, {
    endpointsFrom: checked.endpointsFrom,
    previous,
    inputDiagnostics: checked.diagnostics,
    shareEqualEntries: true,
  });
}
