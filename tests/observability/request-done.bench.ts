// The cost of one RouterMetrics.requestDone() call, the only metrics call on every request, beside
// metrics off and beside prom-client's own Counter and Histogram through cached labels() children.
// Not a vitest file (timings do not belong in pass/fail tests); run it on either runtime:
//   node tests/observability/request-done.bench.ts
//   deno run -A tests/observability/request-done.bench.ts

import { Counter, Histogram, Registry } from "prom-client";
import { latencyBucketsSeconds, NoopMetrics, RouterMetrics, type MetricsRecorder } from "../../router/observability/router-metrics.ts";

const calls = 2_000_000;
// 20 services, mostly 200s with some 404/503, latencies spread over the first buckets: a lookup
// pattern like real traffic rather than one hot series.
const services = Array.from({ length: 20 }, (_, i) => `default/service-${i}`);
const statuses = [200, 200, 200, 200, 200, 200, 200, 404, 200, 503];
const seconds = Array.from({ length: 64 }, (_, i) => 0.0003 * (1 + (i % 17)) * (1 + (i % 3)));

function measure(name: string, requestDone: (service: string, status: number, seconds: number) => void): void {
  const run = (n: number) => {
    for (let i = 0; i < n; i++) requestDone(services[i % 20]!, statuses[i % 10]!, seconds[i & 63]!);
  };
  run(calls / 10); // warm-up: let the JIT compile the call
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    run(calls);
    best = Math.min(best, ((performance.now() - start) * 1e6) / calls);
  }
  console.log(`${name.padEnd(44)} ${best.toFixed(1).padStart(7)} ns/call (best of 5 x ${calls})`);
}

const runtime = typeof (globalThis as { Deno?: unknown }).Deno === "object" ? "Deno" : `Node ${process.version}`;
console.log(`requestDone on ${runtime}`);

const on: MetricsRecorder = new RouterMetrics();
measure("RouterMetrics.requestDone", (s, c, t) => on.requestDone(s, c, t));
const off: MetricsRecorder = new NoopMetrics();
measure("NoopMetrics.requestDone (metrics off)", (s, c, t) => off.requestDone(s, c, t));

const registry = new Registry();
const counter = new Counter({ name: "r_total", help: "r", labelNames: ["service", "code"], registers: [registry] });
const histogram = new Histogram({ name: "d", help: "d", labelNames: ["service"], buckets: [...latencyBucketsSeconds], registers: [registry] });
const counterChildren = new Map<string, { inc(): void }>();
const histogramChildren = new Map<string, { observe(v: number): void }>();
measure("prom-client, cached labels() children", (s, c, t) => {
  const key = `${s} ${c}`;
  let count = counterChildren.get(key);
  if (count === undefined) counterChildren.set(key, (count = counter.labels(s, String(c))));
  let latency = histogramChildren.get(s);
  if (latency === undefined) histogramChildren.set(s, (latency = histogram.labels(s)));
  count.inc();
  latency.observe(t);
});

// Keep the counts observable, so no engine can drop the work as dead.
const body = (await on.render()).body;
console.log(`(rendered ${body.length} bytes of metrics text)`);
