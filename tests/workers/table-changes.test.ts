// The table as changes (adapters/workers/table-changes.ts): after any sequence of publishes, a
// worker's replica routes by the same entries as the supervisor's table, having been sent only the
// entries that changed, as structured clones, as over the IPC channel.
import { describe, expect, test } from "vitest";
import { applyTableChanges, fullTable, splitTableMessage, tableChanges } from "../../adapters/workers/table-changes.ts";
import type { TableMessage } from "../../adapters/workers/worker-protocol.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeEndpointSlice, KubeService } from "../../router/table/kubernetes-objects.ts";
import { objectKey } from "../../router/table/object-identity.ts";
import { TableInputStore } from "../../router/table/table-input-store.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { RoutingTableBuilder } from "../../router/table/routing-table-builder.ts";

const service = (name: string, version = "1"): KubeService => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: "default", resourceVersion: version },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }] },
});
const slice = (name: string, pods: number, version = "1"): KubeEndpointSlice =>
  ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${name}-x`, namespace: "default", resourceVersion: version, labels: { "kubernetes.io/service-name": name } },
    addressType: "IPv4",
    ports: [{ port: 8080, protocol: "TCP", name: "" }],
    endpoints: Array.from({ length: pods }, (_, i) => ({ addresses: [`10.0.0.${i + 1}`], conditions: { ready: true }, targetRef: { kind: "Pod", namespace: "default", name: `${name}-${i}` } })),
  }) as KubeEndpointSlice;

/** One publish's parts as the IPC channel carries them (fork's "advanced" serialization). */
const overIpc = (...parts: TableMessage[]): TableMessage[] => parts.map((part) => structuredClone(part));

function expectSameRouting(replica: RoutingTable, table: RoutingTable): void {
  expect(replica.generation).toBe(table.generation);
  expect(replica.endpointCount).toBe(table.endpointCount);
  expect([...replica.services.keys()]).toEqual([...table.services.keys()]);
  for (const [key, entry] of table.services) expect(replica.services.get(key), key).toEqual(entry);
}

describe("the routing table as changes", () => {
  test("incremental publishes send only the rebuilt entries and the removed keys", () => {
    const index = new TableInputStore();
    const builder = new RoutingTableBuilder(index);
    for (const name of ["a", "b", "c", "d"]) {
      index.set("Service", service(name));
      index.set("EndpointSlice", slice(name, 3));
    }
    let table = builder.update(index.takeChanges(), { previous: undefined });
    let replica = applyTableChanges(undefined, overIpc(fullTable(table)));
    expectSameRouting(replica, table);

    index.set("EndpointSlice", slice("b", 5, "2"));
    let next = builder.update(index.takeChanges(), { previous: table });
    let message = tableChanges(table, next);
    expect(message.full).toBe(false);
    expect(message.put.map((e) => e.key)).toEqual(["default/b"]);
    expect(message.removed).toEqual([]);
    const unchanged = replica.services.get("default/a");
    replica = applyTableChanges(replica, overIpc(message));
    table = next;
    expectSameRouting(replica, table);
    expect(replica.services.get("default/a")).toBe(unchanged); // shared, not copied
    expect(replica.rebuilt).toEqual(["default/b"]);

    index.delete("Service", objectKey(service("c"))!);
    index.delete("EndpointSlice", objectKey(slice("c", 3))!);
    next = builder.update(index.takeChanges(), { previous: table });
    message = tableChanges(table, next);
    expect(message.put).toEqual([]);
    expect(message.removed).toEqual(["default/c"]);
    replica = applyTableChanges(replica, overIpc(message));
    expectSameRouting(replica, next);
    expect(replica.removed).toEqual(["default/c"]);
    expect(Object.isFrozen(replica.services.get("default/b")!.endpoints[0])).toBe(true);
  });

  test("a table not built from the last one sent is diffed by entry", () => {
    const first = buildRoutingTable({ services: [service("a"), service("b")], endpointSlices: [slice("a", 2), slice("b", 2)] });
    // A new build with no previous (a source restarted): every entry is new, but only the changed
    // keys and the removed ones differ in routing.
    const second = buildRoutingTable({ services: [service("a"), service("c")], endpointSlices: [slice("a", 2), slice("c", 1)] });
    const message = tableChanges(first, second);
    expect(message.full).toBe(false);
    expect(message.removed).toEqual(["default/b"]);
    const replica = applyTableChanges(applyTableChanges(undefined, overIpc(fullTable(first))), overIpc(message));
    expect([...replica.services.keys()]).toEqual(["default/a", "default/c"]);
    for (const [key, entry] of second.services) expect(replica.services.get(key)).toEqual(entry);
  });

  test("a full table to a worker that had one replaces it and names what went", () => {
    const first = buildRoutingTable({ services: [service("a"), service("b")], endpointSlices: [] });
    const second = buildRoutingTable({ services: [service("b")], endpointSlices: [] });
    const replica = applyTableChanges(applyTableChanges(undefined, [fullTable(first)]), overIpc(fullTable(second)));
    expect([...replica.services.keys()]).toEqual(["default/b"]);
    expect(replica.removed).toEqual(["default/a"]);
  });
});

describe("a publish in parts", () => {
  test("a big change is split into parts; applied in order, the last part's table has every change, rebuilt and removed", () => {
    const names = Array.from({ length: 12 }, (_, i) => `s${String(i).padStart(2, "0")}`);
    const index = new TableInputStore();
    const builder = new RoutingTableBuilder(index);
    for (const name of names) {
      index.set("Service", service(name));
      index.set("EndpointSlice", slice(name, 1));
    }
    const first = builder.update(index.takeChanges(), { previous: undefined });
    const full = splitTableMessage(fullTable(first), 5);
    expect(full.map((m) => [m.full, m.put.length, m.more ?? false])).toEqual([
      [true, 5, true],
      [false, 5, true],
      [false, 2, false],
    ]);
    let replica: RoutingTable | undefined;
    replica = applyTableChanges(replica, overIpc(...full));
    expectSameRouting(replica!, first);

    for (const name of names.slice(0, 8)) index.set("EndpointSlice", slice(name, 2, "2"));
    index.delete("Service", objectKey(service("s11"))!);
    index.delete("EndpointSlice", objectKey(slice("s11", 1))!);
    const second = builder.update(index.takeChanges(), { previous: first });
    const parts = splitTableMessage(tableChanges(first, second), 3);
    expect(parts).toHaveLength(3);
    const staged = applyTableChanges(replica, overIpc(...parts));
    expectSameRouting(staged, second);
    expect(staged.rebuilt).toEqual(second.rebuilt);
    expect(staged.removed).toEqual(["default/s11"]);
  });
});
