// npm run bench:proxy [-- --json] [-- --duration S --rounds N --connections C --runtimes node,deno]
// Requests/s, p50/p99 latency, CPU per request and peak memory, measured with wrk (installed from
// Debian's packages when missing; autocannon when wrk cannot be had) against, interleaved round by
// round: the backend directly, minimal hand-written proxies (the baselines: node:http + undici
// Pool.stream() on Node; on Deno the same node:http + undici proxy run by Deno, which is vipr's
// own stack there, adapters/runtime-adapter.ts, and Deno.serve + fetch), and vipr on Node and on
// Deno with metrics on, routing by Host to the backend with Maglev hashing the x-user header over
// 1000 distinct keys (hash-keys.lua). ratio = vipr / baseline. On Deno the other upstream clients
// it offers are measured in the same rounds (baseline-deno-client.ts: fetch with a
// Deno.createHttpClient pool, node:http's client), each against undici under Deno.
import { spawnSync, type ChildProcess } from "node:child_process";
import http from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bin, ensureDebianTool, pin, pinning, startProcess } from "./bench-processes.ts";
import { printRows, row, type BenchRow } from "./bench-report.ts";
import { loadBenchOptions } from "./load-bench-options.ts";
import { parseWrkOutput } from "./load-tool-output.ts";
import { median } from "./measure.ts";
import { cpuTimeMs, memoryMiB } from "./process-usage.ts";
import { writeServiceManifest } from "./service-manifest.ts";

// `-- --workers N`: vipr with N workers against one (issue 12), in bench/proxy/workers.ts.
if (process.argv.includes("--workers")) {
  await (await import("./proxy/workers.ts")).runWorkersBench(process.argv.slice(2));
  process.exit(0);
}
const { values } = parseArgs({
  options: {
    ...loadBenchOptions("64"),
    runtimes: { type: "string", default: "node,deno" },
  },
});
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const runtimes = new Set(values.runtimes.split(","));
const log = (line: string): void => void process.stderr.write(`bench:proxy: ${line}\n`);

interface Target {
  readonly name: string;
  readonly url: string;
  readonly host?: string;
  readonly process?: ChildProcess;
}

/** Resolves once GET /info with this Host is answered 200 (at most 30 s). */
async function routable(port: number, host: string): Promise<void> {
  const status = (): Promise<number> =>
    new Promise((resolve) => {
      const request = http.get({ host: "127.0.0.1", port, path: "/info", headers: { host, "x-user": "user-1" } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on("error", () => resolve(0));
    });
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    if ((await status()) === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`vipr on port ${port} did not route ${host} within 30 s`);
}

interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** Proxy CPU time per request served, in microseconds (NaN when unknown). */
  cpuPerRequestUs?: number;
}

function runWrk(target: Target, seconds: number): LoadResult {
  const [command, args] = pin(0, "wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", "bench/proxy/hash-keys.lua", target.url]);
  const result = spawnSync(command, args, {
    env: { ...process.env, VIPR_BENCH_HOST: target.host ?? "" },
    encoding: "utf8",
  });
  return parseWrkOutput(result.stdout);
}

