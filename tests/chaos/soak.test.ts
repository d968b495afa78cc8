// The soak (issue 6): 1,000,000 requests through the router while endpoints churn through the fake
// API server (a pod added, one marked terminating, the terminating one removed, every CHURN_EVERY
// requests, on three services: Maglev on a header key with no-key requests mixed in, least-request,
// and ClientIP session affinity), then a smaller phase over loopback through the served router
// with real pods. Heap and RSS are taken after the warm-up and at the end, and must stay within
// bounds.
//
// The million go in process (router.app.fetch) to a transport that answers like a pod without
// sockets: that is the router, the balancers, the WASM tables, affinity and outlier stores,
// metrics and table swaps, where a leak would be. Every fourth churn step adds a flaky endpoint
// that refuses FLAKY_BURST connections in a row out of every FLAKY_EVERY tries it gets, so retries
// (a refused connection is safe to retry) and passive health (ejections) run too. The real-HTTP
// phase covers the runtime's transport and pools.
//
// Bounds: heap growth < 10 MB, RSS growth < 60 MB. Each churn step builds a new routing table and
// new WASM tables: a Maglev table alone is 65537 entries (256 KiB in WASM memory), so keeping one
// per step would add ~250 MB of RSS over the ~1000 steps; keeping one JS snapshot per step
// (three services, their endpoints, resolution caches, balancer state: tens of KB) would add
// tens of MB of heap. Either breaks the bounds; normal noise (JIT, allocator pages) does not.
//
// What this soak found and what was fixed: per-endpoint metric series were never dropped (one per
// pod ever seen with an error; now dropped after a scrape once the endpoint leaves,
// router/observability/endpoint-series.ts), and the fake API server's 10000-event history was
// counted as the router's growth (now limited here).
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, describe, expect, test } from "vitest";
import { FakeKubeApi, fakeKubeConfig, fakeService } from "../../adapters/kubernetes/fake-api/index.ts";
import { KubernetesSource } from "../../adapters/kubernetes/kubernetes-source.ts";
import { targetKey, UpstreamError, type UpstreamTransport } from "../../router/forward/upstream-transport.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { fastTiming } from "../kubernetes/support/sync-harness.ts";
import { startCountingPod, startLoad, startResilienceCluster, until, type CountingPod, type ResilienceCluster } from "../resilience/support/resilience-cluster.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
const TOTAL = Number(process.env["VIPR_SOAK_REQUESTS"] ?? 1_000_000);
// Requests before the start figures, not counted in TOTAL. V8 sizes its heap to the allocation
// rate: on Node 24 new space went 64 -> 128 MB within the first 100k requests and the committed
// old space kept rising to about 400k (measured with v8.getHeapSpaceStatistics and
// /proc/self/smaps: all of that RSS was V8's 256 KiB heap pages, flat from 400k to 1.9M requests).
// That is capacity, not a leak, and the start figures are taken after it.
const WARM_UP = 400_000;
const SCRAPE_EVERY = 10;
const CHURN_EVERY = 1_000;
const CONCURRENCY = 64;
const FLAKY_EVERY = 60;
const FLAKY_BURST = Number(process.env["VIPR_SOAK_FLAKY_BURST"] ?? 6);
const HTTP_REQUESTS = 20_000;
const HTTP_WARM_UP = 4_000; // before the start figures, not counted in HTTP_REQUESTS
const HEAP_BOUND = 10 * 1024 * 1024;
const RSS_BOUND = 60 * 1024 * 1024;
const MB = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

