// vipr as a library: the router's Hono app mounted inside a user's own Hono app, served by this
// runtime's adapter, with mocked endpoints built from plain Kubernetes objects (no cluster).
import net from "node:net";
import { Hono } from "hono";
import { afterAll, beforeAll, expect, test } from "vitest";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import { ServiceRouter, buildRoutingTable, createWasmCore } from "../../router/index.ts";
import { seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";

const runtime = await loadRuntimeAdapter();
let pod: Pod;
let router: ServiceRouter;
let server: RunningServer;

function get(host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1", () => socket.write(`GET ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`));
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve({ status: Number(data.split(" ")[1]), body: data.slice(data.indexOf("\r\n\r\n") + 4) }));
  });
}

beforeAll(async () => {
  pod = await startPod("rcsise-lib01");
  router = new ServiceRouter({ core: createWasmCore(), transport: runtime.createTransport(), clientAddress: runtime.clientAddress, requestHeaders: runtime.requestHeaders });
  router.setTable(buildRoutingTable({ services: [seedService()], endpointSlices: slicesFor("simpleservice", [{ pod: pod.name, port: pod.port }]) }));
  const app = new Hono();
  app.get("/own/health", (c) => c.text("mine"));
  app.route("/", router.app);
  server = await runtime.serve(app);
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  await pod?.close();
});

test(`a user's Hono app keeps its own routes and hands the rest to vipr (${runtime.name})`, async () => {
  const own = await get("anything", "/own/health");
  expect(own).toEqual({ status: 200, body: "mine" });
  const routed = await get("simpleservice.default", "/info");
  expect(routed.status).toBe(200);
  expect(JSON.parse(routed.body).pod).toBe("rcsise-lib01");
  const unknown = await get("nosuch", "/info");
  expect(unknown.status).toBe(404);
  expect(JSON.parse(unknown.body).error.code).toBe("unknown_service");
});
