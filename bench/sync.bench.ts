// npm run bench:sync [-- --json]: the Kubernetes sync against the fake API server on loopback.
// - propagation: from the fake applying an EndpointSlice change to the router sending traffic to
//   the new endpoint (requests back to back through the router; target p99 < 50 ms), and to the
//   table being published;
// - initial sync of 10000 services with 100000 endpoints (one slice of 10 per service): time to
//   the first table (target < 5 s) and the heap it holds (store + table; target < 300 MB);
// - one service's update in a table of that size: the incremental rebuild (RoutingTableBuilder.update),
//   baseline a full rebuild; and the publish, from the change applied to the table published
//   (store write + update + ServiceRouter.setTable; target < 1 ms).
// Runs on Node (`node bench/sync.bench.ts`) and Deno (`deno run -A bench/sync.bench.ts`).
import http from "node:http";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { FakeKubeApi, fakeService, serveFakeKubeApi } from "../adapters/kubernetes/fake-api/index.ts";
import { fakeKubeConfig } from "../adapters/kubernetes/fake-api/fake-kube-config.ts";
import { KubernetesSource } from "../adapters/kubernetes/kubernetes-source.ts";
import { loadRuntimeAdapter } from "../adapters/runtime-adapter.ts";
import { ServiceRouter } from "../router/service-router.ts";
import { buildRoutingTable } from "../router/table/build-routing-table.ts";
import { RoutingTableBuilder } from "../router/table/routing-table-builder.ts";
import { TableInputStore } from "../router/table/table-input-store.ts";
import type { KubeEndpointSlice, KubeService } from "../router/table/kubernetes-objects.ts";
import type { RoutingTable } from "../router/table/routing-table.ts";
import { startPod } from "../tests/support/seed-backends.ts";
import { createWasmCore } from "../wasm/core-engine.ts";
import { printRows, row, type BenchRow } from "./bench-report.ts";
import { measureNs } from "./measure.ts";

// `-- --workers N`: the sync to every worker of `vipr serve --workers N` (issue 12), bench/sync/workers.ts.
if (process.argv.includes("--workers")) {
  await (await import("./sync/workers.ts")).runWorkersSyncBench(process.argv.slice(2));
  process.exit(0);
}
const { values } = parseArgs({ options: { json: { type: "boolean", default: false }, services: { type: "string", default: "10000" }, changes: { type: "string", default: "50" } } });
const json = values.json === true;
const serviceCount = Number(values.services);
const changeCount = Number(values.changes);
const runtime = await loadRuntimeAdapter();
const bench = `sync-${runtime.name}`;
const rows: BenchRow[] = [];
const log = (line: string): void => void (json ? undefined : console.error(line));

/** A full GC before a heap reading, where the runtime lets a script ask for one. */
const gc: () => void = (() => {
  try {
    setFlagsFromString("--expose-gc");
    const collect = runInNewContext("gc") as (() => void) | undefined;
    if (typeof collect === "function") return collect;
  } catch {
    // Not available: heap figures include garbage.
  }
  return () => {};
})();

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const until = async (check: () => boolean, timeoutMs: number, what: string): Promise<void> => {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
};

