// `vipr serve --workers 2` as a process of the runtime under test (Node, or Deno: its workers are
// forked Deno processes): the table reaches every worker, a killed worker comes back without
// failing the other worker's connections, and SIGTERM under load drains every worker with no
// failed request. Each worker answers for itself: x-vipr-worker on traffic, /debug/workers and
// /debug/explain?worker=N on the admin listener.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";
import { get, killAll, rawRequest, runVipr, startVipr, type ViprProcess } from "../cli/vipr-process.ts";
import { parsePrometheusText, seriesKey } from "../observability/prometheus-text.ts";
import { BASE_GATEWAY } from "../gateway-api/gateway-yaml.ts";
import { keepAliveClient, waitUntil, type KeepAliveClient } from "./support/keep-alive-client.ts";

let temp: string;
let pod: Pod;
beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "vipr-workers-"));
  pod = await startPod("workers-pod");
});
afterAll(async () => {
  await killAll();
  await pod.close();
  await rm(temp, { recursive: true, force: true });
});

interface WorkerReport {
  readonly index: number;
  readonly pid: number;
  readonly listening: boolean;
  readonly restarts: number;
  readonly generation: number;
  readonly services: number;
}

const objectsFor = (services: readonly string[]): string =>
  services.flatMap((name) => [{ ...seedService(), metadata: { name, namespace: "default", resourceVersion: "1" } }, ...slicesFor(name, [{ pod: pod.name, port: pod.port }])]).map((o) => JSON.stringify(o)).join("\n---\n");

async function serveWorkers(name: string, flags: readonly string[] = [], extraYaml = ""): Promise<{ vipr: ViprProcess; port: number; adminPort: number; manifest: string }> {
  const manifest = join(temp, `${name}.yaml`);
  await writeFile(manifest, objectsFor(["simpleservice"]) + extraYaml);
  const vipr = startVipr(["serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--workers", "2", ...flags]);
  const port = Number((await vipr.waitFor(/^vipr: 2 workers on http:\/\/127\.0\.0\.1:(\d+) /m, "stderr", 60_000))[1]);
  const adminPort = Number((await vipr.waitFor(/^vipr: admin on http:\/\/127\.0\.0\.1:(\d+) /m, "stderr", 60_000))[1]);
  await waitUntil(async () => (await get(adminPort, "/readyz")).status === 200, "vipr --workers 2 never became ready", 60_000, 100);
  return { vipr, port, adminPort, manifest };
}

async function workersOf(adminPort: number): Promise<WorkerReport[]> {
  return (JSON.parse((await get(adminPort, "/debug/workers")).body) as { workers: WorkerReport[] }).workers;
}

/** New connections until every worker has answered for `host` (the kernel spreads connections over
 * the listeners by a hash of the addresses, so a few dozen reach both). */
async function workersAnswering(port: number, host: string, sent = { count: 0 }): Promise<Map<string, number>> {
  const statuses = new Map<string, number>();
  for (let i = 0; i < 400 && statuses.size < 2; i++, sent.count++) {
    const response = await rawRequest(port, "GET /info HTTP/1.1", host);
    statuses.set(/\r\nx-vipr-worker: (\d+)/i.exec(response.head)?.[1] ?? "none", response.status);
  }
  return statuses;
}

/** Keep-alive clients until each worker holds at least `each` of their connections. */
async function clientsOnBothWorkers(port: number, each: number): Promise<KeepAliveClient[]> {
  const clients: KeepAliveClient[] = [];
  const count = (worker: string): number => clients.filter((c) => c.record.workers[0] === worker).length;
  while (count("0") < each || count("1") < each) {
    if (clients.length > 60) throw new Error(`60 connections and still not ${each} on each worker: ${clients.map((c) => c.record.workers[0]).join(",")}`);
    const client = keepAliveClient(clients.length, port, "simpleservice");
    clients.push(client);
    expect(await client.once()).toMatch(/^[01]$/);
  }
  return clients;
}

