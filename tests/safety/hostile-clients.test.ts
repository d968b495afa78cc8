// Issue 17: a client can neither crash vipr nor get a healthy pod ejected. Only what a pod did
// (refused, reset, timed out, answered 5xx, broke the protocol) counts against it in passive
// health; what the client did, or what vipr refused, never does.
//
// Each case talks to the served router over a raw socket (node:net: fetch would normalise what
// these tests send) with two real loopback pods that record every request they get, and checks
// the same things on Node and Deno: the status (or a closed connection where HTTP says so), what
// the pods received (nothing, or exactly the request), that no failure is on record in passive
// health (router.endpointHealth(), what /debug/table shows), and that vipr still serves.
//
// The router is built with createUndiciTransport() and served by serveNode on both runtimes, on
// purpose: that is the stack Deno's default edge is moving to, so these cases mean the same
// whichever lands first. The crash cases (a reset after CONNECT or after an upgrade request) run
// against the real CLI process of the runtime under test (tests/cli/vipr-process.ts).
import http from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { nodeClientAddress, nodeRequestHeaders, serveNode, type NodeServer } from "../../adapters/node/serve-node.ts";
import { createUndiciTransport } from "../../adapters/node/undici-transport.ts";
import { createAccessLog, type AccessRecord } from "../../router/observability/access-log.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { killAll, onDeno, startVipr } from "../cli/vipr-process.ts";
import { closeNow, listenOnLoopback, seedService, slicesFor } from "../support/seed-backends.ts";
import { parseResponses, rawExchange, type ParsedResponse } from "./support/safety-router.ts";

const runtimeName = onDeno ? "deno" : "node";

/** One request as a pod saw it. */
interface PodRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  bytes: number;
  complete: boolean;
  aborted: boolean;
}