// --- propagation: an EndpointSlice change to traffic on the new endpoint ---------------------------
{
  const pods = await Promise.all(["sise-a", "sise-b"].map((name) => startPod(name)));
  const fake = new FakeKubeApi({ bookmarkIntervalMs: 1000 });
  fake.apply(fakeService("simpleservice", { ports: [{ port: 80, targetPort: 9876 }] }));
  const served = await serveFakeKubeApi(fake);
  const router = new ServiceRouter({ core: createWasmCore(), transport: runtime.createTransport(), clientAddress: runtime.clientAddress, requestHeaders: runtime.requestHeaders });
  let publishedAt = 0;
  const source = new KubernetesSource({
    kubeConfig: fakeKubeConfig(served.url),
    onTable: (table) => {
      router.setTable(table);
      publishedAt = performance.now();
    },
  });
  source.start();
  const server = await runtime.serve(router.app);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const ask = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const request = http.get({ host: "127.0.0.1", port: server.port, path: "/info", headers: { host: "simpleservice" }, agent }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve(response.statusCode === 200 ? (JSON.parse(body) as { pod: string }).pod : `<${response.statusCode}>`));
      });
      request.on("error", reject);
    });
  const route = (index: number): void => fake.setEndpoints("simpleservice", [{ address: "127.0.0.1", port: pods[index]!.port, pod: pods[index]!.name }]);
  route(0);
  await until(() => source.isReady(), 5000, "first sync");
  while ((await ask()) !== pods[0]!.name);

  const toTraffic: number[] = [];
  const toTable: number[] = [];
  for (let i = 1; i <= changeCount; i++) {
    const target = pods[i % 2]!.name;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const started = performance.now();
    route(i % 2);
    while ((await ask()) !== target);
    toTraffic.push(performance.now() - started);
    toTable.push(publishedAt - started);
  }
  toTraffic.sort((a, b) => a - b);
  toTable.sort((a, b) => a - b);
  rows.push(row(bench, "propagation_to_traffic_p50", quantile(toTraffic, 0.5), "ms", null, `${changeCount} slice changes, fake on loopback HTTP`));
  rows.push(row(bench, "propagation_to_traffic_p99", quantile(toTraffic, 0.99), "ms", null, "target < 50 ms"));
  rows.push(row(bench, "propagation_to_table_p50", quantile(toTable, 0.5), "ms", null));
  rows.push(row(bench, "propagation_to_table_p99", quantile(toTable, 0.99), "ms", null));
  agent.destroy();
  await source.stop();
  await served.close();
  await server.close();
  await router.close();
  await Promise.all(pods.map((pod) => pod.close()));
}

// --- initial sync of a large cluster ------------------------------------------------------------------
const endpointsPerService = 10;
const namespaces = 10;
const fake = new FakeKubeApi({ bookmarkIntervalMs: 60_000 });
log(`creating ${serviceCount} services with ${serviceCount * endpointsPerService} endpoints in the fake...`);
for (let i = 0; i < serviceCount; i++) {
  const namespace = `ns-${i % namespaces}`;
  const name = `svc-${i}`;
  fake.apply(fakeService(name, { namespace, ports: [{ name: "http", port: 80, targetPort: 8080 }] }));
  fake.setEndpoints(
    { name, namespace },
    Array.from({ length: endpointsPerService }, (_, j) => ({ address: `10.${(i >> 8) & 255}.${i & 255}.${j + 1}`, pod: `${name}-${j}` })),
  );
}
const served = await serveFakeKubeApi(fake);
gc();
const heapBefore = process.memoryUsage().heapUsed;
let table: RoutingTable | undefined;
let tableAt = 0;
const started = performance.now();
const source = new KubernetesSource({
  kubeConfig: fakeKubeConfig(served.url),
  onTable: (t) => {
    table = t;
    tableAt = performance.now();
  },
});
source.start();
await until(() => table !== undefined, 60_000, "initial sync");
const syncMs = performance.now() - started;
gc();
const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
const endpointCount = table!.endpointCount;
rows.push(row(bench, "initial_sync_10k_services_100k_endpoints", syncMs, "ms", null, `${table!.services.size} services, ${endpointCount} endpoints; target < 5000 ms`));
rows.push(row(bench, "initial_sync_heap", heapMb, "MB", null, "heap held by stores, table and builder state; target < 300 MB"));

