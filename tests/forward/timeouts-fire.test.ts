// Issue 17: each upstream timeout fires when it is configured to: never before, and well before the
// next tick of a coarse timer (undici's own timers tick every 500 ms to 1 s; before issue 17 a 100 ms
// timeout fired a second late). How close to the value it fires is speed, measured by
// `npm run bench:timeouts` (bench/timeouts.bench.ts), not here: on this 2-core machine shared with
// other runs, an event loop can pause for tens of milliseconds. The router runs on
// the Node edge, the undici transport served by serveNode, named here and not taken from the
// runtime adapter, so this file tests the same stack on Node and on Deno (`deno run -A
// node_modules/vitest/vitest.mjs run tests/forward/timeouts-fire.test.ts`). Real loopback pods:
// - response: a pod that takes the request and never answers (GET, and HEAD, which takes the
//   transport's Web Response path); and an upload longer than the timeout, which it must not cut;
// - idle: a pod that sends the head and a chunk, another chunk half the timeout later, then stalls;
// - connect: a port whose accept queue is full, where a connect never completes
//   (support/blackhole-listener.ts);
// - request (overall, across retries): pods that reset each try at half the timeout, so the retry
//   is in flight when the overall deadline passes; and the blackhole again, for a deadline that
//   passes while the try still waits for its connection.
// Times are measured on the client's side, from before the request is sent: vipr starts every
// timer after that, so "not before the value" holds without slack.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeClientAddress, nodeRequestHeaders, serveNode, type NodeServer } from "../../adapters/node/serve-node.ts";
import { createUndiciTransport } from "../../adapters/node/undici-transport.ts";
import { createAccessLog, type AccessRecord } from "../../router/observability/access-log.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { closeNow, listenOnLoopback, seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";
import { startBlackholeListener, type BlackholeListener } from "./support/blackhole-listener.ts";

const VALUES_MS = [100, 300] as const;
/**
 * How late a timeout may fire, measured from the client, in the best of three attempts: less than
 * a coarse timer's tick, so a timer on undici's 500 ms to 1 s clock fails, while a loaded machine's
 * pauses do not.
 */
const LATE_MS = 400;
/** Each request-timeout pod resets its try after this share of the timeout. */
const RESET_SHARE = 0.5;

let hanging: Pod;
let stalling: http.Server;
let stallingPort: number;
let resetting: http.Server[];
let resettingPorts: number[];
const blackholes = new Map<number, BlackholeListener>();
/** For the request timeout while connecting: its pool keeps the default connect timeout (2 s). */
let slowConnect: BlackholeListener;
let router: ServiceRouter;
let server: NodeServer;
const accessRecords: AccessRecord[] = [];

/** Answers with a head and "first;" at once, "second;" `after` ms later, then nothing. */
function startStallingPod(): http.Server {
  return http.createServer((request, response) => {
    const after = Number(new URL(request.url ?? "/", "http://pod").searchParams.get("after"));
    response.writeHead(200, { "content-type": "text/plain" });
    response.write("first;");
    setTimeout(() => response.write("second;"), after);
  });
}

/** Takes the request, then closes the connection without answering `after` ms later. */
function startResettingPod(): http.Server {
  return http.createServer((request) => {
    const after = Number(new URL(request.url ?? "/", "http://pod").searchParams.get("after"));
    setTimeout(() => request.socket.destroy(), after);
  });
}

const service = (name: string, annotations: Record<string, string>) => ({ ...seedService(annotations), metadata: { name, namespace: "default", resourceVersion: "1", annotations } });