async function runAutocannon(target: Target, seconds: number): Promise<LoadResult> {
  const { default: autocannon } = (await import("autocannon" as string)) as { default: (o: object) => Promise<any> };
  const keys = Array.from({ length: 1000 }, (_, i) => `user-${i + 1}`);
  let n = 0;
  const result = await autocannon({
    url: `${target.url}/info`,
    connections,
    duration: seconds,
    headers: target.host === undefined ? {} : { host: target.host },
    setupClient: (client: { setHeaders(h: object): void; on(e: string, f: () => void): void }) => {
      client.on("response", () => client.setHeaders({ ...(target.host === undefined ? {} : { host: target.host }), "x-user": keys[n++ % 1000] }));
    },
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

const children: ChildProcess[] = [];
try {
  const useWrk = ensureDebianTool("wrk", "wrk", log);
  log(useWrk ? "load generator: wrk" : "load generator: autocannon (wrk could not be installed)");
  log(pinning ? "proxies pinned to core 1, wrk and the backend to core 0" : "taskset missing: processes not pinned");
  const backend = await startProcess(bin("node"), ["bench/proxy/backend.ts"], { core: 0 });
  children.push(backend.child);
  const folder = mkdtempSync(join(tmpdir(), "vipr-bench-"));
  const manifest = writeServiceManifest(folder, { name: "simpleservice", port: backend.port, app: "sise", pod: "rcsise-bench1", annotations: '{ vipr.io/hash-key: "header:x-user" }' });
  const serveArgs = ["serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"];
  const targets: Target[] = [{ name: "backend-direct", url: `http://127.0.0.1:${backend.port}` }];
  /** Starts a proxy on core 1 and adds it to the rounds; vipr's routes by Host. */
  const proxy = async (name: string, command: string, args: string[]): Promise<void> => {
    const started = await startProcess(command, args, { core: 1 });
    children.push(started.child);
    const host = name.startsWith("vipr-") ? "simpleservice" : undefined;
    targets.push({ name, url: `http://127.0.0.1:${started.port}`, process: started.child, ...(host === undefined ? {} : { host }) });
    // vipr listens before its table is loaded: measure only once it routes.
    if (host !== undefined) await routable(started.port, host);
  };
  const backendPort = String(backend.port);
  if (runtimes.has("node")) {
    await proxy("baseline-node", bin("node"), ["bench/proxy/baseline-node.ts", "0", backendPort]);
    await proxy("vipr-node", bin("node"), ["adapters/cli/vipr.ts", ...serveArgs]);
  }
  if (runtimes.has("deno")) {
    await proxy("baseline-deno-node-http", bin("deno"), ["run", "-A", "bench/proxy/baseline-node.ts", "0", backendPort]);
    await proxy("vipr-deno", bin("deno"), ["run", "-A", "adapters/cli/vipr.ts", ...serveArgs]);
    await proxy("baseline-deno", bin("deno"), ["run", "-A", "bench/proxy/baseline-deno.ts", "0", backendPort]);
    await proxy("deno-client-fetch", bin("deno"), ["run", "-A", "bench/proxy/baseline-deno-client.ts", "fetch", "0", backendPort]);
    await proxy("deno-client-node-http", bin("deno"), ["run", "-A", "bench/proxy/baseline-deno-client.ts", "node-http", "0", backendPort]);
  }
  const results = new Map<string, LoadResult[]>();
  const load = (target: Target, seconds: number): Promise<LoadResult> => (useWrk ? Promise.resolve(runWrk(target, seconds)) : runAutocannon(target, seconds));
  for (const target of targets) await load(target, 1); // warm-up: JIT, pools, WASM tables
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      const cpuBefore = cpuTimeMs(target.process?.pid);
      const result = await load(target, duration);
      // CPU per request moves far less with the machine's other load than requests/s does.
      result.cpuPerRequestUs = ((cpuTimeMs(target.process?.pid) - cpuBefore) * 1000) / (result.rps * duration);
      log(`round ${round} ${target.name}: ${Math.round(result.rps)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ${Number.isNaN(result.cpuPerRequestUs) ? "" : `${result.cpuPerRequestUs.toFixed(0)} us CPU/request, `}errors ${result.errors}`);
      results.set(target.name, [...(results.get(target.name) ?? []), result]);
    }
  }
  const summary = (name: string): LoadResult => {
    const list = results.get(name) ?? [];
    return {
      rps: median(list.map((r) => r.rps)),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
      errors: list.reduce((a, r) => a + r.errors, 0),
      cpuPerRequestUs: median(list.map((r) => r.cpuPerRequestUs ?? NaN)),
    };
  };
  const rows: BenchRow[] = [];
  const direct = summary("backend-direct");
  rows.push(row("proxy", "backend_direct_rps", direct.rps, "req/s", null, "no proxy: the ceiling on this machine"));
  // Each vipr against the raw proxy of its runtime on the same stack (node:http + undici; on Deno
  // that is vipr's stack too, adapters/runtime-adapter.ts), then on Deno against Deno.serve + fetch,
  // the fastest proxy Deno offers, whose parser vipr does not use (runtime-adapter.ts says why).
  const comparisons = [
    { vipr: "node", baseline: "baseline-node", suffix: "", note: "baseline: node:http + undici Pool.stream()" },
    { vipr: "deno", baseline: "baseline-deno-node-http", suffix: "", note: "baseline: node:http + undici under Deno" },
    { vipr: "deno", baseline: "baseline-deno", suffix: "_vs_deno_serve", note: "baseline: Deno.serve + fetch" },
  ].filter(({ vipr }) => runtimes.has(vipr));
  for (const { vipr: runtime, baseline, suffix, note } of comparisons) {
    const base = summary(baseline);
    const vipr = summary(`vipr-${runtime}`);
    const baseProcess = targets.find((t) => t.name === baseline)?.process;
    const viprProcess = targets.find((t) => t.name === `vipr-${runtime}`)?.process;
    rows.push(row("proxy", `vipr_${runtime}${suffix}_rps`, vipr.rps, "req/s", base.rps, note));
    rows.push(row("proxy", `vipr_${runtime}${suffix}_p50`, vipr.p50, "ms", base.p50, note));
    rows.push(row("proxy", `vipr_${runtime}${suffix}_p99`, vipr.p99, "ms", base.p99, note));
    rows.push(row("proxy", `vipr_${runtime}${suffix}_cpu_per_request`, vipr.cpuPerRequestUs ?? NaN, "us", base.cpuPerRequestUs ?? NaN, note));
    // What vipr adds to each request, in CPU time (issue 11: at most 10 us on Node).
    rows.push(row("proxy", `vipr_${runtime}${suffix}_cpu_over_baseline`, (vipr.cpuPerRequestUs ?? NaN) - (base.cpuPerRequestUs ?? NaN), "us", null, `${note}; per request`));
    // The same ratios taken round by round, then the median: vipr and its baseline run back to
    // back, so a round shares the machine's load of the moment (on a shared machine that load
    // moves the figures of separate rounds far more than the proxies differ).
    const byRound = (of: (result: LoadResult) => number): number => {
      const viprRounds = results.get(`vipr-${runtime}`) ?? [];
      const baseRounds = results.get(baseline) ?? [];
      return median(viprRounds.map((result, i) => of(result) / of(baseRounds[i]!)));
    };
    rows.push(row("proxy", `vipr_${runtime}${suffix}_rps_ratio_by_round`, byRound((r) => r.rps), "ratio", null, `${note}; median of per-round ratios`));
    rows.push(row("proxy", `vipr_${runtime}${suffix}_cpu_ratio_by_round`, byRound((r) => r.cpuPerRequestUs ?? NaN), "ratio", null, `${note}; median of per-round ratios`));
    rows.push(row("proxy", `vipr_${runtime}${suffix}_peak_rss`, memoryMiB(viprProcess?.pid, "VmHWM"), "MiB", memoryMiB(baseProcess?.pid, "VmHWM"), note));
    rows.push(row("proxy", `vipr_${runtime}${suffix}_errors`, vipr.errors, "requests", base.errors, "non-2xx and socket errors over all rounds"));
  }
  if (runtimes.has("deno")) {
    // Deno's upstream clients, each behind the same node:http server, against undici under Deno.
    const undiciOnDeno = summary("baseline-deno-node-http");
    const clients = [
      { name: "deno-client-fetch", metric: "deno_client_fetch_pool", note: "fetch + Deno.createHttpClient / undici, both under Deno behind node:http" },
      { name: "deno-client-node-http", metric: "deno_client_node_http", note: "node:http's client / undici, both under Deno behind node:http" },
      { name: "baseline-deno", metric: "deno_serve_fetch", note: "Deno.serve + fetch / node:http + undici under Deno" },
    ];
    for (const { name, metric, note } of clients) {
      const client = summary(name);
      rows.push(row("proxy", `${metric}_rps`, client.rps, "req/s", undiciOnDeno.rps, note));
      rows.push(row("proxy", `${metric}_cpu_per_request`, client.cpuPerRequestUs ?? NaN, "us", undiciOnDeno.cpuPerRequestUs ?? NaN, note));
      rows.push(row("proxy", `${metric}_errors`, client.errors, "requests", undiciOnDeno.errors, "non-2xx and socket errors over all rounds"));
    }
  }
  printRows(rows, values.json === true);
} finally {
  for (const child of children) child.kill("SIGTERM");
}