// End to end in the large table: the fake changes one service's slice, the watch delivers it over
// HTTP, the source rebuilds and publishes.
{
  const delays: number[] = [];
  for (let i = 0; i < 20; i++) {
    const before = table;
    const at = performance.now();
    fake.setEndpoints({ name: "svc-7", namespace: "ns-7" }, Array.from({ length: endpointsPerService }, (_, j) => ({ address: `10.0.7.${j + 1}`, pod: `svc-7-${j}`, ready: (i + j) % 3 !== 0 })));
    await until(() => table !== before, 10_000, "the update");
    delays.push(tableAt - at);
  }
  delays.sort((a, b) => a - b);
  rows.push(row(bench, "update_one_service_event_to_table_p50", quantile(delays, 0.5), "ms", null, "fake change to published table, watch over HTTP, 10k-service table"));
}
await source.stop();
await served.close();

// --- one service's update in a table of that size ------------------------------------------------------
// As the Kubernetes source does it: the changed slice goes into the TableInputStore, which names
// the service it touched, and the RoutingTableBuilder rebuilds that service only. Baselines: a full
// rebuild of the table (no previous), and the path before incremental updates: a full pass over
// every stored object reusing unchanged entries by version (what buildRoutingTable given the
// previous table did before the one builder) plus setTable.
{
  const services = source.objects("Service") as KubeService[];
  const slices = source.objects("EndpointSlice") as KubeEndpointSlice[];
  const store = new TableInputStore();
  const builder = new RoutingTableBuilder(store);
  for (const service of services) store.set("Service", service);
  for (const slice of slices) store.set("EndpointSlice", slice);
  let current = builder.update(store.takeChanges());
  const sliceAt = slices.findIndex((s) => s.metadata?.name === "svc-42-fake-8080");
  const original = slices[sliceAt]!;
  let version = 0;
  /** The same slice with one endpoint's readiness flipped and a new resourceVersion. */
  const changed = (): KubeEndpointSlice => {
    version++;
    const endpoints = original.endpoints!.map((e, i) => (i === 0 ? { ...e, conditions: { ready: version % 2 === 0 } } : e));
    return { ...original, metadata: { ...original.metadata, resourceVersion: `${9_000_000 + version}` }, endpoints };
  };
  const incremental = measureNs((n) => {
    for (let i = 0; i < n; i++) {
      store.set("EndpointSlice", changed());
      current = builder.update(store.takeChanges());
    }
    return current;
  }, { batch: 50, samples: 11, warmup: 2 });
  const full = measureNs((n) => {
    let last: RoutingTable | undefined;
    for (let i = 0; i < n; i++) {
      slices[sliceAt] = changed();
      last = buildRoutingTable({ services, endpointSlices: slices });
    }
    return last;
  }, { batch: 1, samples: 5, warmup: 1 });
  rows.push(row(bench, "update_one_service_rebuild", incremental / 1e6, "ms", full / 1e6, "RoutingTableBuilder.update of one changed slice; baseline: full rebuild of the table"));

  // Every service has its balancer made (as after traffic to each), so a publish that looked at
  // every service's state would show here.
  const router = new ServiceRouter({ core: createWasmCore(), transport: runtime.createTransport(), clientAddress: runtime.clientAddress });
  router.setTable(current);
  for (const key of current.services.keys()) router.explain({ host: `${key.slice(key.indexOf("/") + 1)}.${key.slice(0, key.indexOf("/"))}` });
  const publish = measureNs((n) => {
    for (let i = 0; i < n; i++) {
      store.set("EndpointSlice", changed());
      current = builder.update(store.takeChanges());
      router.setTable(current);
    }
    return current;
  }, { batch: 50, samples: 11, warmup: 2 });
  const before = measureNs((n) => {
    for (let i = 0; i < n; i++) {
      store.set("EndpointSlice", changed());
      current = builder.update(store.takeChanges(), { full: true });
      router.setTable(current);
    }
    return current;
  }, { batch: 1, samples: 5, warmup: 1 });
  rows.push(row(bench, "update_one_service_publish", publish / 1e6, "ms", before / 1e6, "event applied to table published: store write + RoutingTableBuilder.update + ServiceRouter.setTable, 10k services with balancers; baseline: a full pass reusing unchanged entries + setTable; target < 1 ms"));
  await router.close();
}

printRows(rows, json);
