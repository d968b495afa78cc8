// npm run bench:ws [-- --json] [-- --duration S --rounds N --connections C --window W --size B --targets a,b --unpinned]
// WebSocket echo messages/s through vipr (on Node and on Deno) versus the same load direct to the
// pod and through the least relay each runtime can be, interleaved round by round in the same run
// (issue 13's target: at least 0.8x direct). Targets:
//   direct          the `ws` echo pod (bench/ws/echo-pod.ts), no hop
//   raw-relay-node  node:net sockets piped both ways (bench/ws/raw-relay.ts) on Node
//   raw-relay-deno  the same file on Deno (Deno's node:net, the sockets vipr relays with there)
//   deno-ws-relay   Deno.upgradeWebSocket + a WebSocket to the pod, message by message
//                   (bench/ws/deno-message-relay.ts): the other way to proxy on Deno
//   vipr-node       `vipr serve` on Node (adapters/node/upgrade-tunnel.ts)
//   vipr-deno       `vipr serve` on Deno (the same code over Deno's node:http and node:net)
// The load (bench/ws/ws-load.ts) is `ws` clients, C connections each keeping W messages of B bytes
// in flight (default 32 x 32 of 128 B: at 32 x 8 the direct figure itself rose by half with a
// deeper window, so it measured the round trip's latency as much as throughput). Pinned as bench/proxy.bench.ts does: the load and the pod share core 0, the relay
// under test has core 1 to itself (--unpinned: no pinning). So the direct runs use one core and a
// relay adds a second one: a relay reaches the direct figure as long as its CPU per message stays
// below what the load and the pod spend per message on core 0. The CPU time per message of each
// process (the relay, the pod, the load; /proc and process.cpuUsage over the counted window only)
// is reported beside messages/s: it moves far less with the machine's other load, and it shows
// which core is the limit.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
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

const ALL_TARGETS = ["direct", "raw-relay-node", "raw-relay-deno", "deno-ws-relay", "vipr-node", "vipr-deno"] as const;
type TargetName = (typeof ALL_TARGETS)[number];

const { values } = parseArgs({
  options: {
    ...loadBenchOptions("32"),
    window: { type: "string", default: "32" },
    size: { type: "string", default: "128" },
    targets: { type: "string", default: ALL_TARGETS.join(",") },
    unpinned: { type: "boolean", default: false },
  },
});
const pinned = pinning && values.unpinned !== true;
const chosen = new Set(values.targets.split(","));
const targetNames = ALL_TARGETS.filter((name) => name === "direct" || chosen.has(name));

const log = (line: string): void => void process.stderr.write(`bench:ws: ${line}\n`);
const start = (core: number, command: string, args: string[]) => startProcess(command, args, pinned ? { core } : {});
const node = (args: string[]): [string, string[]] => [bin("node"), args];
const deno = (args: string[]): [string, string[]] => [bin("deno"), ["run", "-A", ...args]];

interface Target {
  readonly name: TargetName;
  readonly url: string;
  /** The Host the load sends (vipr routes by it). */
  readonly host?: string;
  /** The relay's process; none for direct. */
  readonly relay?: ChildProcess;
}

interface LoadResult {
  readonly rate: number;
  readonly errors: number;
  /** CPU time per echoed message (both frames), in microseconds, over the counted window. */
  readonly relayCpuUs: number;
  readonly podCpuUs: number;
  readonly loadCpuUs: number;
}

/** One counted run of the load generator (its own process, on core 0) against a target; the
 * pod's and the relay's CPU are read when the load says it starts counting and when it is done. */
function load(target: Target, pod: ChildProcess, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const args = ["bench/ws/ws-load.ts", target.url, target.host ?? "-", values.connections, values.window, values.size, String(seconds)];
    const [command, launched] = pinned ? pin(0, bin("node"), args) : node(args);
    const child = spawn(command, launched, { stdio: ["ignore", "pipe", "inherit"] });
    const cpu = (): [number, number] => [cpuTimeMs(target.relay?.pid), cpuTimeMs(pod.pid)];
    let before: [number, number] | undefined;
    let out = "";
    let settled = false;
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (before === undefined && out.startsWith("counting\n")) before = cpu();
      const line = /^\{.*\}$/m.exec(out)?.[0];
      if (line === undefined || before === undefined || settled) return;
      settled = true;
      const after = cpu();
      const { messages, seconds: elapsed, errors, cpuMs } = JSON.parse(line) as { messages: number; seconds: number; errors: number; cpuMs: number };
      const perMessage = (ms: number): number => (messages > 0 ? (ms * 1000) / messages : NaN);
      resolve({ rate: messages / elapsed, errors, relayCpuUs: perMessage(after[0] - before[0]), podCpuUs: perMessage(after[1] - before[1]), loadCpuUs: perMessage(cpuMs) });
    });
    child.once("exit", (code) => {
      if (!settled) reject(new Error(`load generator exited with ${code}: ${out}`));
    });
  });
}

const microseconds = (n: number): string => (Number.isNaN(n) ? "-" : `${n.toFixed(1)} us`);