beforeAll(async () => {
  hanging = await startPod("hanging");
  stalling = startStallingPod();
  stallingPort = await listenOnLoopback(stalling);
  resetting = [startResettingPod(), startResettingPod(), startResettingPod()];
  resettingPorts = await Promise.all(resetting.map((pod) => listenOnLoopback(pod)));
  // One blackhole per value: the connect timeout is fixed per endpoint pool by its first try.
  for (const ms of VALUES_MS) blackholes.set(ms, await startBlackholeListener());
  slowConnect = await startBlackholeListener();
  router = new ServiceRouter({
    core: createWasmCore(),
    transport: createUndiciTransport(),
    clientAddress: nodeClientAddress,
    requestHeaders: nodeRequestHeaders,
    // The resetting pods fail every try: passive health would eject them between attempts.
    outlierDetection: false,
    accessLog: createAccessLog({ sampleRate: 1, write: (line) => accessRecords.push(JSON.parse(line) as AccessRecord) }),
  });
  router.setTable(
    buildRoutingTable({
      services: VALUES_MS.flatMap((ms) => [
        service(`response-${ms}`, { "vipr.io/response-timeout": `${ms}ms` }),
        service(`idle-${ms}`, { "vipr.io/idle-timeout": `${ms}ms` }),
        service(`connect-${ms}`, { "vipr.io/connect-timeout": `${ms}ms` }),
        service(`request-${ms}`, { "vipr.io/request-timeout": `${ms}ms` }),
        service(`request-connecting-${ms}`, { "vipr.io/request-timeout": `${ms}ms` }),
      ]),
      endpointSlices: VALUES_MS.flatMap((ms) => [
        ...slicesFor(`response-${ms}`, [{ pod: "hanging", port: hanging.port }]),
        ...slicesFor(`idle-${ms}`, [{ pod: "stalling", port: stallingPort }]),
        ...slicesFor(`connect-${ms}`, [{ pod: "blackhole", port: blackholes.get(ms)!.port }]),
        ...slicesFor(`request-${ms}`, resettingPorts.map((port, i) => ({ pod: `resetting-${i}`, port }))),
        ...slicesFor(`request-connecting-${ms}`, [{ pod: "blackhole", port: slowConnect.port }]),
      ]),
    }),
  );
  server = await serveNode(router.app);
  // A first request compiles the request path (and, on Deno, warms its Node compatibility layer):
  // tens of milliseconds that belong to no timer.
  for (const ms of VALUES_MS) expect((await exchange(`response-${ms}`, "/info")).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  await hanging?.close();
  await Promise.all([stalling, ...(resetting ?? [])].filter((s) => s !== undefined).map((s) => closeNow(s)));
  await Promise.all([...blackholes.values(), slowConnect].filter((b) => b !== undefined).map((b) => b.close()));
});

interface Exchange {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The response body ended with its last chunk (false: the connection closed before). */
  readonly complete: boolean;
  /** From before the request was sent until the response ended or broke off. */
  readonly elapsedMs: number;
}

/** One request through vipr on a new connection, timed on this side. `send` writes the body and
 * ends the request (default: none). */
function exchange(host: string, path: string, method = "GET", send: (request: http.ClientRequest) => void = (request) => request.end()): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request({ host: "127.0.0.1", port: server.port, path, method, headers: { host }, agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      // 'close' comes after 'end' or after the connection broke off mid-body.
      response.on("close", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body, complete: response.complete, elapsedMs: performance.now() - started }));
      response.on("error", () => {});
    });
    request.on("error", reject);
    send(request);
  });
}

/**
 * Runs `attempt` until one ends within LATE_MS of `valueMs`, at most 3 times, and returns every
 * exchange. The lower bound is checked on every attempt and never relaxed: a timeout that fires
 * early is wrong however rarely. The upper bound needs only one attempt, because it measures vipr's
 * timer plus the delay of an event loop on a machine shared with other test runs: a single attempt
 * can land on a pause (a GC, other processes on the two cores) that says nothing about the timer,
 * while a timer that fires late (before issue 17: a second late at 100 ms) fails all three.
 * `scenario` says whether an attempt set up what the test is about (a pod's own timer can be late
 * under the same load); one that did not is not counted as the best.
 */
async function bestOfThree(valueMs: number, attempt: () => Promise<Exchange>, scenario: (exchange: Exchange) => boolean = () => true): Promise<Exchange[]> {
  const exchanges: Exchange[] = [];
  const counted: number[] = [];
  for (let i = 0; i < 3; i++) {
    const result = await attempt();
    exchanges.push(result);
    expect(result.elapsedMs, `attempt ${i + 1} answered before the ${valueMs} ms timeout`).toBeGreaterThanOrEqual(valueMs);
    if (!scenario(result)) continue;
    counted.push(result.elapsedMs);
    if (result.elapsedMs <= valueMs + LATE_MS) break;
  }
  const shown = exchanges.map((e) => `${e.elapsedMs.toFixed(1)}${scenario(e) ? "" : " (not counted)"}`).join(", ");
  expect(Math.min(...counted), `best of ${exchanges.length}: ${shown} ms`).toBeLessThanOrEqual(valueMs + LATE_MS);
  return exchanges;
}

