// Concurrency limits (router/concurrency-limits.ts) on this runtime, with real loopback pods: a
// service annotated vipr.io/max-requests: 2 answers a third concurrent request with 503
// `overloaded` at once and serves again once one ends; the router-wide limit counts every service;
// a slot is held until the response body has ended (a slow body), and every way a request can end
// (success, a dead pod, a timeout, a client that hangs up mid-body) gives its slot back.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import { ConcurrencyLimits } from "../../router/concurrency-limits.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { ServiceEntry } from "../../router/table/routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { rawRequest } from "../cli/vipr-process.ts";
import { seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";

const runtime = await loadRuntimeAdapter();
let pod: Pod;
let router: ServiceRouter;
let server: RunningServer;
const metrics = new RouterMetrics();
const logged: string[] = [];

/** One request over a raw socket with `host` (fetch will not send a foreign Host). */
const request = (host: string, path: string) => rawRequest(server.port, `GET ${path} HTTP/1.1`, host);

const until = async (check: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

function service(name: string, annotations: Record<string, string> = {}) {
  return { ...seedService(annotations), metadata: { name, namespace: "default", resourceVersion: "1", annotations } };
}

const services = () => [service("limited", { "vipr.io/max-requests": "2" }), service("open"), service("dead"), service("badlimit", { "vipr.io/max-requests": "lots" })];
const slices = () => [
  ...slicesFor("limited", [{ pod: pod.name, port: pod.port }]),
  ...slicesFor("open", [{ pod: pod.name, port: pod.port }]),
  ...slicesFor("badlimit", [{ pod: pod.name, port: pod.port }]),
  // Nothing listens on port 1: every try is refused.
  ...slicesFor("dead", [{ pod: "sise-dead", port: 1 }]),
];

beforeAll(async () => {
  pod = await startPod("sise-limits");
  router = new ServiceRouter({
    core: createWasmCore(),
    transport: runtime.createTransport(),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    maxRequests: 5,
    metrics,
    timeouts: { responseMs: 1500 },
    log: (line) => logged.push(line),
  });
  router.setTable(buildRoutingTable({ services: services(), endpointSlices: slices() }));
  server = await runtime.serve(router.app);
});
afterAll(async () => {
  await server?.close();
  await router?.close();
  await pod?.close();
});

describe(`concurrency limits on ${runtime.name}`, () => {
  test("vipr.io/max-requests: 2 answers a third concurrent request with 503 overloaded, then serves again", async () => {
    const slow = [request("limited", "/delay?ms=1000"), request("limited", "/delay?ms=1000")];
    await until(() => router.inFlight === 2, "two requests in flight");
    const started = performance.now();
    const third = await request("limited", "/info");
    const tookMs = performance.now() - started;
    expect(third.status).toBe(503);
    expect(third.head).toMatch(/\r\nretry-after: 1/i);
    expect(third.head).toMatch(/\r\nx-vipr-error: overloaded/i);
    expect(JSON.parse(third.body)).toEqual({
      error: {
        status: 503,
        code: "overloaded",
        message: "service default/limited has 2 requests in flight, its limit (vipr.io/max-requests: 2); try again shortly",
        service: "default/limited",
        scope: "service",
        limit: 2,
      },
    });
    // Refused at once, not queued behind the slow ones.
    expect(tookMs).toBeLessThan(800);
    // Another service is not limited by this one's annotation.
    expect((await request("open", "/info")).status).toBe(200);
    expect((await Promise.all(slow)).map((a) => a.status)).toEqual([200, 200]);
    await until(() => router.inFlight === 0, "the slots back");
    expect((await request("limited", "/info")).status).toBe(200);
  });

  test("the router-wide limit (maxRequests 5) counts every service", async () => {
    const slow = [
      ...Array.from({ length: 2 }, () => request("limited", "/delay?ms=400")),
      ...Array.from({ length: 3 }, () => request("open", "/delay?ms=400")),
    ];
    await until(() => router.inFlight === 5, "five requests in flight");
    expect((await metrics.render()).body).toMatch(/^vipr_requests_in_flight 5$/m);
    const sixth = await request("open", "/info");
    expect(sixth.status).toBe(503);
    expect(JSON.parse(sixth.body).error).toMatchObject({ code: "overloaded", scope: "router", limit: 5, message: "vipr has 5 requests in flight, its limit (--max-requests 5); try again shortly" });
    expect((await Promise.all(slow)).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    await until(() => router.inFlight === 0, "the slots back");
    expect((await metrics.render()).body).toMatch(/^vipr_requests_in_flight 0$/m);
  });

  test("a slot is held until the response body ends", async () => {
    // 64 MB to a client that does not read for a while: more than socket buffers hold, so the
    // body cannot end before the client reads.
    const socket = net.connect(server.port, "127.0.0.1", () => socket.write("GET /big?bytes=64000000 HTTP/1.1\r\nhost: limited\r\nconnection: close\r\n\r\n"));
    let received = 0;
    // The first bytes (the head) mean the router has handed the response over; the client then
    // stops reading, so the body cannot end: the slot must still be held (an event, not a wait).
    await new Promise<void>((resolve) =>
      socket.once("data", (chunk: Buffer) => {
        socket.pause();
        received += chunk.length;
        resolve();
      }),
    );
    socket.on("data", (chunk: Buffer) => (received += chunk.length));
    expect(received).toBeLessThan(64_000_000);
    expect(router.inFlight).toBe(1);
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.resume();
    await closed;
    expect(received).toBeGreaterThan(64_000_000);
    await until(() => router.inFlight === 0, "the slot back after the body");
  });

  test("every way a request ends gives its slot back: dead pod, timeout, client gone mid-body", async () => {
    expect((await request("dead", "/info")).status).toBe(502);
    expect((await request("open", "/slow")).status).toBe(504);
    const socket = net.connect(server.port, "127.0.0.1", () => socket.write("GET /big?bytes=20000000 HTTP/1.1\r\nhost: open\r\n\r\n"));
    await new Promise<void>((resolve) => socket.once("data", () => resolve()));
    socket.destroy();
    await until(() => router.inFlight === 0, "every slot back");
    // And all five slots are usable again.
    const answers = await Promise.all(Array.from({ length: 5 }, () => request("open", "/delay?ms=100")));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
  });

  test("answers without a body (HEAD, 204, 304) give their slot back too", async () => {
    const head = await rawRequest(server.port, "HEAD /info HTTP/1.1", "open");
    expect(head.status).toBe(200);
    for (const status of [204, 304]) {
      const other = await startPod(`sise-${status}`, { status });
      try {
        router.setTable(buildRoutingTable({ services: [...services(), service("nobody")], endpointSlices: [...slices(), ...slicesFor("nobody", [{ pod: other.name, port: other.port }])] }));
        expect((await request("nobody", "/echo")).status).toBe(status);
      } finally {
        await other.close();
      }
    }
    await until(() => router.inFlight === 0, "every slot back");
  });

  test("HEAD then GET on one keep-alive connection: both answered, the connection kept", async () => {
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(server.port, "127.0.0.1", () =>
          socket.write("HEAD /info HTTP/1.1\r\nhost: open\r\n\r\nGET /info HTTP/1.1\r\nhost: open\r\nconnection: close\r\n\r\n"),
        );
        let data = "";
        socket.setEncoding("utf8");
        socket.on("data", (chunk: string) => (data += chunk));
        socket.on("error", reject);
        socket.on("close", () => resolve(data));
      });
      expect(answer.match(/^HTTP\/1\.1 200 OK/gm)).toHaveLength(2);
      expect(answer).toContain('"pod":"sise-limits"');
      expect(errors).toEqual([]);
    } finally {
      console.error = original;
    }
  });

  test("a bad annotation is logged once and means no per-service limit", async () => {
    const answers = await Promise.all(Array.from({ length: 4 }, () => request("badlimit", "/delay?ms=100")));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(logged.filter((line) => line.includes("max-requests"))).toEqual([
      'service default/badlimit: vipr.io/max-requests: "lots" is not a whole number of at least 1; no per-service limit',
    ]);
  });
});

