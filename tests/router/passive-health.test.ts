// Passive health end to end on this runtime: a service with one healthy pod and one that answers
// 503 to everything (a bad deploy). After five 503s in a row the bad pod is ejected and every
// request reaches the healthy one; the ejection shows in /metrics and /debug/table and ends after
// 30 s (an injected clock). A service whose only pod fails is never ejected: the cap keeps one.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import { createAdminApp } from "../../router/admin/admin-app.ts";
import type { TableView } from "../../router/admin/table-view.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { seededRandom } from "../balancing/balancer-fixtures.ts";
import { seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";

const runtime = await loadRuntimeAdapter();
const clock = { ms: Date.UTC(2025, 0, 1) };

let good: Pod;
let bad: Pod;
let router: ServiceRouter;
let metrics: RouterMetrics;
let server: RunningServer;

/** A GET with the service name as Host, through a raw socket (fetch will not send a foreign Host). */
function get(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1", () => socket.write(`GET /info HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`));
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(Number(data.split(" ")[1])));
  });
}

async function statuses(host: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await get(host));
  return out;
}

async function debugTable(service: string): Promise<TableView> {
  const admin = createAdminApp({
    isReady: () => true,
    metrics,
    getTable: () => router.table,
    endpointHealth: () => router.endpointHealth(),
    explain: () => ({ found: false }),
  });
  const response = await admin.request(`/debug/table?service=${encodeURIComponent(service)}`);
  expect(response.status).toBe(200);
  return (await response.json()) as TableView;
}

function healthOf(view: TableView, identity: string) {
  return view.services[0]!.endpoints.find((e) => e.identity === identity)!.passiveHealth;
}

beforeAll(async () => {
  good = await startPod("sise-good");
  bad = await startPod("sise-bad", { status: 503 });
  metrics = new RouterMetrics();
  router = new ServiceRouter({
    core: createWasmCore(),
    transport: runtime.createTransport(),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    metrics,
    now: () => clock.ms,
    random: seededRandom(11),
  });
  router.setTable(
    buildRoutingTable({
      services: [seedService(), { ...seedService(), metadata: { name: "single", namespace: "default", resourceVersion: "1" } }],
      endpointSlices: [
        ...slicesFor("simpleservice", [good, bad].map((p) => ({ pod: p.name, port: p.port }))),
        ...slicesFor("single", [{ pod: "sise-only", port: bad.port }]),
      ],
    }),
  );
  server = await runtime.serve(router.app);
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  await Promise.all([good?.close(), bad?.close()]);
});

describe(`passive health on ${runtime.name}`, () => {
  test("five 503s in a row eject the bad pod; then every request reaches the healthy one", async () => {
    await statuses("simpleservice", 40);
    expect(bad.hits.length).toBe(5);
    bad.hits.length = 0;
    const after = await statuses("simpleservice", 20);
    expect(after).toEqual(Array(20).fill(200));
    expect(bad.hits.length).toBe(0);

    const page = (await metrics.render()).body;
    expect(page).toMatch(/vipr_endpoint_ejections_total\{service="default\/simpleservice",endpoint="[^"]*sise-bad[^"]*"\} 1/);
    expect(page).toContain('vipr_ejected_endpoints{service="default/simpleservice"} 1');

    const view = await debugTable("default/simpleservice");
    const badEndpoint = view.services[0]!.endpoints.find((e) => e.identity.includes("sise-bad"))!;
    expect(badEndpoint.passiveHealth).toEqual({ ejected: true, ejectedUntil: new Date(clock.ms + 30_000).toISOString(), consecutiveFailures: 0, ejections: 1 });
    const goodEndpoint = view.services[0]!.endpoints.find((e) => e.identity.includes("sise-good"))!;
    expect(goodEndpoint.passiveHealth).toEqual({ ejected: false, ejectedUntil: null, consecutiveFailures: 0, ejections: 0 });
  });

  test("the ejection ends after 30 s and the pod gets traffic again", async () => {
    clock.ms += 30_000;
    const view = await debugTable("default/simpleservice");
    const badEndpoint = view.services[0]!.endpoints.find((e) => e.identity.includes("sise-bad"))!;
    expect(badEndpoint.passiveHealth.ejected).toBe(false);
    expect((await metrics.render()).body).not.toContain('vipr_ejected_endpoints{service="default/simpleservice"}');
    await statuses("simpleservice", 20);
    expect(bad.hits.length).toBeGreaterThan(0);
  });

  test("a service's only endpoint is never ejected, however often it fails", async () => {
    expect(await statuses("single", 12)).toEqual(Array(12).fill(503));
    const view = await debugTable("default/single");
    const only = view.services[0]!.endpoints[0]!;
    expect(healthOf(view, only.identity)).toEqual({ ejected: false, ejectedUntil: null, consecutiveFailures: 12, ejections: 0 });
    expect((await metrics.render()).body).not.toContain('vipr_endpoint_ejections_total{service="default/single"');
  });
});