const SERVICES = [
  { name: "soak-maglev", options: { annotations: { "vipr.io/lb-policy": "maglev", "vipr.io/hash-key": "header:x-key" } } },
  { name: "soak-least", options: {} },
  { name: "soak-affinity", options: { sessionAffinity: "ClientIP" } },
] as const;
const KEYS = Array.from({ length: 2_000 }, (_, i) => `user-${i}`);
const CLIENTS = Array.from({ length: 500 }, (_, i) => `10.200.${i >> 8}.${i & 255}`);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** A forced GC where one can be had: vitest workers get no --expose-gc, but V8 takes the flag at
 * run time and a new context then has gc() (Node; Deno may refuse, then samples alone are used). */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  try {
    v8.setFlagsFromString("--expose-gc");
    const found: unknown = vm.runInNewContext("gc");
    return typeof found === "function" ? (found as () => void) : undefined;
  } catch {
    return undefined;
  }
}
const gc = findGc();

/** heapUsed and RSS, the minimum of several samples a little apart (GC when the runtime offers it). */
async function memory(): Promise<{ heap: number; rss: number; committed: number }> {
  const heaps: number[] = [];
  const rsss: number[] = [];
  const committed: number[] = [];
  for (let i = 0; i < 8; i++) {
    gc?.();
    // Some garbage and a pause, so that the collector has reasons and time to run.
    for (let j = 0; j < 2_000; j++) void new Array(64).fill(j);
    await sleep(50);
    const m = process.memoryUsage();
    heaps.push(m.heapUsed);
    rsss.push(m.rss);
    committed.push(m.heapTotal);
  }
  return { heap: Math.min(...heaps.slice(-5)), rss: Math.min(...rsss.slice(-5)), committed: Math.min(...committed.slice(-5)) };
}

/** A transport that answers like a pod, without sockets: 200 with `{"pod":..}`; a target whose
 * identity starts with "flaky-" refuses FLAKY_BURST connections in a row out of every FLAKY_EVERY
 * tries it gets (safe to retry; with the soak's 3 consecutive failures it gets ejected). */
function podlessTransport(): UpstreamTransport & { retained: number; refused: number } {
  // Tries per flaky target, by pool key; pruned with the pools (retain) so it holds live ones only.
  const tries = new Map<string, number>();
  const self = {
    retained: 0,
    refused: 0,
    forward(_c, target, call) {
      if (target.identity.startsWith("flaky-")) {
        const key = targetKey(target);
        const n = (tries.get(key) ?? 0) + 1;
        tries.set(key, n);
        if (n % FLAKY_EVERY < FLAKY_BURST) {
          self.refused++;
          return Promise.reject(new UpstreamError("connect", target, false, "connection refused (soak)"));
        }
      }
      const body = `{"pod":"${target.identity}"}`;
      const headers = call.rewriteResponseHeaders(["content-type", "application/json", "content-length", String(body.length)]);
      call.onResponse?.(200);
      const response = new Response(body, { status: 200, headers: pairs(headers) });
      queueMicrotask(() => call.onEnd?.({ ok: true, bytesOut: body.length }));
      return Promise.resolve(response);
    },
    retain(keys) {
      self.retained = keys.size;
      for (const key of tries.keys()) if (!keys.has(key)) tries.delete(key);
    },
    close: () => Promise.resolve(),
  } satisfies UpstreamTransport & { retained: number; refused: number };
  return self;
}

function pairs(list: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push([list[i]!, list[i + 1]!]);
  return out;
}

/** The router's metrics, also counting ejections over the whole run (the ejection series of an
 * endpoint that left the table are dropped, so the page alone would undercount them). */
class EjectionCountingMetrics extends RouterMetrics {
  ejections = 0;
  override endpointEjected(service: string, endpoint: string): void {
    this.ejections++;
    super.endpointEjected(service, endpoint);
  }
}

interface Churned {
  readonly pod: string;
  readonly address: string;
  terminating: boolean;
}

let closeAll: (() => Promise<void>) | undefined;
let cluster: ResilienceCluster | undefined;
const pods: CountingPod[] = [];
afterAll(async () => {
  await closeAll?.();
  await cluster?.close();
  await Promise.all(pods.map((pod) => pod.kill()));
});

