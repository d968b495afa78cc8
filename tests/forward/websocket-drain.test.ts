// Issue 13: the server's drain over WebSocket tunnels (adapters/node/ws-tunnels.ts,
// upgrade-tunnel.ts). Closing the server gives open tunnels the grace period, then vipr ends each
// with a Close frame 1001 to both sides (RFC 6455 section 7.4.1), written between frames: a frame
// the pod is halfway through sending is finished first. Each test has its own server, since each
// closes it. Nothing sleeps: each step waits for the event that says it happened.
import { createHash } from "node:crypto";
import net from "node:net";
import type { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import * as ws from "ws";
import { nodeClientAddress, nodeRequestHeaders, serveNode, type NodeServer } from "../../adapters/node/serve-node.ts";
import { createUndiciTransport } from "../../adapters/node/undici-transport.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { closeNow, seedService, slicesFor } from "../support/seed-backends.ts";
import { startWsPod, type WsPod } from "./websocket-pods.ts";

const WsClient = ws.WebSocket;
// ws exports its Receiver (ws/wrapper.mjs), which @types/ws does not declare.
const { Receiver } = ws as unknown as { Receiver: new (options: { isServer: boolean }) => Writable };
const RUNTIME_CLIENT = "Deno" in globalThis ? "Deno's WebSocket" : "Node's WebSocket";

/** A pod that speaks WebSocket by hand: it answers the handshake (RFC 6455 section 4.2.2) and
 * then writes what the test tells it to, byte for byte; `closes` gets each Close frame it parses. */
interface RawPod {
  readonly server: net.Server;
  readonly port: number;
  /** The pod's side of the one connection, once the handshake was answered. */
  readonly connected: Promise<net.Socket>;
  readonly closes: { code: number; reason: string }[];
  /** Called with each Close frame as it is parsed (set by a test). */
  onClose: ((close: { code: number; reason: string }) => void) | undefined;
}

async function startRawPod(): Promise<RawPod> {
  const closes: { code: number; reason: string }[] = [];
  let connected!: (socket: net.Socket) => void;
  const connection = new Promise<net.Socket>((resolve) => (connected = resolve));
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    let head = "";
    const onHead = (chunk: Buffer): void => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onHead);
      const key = /sec-websocket-key: *(\S+)/i.exec(head)![1]!;
      const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`);
      const receiver = new Receiver({ isServer: true });
      receiver.on("conclude", (code: number, reason: Buffer) => {
        const close = { code, reason: reason.toString() };
        closes.push(close);
        pod.onClose?.(close);
      });
      receiver.on("error", () => closes.push({ code: -1, reason: "not a valid frame" }));
      socket.on("data", (data: Buffer) => receiver.write(data));
      socket.on("end", () => socket.end());
      connected(socket);
    };
    socket.on("data", onHead);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const pod: RawPod = { server, port: (server.address() as net.AddressInfo).port, connected: connection, closes, onClose: undefined };
  return pod;
}

const service = (name: string) => ({ ...seedService({}), metadata: { name, namespace: "default", resourceVersion: "1", annotations: {} } });

let echo: WsPod;
let raw: RawPod;

beforeAll(async () => {
  echo = await startWsPod("echo-0");
  raw = await startRawPod();
});

afterAll(async () => {
  if (echo !== undefined) {
    for (const client of echo.wss.clients) client.terminate();
    await closeNow(echo.server);
  }
  raw?.server.close();
});

/** A router and server over the two pods, with its own metrics; `graceMs` for its close. */
async function startVipr(graceMs: number): Promise<{ router: ServiceRouter; server: NodeServer; metrics: RouterMetrics }> {
  const metrics = new RouterMetrics();
  const router = new ServiceRouter({
    core: createWasmCore(),
    transport: createUndiciTransport(),
    clientAddress: nodeClientAddress,
    requestHeaders: nodeRequestHeaders,
    metrics,
    routes: [{ pathPrefix: "/echo", service: "echo" }],
  });
  router.setTable(
    buildRoutingTable({
      services: [service("echo"), service("raw")],
      endpointSlices: [...slicesFor("echo", [{ pod: echo.name, port: echo.port }]), ...slicesFor("raw", [{ pod: "raw-0", port: raw.port }])],
    }),
  );
  const server = await serveNode(router.app, { upgrades: router, closeGraceMs: graceMs });
  return { router, server, metrics };
}

function wsClient(port: number, host: string): Promise<ws.WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WsClient(`ws://127.0.0.1:${port}/`, { headers: { host } });
    socket.on("error", () => {});
    socket.once("open", () => resolve(socket));
    socket.once("close", () => reject(new Error("closed before it opened")));
  });
}

