// npm run bench:proxy -- --workers N [--json] [--duration S] [--rounds R] [--connections C]
// `vipr serve --workers N` against one worker (issue 12), on Node and on Deno: requests/s, CPU time
// per request (every process of the vipr: supervisor and workers), resident memory of each process
// (memory per extra worker). With wrk, through the same Maglev service and 1000 hash keys as
// bench/proxy.bench.ts. Nothing is pinned: N workers need N cores, and on a 2-core machine wrk and
// the backend share them with the workers, so requests/s is bounded by the machine, while CPU per
// request (target: N workers at most 1.1x one worker) is the steadier figure.
// Also, on Node, the listener-sharing choice measured apart from vipr: N minimal proxies
// (shared-listener.ts) sharing the port with SO_REUSEPORT vs node:cluster's round-robin.
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bin, startProcess } from "../bench-processes.ts";
import { printRows, row, type BenchRow } from "../bench-report.ts";
import { loadBenchOptions } from "../load-bench-options.ts";
import { parseWrkOutput } from "../load-tool-output.ts";
import { median } from "../measure.ts";
import { memoryMiB, totalCpuTimeMs } from "../process-usage.ts";
import { writeServiceManifest } from "../service-manifest.ts";

const log = (line: string): void => void process.stderr.write(`bench:proxy --workers: ${line}\n`);

/** A process and every process under it, from /proc (Linux). */
function tree(pid: number): number[] {
  const out = [pid];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      for (const child of children === "" ? [] : children.split(" ")) out.push(...tree(Number(child)));
    }
  } catch {
    // Gone, or no /proc: what was found so far.
  }
  return out;
}

const rssMiB = (pid: number | undefined): number => memoryMiB(pid, "VmRSS");
// Not pinned (see above); each start waits for its own line.
const start = (command: string, args: string[], ready: RegExp) => startProcess(command, args, { ready });

async function waitReady(adminPort: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ok = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`admin port ${adminPort} never ready`);
}

interface Target {
  readonly name: string;
  readonly port: number;
  readonly host?: string;
  readonly root: ChildProcess;
}

interface Result {
  readonly rps: number;
  readonly errors: number;
  readonly cpuPerRequestUs: number;
}

