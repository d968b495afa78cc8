// npm run bench:timeouts [-- --json] [--samples N] [--values 100,300,500,1200,2000]
// deno run -A bench/timeouts.bench.ts [...]
// When each upstream timeout fires (issue 17): a ServiceRouter with the undici transport on
// serveNode (Node's edge, named here so both runtimes run the same stack), real loopback pods as
// in tests/forward/timeouts-fire.test.ts, each value set by annotation. Prints, per timeout and
// configured value, the median of N client-side measurements from before the request is sent
// until the 504 (idle: until the body breaks off, the silence starting right after the head).
// Figures on a loaded machine include the event loop's delays; the median keeps one stall out.
import http from "node:http";
import { parseArgs } from "node:util";
import { printRows, row, type BenchRow } from "./bench-report.ts";
import { nodeClientAddress, nodeRequestHeaders, serveNode } from "../adapters/node/serve-node.ts";
import { createUndiciTransport } from "../adapters/node/undici-transport.ts";
import { ServiceRouter } from "../router/service-router.ts";
import { buildRoutingTable } from "../router/table/build-routing-table.ts";
import { createWasmCore } from "../wasm/core-engine.ts";
import { closeNow, listenOnLoopback, seedService, slicesFor, startPod } from "../tests/support/seed-backends.ts";
import { startBlackholeListener, type BlackholeListener } from "../tests/forward/support/blackhole-listener.ts";

const { values } = parseArgs({
  options: { samples: { type: "string", default: "3" }, values: { type: "string", default: "100,300,500,1200,2000" }, json: { type: "boolean", default: false } },
});
const samples = Number(values.samples);
const valuesMs = values.values.split(",").map(Number);
const kinds = ["connect", "response", "idle", "request"] as const;
type Kind = (typeof kinds)[number];

const hanging = await startPod("hanging");
// Idle: the head and one chunk, then silence. Request: a pod that never answers, so the overall
// deadline (not a retry) decides.
const stalling = http.createServer((_request, response) => {
  response.writeHead(200, { "content-type": "text/plain" });
  response.write("first;");
});
const stallingPort = await listenOnLoopback(stalling);
const blackholes: BlackholeListener[] = [];
for (const _ of valuesMs) blackholes.push(await startBlackholeListener());

const annotation: Record<Kind, string> = { connect: "vipr.io/connect-timeout", response: "vipr.io/response-timeout", idle: "vipr.io/idle-timeout", request: "vipr.io/request-timeout" };
const router = new ServiceRouter({ core: createWasmCore(), transport: createUndiciTransport(), clientAddress: nodeClientAddress, requestHeaders: nodeRequestHeaders, outlierDetection: false });
const name = (kind: Kind, ms: number): string => `${kind}-${ms}`;
router.setTable(
  buildRoutingTable({
    services: kinds.flatMap((kind) =>
      valuesMs.map((ms) => {
        const annotations = { [annotation[kind]]: `${ms}ms` };
        return { ...seedService(annotations), metadata: { name: name(kind, ms), namespace: "default", resourceVersion: "1", annotations } };
      }),
    ),
    endpointSlices: valuesMs.flatMap((ms, i) => [
      ...slicesFor(name("connect", ms), [{ pod: "blackhole", port: blackholes[i]!.port }]),
      ...slicesFor(name("response", ms), [{ pod: "hanging", port: hanging.port }]),
      ...slicesFor(name("idle", ms), [{ pod: "stalling", port: stallingPort }]),
      ...slicesFor(name("request", ms), [{ pod: "hanging", port: hanging.port }]),
    ]),
  }),
);
const server = await serveNode(router.app);

/** Milliseconds from before the request until the response ended or broke off, and its status. */
function measure(host: string, path: string): Promise<{ ms: number; status: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request({ host: "127.0.0.1", port: server.port, path, headers: { host }, agent: false }, (response) => {
      response.resume();
      response.on("error", () => {});
      response.on("close", () => resolve({ ms: performance.now() - started, status: response.statusCode ?? 0 }));
    });
    request.on("error", reject);
    request.end();
  });
}

await measure(name("response", valuesMs[0]!), "/info"); // compiles the request path
const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
const runtime = "Deno" in globalThis ? "deno" : "node";
const rows: BenchRow[] = [];
if (!values.json) {
  console.log(`${runtime}: median of ${samples} per value, ms from before the request to the 504 (idle: to the broken-off body)`);
  console.log(["timeout", ...valuesMs.map((ms) => `${ms} ms`)].map((cell) => cell.padEnd(10)).join(" "));
}
for (const kind of kinds) {
  const cells: string[] = [];
  for (const ms of valuesMs) {
    const runs: number[] = [];
    const statuses = new Set<number>();
    for (let i = 0; i < samples; i++) {
      const result = await measure(name(kind, ms), kind === "response" || kind === "request" ? "/slow" : "/");
      runs.push(result.ms);
      statuses.add(result.status);
    }
    // The baseline is the configured value: a ratio of 1 is a timeout that fired exactly on time.
    rows.push(row("timeouts", `${runtime} ${kind} timeout of ${ms} ms`, median(runs), "ms", ms));
    cells.push(`${median(runs).toFixed(0)}${[...statuses].join("/") === (kind === "idle" ? "200" : "504") ? "" : ` (${[...statuses].join("/")})`}`);
  }
  if (!values.json) console.log([kind, ...cells].map((cell) => cell.padEnd(10)).join(" "));
}
if (values.json) printRows(rows, true);

await server.close();
await router.close();
await hanging.close();
await closeNow(stalling);
await Promise.all(blackholes.map((b) => b.close()));