describe("vipr serve --workers 2", () => {
  test("a bad --workers value stops vipr with exit 2 and the reason", { timeout: 60_000 }, async () => {
    const { code, stderr } = await runVipr(["serve", "--source", "file:examples/simpleservice.yaml", "--workers", "0"]);
    expect(code).toBe(2);
    expect(stderr).toContain('vipr: --workers "0": expected auto or a whole number from 1 to 256');
  });

  test("a port another process holds stops vipr with exit 1 and the reason, as without workers", { timeout: 60_000 }, async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const { code, stderr } = await runVipr(["serve", "--source", "file:examples/simpleservice.yaml", "--listen", `127.0.0.1:${port}`, "--admin", "off", "--workers", "2"]);
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`^vipr: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`, "m"));
    } finally {
      holder.close();
    }
  });

  test("a change in the source reaches every worker: each one routes the new service and explains it alike", { timeout: 120_000 }, async () => {
    const { vipr, port, adminPort, manifest } = await serveWorkers("change");
    expect((await workersOf(adminPort)).map((w) => [w.index, w.listening, w.generation])).toEqual([
      [0, true, 1],
      [1, true, 1],
    ]);
    expect((await rawRequest(port, "GET /info HTTP/1.1", "second")).status).toBe(404);

    await writeFile(manifest, objectsFor(["simpleservice", "second"]));
    await vipr.waitFor(/^vipr: table 2 from /m, "stderr", 30_000);
    await waitUntil(async () => (await workersOf(adminPort)).every((w) => w.generation === 2), "not every worker applied table 2");
    const sent = { count: 0 };
    const answers = await workersAnswering(port, "second", sent);
    expect(Object.fromEntries(answers)).toEqual({ "0": 200, "1": 200 });
    // /metrics counts the requests of both workers, and the table once.
    const metrics = parsePrometheusText((await get(adminPort, "/metrics")).body).samples;
    expect(metrics.get(seriesKey("vipr_requests_total", { service: "default/second", code: "200" }))).toBe(sent.count);
    expect(metrics.get("vipr_table_services")).toBe(2);
    const explained = await Promise.all([0, 1].map(async (worker) => JSON.parse((await get(adminPort, `/debug/explain?host=second&key=user-7&worker=${worker}`)).body) as Record<string, unknown>));
    expect(explained[0]).toMatchObject({ found: true, resolvedAs: { service: "default/second" } });
    expect(explained[1]).toEqual(explained[0]);
    const table = JSON.parse((await get(adminPort, "/debug/table")).body) as { generation: number; serviceCount: number };
    expect(table).toMatchObject({ generation: 2, serviceCount: 2 });
    const badWorker = await get(adminPort, "/debug/explain?host=second&worker=x");
    expect(badWorker.status).toBe(400);
  });

  test("a table of 1,201 services reaches every worker in parts, and so does a change of 700 services with 100 removed", { timeout: 120_000 }, async () => {
    // Publishes of more than 500 entries travel in parts (table-changes.ts, splitTableMessage): the
    // first table in 3, the change (700 rebuilt entries and 100 removed keys) in 2.
    const second = await startPod("workers-pod-2");
    try {
      const name = (i: number): string => `svc-${String(i).padStart(4, "0")}`;
      const many = (indices: readonly number[], to: Pod): string =>
        indices.flatMap((i) => [{ ...seedService(), metadata: { name: name(i), namespace: "default", resourceVersion: "1" } }, ...slicesFor(name(i), [{ pod: to.name, port: to.port }], to === pod ? "1" : "2")]).map((o) => `\n---\n${JSON.stringify(o)}`).join("");
      const all = Array.from({ length: 1200 }, (_, i) => i);
      const { vipr, port, adminPort, manifest } = await serveWorkers("parts", [], many(all, pod));
      expect((await workersOf(adminPort)).map((w) => [w.index, w.listening, w.generation, w.services])).toEqual([
        [0, true, 1, 1201],
        [1, true, 1, 1201],
      ]);
      const endpointOf = async (host: string, worker: number): Promise<string | undefined> => {
        const answer = JSON.parse((await get(adminPort, `/debug/explain?host=${host}&worker=${worker}`)).body) as { found: boolean; eligible?: { endpoints: { identity: string }[] } };
        return answer.found ? answer.eligible?.endpoints.map((e) => e.identity).join(",") : "not found";
      };
      // An entry of each part, on each worker.
      for (const i of [0, 600, 1199]) for (const worker of [0, 1]) expect(await endpointOf(name(i), worker), `${name(i)} on worker ${worker}`).toBe(pod.name);
      expect(Object.fromEntries(await workersAnswering(port, name(1199)))).toEqual({ "0": 200, "1": 200 });

      // svc-0000..0699 move to the second pod, svc-1100..1199 go.
      await writeFile(manifest, objectsFor(["simpleservice"]) + many(all.slice(0, 700), second) + many(all.slice(700, 1100), pod));
      await vipr.waitFor(/^vipr: table 2 from /m, "stderr", 30_000);
      await waitUntil(async () => (await workersOf(adminPort)).every((w) => w.generation === 2), "not every worker applied table 2");
      expect((await workersOf(adminPort)).map((w) => w.services)).toEqual([1101, 1101]);
      for (const worker of [0, 1]) {
        for (const i of [0, 699]) expect(await endpointOf(name(i), worker), `${name(i)} on worker ${worker}`).toBe(second.name);
        for (const i of [700, 1099]) expect(await endpointOf(name(i), worker), `${name(i)} on worker ${worker}`).toBe(pod.name);
        expect(await endpointOf(name(1150), worker), `${name(1150)} on worker ${worker}`).toBe("not found");
      }
      expect(Object.fromEntries(await workersAnswering(port, name(1150)))).toEqual({ "0": 404, "1": 404 });
      const bodies = new Set<string>();
      for (let i = 0; i < 40 && bodies.size < 2; i++) {
        const response = await rawRequest(port, "GET /info HTTP/1.1", name(699));
        bodies.add(`${/\r\nx-vipr-worker: (\d+)/i.exec(response.head)?.[1]} ${(JSON.parse(response.body) as { pod: string }).pod}`);
      }
      expect([...bodies].sort()).toEqual([`0 ${second.name}`, `1 ${second.name}`]);
    } finally {
      await second.close();
    }
  });

  test("--no-metrics: /metrics is the page a single vipr serves then, not an empty aggregation", { timeout: 60_000 }, async () => {
    const { adminPort } = await serveWorkers("no-metrics", ["--no-metrics"]);
    const page = await get(adminPort, "/metrics");
    expect(page.status).toBe(200);
    // The same text as without workers (tests/admin/admin-app.test.ts, NoopMetrics).
    expect(page.body).toBe("# vipr metrics are off by configuration\n");
  });

  test("Gateway API objects from the source reach every worker, and a restarted worker gets them before it listens", { timeout: 120_000 }, async () => {
    // Without them a worker answers 404 for shop.example.com, which names no service.
    const gatewayApi = `
---${BASE_GATEWAY}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop, namespace: default }
spec:
  parentRefs: [{ name: all-namespaces, namespace: gateway-conformance-infra }]
  hostnames: [shop.example.com]
  rules: [{ backendRefs: [{ name: simpleservice, port: 80 }] }]
`;
    const { vipr, port, adminPort } = await serveWorkers("gateway-api", [], gatewayApi);
    expect(Object.fromEntries(await workersAnswering(port, "shop.example.com"))).toEqual({ "0": 200, "1": 200 });
    const victim = (await workersOf(adminPort))[1]!;
    process.kill(victim.pid, "SIGKILL");
    await vipr.waitFor(new RegExp(`^vipr: worker 1 \\(pid ${victim.pid}\\) exited`, "m"), "stderr", 30_000);
    await waitUntil(async () => (await get(adminPort, "/readyz")).status === 200 && (await workersOf(adminPort))[1]!.pid !== victim.pid, "worker 1 did not come back", 60_000, 100);
    expect(Object.fromEntries(await workersAnswering(port, "shop.example.com"))).toEqual({ "0": 200, "1": 200 });
    vipr.signal("SIGTERM");
    expect((await vipr.exited).code).toBe(0);
  });

  test("a worker killed under load: no failed GET on the other worker's connections; it is restarted, logged, and takes traffic again", { timeout: 120_000 }, async () => {
    const { vipr, port, adminPort } = await serveWorkers("kill");
    const clients = await clientsOnBothWorkers(port, 2);
    const loops = clients.map((client) => client.loop());
    await waitUntil(() => clients.every((c) => c.record.workers.length >= 3), "the clients did not get going");
    const before = await workersOf(adminPort);
    const victim = before[0]!;
    process.kill(victim.pid, "SIGKILL");
    await vipr.waitFor(new RegExp(`^vipr: worker 0 \\(pid ${victim.pid}\\) exited \\(SIGKILL\\) after \\d+ s; restarting in 100 ms \\(restart 1\\)$`, "m"), "stderr", 30_000);
    await waitUntil(async () => (await get(adminPort, "/readyz")).status === 200 && (await workersOf(adminPort))[0]!.pid !== victim.pid, "worker 0 did not come back", 60_000, 100);
    const survivors = clients.filter((c) => c.record.workers[0] === "1");
    for (const client of survivors) client.record.sinceMark = 0;
    await waitUntil(() => survivors.every((c) => c.record.sinceMark >= 3), "the surviving worker's clients stopped getting answers");
    for (const client of clients) client.stop();
    await Promise.all(loops);
    for (const client of clients) client.close();

    const after = await workersOf(adminPort);
    console.log(`worker killed: ${clients.length} connections, ${survivors.length} on the surviving worker (${survivors.reduce((n, c) => n + c.record.workers.length, 0)} answers, ${survivors.reduce((n, c) => n + c.record.failures.length, 0)} failed); on the killed one: ${clients.filter((c) => c.record.workers[0] === "0").map((c) => c.record.failures.join("; ") || "no failure").join(" | ")}`);
    for (const client of survivors) {
      expect(client.record.failures).toEqual([]);
      expect(new Set(client.record.workers)).toEqual(new Set(["1"]));
      expect(new Set(client.record.statuses)).toEqual(new Set([200]));
    }
    expect(after[0]).toMatchObject({ index: 0, listening: true, restarts: 1, generation: 1 });
    expect(after[1]).toMatchObject({ index: 1, pid: before[1]!.pid, restarts: 0 });
    expect(vipr.stderr()).toMatch(/^vipr: worker 0 \(pid \d+\) listening with table generation 1$/m);
    expect(Object.fromEntries(await workersAnswering(port, "simpleservice"))).toEqual({ "0": 200, "1": 200 });
  });

  test("SIGTERM under load: every worker drains, zero failed requests, exit 0", { timeout: 120_000 }, async () => {
    const { vipr, port, adminPort } = await serveWorkers("drain", ["--drain-delay", "4000", "--shutdown-grace", "10000"]);
    const clients = await clientsOnBothWorkers(port, 2);
    const loops = clients.map((client) => client.loop());
    // Requests in flight on both workers when their listeners close: they finish within the grace.
    const slowClients = await clientsOnBothWorkers(port, 1);
    await waitUntil(() => clients.every((c) => c.record.workers.length >= 3), "the clients did not get going");
    const slowPath = "/delay?ms=5000";
    const slow = slowClients.map((client) => ({ worker: client.record.workers[0], request: client.once(slowPath) }));
    await waitUntil(() => pod.hits.filter((path) => path === "/delay").length >= slow.length, "the slow requests did not reach the pod");

    vipr.signal("SIGTERM");
    // The load balancer's part: it stops sending new requests once /readyz says 503 (within the
    // drain delay); requests sent until then must be answered.
    await waitUntil(async () => (await get(adminPort, "/readyz")).status === 503, "/readyz did not turn 503");
    for (const client of clients) client.stop();
    await Promise.all(loops);
    const slowWorkers = await Promise.all(slow.map((s) => s.request));
    const { code } = await vipr.exited;
    for (const client of [...clients, ...slowClients]) client.close();

    const answered = clients.reduce((n, c) => n + c.record.workers.length, 0);
    const failed = clients.flatMap((c) => c.record.failures);
    console.log(`SIGTERM with 2 workers under load: ${answered} answers over ${clients.length} connections, ${failed.length} failed; slow requests in flight answered by workers ${slowWorkers.join(",")}; exit ${code}`);
    expect(failed).toEqual([]);
    expect(new Set(clients.flatMap((c) => c.record.statuses))).toEqual(new Set([200]));
    expect(slowWorkers.sort()).toEqual(slow.map((s) => s.worker).sort());
    expect(new Set(slowWorkers)).toEqual(new Set(["0", "1"]));
    expect(code).toBe(0);
    expect(vipr.stderr()).toMatch(/^vipr: drained, exiting$/m);
  });
});
