// npm run bench:ws [-- --json] [-- --duration S --rounds N --connections C --window W --size B]
// WebSocket echo messages/s through vipr (on Node and on Deno) versus the same load direct to the
// pod, interleaved round by round in the same run (issue 13's target: at least 0.8x direct).
// The pod is a `ws` echo server (permessage-deflate off: vipr relays bytes, so compression would
// cost the same with and without vipr); the load is `ws` clients, C connections each keeping W
// messages of B bytes in flight (a new one as each echo comes back); both run pinned to core 0 and
// vipr to core 1, as bench/proxy.bench.ts does, so the proxy under test has a core of its own.
// Besides messages/s, vipr's CPU time per message (from /proc) moves far less with the machine's
// other load. The same file is the pod (--pod) and the load generator (--load URL).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WebSocket, WebSocketServer } from "ws";
import { bin, pin, pinning, startProcess } from "./bench-processes.ts";
import { printRows, row, type BenchRow } from "./bench-report.ts";
import { loadBenchOptions } from "./load-bench-options.ts";
import { median } from "./measure.ts";
import { cpuTimeMs } from "./process-usage.ts";
import { writeServiceManifest } from "./service-manifest.ts";

const { values } = parseArgs({
  options: {
    ...loadBenchOptions("32"),
    window: { type: "string", default: "8" },
    size: { type: "string", default: "128" },
    pod: { type: "boolean", default: false },
    relay: { type: "string" },
    load: { type: "string" },
    host: { type: "string" },
  },
});

/** The pod: echoes every message as it came. */
function servePod(): void {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
  wss.on("connection", (socket) => socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary })));
  wss.on("listening", () => console.log(`ready ${(wss.address() as AddressInfo).port}`));
}

/** The second baseline: the least a byte relay does on Node, node:net sockets piped both ways to
 * the pod (no HTTP parsing, no routing, no frame tracking). */
function serveRelay(podPort: number): void {
  const server = net.createServer((client) => {
    const pod = net.connect({ port: podPort, host: "127.0.0.1", noDelay: true });
    client.setNoDelay(true);
    client.pipe(pod).pipe(client);
    client.on("error", () => pod.destroy());
    pod.on("error", () => client.destroy());
  });
  server.listen(0, "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
}

/** The load: prints {"messages","seconds","errors"} as one JSON line. */
async function runLoad(url: string, host: string | undefined, seconds: number, connections: number, window: number, size: number): Promise<void> {
  const payload = Buffer.alloc(size, 0x61);
  let counting = false;
  let messages = 0;
  let errors = 0;
  const sockets = await Promise.all(
    Array.from({ length: connections }, () => new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false, ...(host === undefined ? {} : { headers: { host } }) });
      socket.once("open", () => resolve(socket));
      socket.once("error", reject);
    })),
  );
  for (const socket of sockets) {
    socket.on("error", () => errors++);
    socket.on("message", () => {
      if (counting) messages++;
      if (socket.readyState === WebSocket.OPEN) socket.send(payload, { binary: true });
    });
  }
  // Half a second of warm-up at full load, then the counted window.
  for (const socket of sockets) for (let i = 0; i < window; i++) socket.send(payload, { binary: true });
  await new Promise((resolve) => setTimeout(resolve, 500));
  counting = true;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  counting = false;
  const elapsed = (performance.now() - started) / 1000;
  for (const socket of sockets) socket.terminate();
  console.log(JSON.stringify({ messages, seconds: elapsed, errors }));
  process.exit(0);
}

const log = (line: string): void => void process.stderr.write(`bench:ws: ${line}\n`);
// Pinned as in bench/proxy.bench.ts: without it the scheduler, not the proxy, decides the figures.
const start = (core: number, command: string, args: string[]) => startProcess(command, args, { core });

interface Target {
  readonly name: string;
  readonly url: string;
  readonly host?: string;
  readonly process?: ChildProcess;
}

interface LoadResult {
  readonly rate: number;
  readonly errors: number;
  cpuPerMessageUs: number;
}

/** One counted run of the load generator (its own process, on core 0) against a target. */
function load(target: Target, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const args = ["bench/ws.bench.ts", "--load", target.url, "--duration", String(seconds), "--connections", values.connections!, "--window", values.window!, "--size", values.size!];
    if (target.host !== undefined) args.push("--host", target.host);
    const [command, pinnedArgs] = pin(0, bin("node"), args);
    const child = spawn(command, pinnedArgs, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.once("exit", (code) => {
      try {
        const { messages, seconds: elapsed, errors } = JSON.parse(out) as { messages: number; seconds: number; errors: number };
        resolve({ rate: messages / elapsed, errors, cpuPerMessageUs: NaN });
      } catch {
        reject(new Error(`load generator exited with ${code}: ${out}`));
      }
    });
  });
}