export async function runWorkersBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...loadBenchOptions("64"),
      workers: { type: "string", default: "2" },
      runtimes: { type: "string", default: "node,deno" },
    },
  });
  const workers = Number(values.workers);
  const duration = Number(values.duration);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  if (!(Number.isInteger(workers) && workers >= 2)) throw new Error(`--workers ${values.workers}: compare at least 2 workers with 1`);
  if (spawnSync("wrk", ["--version"]).error !== undefined) throw new Error("wrk is needed (apt-get install -y wrk)");
  const children: ChildProcess[] = [];
  try {
    const backend = await start(bin("node"), ["bench/proxy/backend.ts"], /ready (\d+)/);
    children.push(backend.child);
    const folder = mkdtempSync(join(tmpdir(), "vipr-bench-workers-"));
    const manifest = writeServiceManifest(folder, { name: "simpleservice", port: backend.port, app: "sise", pod: "rcsise-bench1", annotations: '{ vipr.io/hash-key: "header:x-user" }' });
    const targets: Target[] = [];
    for (const runtime of values.runtimes.split(",")) {
      const command = runtime === "deno" ? [bin("deno"), "run", "-A", "adapters/cli/vipr.ts"] : [bin("node"), "adapters/cli/vipr.ts"];
      for (const n of [1, workers]) {
        const vipr = await start(command[0]!, [...command.slice(1), "serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--workers", String(n)], /admin on http:\/\/127\.0\.0\.1:(\d+)/);
        children.push(vipr.child);
        await waitReady(vipr.port);
        const port = Number(/(?:listening on|workers on) http:\/\/127\.0\.0\.1:(\d+)/.exec(vipr.output())![1]);
        targets.push({ name: `vipr_${runtime}_${n}w`, port, host: "simpleservice", root: vipr.child });
      }
    }
    if (values.runtimes.split(",").includes("node")) {
      for (const mode of ["reuseport", "cluster"]) {
        for (const n of mode === "reuseport" ? [1, workers] : [workers]) {
          const proxy = await start(bin("node"), ["bench/proxy/shared-listener.ts", mode, String(n), String(20_000 + Math.floor(Math.random() * 20_000)), String(backend.port)], /pids .*\n?/);
          children.push(proxy.child);
          const port = Number(/ready (\d+)/.exec(proxy.output())![1]);
          targets.push({ name: mode === "reuseport" && n === 1 ? "minimal_proxy_1p" : `minimal_proxy_${mode}_${n}p`, port, root: proxy.child });
        }
      }
    }
    const wrk = (target: Target, seconds: number): { rps: number; errors: number } => {
      const result = spawnSync("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "-s", "bench/proxy/hash-keys.lua", `http://127.0.0.1:${target.port}`], { env: { ...process.env, VIPR_BENCH_HOST: target.host ?? "" }, encoding: "utf8" });
      const { rps, errors } = parseWrkOutput(result.stdout);
      return { rps, errors };
    };
    for (const target of targets) wrk(target, 1); // warm-up
    const results = new Map<string, Result[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const target of targets) {
        const pids = tree(target.root.pid!);
        const before = totalCpuTimeMs(pids);
        const { rps, errors } = wrk(target, duration);
        const cpuPerRequestUs = ((totalCpuTimeMs(pids) - before) * 1000) / (rps * duration);
        log(`round ${round} ${target.name} (${pids.length} processes): ${Math.round(rps)} req/s, ${cpuPerRequestUs.toFixed(0)} us CPU/request, errors ${errors}`);
        results.set(target.name, [...(results.get(target.name) ?? []), { rps, errors, cpuPerRequestUs }]);
      }
    }
    const summary = (name: string): Result => {
      const list = results.get(name) ?? [];
      return { rps: median(list.map((r) => r.rps)), cpuPerRequestUs: median(list.map((r) => r.cpuPerRequestUs)), errors: list.reduce((a, r) => a + r.errors, 0) };
    };
    const rows: BenchRow[] = [];
    for (const runtime of values.runtimes.split(",")) {
      const one = summary(`vipr_${runtime}_1w`);
      const many = summary(`vipr_${runtime}_${workers}w`);
      const note = `baseline: vipr on ${runtime} with 1 worker`;
      rows.push(row("proxy-workers", `vipr_${runtime}_1_worker_rps`, one.rps, "req/s", null));
      rows.push(row("proxy-workers", `vipr_${runtime}_1_worker_cpu_per_request`, one.cpuPerRequestUs, "us", null));
      rows.push(row("proxy-workers", `vipr_${runtime}_${workers}_workers_rps`, many.rps, "req/s", one.rps, note));
      rows.push(row("proxy-workers", `vipr_${runtime}_${workers}_workers_cpu_per_request`, many.cpuPerRequestUs, "us", one.cpuPerRequestUs, `${note}; target ratio <= 1.1`));
      rows.push(row("proxy-workers", `vipr_${runtime}_${workers}_workers_errors`, many.errors, "requests", one.errors, "non-2xx and socket errors over all rounds"));
      const single = targets.find((t) => t.name === `vipr_${runtime}_1w`)!;
      const multi = targets.find((t) => t.name === `vipr_${runtime}_${workers}w`)!;
      const [supervisor, ...workerPids] = tree(multi.root.pid!);
      const workerRss = workerPids.map(rssMiB);
      rows.push(row("proxy-workers", `vipr_${runtime}_1_worker_rss`, rssMiB(single.root.pid!), "MiB", null, "one process, no supervisor"));
      rows.push(row("proxy-workers", `vipr_${runtime}_supervisor_rss`, rssMiB(supervisor!), "MiB", null, "the supervisor: source, admin listener"));
      rows.push(row("proxy-workers", `vipr_${runtime}_rss_per_extra_worker`, workerRss.reduce((a, b) => a + b, 0) / workerRss.length, "MiB", rssMiB(single.root.pid!), "a worker's resident memory / one whole vipr"));
    }
    if (results.has(`minimal_proxy_cluster_${workers}p`)) {
      const one = summary("minimal_proxy_1p");
      const reuse = summary(`minimal_proxy_reuseport_${workers}p`);
      const clustered = summary(`minimal_proxy_cluster_${workers}p`);
      rows.push(row("proxy-workers", `minimal_proxy_reuseport_${workers}p_rps`, reuse.rps, "req/s", clustered.rps, "baseline: node:cluster round-robin, same proxy, same count"));
      rows.push(row("proxy-workers", `minimal_proxy_reuseport_${workers}p_cpu_per_request`, reuse.cpuPerRequestUs, "us", clustered.cpuPerRequestUs, "baseline: node:cluster round-robin"));
      rows.push(row("proxy-workers", `minimal_proxy_cluster_${workers}p_cpu_per_request`, clustered.cpuPerRequestUs, "us", one.cpuPerRequestUs, "baseline: one process"));
      rows.push(row("proxy-workers", `minimal_proxy_reuseport_${workers}p_cpu_per_request_vs_1p`, reuse.cpuPerRequestUs, "us", one.cpuPerRequestUs, "baseline: one process"));
    }
    printRows(rows, values.json === true);
  } finally {
    for (const child of children) child.kill("SIGTERM");
  }
}
