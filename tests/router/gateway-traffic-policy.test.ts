// Gateway traffic is external traffic: a request matched by a route rule reaches a LoadBalancer
// (or NodePort) service's endpoints by its externalTrafficPolicy, as kube-proxy treats traffic
// that arrives through a load balancer or node port; a request by service name is in-cluster
// traffic and keeps internalTrafficPolicy. Here the router runs on node-a, the service has
// externalTrafficPolicy Local and internalTrafficPolicy Cluster, one pod on node-a and one on node-b.
import net from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeEndpointSlice } from "../../router/table/kubernetes-objects.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";

const runtime = await loadRuntimeAdapter();
let local: Pod;
let remote: Pod;
let router: ServiceRouter;
let server: RunningServer;

function podOf(host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1", () => socket.write(`GET /info HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`));
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(String(JSON.parse(data.slice(data.indexOf("\r\n\r\n") + 4)).pod)));
  });
}

/** slicesFor's slices, each endpoint placed on a node. */
function onNodes(slices: KubeEndpointSlice[], nodes: readonly string[]): KubeEndpointSlice[] {
  return slices.map((slice, i) => ({ ...slice, endpoints: (slice.endpoints ?? []).map((e) => ({ ...e, nodeName: nodes[i]! })) }));
}

beforeAll(async () => {
  local = await startPod("sise-local");
  remote = await startPod("sise-remote");
  router = new ServiceRouter({
    core: createWasmCore(),
    transport: runtime.createTransport(),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    nodeName: "node-a",
    routes: [{ host: "shop.example.com", service: "simpleservice" }],
  });
  router.setTable(
    buildRoutingTable({
      // Round robin, so that in-cluster traffic visibly reaches both pods.
      services: [seedService({ "vipr.io/lb-policy": "round-robin" }, { type: "LoadBalancer", externalTrafficPolicy: "Local", internalTrafficPolicy: "Cluster" })],
      endpointSlices: onNodes(
        slicesFor("simpleservice", [
          { pod: local.name, port: local.port },
          { pod: remote.name, port: remote.port },
        ]),
        ["node-a", "node-b"],
      ),
    }),
  );
  server = await runtime.serve(router.app);
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  await Promise.all([local?.close(), remote?.close()]);
});

test(`requests through a route rule reach only the pod on the router's node: externalTrafficPolicy Local (${runtime.name})`, async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) seen.add(await podOf("shop.example.com"));
  expect([...seen]).toEqual(["sise-local"]);
});

test("requests by service name are in-cluster traffic: internalTrafficPolicy Cluster reaches both pods", async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) seen.add(await podOf("simpleservice"));
  expect([...seen].sort()).toEqual(["sise-local", "sise-remote"]);
});

test("explain answers the same way for each way in", () => {
  const external = router.explain({ host: "shop.example.com" });
  const internal = router.explain({ host: "simpleservice" });
  if (!external.found || !internal.found) throw new Error("both hosts should resolve");
  expect(external.eligible.endpoints.filter((e) => e.eligible).map((e) => e.identity)).toEqual(["sise-local"]);
  expect(internal.eligible.endpoints.filter((e) => e.eligible).map((e) => e.identity).sort()).toEqual(["sise-local", "sise-remote"]);
});
