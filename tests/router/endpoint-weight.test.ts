// vipr.io/weight (router/table/endpoint-weight.ts): where an endpoint's weight comes from, in the
// table builder's own terms. The router-level proof that the weight reaches the picker is in
// tests/router/wiring.test.ts.
import { describe, expect, test } from "vitest";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeEndpointSlice, KubePod, KubeService } from "../../router/table/kubernetes-objects.ts";

function service(): KubeService {
  return {
    metadata: { name: "web", namespace: "default", resourceVersion: "1" },
    spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }] },
  };
}

function pod(name: string, ip: string, annotations?: Record<string, string>): KubePod {
  return {
    metadata: { name, namespace: "default", uid: `${name}-uid`, labels: { app: "web" }, ...(annotations === undefined ? {} : { annotations }) },
    spec: { containers: [{ name: "app" }] },
    status: { phase: "Running", podIP: ip, conditions: [{ type: "Ready", status: "True" }] },
  };
}

function slice(name: string, pods: readonly [string, string][], annotations?: Record<string, string>): KubeEndpointSlice {
  return {
    metadata: { name, namespace: "default", labels: { "kubernetes.io/service-name": "web" }, ...(annotations === undefined ? {} : { annotations }) },
    addressType: "IPv4",
    ports: [{ name: "", port: 8080, protocol: "TCP" }],
    endpoints: pods.map(([podName, ip]) => ({ addresses: [ip], targetRef: { kind: "Pod", namespace: "default", name: podName, uid: `${podName}-uid` } })),
  };
}

const weights = (table: ReturnType<typeof buildRoutingTable>): Record<string, number> =>
  Object.fromEntries(table.services.get("default/web")!.endpoints.map((e) => [e.identity, e.weight]));
const messages = (table: ReturnType<typeof buildRoutingTable>): string[] => table.services.get("default/web")!.diagnostics.map((d) => d.message);

describe("vipr.io/weight", () => {
  test("Pods mode: each pod's annotation is its endpoint's weight; none means 1", () => {
    const table = buildRoutingTable({ services: [service()], pods: [pod("a", "10.0.0.1", { "vipr.io/weight": "3" }), pod("b", "10.0.0.2")], endpointsFrom: "Pods" });
    expect(weights(table)).toEqual({ a: 3, b: 1 });
  });

  test("EndpointSlices: the slice's annotation weighs every endpoint it lists; a known Pod's own annotation wins", () => {
    const table = buildRoutingTable({
      services: [service()],
      endpointSlices: [slice("web-canary", [["a", "10.0.0.1"], ["b", "10.0.0.2"]], { "vipr.io/weight": "5" }), slice("web-main", [["c", "10.0.0.3"]])],
      pods: [pod("b", "10.0.0.2", { "vipr.io/weight": "2" }), pod("c", "10.0.0.3", { "vipr.io/weight": "7" })],
    });
    expect(weights(table)).toEqual({ a: 5, b: 2, c: 7 });
  });

  test("EndpointSlices without pods watched: a Pod annotation cannot be seen, the endpoint weighs 1", () => {
    const table = buildRoutingTable({ services: [service()], endpointSlices: [slice("web-main", [["a", "10.0.0.1"]])] });
    expect(weights(table)).toEqual({ a: 1 });
  });

  test.each(["0", "65536", "2.5", "1e3", " 2", "", "heavy"])("%j is refused with a diagnostic and the endpoint weighs 1", (value) => {
    const table = buildRoutingTable({ services: [service()], pods: [pod("a", "10.0.0.1", { "vipr.io/weight": value })], endpointsFrom: "Pods" });
    expect(weights(table)).toEqual({ a: 1 });
    expect(messages(table)).toEqual([
      `Pod default/a: metadata.annotations["vipr.io/weight"]: ${JSON.stringify(value)} is not a weight; expected a whole number from 1 to 65535; annotation ignored`,
    ]);
  });

  test("a bad Pod value falls back to the slice's weight, not to 1", () => {
    const table = buildRoutingTable({
      services: [service()],
      endpointSlices: [slice("web-canary", [["a", "10.0.0.1"]], { "vipr.io/weight": "4" })],
      pods: [pod("a", "10.0.0.1", { "vipr.io/weight": "lots" })],
    });
    expect(weights(table)).toEqual({ a: 4 });
  });

  test("a Pod's weight change rebuilds its service", () => {
    const input = { services: [service()], endpointSlices: [slice("web-main", [["a", "10.0.0.1"]])], pods: [pod("a", "10.0.0.1")] };
    const first = buildRoutingTable(input);
    const next = buildRoutingTable({ ...input, pods: [pod("a", "10.0.0.1", { "vipr.io/weight": "9" })] }, first);
    expect(next.rebuilt).toEqual(["default/web"]);
    expect(weights(next)).toEqual({ a: 9 });
  });
});