describe(`soak on ${runtime}`, () => {
  test(`${TOTAL} requests with endpoint churn, then ${HTTP_REQUESTS} over loopback: heap and RSS stable`, async () => {
    const started = performance.now();
    // --- The in-process cluster: fake API, KubernetesSource, router with the podless transport.
    // The fake keeps a bounded history of changes for watches to resume from (10000 by default,
    // about 3 MB of event JSON here); a real API server compacts its history after 5 minutes. A
    // small history keeps the fake's own memory out of the router's figures; the watch never
    // falls that far behind.
    const fake = new FakeKubeApi({ bookmarkIntervalMs: 50, historyLimit: 100 });
    for (const { name, options } of SERVICES) fake.apply(fakeService(name, { ports: [{ port: 80, targetPort: 8080 }], selector: { app: name }, ...options }));
    const transport = podlessTransport();
    const metrics = new EjectionCountingMetrics();
    const router = new ServiceRouter({
      core: createWasmCore(),
      transport,
      clientAddress: (c) => c.req.header("x-client") ?? "",
      metrics,
      outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 50, maxEjectionMs: 200, maxEjectionPercent: 50 },
    });
    let tables = 0;
    const source = new KubernetesSource({
      kubeConfig: fakeKubeConfig(),
      fetch: (url, init) => fake.fetch(new Request(url, init)),
      onTable: (table) => {
        tables++;
        router.setTable(table);
      },
      timing: fastTiming,
      log: () => {},
    });
    closeAll = async () => {
      await source.stop();
      fake.close();
      await router.close();
    };
    source.start();

    // Endpoints per service: three serving, and at most one terminating.
    let serial = 0;
    const endpoints = new Map<string, Churned[]>();
    const fresh = (service: string, flaky: boolean): Churned => {
      const n = ++serial;
      return { pod: `${flaky ? "flaky-" : ""}${service}-${n}`, address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, terminating: false };
    };
    const publish = (service: string): void =>
      fake.setEndpoints(
        service,
        endpoints.get(service)!.map((e) => ({ address: e.address, port: 8080, pod: e.pod, ready: !e.terminating, serving: true, terminating: e.terminating })),
      );
    const inTable = (service: string, address: string | undefined): boolean =>
      router.table?.services.get(`default/${service}`)?.endpoints.some((e) => e.address === address) === true;
    for (const { name } of SERVICES) {
      endpoints.set(name, [fresh(name, false), fresh(name, false), fresh(name, false)]);
      publish(name);
    }
    await until(() => SERVICES.every(({ name }) => inTable(name, endpoints.get(name)![2]!.address)), "the first endpoints in the table", 10_000);

    // One churn step: the terminating endpoint leaves, the oldest turns terminating, a new one
    // (flaky every fourth step) joins; the step ends when the router's table has the new one. An
    // endpoint serves for three steps, so a service has at most one flaky endpoint at a time: a
    // fault vipr must hide completely (a request whose every try fails would be a real failure).
    let churnSteps = 0;
    const churn = async (): Promise<void> => {
      churnSteps++;
      let last: { service: string; address: string } | undefined;
      for (const { name } of SERVICES) {
        const list = endpoints.get(name)!.filter((e) => !e.terminating);
        list[0]!.terminating = true;
        const added = fresh(name, churnSteps % 4 === 0);
        list.push(added);
        endpoints.set(name, list);
        publish(name);
        last = { service: name, address: added.address };
      }
      await until(() => inTable(last!.service, last!.address), `churn step ${churnSteps} in the table`, 10_000);
      // A scrape now and then, as Prometheus would: series of endpoints that left are dropped
      // once a scrape has reported them, which keeps the metrics' own memory bounded.
      if (churnSteps % SCRAPE_EVERY === 0) await metrics.render();
    };

    let sent = 0;
    let failed = 0;
    const failures = new Map<string, number>();
    const one = async (i: number): Promise<void> => {
      const service = SERVICES[i % 3]!.name;
      const headers: Record<string, string> = { "x-client": CLIENTS[i % CLIENTS.length]!, "x-request-id": `soak-${i}` };
      // Maglev: two requests in three carry a key, the third none (least-request fallback).
      if (service === "soak-maglev" && i % 9 !== 0) headers["x-key"] = KEYS[(i * 7919) % KEYS.length]!;
      const method = i % 10 === 7 ? "POST" : "GET";
      const response = await router.app.fetch(new Request(`http://${service}/orders?id=${i}`, { method, headers, ...(method === "POST" ? { body: `{"order":${i}}` } : {}) }));
      const text = await response.text();
      sent++;
      if (response.status !== 200 || !text.startsWith('{"pod":')) {
        failed++;
        // Grouped by status, error code and, for a failed try, why it was not retried.
        let code = `${response.status} ${text.slice(0, 80)}`;
        try {
          const { error } = JSON.parse(text) as { error: { code: string; notRetried?: string; tries?: number } };
          code = `${response.status} ${error.code} after ${error.tries ?? "?"} tries, not retried: ${error.notRetried ?? "-"}`;
        } catch {
          // not the router's JSON: keep the raw start
        }
        failures.set(code, (failures.get(code) ?? 0) + 1);
      }
    };
    const trace: string[] = [];
    const run = async (from: number, to: number): Promise<void> => {
      for (let batch = from; batch < to; batch += CHURN_EVERY) {
        if (batch % 100_000 === 0) {
          // Cheap samples along the way (no GC): the shape of the curve, printed with the result.
          const m = process.memoryUsage();
          trace.push(`${batch / 1000}k ${MB(m.rss)}/${MB(m.heapUsed)}`);
        }
        const end = Math.min(to, batch + CHURN_EVERY);
        let next = batch;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < end) await one(next++);
          }),
        );
        await churn();
      }
    };

    // --- Real HTTP: the served router, the runtime's transport, loopback pods replaced one by one
    // every 1000 requests. Its first HTTP_WARM_UP requests run before the start figures, so that
    // the one-time costs of sockets, pools and loaded code are not counted as growth.
    cluster = await startResilienceCluster({ annotations: { "vipr.io/lb-policy": "maglev", "vipr.io/hash-key": "header:x-key" } });
    const http = cluster;
    const live: CountingPod[] = [];
    for (let k = 0; k < 3; k++) {
      const pod = await startCountingPod(`http-${k}`);
      pods.push(pod);
      live.push(pod);
    }
    http.publish(live.map((pod) => ({ pod })));
    await until(() => live.every((pod) => http.inTable(pod)), "three pods in the table");
    let httpChurn = 0;
    let httpSent = 0;
    const httpFailed: unknown[] = [];
    const runHttp = async (count: number, prefix: string): Promise<void> => {
      const load = startLoad({ port: http.port, loops: 8, prefix, maxRequests: count, request: (i) => ({ method: i % 10 === 7 ? "POST" : "GET", ...(i % 3 === 0 ? {} : { key: KEYS[i % KEYS.length]! }) }) });
      let done = 0;
      while (done + 1_000 < count) {
        done += 1_000;
        await until(() => load.results.length >= done, "more loopback responses", 30_000);
        // Rolling replacement: a new pod joins, the oldest drains, leaves the table, then exits.
        httpChurn++;
        const added = await startCountingPod(`http-${2 + httpChurn}`);
        pods.push(added);
        const old = live.shift()!;
        live.push(added);
        http.publish([...live.map((pod) => ({ pod })), { pod: old, terminating: true }]);
        await until(() => http.inTable(added), "the new pod in the table");
        http.publish(live.map((pod) => ({ pod })));
        await until(() => !http.inTable(old), "the old pod out of the table");
        // As a pod whose preStop waits for its proxies to drain: it exits once vipr has let go of
        // its connections. vipr closes a pool that left the table after its requests in flight end
        // (router/dialable-targets.ts); closing the pod before that races a request vipr has
        // written into a keep-alive connection the pod has not read yet: the pod's server takes
        // that connection for idle and resets it, and a POST cannot be retried (seen once in four
        // CI runs on Deno). Within 5 s, or the drain is broken.
        await until(() => old.openConnections === 0, "vipr letting go of the old pod's connections");
        await old.close();
      }
      await until(() => load.results.length >= count, "the last loopback responses", 30_000);
      const results = await load.stop();
      httpSent += results.length;
      httpFailed.push(...results.filter((r) => r.status !== 200));
    };

    await runHttp(HTTP_WARM_UP, "soak-http-warm");
    await run(0, WARM_UP);
    const warmUpSent = sent;
    const start = await memory();
    await run(WARM_UP, WARM_UP + TOTAL);
    const afterInProcess = await memory();
    const inProcessSeconds = (performance.now() - started) / 1000;
    const httpWarmUpSent = httpSent;
    await runHttp(HTTP_REQUESTS, "soak-http");
    const httpRetried = [...http.tries.values()].filter((n) => n > 1).length;

    const end = await memory();

    const retried = transport.refused;
    const endpointSeries = (await metrics.render()).body.split("\n").filter((line) => line.startsWith("vipr_upstream_errors_total{")).length;
    console.log(
      [
        `soak on ${runtime} (${((performance.now() - started) / 1000).toFixed(0)} s, in process ${inProcessSeconds.toFixed(0)} s):`,
        `  in process: sent ${sent} (${warmUpSent} before the start figures), failed ${failed}, churn steps ${churnSteps} (${tables} tables published), refused tries retried ${retried}, endpoints ejected ${metrics.ejections}, retained pools at the end ${transport.retained}`,
        `  loopback:   sent ${httpSent} (${httpWarmUpSent} before the start figures), failed ${httpFailed.length}, pods replaced ${httpChurn}, retried ${httpRetried}`,
        `  heap: start ${MB(start.heap)} MB, after in-process ${MB(afterInProcess.heap)} MB, end ${MB(end.heap)} MB (growth ${MB(end.heap - start.heap)} MB, bound ${MB(HEAP_BOUND)} MB)`,
        `  rss:  start ${MB(start.rss)} MB, after in-process ${MB(afterInProcess.rss)} MB, end ${MB(end.rss)} MB (growth ${MB(end.rss - start.rss)} MB, bound ${MB(RSS_BOUND)} MB)`,
        `  V8 heap committed (heapTotal): start ${MB(start.committed)} MB, end ${MB(end.committed)} MB`,
        `  gc: ${gc === undefined ? "not exposed; minimum of the last samples" : "forced"}; rss/heap MB along the way (no GC): ${trace.join(", ")}`,
        `  upstream error series at the end: ${endpointSeries} (endpoints that left are dropped after a scrape)`,
      ].join("\n"),
    );
    if (failures.size > 0) console.log("in-process failures:", Object.fromEntries(failures));
    expect(sent - warmUpSent).toBe(TOTAL);
    expect(failed).toBe(0);
    expect(metrics.ejections).toBeGreaterThan(0);
    expect(httpSent - httpWarmUpSent).toBe(HTTP_REQUESTS);
    expect(httpFailed).toEqual([]);
    expect(churnSteps).toBe((WARM_UP + TOTAL) / CHURN_EVERY);
    // Three ready endpoints per service (a terminating one keeps no pool while others are ready:
    // router/dialable-targets.ts): the transport keeps no more pools.
    expect(transport.retained).toBeLessThanOrEqual(9);
    // Every request gave its concurrency slot back (router/concurrency-limits.ts).
    expect(router.inFlight).toBe(0);
    // Every fourth step adds a flaky endpoint to each service, ~1000 over the run; only those still
    // in the table or gone since the last two scrapes (20 steps) may keep a series.
    expect(endpointSeries).toBeLessThan(3 * (4 + 2 * SCRAPE_EVERY));
    expect(end.heap - start.heap).toBeLessThan(HEAP_BOUND);
    expect(end.rss - start.rss).toBeLessThan(RSS_BOUND);
  });
});