/** Resolves when `check` holds, re-checked each time `subscribe`'s event fires (no polling). */
class Watched<T> {
  readonly items: T[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #onChange: () => void;
  constructor(onChange: () => void = () => {}) {
    this.#onChange = onChange;
  }
  push(item: T): void {
    this.items.push(item);
    this.changed();
  }
  changed(): void {
    for (const waiter of [...this.#waiters]) waiter();
    this.#onChange();
  }
  until(check: (items: readonly T[]) => boolean, what: string, ms = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(test);
        reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(this.items).slice(0, 800)}`));
      }, ms);
      const test = (): void => {
        if (!check(this.items)) return;
        clearTimeout(timer);
        this.#waiters.delete(test);
        resolve();
      };
      this.#waiters.add(test);
      test();
    });
  }
}

interface RecordingPod {
  readonly name: string;
  readonly port: number;
  readonly requests: Watched<PodRequest>;
  close(): Promise<void>;
}

/** A pod that records each request (method, target, fields, body bytes, how it ended) and answers
 * 200 JSON once the body ended; /big?bytes=N streams N bytes. `onChange` hears every update. */
async function startRecordingPod(name: string, onChange: () => void = () => {}): Promise<RecordingPod> {
  const requests = new Watched<PodRequest>(onChange);
  const server = http.createServer((request, response) => {
    const seen: PodRequest = { method: request.method ?? "", url: request.url ?? "", headers: request.headers, bytes: 0, complete: false, aborted: false };
    requests.push(seen);
    request.on("data", (chunk: Buffer) => {
      seen.bytes += chunk.length;
      requests.changed();
    });
    request.on("error", () => {});
    request.on("close", () => {
      if (!seen.complete) seen.aborted = true;
      requests.changed();
    });
    response.on("error", () => {});
    request.on("end", () => {
      seen.complete = true;
      requests.changed();
      const big = /^\/big\?bytes=(\d+)$/.exec(seen.url);
      if (big !== null) {
        response.writeHead(200, { "content-type": "application/octet-stream", "content-length": big[1] });
        let left = Number(big[1]);
        const chunk = Buffer.alloc(65536, 120);
        const pump = (): void => {
          while (left > 0 && !response.destroyed) {
            const part = chunk.subarray(0, Math.min(left, chunk.length));
            left -= part.length;
            if (!response.write(part)) return void response.once("drain", pump);
          }
          response.end();
        };
        return pump();
      }
      response.writeHead(200, { "content-type": "application/json", "x-pod": name });
      response.end(JSON.stringify({ pod: name, method: seen.method, bodyBytes: seen.bytes }));
    });
  });
  const port = await listenOnLoopback(server);
  return { name, port, requests, close: () => closeNow(server) };
}

let pods: RecordingPod[];
/** Fires on any change at either pod: what waits on both pods waits here. */
const anyPod = new Watched<never>();
let router: ServiceRouter;
let server: NodeServer;
let metrics: RouterMetrics;
const accessLog = new Watched<AccessRecord>();

beforeAll(async () => {
  pods = await Promise.all([startRecordingPod("pod-1", () => anyPod.changed()), startRecordingPod("pod-2", () => anyPod.changed())]);
  metrics = new RouterMetrics();
  router = new ServiceRouter({
    core: createWasmCore(),
    metrics,
    transport: createUndiciTransport(),
    clientAddress: nodeClientAddress,
    requestHeaders: nodeRequestHeaders,
    // Round robin: every pod gets its share of the hostile requests. Passive health stays at its
    // defaults (5 failures in a row eject, up to half the service): 10 bad tries would eject one.
    defaultPolicy: { policy: "round-robin", loadFactor: 1.25 },
    timeouts: { connectMs: 500, responseMs: 2000 },
    accessLog: createAccessLog({ sampleRate: 1, write: (line) => accessLog.push(JSON.parse(line) as AccessRecord) }),
  });
  router.setTable(buildRoutingTable({ services: [seedService()], endpointSlices: slicesFor("simpleservice", pods.map((p) => ({ pod: p.name, port: p.port }))) }));
  server = await serveNode(router.app, { closeGraceMs: 200 });
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  await Promise.all((pods ?? []).map((pod) => pod.close()));
});

/** Requests the pods got from now on. */
function podRequestsSince(): () => PodRequest[] {
  const marks = pods.map((pod) => pod.requests.items.length);
  return () => pods.flatMap((pod, i) => pod.requests.items.slice(marks[i]));
}

/** Every case ends here: nothing on record against any pod (passive health, upstream error
 * metrics), and both pods still answer. */
async function expectHealthyAndServing(): Promise<void> {
  expect([...router.endpointHealth()]).toEqual([]);
  expect((await metrics.render()).body).not.toMatch(/^vipr_upstream_errors_total\{/m);
  const seen = new Set<string>();
  for (let i = 0; i < 2; i++) {
    const [response] = parseResponses((await rawExchange(server.port, "GET /info HTTP/1.1\r\nhost: simpleservice\r\nconnection: close\r\n\r\n")).text);
    expect(response?.status).toBe(200);
    seen.add(String((JSON.parse(response!.body) as { pod: string }).pod));
  }
  // Round robin reaches both: neither was ejected.
  expect([...seen].sort()).toEqual(["pod-1", "pod-2"]);
}

afterEach(async () => {
  await expectHealthyAndServing();
});

/** One request on its own connection; its single answer. */
async function exchange(request: string): Promise<{ response: ParsedResponse | undefined; closed: boolean }> {
  const result = await rawExchange(server.port, request);
  const responses = parseResponses(result.text);
  expect(responses.length).toBeLessThanOrEqual(1);
  return { response: responses[0], closed: result.closed };
}

function errorOf(response: ParsedResponse | undefined): { status: number; code: string; message: string } {
  return (JSON.parse(response?.body ?? "null") as { error: { status: number; code: string; message: string } }).error;
}

/** vipr_requests_total for simpleservice with code 499 (client_aborted). */
async function clientClosedCount(): Promise<number> {
  const match = /^vipr_requests_total\{service="default\/simpleservice",code="499"\} (\d+)$/m.exec((await metrics.render()).body);
  return Number(match?.[1] ?? 0);
}

/**
 * A POST whose client gives up once the pod has its first body bytes: `cut` is what the client
 * sends (head and part of the body), then it closes (FIN, `end`) or resets (RST).
 */
function abandonUpload(cut: string, bodyBytesSent: number, how: "end" | "reset"): Promise<string> {
  const requests = podRequestsSince();
  return new Promise((resolve, reject) => {
    let received = "";
    const socket = net.connect(server.port, "127.0.0.1", () => {
      socket.write(cut, "latin1");
      // The pod has the head and the bytes sent: vipr is mid-upload. Then the client goes.
      anyPod.until(() => requests().some((r) => r.bytes >= bodyBytesSent), "the upload to reach a pod").then(() => (how === "end" ? socket.end() : socket.resetAndDestroy()), reject);
    });
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("error", () => {});
    socket.on("close", () => resolve(received));
  });
}

/** Sends `request`, then resets the connection: right away, or once the answer began. */
function sendThenReset(port: number, request: string, when: "at once" | "after the answer"): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.write(request);
      if (when === "at once") socket.resetAndDestroy();
    });
    if (when === "after the answer") socket.once("data", () => socket.resetAndDestroy());
    socket.on("error", () => {});
    socket.on("close", () => resolve());
  });
}

// How `curl -x http://vipr https://simpleservice/info` starts (then resets, as a client that gives
// up does), and a WebSocket handshake abandoned the same way: vipr's process survived neither
// before serve-node.ts kept an error listener on every client socket.
const hostile: ReadonlyArray<readonly [string, string]> = [
  ["CONNECT", "CONNECT simpleservice:443 HTTP/1.1\r\nhost: simpleservice:443\r\nuser-agent: curl/8\r\nproxy-connection: Keep-Alive\r\n\r\n"],
  ["an upgrade request", "GET /info HTTP/1.1\r\nhost: simpleservice\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"],
];

describe(`hostile clients on ${runtimeName} (serveNode + undici transport)`, () => {
  test("TRACE: 405 method_not_allowed with Allow, never sent to a pod; 12 of them eject nothing", async () => {
    const requests = podRequestsSince();
    for (let i = 0; i < 12; i++) {
      const { response } = await exchange("TRACE /info HTTP/1.1\r\nhost: simpleservice\r\ncookie: session=secret\r\nconnection: close\r\n\r\n");
      expect(response?.status).toBe(405);
      expect(response?.headers.get("allow")).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
      expect(errorOf(response)).toMatchObject({ status: 405, code: "method_not_allowed" });
      expect(response?.body).not.toContain("secret");
    }
    expect(requests()).toEqual([]);
  });

  test("TRACK: Node's HTTP parser refuses it (400) and closes; nothing reaches a pod", async () => {
    const requests = podRequestsSince();
    const { response, closed } = await exchange("TRACK /info HTTP/1.1\r\nhost: simpleservice\r\n\r\n");
    expect(response?.status).toBe(400);
    expect(closed).toBe(true);
    expect(requests()).toEqual([]);
  });

  test.each([
    ["absolute form", "GET http://a@simpleservice/info HTTP/1.1\r\nhost: simpleservice\r\nconnection: close\r\n\r\n", "target"],
    ["absolute form with a password", "GET http://user:pw@simpleservice/info HTTP/1.1\r\nhost: simpleservice\r\nconnection: close\r\n\r\n", "target"],
    ["Host field", "GET /info HTTP/1.1\r\nhost: a@simpleservice\r\nconnection: close\r\n\r\n", "host"],
  ])("userinfo in the %s: 400 userinfo_not_allowed (RFC 9110 section 4.2.4), never sent to a pod", async (_where, request, field) => {
    const requests = podRequestsSince();
    const { response } = await exchange(request);
    expect(response?.status).toBe(400);
    const error = errorOf(response);
    expect(error).toMatchObject({ status: 400, code: "userinfo_not_allowed", in: field });
    expect(error.message).toContain("userinfo");
    expect(response?.body).not.toContain("pw");
    expect(requests()).toEqual([]);
  });

  test("an absolute-form https:// target: 421 https_not_supported, never downgraded to plain HTTP", async () => {
    const requests = podRequestsSince();
    const { response } = await exchange("GET https://simpleservice/info HTTP/1.1\r\nhost: simpleservice\r\nconnection: close\r\n\r\n");
    expect(response?.status).toBe(421);
    expect(errorOf(response)).toMatchObject({ status: 421, code: "https_not_supported" });
    expect(requests()).toEqual([]);
  });

  test("Upgrade without Connection: upgrade is a plain request: proxied, without the Upgrade field", async () => {
    const requests = podRequestsSince();
    const { response } = await exchange("GET /info HTTP/1.1\r\nhost: simpleservice\r\nupgrade: websocket\r\nconnection: close\r\n\r\n");
    expect(response?.status).toBe(200);
    expect(requests()).toHaveLength(1);
    const [seen] = requests();
    expect(seen).toMatchObject({ method: "GET", url: "/info", complete: true });
    // RFC 9110 section 7.6.1: a proxy removes Upgrade, listed in Connection or not.
    expect(seen?.headers["upgrade"]).toBeUndefined();
    expect(seen?.headers["host"]).toBe("simpleservice");
  });

  test("Upgrade with Connection: upgrade is still refused with 501; nothing reaches a pod", async () => {
    const requests = podRequestsSince();
    const { response } = await exchange("GET /info HTTP/1.1\r\nhost: simpleservice\r\nupgrade: websocket\r\nconnection: Upgrade, close\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n");
    expect(response?.status).toBe(501);
    expect(errorOf(response).code).toBe("upgrade_not_supported");
    expect(requests()).toEqual([]);
  });

  test.each([
    ["Content-Length 100, 10 bytes sent", "POST /upload HTTP/1.1\r\nhost: simpleservice\r\ncontent-length: 100\r\n\r\n0123456789", 10],
    ["a chunked body cut mid-chunk", "POST /upload HTTP/1.1\r\nhost: simpleservice\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nabc", 8],
  ])("an abandoned upload (%s), 10 times closed or reset: client_aborted, not retried, not counted against the pod", async (_what, cut, sent) => {
    const requests = podRequestsSince();
    const logged = accessLog.items.length;
    const closedBefore = await clientClosedCount();
    for (let i = 0; i < 10; i++) {
      const received = await abandonUpload(cut, sent, i % 2 === 0 ? "end" : "reset");
      // Nothing blames the pod: the client gets no 502 (nor any answer a pod could have caused).
      expect(received).not.toMatch(/^HTTP\/1\.1 5/);
    }
    await anyPod.until(() => requests().length === 10 && requests().every((r) => r.aborted), "every upload to end aborted at the pods");
    await accessLog.until((lines) => lines.length >= logged + 10, "an access log line per upload");
    // Each went to one pod once (no retry), as the client sent it, and ended aborted there.
    for (const seen of requests()) expect(seen).toMatchObject({ method: "POST", url: "/upload", bytes: sent, complete: false, aborted: true });
    for (const line of accessLog.items.slice(logged)) {
      expect(line).toMatchObject({ method: "POST", status: 499, service: "default/simpleservice" });
      expect(line.error).toMatch(/^client_aborted: /);
    }
    // Counted as the client's: 499 ("client closed request", nginx's code) in the request counts.
    expect(await clientClosedCount()).toBe(closedBefore + 10);
  });

  test("a download abandoned mid-body, 10 times: not counted against the pod", async () => {
    const requests = podRequestsSince();
    const logged = accessLog.items.length;
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(server.port, "127.0.0.1", () => socket.write("GET /big?bytes=50000000 HTTP/1.1\r\nhost: simpleservice\r\n\r\n"));
        socket.once("data", () => socket.resetAndDestroy());
        socket.on("error", () => {});
        socket.on("close", () => resolve());
      });
    }
    await accessLog.until((lines) => lines.length >= logged + 10, "an access log line per download");
    expect(requests()).toHaveLength(10);
    for (const line of accessLog.items.slice(logged)) {
      expect(line).toMatchObject({ status: 200, service: "default/simpleservice" });
      expect(line.error).toMatch(/^client_aborted: /);
    }
  });

  test("CONNECT then reset, and an upgrade request then reset, 10 times each: nothing reaches a pod, vipr serves on", async () => {
    const requests = podRequestsSince();
    for (const [, request] of hostile) {
      for (let i = 0; i < 10; i++) await sendThenReset(server.port, request, i % 2 === 0 ? "at once" : "after the answer");
    }
    expect(requests()).toEqual([]);
  });
});

describe(`the vipr CLI on ${runtimeName} survives clients that reset`, () => {
  let temp: string;
  let pod: RecordingPod;

  beforeAll(async () => {
    temp = await mkdtemp(join(tmpdir(), "vipr-hostile-"));
    pod = await startRecordingPod("rcsise-cli");
  });

  afterAll(async () => {
    await killAll();
    await pod?.close();
    if (temp !== undefined) await rm(temp, { recursive: true, force: true });
  });

  test("CONNECT then reset, and an upgrade request then reset, 10 times each: vipr still answers; TRACE and TRACK reach no pod", async () => {
    const manifest = join(temp, "simpleservice.json");
    await writeFile(manifest, [seedService(), ...slicesFor("simpleservice", [{ pod: pod.name, port: pod.port }])].map((o) => JSON.stringify(o)).join("\n---\n"));
    const vipr = startVipr(["serve", "--source", `file:${manifest}`, "--listen", "127.0.0.1:0", "--admin", "off"]);
    const port = Number((await vipr.waitFor(/^vipr: listening on http:\/\/127\.0\.0\.1:(\d+)$/m))[1]);
    await vipr.waitFor(/^vipr: table 1 from /m);
    const requests = pod.requests.items.length;
    for (const [, request] of hostile) {
      for (let i = 0; i < 10; i++) await sendThenReset(port, request, i % 2 === 0 ? "at once" : "after the answer");
    }
    // CONNECT never reaches the pod (405). The upgrade is a WebSocket handshake, which the CLI's
    // server relays (adapters/node/upgrade-tunnel.ts): what reached the pod is that handshake only.
    const handshakes = pod.requests.items.slice(requests);
    expect(handshakes.filter((seen) => seen.method !== "GET" || seen.headers["upgrade"] !== "websocket")).toEqual([]);
    const afterHostile = pod.requests.items.length;
    // TRACE and TRACK never reach it either: the router answers 405, or (TRACK) Node's parser 400
    // first where the edge is serveNode; Deno.serve hands TRACK to the router.
    for (const method of ["TRACE", "TRACK"]) {
      const [refused] = parseResponses((await rawExchange(port, `${method} /info HTTP/1.1\r\nhost: simpleservice\r\nconnection: close\r\n\r\n`)).text);
      expect([400, 405], method).toContain(refused?.status);
      if (method === "TRACE") expect(refused?.status).toBe(405);
    }
    expect(pod.requests.items.slice(afterHostile)).toEqual([]);
    const [response] = parseResponses((await rawExchange(port, "GET /info HTTP/1.1\r\nhost: simpleservice\r\nconnection: close\r\n\r\n")).text);
    expect(response?.status, vipr.stderr()).toBe(200);
    expect(vipr.child.exitCode).toBeNull();
    vipr.signal("SIGTERM");
    expect((await vipr.exited).code).toBe(0);
  });
});