async function main(): Promise<void> {
  const duration = Number(values.duration);
  const rounds = Number(values.rounds);
  const children: ChildProcess[] = [];
  try {
    log(pinned ? "relays pinned to core 1, the pod and the load generator to core 0" : "processes not pinned");
    log(`${values.connections} connections x ${values.window} messages of ${values.size} B in flight`);
    const pod = await start(0, ...node(["bench/ws/echo-pod.ts"]));
    children.push(pod.child);
    const folder = mkdtempSync(join(tmpdir(), "vipr-bench-ws-"));
    const manifest = writeServiceManifest(folder, { name: "echo", port: pod.port, app: "echo", pod: "echo-0" });
    const serve = ["adapters/cli/vipr.ts", "serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"];
    const launch: Record<Exclude<TargetName, "direct">, [string, string[]]> = {
      "raw-relay-node": node(["bench/ws/raw-relay.ts", String(pod.port)]),
      "raw-relay-deno": deno(["bench/ws/raw-relay.ts", String(pod.port)]),
      "deno-ws-relay": deno(["bench/ws/deno-message-relay.ts", String(pod.port)]),
      "vipr-node": node(serve),
      "vipr-deno": deno(serve),
    };
    const targets: Target[] = [];
    for (const name of targetNames) {
      if (name === "direct") {
        targets.push({ name, url: `ws://127.0.0.1:${pod.port}/` });
        continue;
      }
      const relay = await start(1, ...launch[name]);
      children.push(relay.child);
      targets.push({ name, url: `ws://127.0.0.1:${relay.port}/`, relay: relay.child, ...(name.startsWith("vipr") ? { host: "echo" } : {}) });
    }
    for (const target of targets) await load(target, pod.child, 1); // warm-up: JIT, WASM tables
    const results = new Map<TargetName, LoadResult[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const target of targets) {
        const r = await load(target, pod.child, duration);
        log(`round ${round} ${target.name}: ${Math.round(r.rate)} messages/s; CPU/message: relay ${microseconds(r.relayCpuUs)}, pod ${microseconds(r.podCpuUs)}, load ${microseconds(r.loadCpuUs)}; errors ${r.errors}`);
        results.set(target.name, [...(results.get(target.name) ?? []), r]);
      }
    }
    printRows(summarize(results), values.json === true);
  } finally {
    for (const child of children) child.kill("SIGTERM");
  }
}

/** The rows: each relay's messages/s against direct, vipr's against its runtime's raw relay, CPU
 * per message of the relay (against the raw relay of its runtime) and of core 0's two processes. */
function summarize(results: Map<TargetName, LoadResult[]>): BenchRow[] {
  const of = (name: TargetName, field: Exclude<keyof LoadResult, "errors">): number => {
    const list = (results.get(name) ?? []).map((r) => r[field]).filter((n) => !Number.isNaN(n));
    return list.length === 0 ? NaN : median(list);
  };
  const has = (name: TargetName): boolean => results.has(name);
  const orNull = (name: TargetName, field: Exclude<keyof LoadResult, "errors">): number | null => (has(name) ? of(name, field) : null);
  const load = `${values.connections} connections x ${values.window} messages of ${values.size} B in flight`;
  const direct = of("direct", "rate");
  const directEnds = of("direct", "podCpuUs") + of("direct", "loadCpuUs");
  const rows: BenchRow[] = [
    row("ws", "direct_messages_per_s", direct, "messages/s", null, `no relay: the ceiling on this machine; ${load}`),
    row("ws", "direct_pod_cpu_per_message", of("direct", "podCpuUs"), "us", null, "the echo pod's CPU per echoed message"),
    row("ws", "direct_load_cpu_per_message", of("direct", "loadCpuUs"), "us", null, "the ws load generator's CPU per echoed message"),
  ];
  const rawOf: Record<Exclude<TargetName, "direct">, TargetName | null> = {
    "raw-relay-node": null,
    "raw-relay-deno": null,
    "deno-ws-relay": "raw-relay-deno",
    "vipr-node": "raw-relay-node",
    "vipr-deno": "raw-relay-deno",
  };
  for (const name of targetNames) {
    if (name === "direct") continue;
    const metric = name.replaceAll("-", "_");
    const raw = rawOf[name];
    rows.push(row("ws", `${metric}_messages_per_s`, of(name, "rate"), "messages/s", direct, "baseline: the same load direct to the pod"));
    if (raw !== null && has(raw)) rows.push(row("ws", `${metric}_vs_raw_relay_messages_per_s`, of(name, "rate"), "messages/s", of(raw, "rate"), `baseline: ${raw} (node:net pipe)`));
    rows.push(row("ws", `${metric}_cpu_per_message`, of(name, "relayCpuUs"), "us", raw === null ? null : orNull(raw, "relayCpuUs"), raw === null ? "the relay process's CPU per echoed message (both frames)" : `baseline: ${raw}'s`));
    rows.push(row("ws", `${metric}_pod_and_load_cpu_per_message`, of(name, "podCpuUs") + of(name, "loadCpuUs"), "us", directEnds, "core 0 (pod + load) per message; baseline: the same, direct"));
    rows.push(row("ws", `${metric}_errors`, (results.get(name) ?? []).reduce((a, r) => a + r.errors, 0), "errors", null, "socket errors over all rounds"));
  }
  return rows;
}

await main();
