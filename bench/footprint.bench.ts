// npm run bench:footprint [-- --json] [-- --runs N]: what a vipr sidecar costs before it routes
// anything. For the file source (examples/) and the Kubernetes source (the fake API server on
// loopback, serveFakeKubeApi), on Node and on Deno: time from spawning the process to its first
// routing table (the moment /readyz turns 200; the CLI prints the line right after), and resident
// memory after a second idle. Each runtime's baseline, in the same run, is the bare runtime holding
// one HTTP listener open. Medians over --runs processes (default 5).
// Node runs what the npm package ships (dist/, JavaScript, built first by scripts/build-package.ts):
// .ts sources would add Node's type stripper (about 17 MB and its start-up) to every figure. Deno
// runs the .ts sources, as the JSR package does. The baselines are plain JavaScript for the same
// reason. RSS is read from /proc/PID/status, so this bench runs on Linux.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FakeKubeApi, fakeService, serveFakeKubeApi } from "../adapters/kubernetes/fake-api/index.ts";
import { startProcess } from "../tests/package/process-runner.ts";
import { printRows, row, type BenchRow } from "./bench-report.ts";

const { values } = parseArgs({ options: { json: { type: "boolean", default: false }, runs: { type: "string", default: "5" }, "idle-ms": { type: "string", default: "1000" } } });
const json = values.json === true;
const runs = Number(values.runs);
const idleMs = Number(values["idle-ms"]);
const repoRoot = join(import.meta.dirname, "..");
const log = (line: string): void => void (json ? undefined : console.error(line));

// The bare runtime with one listener: each runtime's own server, as vipr's adapters use.
const nodeBaseline = `import http from "node:http";
const server = http.createServer((request, response) => response.end("ok"));
server.listen(0, "127.0.0.1", () => console.log("ready " + server.address().port));`;
const denoBaseline = `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log("ready " + port) }, () => new Response("ok"));`;

// The real binaries (node_modules/.bin links to them), so that the PID read is the runtime's own.
const runtimes = [
  { name: "node", command: process.execPath, baseline: ["--input-type=module", "-e", nodeBaseline], vipr: ["dist/adapters/cli/vipr.js"] },
  { name: "deno", command: join(repoRoot, "node_modules", "deno", "deno"), baseline: ["eval", denoBaseline], vipr: ["run", "-A", "adapters/cli/vipr.ts"] },
] as const;

interface Sample {
  readonly readyMs: number;
  readonly rssMb: number;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return kb / 1024;
}

/** Spawns one process, times it to `ready`, lets it idle, reads its RSS, stops it. */
async function sample(command: string, args: readonly string[], ready: RegExp, env: NodeJS.ProcessEnv): Promise<Sample> {
  const start = performance.now();
  const child = startProcess(command, args, { cwd: repoRoot, env });
  try {
    await child.waitFor(ready);
    const readyMs = performance.now() - start;
    // Idle: what the process holds once start-up garbage has had a chance to be collected.
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    return { readyMs, rssMb: await rssMb(child.child.pid!) };
  } finally {
    child.signal("SIGKILL");
    await child.exited;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function medianOf(label: string, take: () => Promise<Sample>): Promise<Sample> {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await take());
  const result = { readyMs: median(samples.map((s) => s.readyMs)), rssMb: median(samples.map((s) => s.rssMb)) };
  log(`${label}: ready ${result.readyMs.toFixed(0)} ms, idle RSS ${result.rssMb.toFixed(1)} MB (median of ${runs})`);
  return result;
}

log("building dist/ (scripts/build-package.ts)");
execFileSync(process.execPath, [join(repoRoot, "scripts", "build-package.ts")], { cwd: repoRoot, stdio: json ? "ignore" : ["ignore", 2, 2] });

const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
for (const name of Object.keys(env)) if (/^(https?|all|no)_proxy$/i.test(name)) delete env[name];

// The Kubernetes source's cluster: the tutorial's service with two ready endpoints.
const fake = new FakeKubeApi();
fake.apply(fakeService("simpleservice", { ports: [{ port: 80, targetPort: 9876 }] }));
fake.setEndpoints({ name: "simpleservice" }, [
  { address: "127.0.0.2", pod: "rcsise-1" },
  { address: "127.0.0.3", pod: "rcsise-2" },
]);
const served = await serveFakeKubeApi(fake, { closeGraceMs: 100 });
const work = await mkdtemp(join(tmpdir(), "vipr-footprint-"));
const kubeconfig = join(work, "kubeconfig");
await writeFile(kubeconfig, served.kubeconfig());

const rows: BenchRow[] = [];
try {
  for (const runtime of runtimes) {
    const bare = await medianOf(`${runtime.name} bare listener`, () => sample(runtime.command, runtime.baseline, /^ready \d+/m, env));
    const serve = [...runtime.vipr, "serve", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"];
    const sources = [
      { name: "file", args: ["--source", "file:examples/"], ready: /vipr: table 1 from examples\//, note: "examples/, 1 service" },
      { name: "kube", args: ["--source", "kube", "--kubeconfig", kubeconfig], ready: /vipr: synced from the Kubernetes API/, note: "fake API on loopback, 1 service" },
    ];
    for (const source of sources) {
      const vipr = await medianOf(`${runtime.name} vipr serve --source ${source.name}`, () => sample(runtime.command, [...serve, ...source.args], source.ready, env));
      const metric = `${runtime.name}_${source.name}`;
      rows.push(row("footprint", `${metric}_time_to_ready`, vipr.readyMs, "ms", bare.readyMs, `${source.note}; baseline: bare ${runtime.name} listener`));
      rows.push(row("footprint", `${metric}_idle_rss`, vipr.rssMb, "MB", bare.rssMb, `after ${idleMs} ms idle; baseline: bare ${runtime.name} listener`));
    }
  }
} finally {
  await served.close();
  await rm(work, { recursive: true, force: true });
}
printRows(rows, json);
