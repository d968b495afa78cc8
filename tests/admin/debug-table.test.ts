import { describe, expect, test } from "vitest";
import { createAdminApp } from "../../router/admin/admin-app.ts";
import { describeTable } from "../../router/admin/table-view.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeEndpointSlice, KubeService } from "../../router/table/kubernetes-objects.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";

// The seed's simpleservice (port 80 -> 9876, two pods), plus a "web" service with one ready
// endpoint in zone a, one terminating endpoint with hints, and one invalid address (a diagnostic).
const simpleservice: KubeService = {
  metadata: { name: "simpleservice", namespace: "default", resourceVersion: "100" },
  spec: { ports: [{ port: 80, targetPort: 9876, protocol: "TCP" }], selector: { app: "sise" }, clusterIP: "10.96.0.42" },
};
const simpleserviceSlice: KubeEndpointSlice = {
  metadata: { name: "simpleservice-x7k2p", namespace: "default", labels: { "kubernetes.io/service-name": "simpleservice" } },
  addressType: "IPv4",
  ports: [{ name: "", port: 9876, protocol: "TCP" }],
  endpoints: [
    { addresses: ["172.17.0.3"], conditions: { ready: true }, nodeName: "minikube", targetRef: { kind: "Pod", namespace: "default", name: "rcsise-nlfzs" } },
    { addresses: ["172.17.0.4"], conditions: { ready: true }, nodeName: "minikube", targetRef: { kind: "Pod", namespace: "default", name: "rcsise-6nq3k" } },
  ],
};
const web: KubeService = {
  metadata: { name: "web", namespace: "shop" },
  spec: {
    ports: [{ name: "http", port: 80, targetPort: "http", appProtocol: "http" }],
    sessionAffinity: "ClientIP",
    internalTrafficPolicy: "Local",
  },
};
const webSlice: KubeEndpointSlice = {
  metadata: { name: "web-abc", namespace: "shop", labels: { "kubernetes.io/service-name": "web" } },
  addressType: "IPv4",
  ports: [{ name: "http", port: 8080 }],
  endpoints: [
    { addresses: ["10.1.0.5"], conditions: { ready: true }, zone: "zone-a", nodeName: "node-1", hostname: "web-0" },
    {
      addresses: ["10.1.0.6"],
      conditions: { ready: false, serving: true, terminating: true },
      zone: "zone-b",
      hints: { forZones: [{ name: "zone-b" }], forNodes: [{ name: "node-2" }] },
      targetRef: { kind: "Pod", namespace: "shop", name: "web-1" },
    },
    { addresses: ["not-an-ip"], conditions: { ready: true } },
  ],
};

const table = (): RoutingTable => buildRoutingTable({ services: [web, simpleservice], endpointSlices: [webSlice, simpleserviceSlice] });

function adminWith(current: RoutingTable | undefined) {
  return createAdminApp({ isReady: () => true, metrics: new RouterMetrics(), getTable: () => current, explain: () => ({ found: false }) });
}

