// npm run bench:sync -- --workers N [--json] [--services S] [--changes C]
// `vipr serve --workers N` (adapters/workers/supervisor.ts) fed by the Kubernetes source from the
// fake API server on loopback, with S services (10000 by default, 10 endpoints each): from the
// fake applying an EndpointSlice change to EVERY worker sending traffic to the new endpoint
// (requests back to back on one keep-alive connection per worker; target p99 < 50 ms), and to
// every worker having applied the change (the table's changes over IPC); the first table to all
// workers; each worker's resident memory at that size. Runs on Node and on Deno (the workers are
// processes of the runtime running this). 200 changes by default: of 50, the p99 is the slowest
// one, a single scheduling delay on a shared machine.
import http from "node:http";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { FakeKubeApi, fakeService, serveFakeKubeApi } from "../../adapters/kubernetes/fake-api/index.ts";
import { fakeKubeConfig } from "../../adapters/kubernetes/fake-api/fake-kube-config.ts";
import { KubernetesSource } from "../../adapters/kubernetes/kubernetes-source.ts";
import type { HttpBindings } from "@hono/node-server";
import { loadRuntimeAdapter } from "../../adapters/runtime-adapter.ts";
import { startSupervisor } from "../../adapters/workers/supervisor.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { WORKER_HEADER } from "../../adapters/workers/worker-protocol.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { startPod } from "../../tests/support/seed-backends.ts";
import { printRows, row, type BenchRow } from "../bench-report.ts";

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function rssMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

/** One keep-alive connection; `ask` answers the pod and the worker that served. */
function connection(port: number): { ask(): Promise<{ pod: string; worker: string }>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    ask: () =>
      new Promise((resolve, reject) => {
        const request = http.get({ host: "127.0.0.1", port, path: "/info", headers: { host: "simpleservice" }, agent }, (response) => {
          let body = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (body += chunk));
          response.on("end", () => resolve({ pod: response.statusCode === 200 ? (JSON.parse(body) as { pod: string }).pod : `<${response.statusCode}>`, worker: String(response.headers[WORKER_HEADER]) }));
        });
        request.on("error", reject);
      }),
    close: () => agent.destroy(),
  };
}

