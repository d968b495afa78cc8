import { describe, expect, test } from "vitest";
import { DialableTargets } from "../../router/dialable-targets.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeEndpointSlice, KubeService } from "../../router/table/kubernetes-objects.ts";

type Condition = "ready" | "terminating" | "not-ready";
function entry(name: string, endpoints: Readonly<Record<string, Condition>>, publishNotReadyAddresses = false) {
  const service: KubeService = { metadata: { name, namespace: "default" }, spec: { ports: [{ port: 80, targetPort: 8080 }], publishNotReadyAddresses } };
  const slice: KubeEndpointSlice = {
    metadata: { name: `${name}-1`, namespace: "default", labels: { "kubernetes.io/service-name": name } },
    addressType: "IPv4",
    ports: [{ port: 8080 }],
    endpoints: Object.entries(endpoints).map(([address, condition]) => ({
      addresses: [address],
      conditions: { ready: condition === "ready", serving: condition !== "not-ready", terminating: condition === "terminating" },
    })),
  };
  return buildRoutingTable({ services: [service], endpointSlices: [slice] }).services.get(`default/${name}`)!;
}

describe("DialableTargets: the pools the transport keeps", () => {
  test("ready endpoints keep their pools; terminating and not-ready ones do not while a ready one exists", () => {
    const targets = new DialableTargets(new Set());
    targets.replace(undefined, entry("web", { "10.0.0.1": "ready", "10.0.0.2": "terminating", "10.0.0.3": "not-ready" }));
    expect([...targets.keys]).toEqual(["10.0.0.1:8080"]);
  });

  test("with no ready endpoint, serving-and-terminating ones are the fallback and keep theirs", () => {
    const targets = new DialableTargets(new Set());
    targets.replace(undefined, entry("web", { "10.0.0.2": "terminating", "10.0.0.3": "terminating" }));
    expect([...targets.keys].sort()).toEqual(["10.0.0.2:8080", "10.0.0.3:8080"]);
  });

  test("publishNotReadyAddresses: every endpoint counts as ready", () => {
    const targets = new DialableTargets(new Set());
    targets.replace(undefined, entry("web", { "10.0.0.1": "ready", "10.0.0.3": "not-ready" }, true));
    expect([...targets.keys].sort()).toEqual(["10.0.0.1:8080", "10.0.0.3:8080"]);
  });

  test("an endpoint shared by two services stays while either keeps it; replacing an entry undoes it exactly", () => {
    const targets = new DialableTargets(new Set());
    const webBefore = entry("web", { "10.0.0.1": "ready", "10.0.0.2": "ready" });
    const api = entry("api", { "10.0.0.2": "ready" });
    targets.replace(undefined, webBefore);
    targets.replace(undefined, api);
    // 10.0.0.2 turns terminating in web; api still routes to it as ready.
    const webAfter = entry("web", { "10.0.0.1": "ready", "10.0.0.2": "terminating" });
    targets.replace(webBefore, webAfter);
    expect([...targets.keys].sort()).toEqual(["10.0.0.1:8080", "10.0.0.2:8080"]);
    targets.replace(api, undefined);
    expect([...targets.keys]).toEqual(["10.0.0.1:8080"]);
    targets.replace(webAfter, undefined);
    expect([...targets.keys]).toEqual([]);
  });
});
