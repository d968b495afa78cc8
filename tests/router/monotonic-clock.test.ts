// Every timing of a request runs on the router's injected monotonic clock
// (ServiceRouterOptions.monotonicNow, router/monotonic-clock.ts): the latency the metrics and the
// access log record, the overall request timeout that stops retries, and the time left of it each
// try is given. Here the clock moves only when a pod moves it, while it holds the request: a
// duration then comes out exact, and a request timeout passes with no wall time passing. On the
// runtime's own clock each figure below would be a few milliseconds, and the retry would go.
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import type { UpstreamTransport } from "../../router/forward/upstream-transport.ts";
import type { AccessLog, AccessRecord } from "../../router/observability/access-log.ts";
import { NoopMetrics } from "../../router/observability/router-metrics.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { closeNow, listenOnLoopback, seedService, slicesFor } from "../support/seed-backends.ts";

const runtime = await loadRuntimeAdapter();
const runtimeName = "Deno" in globalThis ? "deno" : "node";

/** The router's monotonic clock, in milliseconds; far from 0, as performance.now() may be. */
const clock = { ms: 7_000_000 };
/** How long the answering pod holds a request, on the clock. */
const ANSWER_AFTER_MS = 250;
/** How long a resetting pod holds a request before it closes the connection, on the clock. */
const RESET_AFTER_MS = 600;

const records: AccessRecord[] = [];
const accessLog: AccessLog = { enabled: true, sample: () => true, write: (record) => void records.push(record), log: (record) => void records.push(record) };
/** Latencies the metrics were given, in seconds, by service. */
const latencies: { service: string; seconds: number }[] = [];
class LatencyRecorder extends NoopMetrics {
  override requestDone(service: string, _status: number, seconds: number): void {
    latencies.push({ service, seconds });
  }
}
/** What each try was given: its response timeout and the time left of the request timeout. */
const calls: { host: string; responseTimeoutMs: number; requestTimeLeftMs: number | undefined }[] = [];
function recordingTransport(inner: UpstreamTransport): UpstreamTransport {
  return {
    forward(c, target, call) {
      calls.push({ host: (c.req.header("host") ?? "").toLowerCase(), responseTimeoutMs: call.responseTimeoutMs, requestTimeLeftMs: call.requestTimeLeftMs });
      return inner.forward(c, target, call);
    },
    retain: (keys) => inner.retain(keys),
    close: () => inner.close(),
  };
}

/** A pod that moves the clock on by `holdMs` while it holds each request, then answers 200
 * (`reset` false) or closes the connection without an answer (a reset: safe to retry for a GET). */
function clockMovingPod(holdMs: number, reset: boolean): { listen(): Promise<number>; close(): Promise<void> } {
  if (!reset) {
    const server = http.createServer((request, response) => {
      request.resume();
      clock.ms += holdMs;
      response.end("ok");
    });
    return { listen: () => listenOnLoopback(server), close: () => closeNow(server) };
  }
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.once("data", () => {
      clock.ms += holdMs;
      socket.destroy();
    });
  });
  return {
    listen: () => new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port))),
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}

/** A GET with Host `host` on a connection of its own: its status and the router's error, if any. */
function get(host: string): Promise<{ status: number; error: { code?: string; tries?: number; notRetried?: string } | undefined }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: "127.0.0.1", port: server.port, path: "/info", headers: { host, connection: "close" } }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, error: text.startsWith("{") ? (JSON.parse(text) as { error?: never }).error : undefined }));
    });
    request.on("error", reject);
  });
}

const pods = [clockMovingPod(ANSWER_AFTER_MS, false), clockMovingPod(RESET_AFTER_MS, true), clockMovingPod(RESET_AFTER_MS, true), clockMovingPod(RESET_AFTER_MS, true)];
let router: ServiceRouter;
let server: RunningServer;

beforeAll(async () => {
  const [answering, ...resetting] = await Promise.all(pods.map((pod) => pod.listen()));
  router = new ServiceRouter({
    core: createWasmCore(),
    transport: recordingTransport(runtime.createTransport()),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    monotonicNow: () => clock.ms,
    metrics: new LatencyRecorder(),
    accessLog,
    outlierDetection: false,
    timeouts: { responseMs: 30_000 },
  });
  router.setTable(
    buildRoutingTable({
      services: [
        { ...seedService(), metadata: { name: "timed", namespace: "default", resourceVersion: "1" } },
        // 1 s overall: the first try's reset leaves 400 ms of it, the second's none.
        { ...seedService(), metadata: { name: "bounded", namespace: "default", resourceVersion: "1", annotations: { "vipr.io/request-timeout": "1s" } } },
      ],
      endpointSlices: [...slicesFor("timed", [{ pod: "answering", port: answering! }]), ...slicesFor("bounded", resetting.map((port, i) => ({ pod: `resetting-${i}`, port })))],
    }),
  );
  server = await runtime.serve(router.app);
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  await Promise.all(pods.map((pod) => pod.close()));
});

describe(`the router's monotonic clock, on ${runtimeName}`, () => {
  test("a relayed response's latency, in the metrics and the access log, is the time on the router's clock", async () => {
    records.length = 0;
    latencies.length = 0;
    expect((await get("timed")).status).toBe(200);
    expect(latencies).toEqual([{ service: "default/timed", seconds: ANSWER_AFTER_MS / 1000 }]);
    expect(records.map((record) => ({ service: record.service, status: record.status, duration_ms: record.duration_ms }))).toEqual([
      { service: "default/timed", status: 200, duration_ms: ANSWER_AFTER_MS },
    ]);
  });

  test("vipr's own answer takes no time on a clock that did not move", async () => {
    records.length = 0;
    latencies.length = 0;
    expect((await get("nosuchservice")).status).toBe(404);
    expect(latencies).toEqual([{ service: "-", seconds: 0 }]);
    expect(records.map((record) => record.duration_ms)).toEqual([0]);
  });

  test("the request timeout counts on the router's clock: each try gets the time left, and no retry starts once it has passed", async () => {
    records.length = 0;
    calls.length = 0;
    const answer = await get("bounded");
    // The first try's reset is at 600 ms on the clock: retried, with 400 ms left; the second's at
    // 1200 ms: past the 1 s, so not retried although a third endpoint and a retry remain.
    expect(answer).toEqual({ status: 502, error: expect.objectContaining({ code: "upstream_reset", tries: 2, notRetried: "request_timeout" }) });
    expect(calls).toEqual([
      { host: "bounded", responseTimeoutMs: 1000, requestTimeLeftMs: 1000 },
      { host: "bounded", responseTimeoutMs: 400, requestTimeLeftMs: 400 },
    ]);
    expect(records.map((record) => record.duration_ms)).toEqual([2 * RESET_AFTER_MS]);
  });
});
