// Which endpoint a retry on a status code goes to (forward-stage.ts): another endpoint of the
// Service while one is left, then the same again (GEP-1731 retries "a backend request", not a
// different backend). A Service with two echo pods, each failing its first request of a uuid.
import { randomUUID } from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { startEchoBackend, type EchoBackend } from "../support/echo-backend.ts";
import { BASE_GATEWAY, gatewayObjects } from "./gateway-yaml.ts";

const NS = "gateway-conformance-infra";
let backend: EchoBackend;
let router: ServiceRouter;
let server: RunningServer;

beforeAll(async () => {
  const runtime = await loadRuntimeAdapter();
  backend = await startEchoBackend(NS, "two-pods", 2);
  router = new ServiceRouter({ core: createWasmCore(), transport: runtime.createTransport(), clientAddress: runtime.clientAddress, requestHeaders: runtime.requestHeaders });
  const table = buildRoutingTable({ ...backend.objects(), pods: [] });
  router.setTable(table);
  router.setGatewayObjects(
    gatewayObjects(`${BASE_GATEWAY}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: retry-endpoints, namespace: ${NS} }
spec:
  parentRefs: [{ name: same-namespace }]
  rules:
  - retry: { codes: [503], attempts: 3 }
    backendRefs: [{ name: two-pods, port: 8080 }]
`),
    { serviceExists: (key) => table.services.has(key) },
  );
  server = await runtime.serve(router.app);
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  await backend?.close();
});

function get(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: server.port, path, headers: { host: "retry.example" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("HTTPRouteRetry: the endpoint of a retry", () => {
  test("the first retry goes to the other pod; once both were tried, to one of them again", async () => {
    for (let i = 0; i < 4; i++) {
      const uuid = randomUUID();
      // Each pod answers 503 to its first request with this uuid.
      expect(await get(`/x?uuid=${uuid}&responseCode=503&succeedAfter=1`)).toBe(200);
      const pods = backend.received().filter((r) => r.path.includes(uuid)).sort((a, b) => a.receivedAt - b.receivedAt).map((r) => r.pod);
      expect(pods.length).toBe(3);
      expect(new Set(pods.slice(0, 2)).size).toBe(2);
    }
  });
});
