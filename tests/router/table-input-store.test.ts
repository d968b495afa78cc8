// TableInputStore: one key rule, the owner and namespace indexes, changes by key, namespaced
// replace, and the change stream: applying the changes one store observed to another store gives
// it the same content and the same next table.
import { describe, expect, test } from "vitest";
import type { KubeEndpointSlice } from "../../router/table/kubernetes-objects.ts";
import { objectKey } from "../../router/table/object-identity.ts";
import { RoutingTableBuilder } from "../../router/table/routing-table-builder.ts";
import { TableInputStore, type ObjectChange } from "../../router/table/table-input-store.ts";

const slice = (name: string, owner: string | undefined, resourceVersion: string, namespace?: string): KubeEndpointSlice => ({
  metadata: { name, ...(namespace === undefined ? {} : { namespace }), resourceVersion, uid: name, ...(owner === undefined ? {} : { labels: { "kubernetes.io/service-name": owner } }) },
  addressType: "IPv4",
  ports: [{ name: "http", port: 8080 }],
  endpoints: [{ addresses: ["10.0.0.1"] }],
});
const service = (name: string, resourceVersion: string, namespace = "default") => ({
  metadata: { name, namespace, resourceVersion, uid: name },
  spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }] },
});

describe("TableInputStore", () => {
  test("a namespaced object without a namespace is in \"default\"; a nameless one is not stored", () => {
    expect(objectKey({ metadata: { name: "web" } })).toBe("default/web");
    expect(objectKey({ metadata: { name: "web", namespace: "" } })).toBe("default/web");
    expect(objectKey({ metadata: { name: "web", namespace: "shop" } })).toBe("shop/web");
    expect(objectKey({ metadata: { namespace: "shop" } })).toBeUndefined();
    const store = new TableInputStore();
    expect(store.set("Service", { metadata: { namespace: "shop" } })).toBe(false);
    expect(store.set("Service", service("web", "1", ""))).toBe(true);
    expect([...store.keys("Service")]).toEqual(["default/web"]);
  });

  test("slices by owner: a label move changes both owners; the same version changes nothing", () => {
    const store = new TableInputStore();
    store.set("EndpointSlice", slice("s1", "a", "1"));
    expect(store.takeChanges().owners).toEqual(new Set(["default/a"]));
    expect(store.set("EndpointSlice", slice("s1", "a", "1"))).toBe(false);
    expect(store.takeChanges().owners).toEqual(new Set());
    store.set("EndpointSlice", slice("s1", "b", "2"));
    const changes = store.takeChanges();
    expect(changes.owners).toEqual(new Set(["default/a", "default/b"]));
    expect(changes.keys.get("EndpointSlice")).toEqual(new Set(["default/s1"]));
    expect([...store.ownedBy("EndpointSlice", "default/a")]).toEqual([]);
    expect([...store.ownedBy("EndpointSlice", "default/b")].map((s) => s.metadata?.name)).toEqual(["s1"]);
    store.set("EndpointSlice", slice("s1", undefined, "3"));
    expect([...store.unowned("EndpointSlice")].map((s) => s.metadata?.name)).toEqual(["s1"]);
    expect(store.takeChanges().owners).toEqual(new Set(["default/b"]));
  });

  test("a namespaced replace leaves the other namespaces alone", () => {
    const store = new TableInputStore();
    store.replace("Service", [service("a", "1", "shop"), service("b", "1", "blog")]);
    const changes = store.replace("Service", [service("c", "1", "shop")], "shop");
    expect(changes.added.map((o) => o.metadata.name)).toEqual(["c"]);
    expect(changes.removed.map((o) => o.metadata?.name)).toEqual(["a"]);
    expect([...store.keys("Service")].sort()).toEqual(["blog/b", "shop/c"]);
    expect([...store.collection("Service", "blog").keys()]).toEqual(["blog/b"]);
  });

  test("the observed changes, as JSON, applied to another store give the same table", () => {
    const changes: string[] = [];
    const source = new TableInputStore({ observe: (change) => changes.push(JSON.stringify(change)) });
    const sourceTables = new RoutingTableBuilder(source);
    const copy = new TableInputStore();
    const copyTables = new RoutingTableBuilder(copy);
    const step = (write: () => void): void => {
      changes.length = 0;
      write();
      for (const change of changes) copy.apply(JSON.parse(change) as ObjectChange);
      const a = sourceTables.update(source.takeChanges());
      const b = copyTables.update(copy.takeChanges());
      expect([...b.services.entries()]).toEqual([...a.services.entries()]);
      expect(b.rebuilt).toEqual(a.rebuilt);
      expect(b.removed).toEqual(a.removed);
      expect(b.diagnostics).toEqual(a.diagnostics);
    };
    step(() => {
      source.replace("Service", [service("a", "1"), service("b", "1")]);
      source.replace("EndpointSlice", [slice("s1", "a", "1", "default"), slice("s2", undefined, "1", "default")]);
    });
    step(() => source.set("EndpointSlice", slice("s1", "b", "2", "default")));
    step(() => source.replace("Service", [service("b", "1")]));
    expect(changes).toEqual([JSON.stringify({ type: "delete", kind: "Service", key: "default/a" })]);
  });
});
