// Gateway mode and request-time subsets through a served router: route rules map public host
// names and path prefixes to services (with prefix rewrites and a subset), and a request header
// can name a label selector that narrows the pick to matching pods.
import net from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubePod } from "../../router/table/kubernetes-objects.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";

const runtime = await loadRuntimeAdapter();
let v1: Pod;
let v2: Pod;
let router: ServiceRouter;
let server: RunningServer;

function get(host: string, path: string, extra = ""): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1", () => socket.write(`GET ${path} HTTP/1.1\r\nhost: ${host}${extra}\r\nconnection: close\r\n\r\n`));
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve({ status: Number(data.split(" ")[1]), json: JSON.parse(data.slice(data.indexOf("\r\n\r\n") + 4)) }));
  });
}

const pod = (name: string, version: string): KubePod => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels: { app: "sise", version } } });

beforeAll(async () => {
  v1 = await startPod("rcsise-v1aaa");
  v2 = await startPod("rcsise-v2bbb");
  router = new ServiceRouter({
    core: createWasmCore(),
    transport: runtime.createTransport(),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    routes: [
      { host: "shop.example.com", pathPrefix: "/api", service: "simpleservice", rewritePrefix: "/" },
      { host: "beta.example.com", service: "default/simpleservice", subset: "version=v2" },
    ],
  });
  router.setTable(
    buildRoutingTable({
      services: [seedService()],
      endpointSlices: slicesFor("simpleservice", [
        { pod: v1.name, port: v1.port },
        { pod: v2.name, port: v2.port },
      ]),
      pods: [pod(v1.name, "v1"), pod(v2.name, "v2")],
    }),
  );
  server = await runtime.serve(router.app);
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  await Promise.all([v1?.close(), v2?.close()]);
});

test(`a route rule maps a public host and prefix to a service, rewriting the prefix (${runtime.name})`, async () => {
  const response = await get("shop.example.com", "/api/info?q=1");
  expect(response.status).toBe(200);
  expect(response.json.path).toBe("/info?q=1");
  expect(response.json.headers["x-forwarded-host"]).toBe("shop.example.com");
});

test("a route rule's subset sends every request to the matching pods only", async () => {
  for (let i = 0; i < 10; i++) expect((await get("beta.example.com", "/info")).json.pod).toBe("rcsise-v2bbb");
});

test("a request header names a subset; a bad selector is a 400 naming the problem; an empty subset a 503", async () => {
  for (let i = 0; i < 10; i++) expect((await get("simpleservice", "/info", "\r\nx-vipr-subset: version=v1")).json.pod).toBe("rcsise-v1aaa");
  const bad = await get("simpleservice", "/info", "\r\nx-vipr-subset: version in (v1");
  expect(bad.status).toBe(400);
  expect(bad.json.error.code).toBe("bad_subset");
  expect(bad.json.error.message).toMatch(/position/);
  const empty = await get("simpleservice", "/info", "\r\nx-vipr-subset: version=v9");
  expect(empty.status).toBe(503);
  expect(empty.json.error.code).toBe("no_endpoints");
});

test("a host that matches no rule still resolves as a service name", async () => {
  const response = await get("simpleservice", "/info");
  expect(response.status).toBe(200);
});
