// npm run bench:h2 [-- --json] [-- --duration S --rounds N --connections C --streams M --runtimes node,deno]
// HTTP/2 requests/s and mean latency, measured with h2load (Debian's nghttp2-client, installed
// when missing) against, interleaved round by round: a minimal hand-written node:http2 proxy (the
// baseline, bench/h2/baseline-h2.ts: node:http2 + undici Pool.stream()) and `vipr serve`, each
// over h2c with prior knowledge and over TLS (ALPN h2), on Node and on Deno (each runtime's vipr
// against the baseline run by the same runtime). Every proxy forwards to the same HTTP/1.1
// backend (bench/proxy/backend.ts). ratio = vipr / baseline.
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bin, ensureDebianTool, pin, pinning, startProcess } from "./bench-processes.ts";
import { printRows, row, type BenchRow } from "./bench-report.ts";
import { loadBenchOptions } from "./load-bench-options.ts";
import { latencyMs } from "./load-tool-output.ts";
import { median } from "./measure.ts";
import { cpuTimeMs } from "./process-usage.ts";
import { writeServiceManifest } from "./service-manifest.ts";

const { values } = parseArgs({
  options: {
    ...loadBenchOptions("8"),
    streams: { type: "string", default: "16" },
    runtimes: { type: "string", default: "node,deno" },
  },
});
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const streams = Number(values.streams);
const runtimes = values.runtimes.split(",").filter((r) => r === "node" || r === "deno");
const log = (line: string): void => void process.stderr.write(`bench:h2: ${line}\n`);

// As bench:proxy: the proxy under test on core 1, h2load and the backend on core 0.
const start = (core: number, command: string, args: string[]) => startProcess(command, args, { core });

interface Target {
  readonly name: string;
  readonly url: string;
  readonly process: ChildProcess;
  /** :authority to send (vipr routes by it); the URL's otherwise. */
  readonly authority?: string;
}

interface LoadResult {
  readonly rps: number;
  readonly meanMs: number;
  readonly errors: number;
  /** Proxy CPU time per request served, in microseconds (NaN when unknown). */
  cpuPerRequestUs?: number;
}

function runH2load(target: Target, seconds: number): LoadResult {
  const args = ["-c", String(connections), "-m", String(streams), "-D", String(seconds), ...(target.authority === undefined ? [] : ["-H", `:authority: ${target.authority}`]), `${target.url}/info`];
  const [command, pinnedArgs] = pin(0, "h2load", args);
  const out = spawnSync(command, pinnedArgs, { encoding: "utf8" }).stdout;
  const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
  const meanMs = latencyMs(/time for request:\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1] ?? "");
  const failed = /requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored/.exec(out);
  const non2xx = /status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const errors = (failed === null ? 0 : Number(failed[1]) + Number(failed[2])) + (non2xx === null ? 0 : Number(non2xx[1]) + Number(non2xx[2]) + Number(non2xx[3]));
  // A run that served nothing (the proxy died, no connection) is no measurement: NaN, not 0 req/s.
  if (!(rps > 0)) return { rps: NaN, meanMs: NaN, errors: errors + 1 };
  return { rps, meanMs, errors };
}

/** The median of the runs that measured something (NaN: a run that served nothing). */
const medianOfMeasured = (list: readonly number[]): number => median(list.filter((n) => !Number.isNaN(n)));