describe("/debug/table", () => {
  test("services sorted by key, with ports, endpoints and their conditions, zone and node, and diagnostics", async () => {
    const t = table();
    const res = await adminWith(t).request("/debug/table");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const view = (await res.json()) as ReturnType<typeof describeTable>;
    expect(view).toMatchObject({ generation: 1, endpointsFrom: "EndpointSlices", serviceCount: 2, endpointCount: 4, removed: [] });
    expect(view.services.map((s) => s.key)).toEqual(["default/simpleservice", "shop/web"]);
    expect(view.rebuilt).toEqual(["default/simpleservice", "shop/web"]);

    const [seed, shop] = view.services;
    expect(seed).toEqual({
      key: "default/simpleservice",
      namespace: "default",
      name: "simpleservice",
      resourceVersion: "100",
      type: "ClusterIP",
      headless: false,
      clusterIP: "10.96.0.42",
      externalName: null,
      ports: [{ name: "", port: 80, targetPort: 9876, protocol: "TCP", appProtocol: null }],
      selector: { app: "sise" },
      sessionAffinity: { type: "None", timeoutSeconds: null },
      internalTrafficPolicy: "Cluster",
      externalTrafficPolicy: "Cluster",
      trafficDistribution: null,
      publishNotReadyAddresses: false,
      endpointsFrom: "EndpointSlices",
      endpoints: [
        {
          identity: "rcsise-6nq3k",
          address: "172.17.0.4",
          addressType: "IPv4",
          ports: [{ name: "", port: 9876, protocol: "TCP", appProtocol: null }],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: "minikube",
          zone: null,
          hostname: null,
          hints: { forZones: [], forNodes: [] },
          targetRef: { kind: "Pod", namespace: "default", name: "rcsise-6nq3k" },
          labels: null,
          weight: 1,
          slice: "simpleservice-x7k2p",
          passiveHealth: { ejected: false, ejectedUntil: null, consecutiveFailures: 0, ejections: 0 },
        },
        expect.objectContaining({ identity: "rcsise-nlfzs", address: "172.17.0.3" }),
      ],
      diagnostics: [],
    });

    expect(shop!.sessionAffinity).toEqual({ type: "ClientIP", timeoutSeconds: 10800 });
    expect(shop!.internalTrafficPolicy).toBe("Local");
    expect(shop!.ports).toEqual([{ name: "http", port: 80, targetPort: "http", protocol: "TCP", appProtocol: "http" }]);
    expect(shop!.endpoints.map((e) => [e.address, e.conditions, e.zone, e.nodeName, e.hostname, e.hints])).toEqual([
      ["10.1.0.5", { ready: true, serving: true, terminating: false }, "zone-a", "node-1", "web-0", { forZones: [], forNodes: [] }],
      ["10.1.0.6", { ready: false, serving: true, terminating: true }, "zone-b", null, null, { forZones: ["zone-b"], forNodes: ["node-2"] }],
    ]);
    // The invalid address is skipped and reported, on the service and in the table's list.
    expect(shop!.diagnostics).toHaveLength(1);
    expect(shop!.diagnostics[0]).toContain("not-an-ip");
    expect(view.diagnostics.map((d) => d.message)).toEqual(shop!.diagnostics);
    expect(view.diagnostics[0]).toMatchObject({ kind: "EndpointSlice", namespace: "shop", name: "web-abc" });
  });

  test("every service and endpoint object has the same keys, absent values as null", () => {
    const view = describeTable(table());
    const serviceKeys = new Set(view.services.map((s) => Object.keys(s).join(",")));
    const endpointKeys = new Set(view.services.flatMap((s) => s.endpoints.map((e) => Object.keys(e).join(","))));
    expect(serviceKeys.size).toBe(1);
    expect(endpointKeys.size).toBe(1);
    expect(JSON.stringify(view)).not.toContain("undefined");
  });

  test("?service= narrows the view to one service; an unknown one is a 404", async () => {
    const app = adminWith(table());
    const res = await app.request("/debug/table?service=shop/web");
    const view = (await res.json()) as ReturnType<typeof describeTable>;
    expect(view.services.map((s) => s.key)).toEqual(["shop/web"]);
    expect(view.serviceCount).toBe(2);
    expect(view.diagnostics).toHaveLength(1);
    const missing = await app.request("/debug/table?service=shop/nope");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { status: 404, code: "unknown_service", message: 'no service "shop/nope" in table generation 1; expected namespace/name' },
    });
  });

  test("a later generation shows what it rebuilt and removed", async () => {
    const first = table();
    const second = buildRoutingTable({ services: [simpleservice], endpointSlices: [simpleserviceSlice] }, first);
    const view = (await (await adminWith(second).request("/debug/table")).json()) as ReturnType<typeof describeTable>;
    expect(view).toMatchObject({ generation: 2, serviceCount: 1, removed: ["shop/web"], diagnostics: [] });
  });

  test("503 before the first table is built", async () => {
    const res = await adminWith(undefined).request("/debug/table");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { status: 503, code: "no_table", message: "no routing table has been built yet" } });
  });
});