/** The 504 of router-errors.ts for a timeout. */
function expectUpstreamTimeout(exchange: Exchange): { message: string; sent: boolean; tries: number } {
  expect(exchange.status).toBe(504);
  expect(exchange.headers["x-vipr-error"]).toBe("upstream_timeout");
  const json = JSON.parse(exchange.body) as { error: { status: number; code: string; message: string; sent: boolean; tries: number } };
  expect(json.error).toMatchObject({ status: 504, code: "upstream_timeout" });
  return json.error;
}

describe.each(VALUES_MS)("timeouts of %i ms fire on time, not on a coarse timer (undici transport on serveNode)", (ms) => {
  test("response: a pod that never answers gets 504 upstream_timeout", async () => {
    const exchanges = await bestOfThree(ms, () => exchange(`response-${ms}`, "/slow"));
    for (const e of exchanges) {
      const error = expectUpstreamTimeout(e);
      expect(error.message).toContain(`response timeout of ${ms}ms`);
      expect(error.sent).toBe(true);
    }
  });

  test("response, HEAD (the transport's Web Response path): 504 upstream_timeout", async () => {
    const exchanges = await bestOfThree(ms, () => exchange(`response-${ms}`, "/slow", "HEAD"));
    for (const e of exchanges) expect([e.status, e.headers["x-vipr-error"]]).toEqual([504, "upstream_timeout"]);
  });

  test("response: counted from when the request has been sent, so an upload three times as long is not cut", async () => {
    // Six chunks, one every half timeout; the pod answers once it has the whole body.
    const upload = (request: http.ClientRequest): void => {
      let sent = 0;
      const next = (): void => {
        if (++sent === 6) return void request.end("chunk;");
        request.write("chunk;");
        setTimeout(next, ms / 2);
      };
      next();
    };
    const e = await exchange(`response-${ms}`, "/echo", "POST", upload);
    expect(e.status, e.body).toBe(200);
    expect(JSON.parse(e.body)).toMatchObject({ method: "POST", bodyBytes: 36 });
    expect(e.elapsedMs).toBeGreaterThanOrEqual(2.5 * ms);
  });

  test("idle: a body silent for the idle timeout is cut off, the silence counted from its last chunk", async () => {
    // The second chunk comes half the timeout in: the body is cut off the full timeout after it.
    const after = ms / 2;
    const exchanges = await bestOfThree(after + ms, () => exchange(`idle-${ms}`, `/stall?after=${after}`));
    for (const e of exchanges) {
      // The head was sent before the body went idle: the client sees its body break off.
      expect([e.status, e.body, e.complete]).toEqual([200, "first;second;", false]);
    }
    const cut = accessRecords.filter((r) => r.service === `default/idle-${ms}`);
    expect(cut).toHaveLength(exchanges.length);
    for (const record of cut) expect(record.error).toContain(`UND_ERR_BODY_TIMEOUT the response body was idle for the idle timeout of ${ms}ms`);
  });

  test("connect: a connect that never completes gets 504 upstream_timeout, nothing sent", async () => {
    const exchanges = await bestOfThree(ms, () => exchange(`connect-${ms}`, "/"));
    for (const e of exchanges) {
      const error = expectUpstreamTimeout(e);
      expect(error.message).toContain(`within the connect timeout of ${ms}ms`);
      expect(error.sent).toBe(false);
    }
  });

  test("request (overall): the retry in flight is cut at the deadline counted from the request's arrival", async () => {
    // Counted: the first try was reset before the deadline and the second was in flight at it (a
    // reset that came late leaves one try, cut at the deadline all the same); never a third.
    const retried = (e: Exchange): boolean => (JSON.parse(e.body) as { error: { tries: number } }).error.tries === 2;
    const exchanges = await bestOfThree(ms, () => exchange(`request-${ms}`, `/?after=${ms * RESET_SHARE}`), retried);
    for (const e of exchanges) {
      const error = expectUpstreamTimeout(e);
      expect(error.message).toContain("request timeout (overall, across tries)");
      expect(error.tries).toBeLessThanOrEqual(2);
    }
  });

  test("request (overall): a try still waiting for its connection is cut at the deadline, nothing sent", async () => {
    const exchanges = await bestOfThree(ms, () => exchange(`request-connecting-${ms}`, "/"));
    for (const e of exchanges) {
      const error = expectUpstreamTimeout(e);
      expect(error.message).toContain("request timeout (overall, across tries)");
      expect([error.sent, error.tries]).toEqual([false, 1]);
    }
  });
});