function wsClosed(socket: ws.WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
}

function runtimeClient(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/echo`);
    socket.onopen = () => resolve(socket);
    socket.onclose = () => reject(new Error("closed before it opened"));
  });
}

describe("WebSocket tunnels on the server's drain", () => {
  test(`tunnels work through the grace period, then ${RUNTIME_CLIENT}, a ws client and the pod all see 1001`, async () => {
    const { router, server, metrics } = await startVipr(300);
    const viaWs = await wsClient(server.port, "echo");
    const viaRuntime = await runtimeClient(server.port);
    const before = echo.closeCodes.length;
    const wsClose = wsClosed(viaWs);
    const runtimeClose = new Promise<{ code: number; reason: string }>((resolve) => viaRuntime.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })));
    const stopped = server.close();
    // Within the grace period the tunnels still carry messages both ways.
    const wsEcho = new Promise<string>((resolve) => viaWs.once("message", (data: Buffer) => resolve(data.toString())));
    viaWs.send("during the grace period");
    expect(await wsEcho).toBe("during the grace period");
    const runtimeEcho = new Promise<string>((resolve) => viaRuntime.addEventListener("message", (event) => resolve(String(event.data)), { once: true }));
    viaRuntime.send("still here");
    expect(await runtimeEcho).toBe("still here");
    // Then vipr goes away, as a server going down does (RFC 6455 section 7.4.1).
    expect(await wsClose).toEqual({ code: 1001, reason: "vipr is shutting down" });
    expect(await runtimeClose).toEqual({ code: 1001, reason: "vipr is shutting down" });
    await vi.waitFor(() => expect(echo.closeCodes.slice(before)).toEqual([1001, 1001]));
    await stopped;
    await vi.waitFor(() => expect(router.inFlight).toBe(0));
    expect((await metrics.render()).body).toContain('vipr_tunnel_ends_total{service="default/echo",reason="shutdown"} 2');
    await router.close();
  });

  test("a frame the pod is halfway through is finished before vipr's Close; the pod gets a masked 1001", async () => {
    const { router, server } = await startVipr(50);
    const client = await wsClient(server.port, "raw");
    const pod = await raw.connected;
    const message = new Promise<Buffer>((resolve) => client.once("message", (data: Buffer) => resolve(data)));
    const clientClose = wsClosed(client);
    // A binary frame of 1000 bytes (section 5.2: FIN + opcode 2, 16-bit length), of which only the
    // header and the first half are sent before the server closes.
    const payload = Buffer.alloc(1000);
    for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
    pod.write(Buffer.concat([Buffer.from([0x82, 126, 1000 >> 8, 1000 & 0xff]), payload.subarray(0, 500)]));
    // Wait until vipr holds the half frame: the relay has read it when the pod's socket has written it.
    await vi.waitFor(() => expect(pod.bytesWritten).toBeGreaterThan(500));
    // The client's direction sits between frames: the pod gets vipr's Close at the grace's end, and
    // then sends the rest of its frame (at once: vipr waits GOING_AWAY_MS for it).
    raw.onClose = () => void pod.write(payload.subarray(500));
    const stopped = server.close();
    // The pod's direction is inside a frame: nothing may cut it. The rest of it goes through, then the Close.
    const first = await Promise.race([message, clientClose]);
    expect(raw.closes).toEqual([{ code: 1001, reason: "vipr is shutting down" }]);
    expect(Buffer.isBuffer(first) && first.equals(payload)).toBe(true);
    expect(await clientClose).toEqual({ code: 1001, reason: "vipr is shutting down" });
    await stopped;
    await vi.waitFor(() => expect(router.inFlight).toBe(0));
    await router.close();
  });
});