export async function runWorkersSyncBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { json: { type: "boolean", default: false }, workers: { type: "string", default: "2" }, services: { type: "string", default: "10000" }, changes: { type: "string", default: "200" } },
  });
  const workers = Number(values.workers);
  const serviceCount = Number(values.services);
  const changeCount = Number(values.changes);
  const json = values.json === true;
  const log = (line: string): void => void (json ? undefined : console.error(line));
  const bench = `sync-workers-${"Deno" in globalThis ? "deno" : "node"}`;
  const rows: BenchRow[] = [];

  const pods = await Promise.all(["sise-a", "sise-b"].map((name) => startPod(name)));
  const fake = new FakeKubeApi({ bookmarkIntervalMs: 60_000 });
  log(`creating ${serviceCount} services with ${serviceCount * 10} endpoints in the fake...`);
  for (let i = 0; i < serviceCount; i++) {
    const namespace = `ns-${i % 10}`;
    const name = `svc-${i}`;
    fake.apply(fakeService(name, { namespace, ports: [{ name: "http", port: 80, targetPort: 8080 }] }));
    fake.setEndpoints({ name, namespace }, Array.from({ length: 10 }, (_, j) => ({ address: `10.${(i >> 8) & 255}.${i & 255}.${j + 1}`, pod: `${name}-${j}` })));
  }
  fake.apply(fakeService("simpleservice", { ports: [{ port: 80, targetPort: 9876 }] }));
  const route = (index: number): void => fake.setEndpoints("simpleservice", [{ address: "127.0.0.1", port: pods[index]!.port, pod: pods[index]!.name }]);
  route(0);
  const served = await serveFakeKubeApi(fake);

  const runtime = await loadRuntimeAdapter();

  /**
   * One vipr fed by a KubernetesSource from the fake: change-to-traffic on every one of its
   * listeners' workers (`workerCount` connections, one per worker). The baseline is one process.
   */
  const measure = async (vipr: { port: number; workerCount: number; publish(table: RoutingTable): void; applied(generation: number): Promise<void>; close(): Promise<void> }) => {
    let table: RoutingTable | undefined;
    let publishedAt = 0;
    const started = performance.now();
    const source = new KubernetesSource({
      kubeConfig: fakeKubeConfig(served.url),
      onTable: (next) => {
        publishedAt = performance.now();
        table = next;
        vipr.publish(next);
      },
    });
    source.start();
    while (table === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    const firstPublished = performance.now();
    await vipr.applied(table.generation);
    const allApplied = performance.now();
    // One keep-alive connection on each worker (the kernel picks the worker of a new connection).
    const byWorker = new Map<string, ReturnType<typeof connection>>();
    for (let i = 0; byWorker.size < vipr.workerCount; i++) {
      if (i > 200) throw new Error(`200 connections reached only workers ${[...byWorker.keys()].join(",")}`);
      const c = connection(vipr.port);
      const { worker } = await c.ask();
      if (byWorker.has(worker)) c.close();
      else byWorker.set(worker, c);
    }
    const connections = [...byWorker.values()];
    for (const c of connections) while ((await c.ask()).pod !== pods[0]!.name);
    const toTraffic: number[] = [];
    const toApplied: number[] = [];
    const toTable: number[] = [];
    for (let i = 1; i <= changeCount; i++) {
      const target = pods[i % 2]!.name;
      await new Promise((resolve) => setTimeout(resolve, 5));
      const before = table.generation;
      const start = performance.now();
      route(i % 2);
      let appliedAt = 0;
      const waitApplied = (async () => {
        while (table!.generation === before) await new Promise((resolve) => setTimeout(resolve, 0));
        await vipr.applied(table!.generation);
        appliedAt = performance.now();
      })();
      // Every worker's connection, back to back, until each answers from the new pod.
      await Promise.all(
        connections.map(async (c) => {
          while ((await c.ask()).pod !== target);
        }),
      );
      toTraffic.push(performance.now() - start);
      await waitApplied;
      toApplied.push(appliedAt - start);
      toTable.push(publishedAt - start);
    }
    for (const list of [toTraffic, toApplied, toTable]) list.sort((a, b) => a - b);
    for (const c of connections) c.close();
    await source.stop();
    await vipr.close();
    return { firstToAll: allApplied - firstPublished, initial: allApplied - started, toTraffic, toApplied, toTable, services: table.services.size, endpoints: table.endpointCount };
  };

  log("baseline: one process (no workers)...");
  const router = new ServiceRouter({ core: createWasmCore(), transport: runtime.createTransport(), clientAddress: runtime.clientAddress, requestHeaders: runtime.requestHeaders });
  const single = await runtime.serve({ fetch: (request: Request, env: HttpBindings) => (env.outgoing?.setHeader(WORKER_HEADER, "single"), router.app.fetch(request, env)) });
  const one = await measure({ port: single.port, workerCount: 1, publish: (table) => router.setTable(table), applied: async () => {}, close: async () => (await single.close(), await router.close()) });

  log(`${workers} workers...`);
  const supervisor = await startSupervisor({ workers, listen: { hostname: "127.0.0.1", port: 0 }, admin: null, worker: { metrics: true }, log: (line) => log(`vipr: ${line}`) });
  let rss: number[] = [];
  const many = await measure({
    port: supervisor.port,
    workerCount: workers,
    publish: (table) => supervisor.setTable(table),
    applied: (generation) => supervisor.applied(generation),
    close: async () => {
      rss = (await supervisor.workers()).map((status) => rssMiB(status.pid));
      await supervisor.close();
    },
  });

  const note = `${changeCount} slice changes, ${many.services} services, ${many.endpoints} endpoints; baseline: one process`;
  rows.push(row(bench, "change_to_traffic_on_every_worker_p50", quantile(many.toTraffic, 0.5), "ms", quantile(one.toTraffic, 0.5), note));
  rows.push(row(bench, "change_to_traffic_on_every_worker_p99", quantile(many.toTraffic, 0.99), "ms", quantile(one.toTraffic, 0.99), "target < 50 ms"));
  rows.push(row(bench, "change_to_applied_on_every_worker_p50", quantile(many.toApplied, 0.5), "ms", null, "the table's changes over IPC, applied by every worker"));
  rows.push(row(bench, "change_to_applied_on_every_worker_p99", quantile(many.toApplied, 0.99), "ms", null));
  rows.push(row(bench, "change_to_table_p99", quantile(many.toTable, 0.99), "ms", quantile(one.toTable, 0.99), "the source's publish in the supervisor; baseline: in the one process"));
  rows.push(row(bench, "first_table_to_every_worker", many.firstToAll, "ms", one.firstToAll, `${workers} workers: the whole table over IPC, in parts`));
  rows.push(row(bench, "initial_sync_to_every_worker", many.initial, "ms", one.initial, "from the first list to every worker routing"));
  rows.push(row(bench, "worker_rss", rss.reduce((a, b) => a + b, 0) / rss.length, "MiB", null, `each worker's resident memory with ${many.services} services (mean of ${rss.length})`));
  await served.close();
  await Promise.all(pods.map((pod) => pod.close()));
  printRows(rows, json);
}