async function main(): Promise<void> {
  const duration = Number(values.duration);
  const rounds = Number(values.rounds);
  const children: ChildProcess[] = [];
  try {
    log(pinning ? "vipr pinned to core 1, the pod and the load generator to core 0" : "taskset missing: processes not pinned");
    log(`${values.connections} connections x ${values.window} messages of ${values.size} B in flight`);
    const pod = await start(0, bin("node"), ["bench/ws.bench.ts", "--pod"]);
    children.push(pod.child);
    const folder = mkdtempSync(join(tmpdir(), "vipr-bench-ws-"));
    const manifest = writeServiceManifest(folder, { name: "echo", port: pod.port, app: "echo", pod: "echo-0" });
    const serveArgs = ["serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"];
    const viprNode = await start(1, bin("node"), ["adapters/cli/vipr.ts", ...serveArgs]);
    const viprDeno = await start(1, bin("deno"), ["run", "-A", "adapters/cli/vipr.ts", ...serveArgs]);
    const relay = await start(1, bin("node"), ["bench/ws.bench.ts", "--relay", String(pod.port)]);
    children.push(viprNode.child, viprDeno.child, relay.child);
    const targets: Target[] = [
      { name: "direct", url: `ws://127.0.0.1:${pod.port}/` },
      { name: "pipe-relay", url: `ws://127.0.0.1:${relay.port}/`, process: relay.child },
      { name: "vipr-node", url: `ws://127.0.0.1:${viprNode.port}/`, host: "echo", process: viprNode.child },
      { name: "vipr-deno", url: `ws://127.0.0.1:${viprDeno.port}/`, host: "echo", process: viprDeno.child },
    ];
    for (const target of targets) await load(target, 1); // warm-up: JIT, WASM tables
    const results = new Map<string, LoadResult[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const target of targets) {
        const before = cpuTimeMs(target.process?.pid);
        const result = await load(target, duration);
        result.cpuPerMessageUs = ((cpuTimeMs(target.process?.pid) - before) * 1000) / (result.rate * duration);
        log(`round ${round} ${target.name}: ${Math.round(result.rate)} messages/s${Number.isNaN(result.cpuPerMessageUs) ? "" : `, ${result.cpuPerMessageUs.toFixed(1)} us CPU/message`}, errors ${result.errors}`);
        results.set(target.name, [...(results.get(target.name) ?? []), result]);
      }
    }
    const rate = (name: string): number => median((results.get(name) ?? []).map((r) => r.rate));
    const direct = rate("direct");
    const pipe = rate("pipe-relay");
    const pipeCpu = median((results.get("pipe-relay") ?? []).map((r) => r.cpuPerMessageUs));
    const rows: BenchRow[] = [
      row("ws", "direct_messages_per_s", direct, "messages/s", null, "no proxy: the ceiling on this machine"),
      row("ws", "pipe_relay_messages_per_s", pipe, "messages/s", direct, "node:net sockets piped to the pod: the floor of any relay"),
    ];
    for (const runtime of ["node", "deno"] as const) {
      const list = results.get(`vipr-${runtime}`) ?? [];
      rows.push(row("ws", `vipr_${runtime}_messages_per_s`, rate(`vipr-${runtime}`), "messages/s", direct, "baseline: the same load direct to the pod"));
      rows.push(row("ws", `vipr_${runtime}_vs_pipe_messages_per_s`, rate(`vipr-${runtime}`), "messages/s", pipe, "baseline: the node:net pipe relay"));
      rows.push(row("ws", `vipr_${runtime}_cpu_per_message`, median(list.map((r) => r.cpuPerMessageUs)), "us", pipeCpu, "CPU time per echoed message (both frames); baseline: the pipe relay's"));
      rows.push(row("ws", `vipr_${runtime}_errors`, list.reduce((a, r) => a + r.errors, 0), "errors", null, "socket errors over all rounds"));
    }
    printRows(rows, values.json === true);
  } finally {
    for (const child of children) child.kill("SIGTERM");
  }
}

// Last, once every const above is initialised.
if (values.pod) servePod();
else if (values.relay !== undefined) serveRelay(Number(values.relay));
else if (values.load !== undefined) await runLoad(values.load, values.host, Number(values.duration), Number(values.connections), Number(values.window), Number(values.size));
else await main();