describe("ConcurrencyLimits", () => {
  const entry = (key: string, annotations: Record<string, string> = {}) => ({ key, annotations }) as unknown as ServiceEntry;

  test("admits up to each limit and frees the service's count at zero", () => {
    const limits = new ConcurrencyLimits(3);
    const a = entry("default/a", { "vipr.io/max-requests": "1" });
    const b = entry("default/b");
    expect(limits.admit(a)).toBeUndefined();
    expect(limits.admit(a)).toMatchObject({ scope: "service", limit: 1 });
    expect(limits.admit(b)).toBeUndefined();
    expect(limits.admit(b)).toBeUndefined();
    expect(limits.admit(b)).toMatchObject({ scope: "router", limit: 3 });
    limits.release("default/a");
    expect(limits.admit(a)).toBeUndefined();
    expect(limits.inFlight).toBe(3);
  });

  test("0 means no router-wide limit; a negative or fractional limit is refused", () => {
    const limits = new ConcurrencyLimits(0);
    for (let i = 0; i < 50_000; i++) expect(limits.admit(entry("default/a"))).toBeUndefined();
    expect(() => new ConcurrencyLimits(-1)).toThrow("maxRequests must be a whole number >= 0, got -1");
    expect(() => new ConcurrencyLimits(1.5)).toThrow("got 1.5");
  });
});
