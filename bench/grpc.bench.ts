// npm run bench:grpc [-- --json] [-- --duration S --rounds N --connections C --in-flight M --runtimes node,deno --grpcroute]
// gRPC unary calls/s and proxy CPU per call, measured with @grpc/grpc-js clients
// (bench/grpc/grpc-load.ts: C channels, each its own connection, M calls in flight on each) against,
// interleaved round by round: the grpc-js pod directly (bench/grpc/grpc-pod.ts), a minimal
// hand-written node:http2 gRPC proxy (the baseline, bench/grpc/baseline-grpc-proxy.ts) and
// `vipr serve` with a file source whose Service port is appProtocol grpc (h2c to the pod), each
// proxy on Node and on Deno. ratio = vipr / baseline (the raw proxy of the same runtime), and
// vipr / direct for calls/s. --grpcroute adds `vipr serve` routing the same calls by a GRPCRoute
// (bench/grpc/grpcroute-manifest.ts: the matching rule after ten that do not match), ratio to vipr
// routing by the Service name.
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bin, pin, pinning, startProcess } from "./bench-processes.ts";
import { printRows, row, type BenchRow } from "./bench-report.ts";
import { loadBenchOptions } from "./load-bench-options.ts";
import { median } from "./measure.ts";
import { cpuTimeMs } from "./process-usage.ts";
import { writeServiceManifest } from "./service-manifest.ts";
import { GRPCROUTE_AUTHORITY, writeGrpcRouteManifest } from "./grpc/grpcroute-manifest.ts";

const { values } = parseArgs({
  options: {
    ...loadBenchOptions("4"),
    "in-flight": { type: "string", default: "32" },
    runtimes: { type: "string", default: "node,deno" },
    grpcroute: { type: "boolean", default: false },
  },
});
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const channels = Number(values.connections);
const inFlight = Number(values["in-flight"]);
const runtimes = values.runtimes.split(",").filter((r) => r === "node" || r === "deno");
const log = (line: string): void => void process.stderr.write(`bench:grpc: ${line}\n`);

interface Target {
  readonly name: string;
  readonly port: number;
  /** The process whose CPU is counted per call: the proxy, or the pod for the direct runs. */
  readonly process: ChildProcess;
  /** The :authority the calls carry (default "echo", the Service's name). */
  readonly authority?: string;
}

interface LoadResult {
  readonly callsPerSecond: number;
  readonly errors: number;
  /** CPU time of the target's process per call answered, in microseconds. */
  readonly cpuPerCallUs: number;
}

function runLoad(target: Target, seconds: number): LoadResult {
  const cpuBefore = cpuTimeMs(target.process.pid);
  // The load generator on core 0 with the pod, as h2load in bench:h2; the proxy has core 1.
  const [command, args] = pin(0, bin("node"), ["bench/grpc/grpc-load.ts", String(target.port), target.authority ?? "echo", String(channels), String(inFlight), String(seconds)]);
  const out = spawnSync(command, args, { encoding: "utf8" }).stdout;
  const cpuMs = cpuTimeMs(target.process.pid) - cpuBefore;
  const measured = /^\{.*\}$/m.exec(out)?.[0];
  // A run that answered nothing (the proxy died) is no measurement: NaN, not 0 calls/s.
  if (measured === undefined) return { callsPerSecond: NaN, errors: 1, cpuPerCallUs: NaN };
  const { calls, errors, seconds: elapsed } = JSON.parse(measured) as { calls: number; errors: number; seconds: number };
  if (!(calls > 0)) return { callsPerSecond: NaN, errors: errors + 1, cpuPerCallUs: NaN };
  return { callsPerSecond: calls / elapsed, errors, cpuPerCallUs: (cpuMs * 1000) / calls };
}

/** The median of the runs that measured something (NaN: a run that answered nothing). */
const medianOfMeasured = (list: readonly number[]): number => median(list.filter((n) => !Number.isNaN(n)));