const children: ChildProcess[] = [];
try {
  if (!ensureDebianTool("h2load", "nghttp2-client", log)) throw new Error("h2load is not installed and could not be (apt-get install nghttp2-client)");
  log(pinning ? "proxies pinned to core 1, h2load and the backend to core 0" : "taskset missing: processes not pinned");
  const backend = await start(0, bin("node"), ["bench/proxy/backend.ts"]);
  children.push(backend.child);
  const folder = mkdtempSync(join(tmpdir(), "vipr-bench-h2-"));
  const cert = join(folder, "tls.crt");
  const key = join(folder, "tls.key");
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-keyout", key, "-out", cert, "-subj", "/CN=simpleservice", "-addext", "subjectAltName=DNS:simpleservice"], { stdio: "ignore" });
  if (made.status !== 0) throw new Error("openssl req failed: cannot make the benchmark's certificate");
  const manifest = writeServiceManifest(folder, { name: "simpleservice", port: backend.port, app: "sise", pod: "rcsise-bench1" });
  const serveArgs = ["serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "off"];
  const targets: Target[] = [];
  for (const runtime of runtimes) {
    const run = (args: string[]): [string, string[]] => (runtime === "node" ? [bin("node"), args] : [bin("deno"), ["run", "-A", ...args]]);
    const baselineH2c = await start(1, ...run(["bench/h2/baseline-h2.ts", "0", String(backend.port)]));
    const baselineTls = await start(1, ...run(["bench/h2/baseline-h2.ts", "0", String(backend.port), cert, key]));
    const viprH2c = await start(1, ...run(["adapters/cli/vipr.ts", ...serveArgs]));
    const viprTls = await start(1, ...run(["adapters/cli/vipr.ts", ...serveArgs, "--tls-cert", cert, "--tls-key", key]));
    children.push(baselineH2c.child, baselineTls.child, viprH2c.child, viprTls.child);
    targets.push(
      { name: `baseline-${runtime}-h2c`, url: `http://127.0.0.1:${baselineH2c.port}`, process: baselineH2c.child },
      { name: `vipr-${runtime}-h2c`, url: `http://127.0.0.1:${viprH2c.port}`, authority: "simpleservice", process: viprH2c.child },
      { name: `baseline-${runtime}-tls`, url: `https://127.0.0.1:${baselineTls.port}`, process: baselineTls.child },
      { name: `vipr-${runtime}-tls`, url: `https://127.0.0.1:${viprTls.port}`, authority: "simpleservice", process: viprTls.child },
    );
  }
  const results = new Map<string, LoadResult[]>();
  for (const target of targets) runH2load(target, 1); // warm-up: JIT, pools, TLS sessions
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      const cpuBefore = cpuTimeMs(target.process.pid);
      const result = runH2load(target, duration);
      result.cpuPerRequestUs = ((cpuTimeMs(target.process.pid) - cpuBefore) * 1000) / (result.rps * duration);
      log(`round ${round} ${target.name}: ${Math.round(result.rps)} req/s, mean ${result.meanMs.toFixed(2)} ms, ${result.cpuPerRequestUs.toFixed(0)} us CPU/request, errors ${result.errors}`);
      results.set(target.name, [...(results.get(target.name) ?? []), result]);
    }
  }
  const summary = (name: string): LoadResult => {
    const list = results.get(name) ?? [];
    return { rps: medianOfMeasured(list.map((r) => r.rps)), meanMs: medianOfMeasured(list.map((r) => r.meanMs)), errors: list.reduce((a, r) => a + r.errors, 0), cpuPerRequestUs: medianOfMeasured(list.map((r) => r.cpuPerRequestUs ?? NaN)) };
  };
  const rows: BenchRow[] = [];
  for (const runtime of runtimes) {
    for (const mode of ["h2c", "tls"] as const) {
      const note = `baseline: node:http2${mode === "tls" ? " over TLS" : " h2c"} + undici Pool.stream() under ${runtime}; ${connections} connections x ${streams} streams`;
      const base = summary(`baseline-${runtime}-${mode}`);
      const vipr = summary(`vipr-${runtime}-${mode}`);
      rows.push(row("h2", `vipr_${runtime}_${mode}_rps`, vipr.rps, "req/s", base.rps, note));
      rows.push(row("h2", `vipr_${runtime}_${mode}_mean_latency`, vipr.meanMs, "ms", base.meanMs, note));
      rows.push(row("h2", `vipr_${runtime}_${mode}_cpu_per_request`, vipr.cpuPerRequestUs ?? NaN, "us", base.cpuPerRequestUs ?? NaN, note));
      rows.push(row("h2", `vipr_${runtime}_${mode}_errors`, vipr.errors, "requests", base.errors, "failed, errored and non-2xx over all rounds"));
    }
  }
  printRows(rows, values.json === true);
} finally {
  for (const child of children) child.kill("SIGTERM");
}