const children: ChildProcess[] = [];
try {
  log(pinning ? "proxies pinned to core 1, the grpc-js load and the pod to core 0" : "taskset missing: processes not pinned");
  const pod = await startProcess(bin("node"), ["bench/grpc/grpc-pod.ts"], { core: 0 });
  children.push(pod.child);
  const folder = mkdtempSync(join(tmpdir(), "vipr-bench-grpc-"));
  const manifest = writeServiceManifest(folder, { name: "echo", port: pod.port, app: "echo", pod: "echo-bench1", appProtocol: "grpc" });
  if (values.grpcroute) writeGrpcRouteManifest(folder);
  const targets: Target[] = [{ name: "direct", port: pod.port, process: pod.child }];
  for (const runtime of runtimes) {
    const run = (args: string[]): [string, string[]] => (runtime === "node" ? [bin("node"), args] : [bin("deno"), ["run", "-A", ...args]]);
    const baseline = await startProcess(...run(["bench/grpc/baseline-grpc-proxy.ts", "0", String(pod.port)]), { core: 1 });
    const vipr = await startProcess(...run(["adapters/cli/vipr.ts", "serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "off"]), { core: 1 });
    children.push(baseline.child, vipr.child);
    targets.push({ name: `baseline-${runtime}`, port: baseline.port, process: baseline.child }, { name: `vipr-${runtime}`, port: vipr.port, process: vipr.child });
    if (values.grpcroute) {
      const routed = await startProcess(...run(["adapters/cli/vipr.ts", "serve", "--source", `file:${folder}`, "--listen", "127.0.0.1:0", "--admin", "off"]), { core: 1 });
      children.push(routed.child);
      targets.push({ name: `grpcroute-${runtime}`, port: routed.port, process: routed.child, authority: GRPCROUTE_AUTHORITY });
    }
  }
  const results = new Map<string, LoadResult[]>();
  for (const target of targets) runLoad(target, 1); // warm-up: JIT, connections
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      const result = runLoad(target, duration);
      log(`round ${round} ${target.name}: ${Math.round(result.callsPerSecond)} calls/s, ${result.cpuPerCallUs.toFixed(0)} us CPU/call, errors ${result.errors}`);
      results.set(target.name, [...(results.get(target.name) ?? []), result]);
    }
  }
  const summary = (name: string): LoadResult => {
    const list = results.get(name) ?? [];
    return { callsPerSecond: medianOfMeasured(list.map((r) => r.callsPerSecond)), errors: list.reduce((a, r) => a + r.errors, 0), cpuPerCallUs: medianOfMeasured(list.map((r) => r.cpuPerCallUs)) };
  };
  const direct = summary("direct");
  const load = `${channels} grpc-js channels x ${inFlight} unary calls in flight`;
  const rows: BenchRow[] = [];
  for (const runtime of runtimes) {
    const note = `baseline: hand-written node:http2 gRPC proxy under ${runtime}; ${load}`;
    const base = summary(`baseline-${runtime}`);
    const vipr = summary(`vipr-${runtime}`);
    rows.push(row("grpc", `vipr_${runtime}_calls_per_second`, vipr.callsPerSecond, "calls/s", base.callsPerSecond, note));
    rows.push(row("grpc", `vipr_${runtime}_vs_direct_calls_per_second`, vipr.callsPerSecond, "calls/s", direct.callsPerSecond, `baseline: the grpc-js pod directly (no proxy); ${load}`));
    rows.push(row("grpc", `vipr_${runtime}_cpu_per_call`, vipr.cpuPerCallUs, "us", base.cpuPerCallUs, note));
    rows.push(row("grpc", `vipr_${runtime}_errors`, vipr.errors, "calls", base.errors, "calls not answered OK over all rounds"));
    if (values.grpcroute) {
      const routed = summary(`grpcroute-${runtime}`);
      const byName = `baseline: vipr under ${runtime} routing by the Service name; ${load}`;
      rows.push(row("grpc", `grpcroute_${runtime}_calls_per_second`, routed.callsPerSecond, "calls/s", vipr.callsPerSecond, byName));
      rows.push(row("grpc", `grpcroute_${runtime}_cpu_per_call`, routed.cpuPerCallUs, "us", vipr.cpuPerCallUs, byName));
      rows.push(row("grpc", `grpcroute_${runtime}_errors`, routed.errors, "calls", vipr.errors, "calls not answered OK over all rounds"));
    }
  }
  printRows(rows, values.json === true);
} finally {
  for (const child of children) child.kill("SIGTERM");
}
