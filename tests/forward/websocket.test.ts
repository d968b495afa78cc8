// Issue 13: WebSocket upgrades through vipr (adapters/node/upgrade-tunnel.ts, routed by
// ServiceRouter.routeUpgrade), with the `ws` package on both ends (websocket-runtime-client.test.ts
// has the runtime's own WebSocket client; websocket-drain.test.ts the server's drain): real loopback pods, vipr on
// serveNode with `upgrades`, the same stack on Node and on Deno (`deno run -A
// node_modules/vitest/vitest.mjs run tests/forward/websocket.test.ts`; Deno 2.9's node:http emits
// 'upgrade' and honours shouldUpgradeCallback, so both runtimes run every case).
// Nothing waits by sleeping: each step waits for the event that says it happened (a message, a
// close, an answer), and the in-flight count is polled until it settles (vi.waitFor).
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import WebSocket, { type RawData } from "ws";
import { nodeClientAddress, nodeRequestHeaders, serveNode, type NodeServer } from "../../adapters/node/serve-node.ts";
import { createUndiciTransport } from "../../adapters/node/undici-transport.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { createAccessLog } from "../../router/observability/access-log.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import { closeNow, seedService, slicesFor } from "../support/seed-backends.ts";
import { closedPort, startRefusingPod, startWsPod, type WsPod } from "./websocket-pods.ts";

const USERS = 30;
let chatPods: WsPod[];
let fragile: WsPod;
let refusing: http.Server;
let router: ServiceRouter;
let metrics: RouterMetrics;
const logLines: string[] = [];
/** The pod "halfdead-0" that refuses connections, and a user key Maglev puts on it. */
let deadFirstUser: string;
/** A pod that accepts the connection and closes it unanswered, and a user key Maglev puts on it. */
let mute: net.Server;
let muteFirstUser: string;
let server: NodeServer;

const service = (name: string, annotations: Record<string, string> = {}) => ({ ...seedService(annotations), metadata: { name, namespace: "default", resourceVersion: "1", annotations } });

beforeAll(async () => {
  chatPods = await Promise.all(["chat-0", "chat-1", "chat-2"].map((name) => startWsPod(name)));
  fragile = await startWsPod("fragile-0");
  refusing = await startRefusingPod();
  mute = net.createServer((socket) => socket.once("data", () => socket.destroy()));
  await new Promise<void>((resolve) => mute.listen(0, "127.0.0.1", resolve));
  const refusingPort = (refusing.address() as AddressInfo).port;
  metrics = new RouterMetrics();
  const accessLog = createAccessLog({ sampleRate: 1, write: (line) => logLines.push(line) });
  router = new ServiceRouter({ core: createWasmCore(), transport: createUndiciTransport(), clientAddress: nodeClientAddress, requestHeaders: nodeRequestHeaders, metrics, accessLog });
  router.setTable(
    buildRoutingTable({
      services: [
        service("chat", { "vipr.io/lb-policy": "maglev", "vipr.io/hash-key": "header:x-user" }),
        service("fragile"),
        service("refusing"),
        service("gone"),
        service("quiet", { "vipr.io/idle-timeout": "200ms" }),
        service("single", { "vipr.io/max-requests": "1" }),
        service("metered"),
        service("halfdead", { "vipr.io/lb-policy": "maglev", "vipr.io/hash-key": "header:x-user" }),
        service("halfmute", { "vipr.io/lb-policy": "maglev", "vipr.io/hash-key": "header:x-user" }),
      ],
      endpointSlices: [
        ...slicesFor("chat", chatPods.map((pod) => ({ pod: pod.name, port: pod.port }))),
        ...slicesFor("fragile", [{ pod: fragile.name, port: fragile.port }]),
        ...slicesFor("refusing", [{ pod: "refusing-0", port: refusingPort }]),
        ...slicesFor("gone", [{ pod: "gone-0", port: await closedPort() }]),
        ...slicesFor("quiet", [{ pod: chatPods[0]!.name, port: chatPods[0]!.port }]),
        ...slicesFor("single", [{ pod: chatPods[1]!.name, port: chatPods[1]!.port }]),
        ...slicesFor("metered", [{ pod: chatPods[2]!.name, port: chatPods[2]!.port }]),
        ...slicesFor("halfdead", [
          { pod: "halfdead-0", port: await closedPort() },
          { pod: chatPods[2]!.name, port: chatPods[2]!.port },
        ]),
        ...slicesFor("halfmute", [
          { pod: "mute-0", port: (mute.address() as AddressInfo).port },
          { pod: chatPods[2]!.name, port: chatPods[2]!.port },
        ]),
      ],
    }),
  );
  deadFirstUser = Array.from({ length: 200 }, (_, i) => `user-${i}`).find((key) => {
    const answer = router.explain({ host: "halfdead", key });
    return answer.found && answer.result.ok && answer.result.identity === "halfdead-0";
  })!;
  muteFirstUser = Array.from({ length: 200 }, (_, i) => `user-${i}`).find((key) => {
    const answer = router.explain({ host: "halfmute", key });
    return answer.found && answer.result.ok && answer.result.identity === "mute-0";
  })!;
  server = await serveNode(router.app, { upgrades: router, closeGraceMs: 200 });
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  for (const pod of [...(chatPods ?? []), fragile]) {
    if (pod === undefined) continue;
    for (const client of pod.wss.clients) client.terminate();
    await closeNow(pod.server);
  }
  if (refusing !== undefined) await closeNow(refusing);
  mute?.close();
});

/** A ws client through vipr to `host`, open (or rejected with the answer that refused it). */
function connect(host: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/chat?room=1`, options.protocols ?? [], { headers: { host, ...options.headers } });
    socket.on("error", () => {});
    socket.once("open", () => resolve(socket));
    socket.once("unexpected-response", (_request, response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => reject(Object.assign(new Error(`answered ${response.statusCode}`), { status: response.statusCode, body })));
    });
    socket.once("close", () => reject(new Error("closed before it opened")));
  });
}

function nextMessage(socket: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => socket.once("message", (data: RawData, isBinary) => resolve({ data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary })));
}

function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 1006, reason: "" });
  return new Promise((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
}

async function ask(socket: WebSocket, text: string): Promise<string> {
  const answer = nextMessage(socket);
  socket.send(text);
  return (await answer).data.toString();
}

describe("WebSocket through vipr", () => {
  test("text and binary echo; the handshake carries the forwarding fields and the offer; permessage-deflate negotiated end to end", async () => {
    const socket = await connect("chat", { headers: { "x-user": "alice" } });
    expect(await ask(socket, "hello")).toBe("hello");
    const binary = nextMessage(socket);
    socket.send(Buffer.from([0, 1, 2, 254, 255]));
    expect(await binary).toEqual({ data: Buffer.from([0, 1, 2, 254, 255]), isBinary: true });
    const headers = JSON.parse(await ask(socket, "headers")) as Record<string, string>;
    expect(headers).toMatchObject({ host: "chat", upgrade: "websocket", "x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "http", "sec-websocket-version": "13", "x-user": "alice" });
    expect(headers["connection"]?.toLowerCase()).toBe("upgrade");
    expect(headers["forwarded"]).toContain("for=127.0.0.1");
    expect(headers["sec-websocket-key"]).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    // The extension is negotiated between the client and the pod: vipr relays the fields and frames.
    expect(socket.extensions).toContain("permessage-deflate");
    socket.close(1000);
    expect((await closed(socket)).code).toBe(1000);
  });

  test("a 1 MB message both ways", async () => {
    const socket = await connect("chat", { headers: { "x-user": "bob" } });
    const big = Buffer.alloc(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const echo = nextMessage(socket);
    socket.send(big);
    const { data } = await echo;
    expect(data.length).toBe(big.length);
    expect(data.equals(big)).toBe(true);
    socket.close();
    await closed(socket);
  });

  test("close codes pass both ways (RFC 6455 section 7.4)", async () => {
    const fromPod = await connect("chat", { headers: { "x-user": "carol" } });
    const podClose = closed(fromPod);
    fromPod.send("close:4001");
    expect(await podClose).toEqual({ code: 4001, reason: "pod says bye" });

    const fromClient = await connect("chat", { headers: { "x-user": "carol" } });
    const name = await ask(fromClient, "whoami");
    const target = chatPods.find((p) => p.name === name)!;
    const before = target.closeCodes.length;
    fromClient.close(4002, "client says bye");
    expect((await closed(fromClient)).code).toBe(4002);
    await vi.waitFor(() => expect(target.closeCodes.length).toBe(before + 1));
    expect(target.closeCodes.at(-1)).toBe(4002);
  });

  test("subprotocol negotiation (RFC 6455 section 11.3.4)", async () => {
    const socket = await connect("chat", { protocols: ["chat.v1", "chat.v2"], headers: { "x-user": "dave" } });
    expect(socket.protocol).toBe("chat.v2");
    socket.close();
    await closed(socket);
  });

  test("a pod's refusal reaches the client as it is", async () => {
    await expect(connect("refusing")).rejects.toMatchObject({ status: 403, body: "not for you\r\n" });
  });

  test("a pod that cannot be dialled: 502 in the router's shape, counted against the pod", async () => {
    const refused = await connect("gone").catch((error: { status: number; body: string }) => error);
    expect(refused).toMatchObject({ status: 502 });
    const { error } = JSON.parse((refused as { body: string }).body) as { error: { code: string; endpoint: string } };
    expect(error).toMatchObject({ code: "upstream_connect", endpoint: "gone-0" });
    expect(router.endpointHealth().get("default/gone")?.[0]).toMatchObject({ identity: "gone-0", consecutiveFailures: 1 });
  });

  test("many sockets over a Maglev header:x-user key land on the pods explain names", async () => {
    const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
    const sockets = await Promise.all(users.map((user) => connect("chat", { headers: { "x-user": user } })));
    const landed = await Promise.all(sockets.map((socket) => ask(socket, "whoami")));
    const expected = users.map((user) => {
      const answer = router.explain({ host: "chat", key: user });
      if (!answer.found || !answer.result.ok) throw new Error(`explain found no endpoint for ${user}`);
      return answer.result.identity;
    });
    expect(landed).toEqual(expected);
    expect(new Set(landed).size).toBeGreaterThan(1);
    await Promise.all(sockets.map((socket) => (socket.close(), closed(socket))));
    await vi.waitFor(() => expect(router.inFlight).toBe(0));
  });

  test("a pod killed mid-connection: the client sees the close; vipr keeps serving", async () => {
    const socket = await connect("fragile");
    expect(await ask(socket, "ping")).toBe("ping");
    const seen = closed(socket);
    for (const client of fragile.wss.clients) client.terminate(); // the pod's TCP connection goes away
    expect((await seen).code).toBe(1006);
    const again = await connect("fragile");
    expect(await ask(again, "still here")).toBe("still here");
    again.close();
    await closed(again);
  });

  test("a client reset: vipr keeps serving and frees the slot", async () => {
    const raw = net.connect(server.port, "127.0.0.1");
    raw.on("error", () => {});
    const answered = new Promise<string>((resolve) => raw.once("data", (chunk: Buffer) => resolve(chunk.toString("latin1"))));
    raw.write("GET / HTTP/1.1\r\nhost: chat\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n");
    expect(await answered).toMatch(/^HTTP\/1\.1 101 /);
    raw.resetAndDestroy();
    await vi.waitFor(() => expect(router.inFlight).toBe(0));
    const socket = await connect("chat", { headers: { "x-user": "erin" } });
    expect(await ask(socket, "after the reset")).toBe("after the reset");
    socket.close();
    await closed(socket);
  });

  test("the concurrency slot is held until the tunnel closes", async () => {
    const first = await connect("single");
    await expect(connect("single")).rejects.toMatchObject({ status: 503 });
    first.close();
    await closed(first);
    await vi.waitFor(() => expect(router.inFlight).toBe(0));
    const second = await connect("single");
    second.close();
    await closed(second);
  });

  test("the service's idle timeout closes a silent tunnel with 1001 to both sides", async () => {
    const pod = chatPods[0]!;
    const before = pod.closeCodes.length;
    const started = performance.now();
    const socket = await connect("quiet");
    expect(await closed(socket)).toEqual({ code: 1001, reason: "idle timeout" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    await vi.waitFor(() => expect(pod.closeCodes.slice(before)).toEqual([1001]));
  });

  test("ping and pong pass (RFC 6455 section 5.5.2, 5.5.3)", async () => {
    const socket = await connect("chat", { headers: { "x-user": "frank" } });
    const pong = new Promise<Buffer>((resolve) => socket.once("pong", resolve));
    socket.ping(Buffer.from("are you there"));
    expect((await pong).toString()).toBe("are you there");
    socket.close();
    await closed(socket);
  });

  test("a pod that refuses the connection: the handshake is retried on another pod", async () => {
    expect(deadFirstUser).toBeDefined(); // Maglev puts this key on the dead pod first
    const socket = await connect("halfdead", { headers: { "x-user": deadFirstUser } });
    expect(await ask(socket, "whoami")).toBe(chatPods[2]!.name);
    expect(router.endpointHealth().get("default/halfdead")?.find((e) => e.identity === "halfdead-0")).toMatchObject({ consecutiveFailures: 1 });
    socket.close();
    await closed(socket);
    const line = await vi.waitFor(() => {
      const found = logLines.find((l) => l.includes('"service":"default/halfdead"'));
      if (found === undefined) throw new Error("no access-log line yet");
      return found;
    });
    expect(JSON.parse(line)).toMatchObject({ status: 101, endpoint: chatPods[2]!.name, tunnel: { end: "client_closed" } });
  });

  test("a pod that closes after the handshake was sent: 502, not retried (the client's frames may have followed it)", async () => {
    expect(muteFirstUser).toBeDefined();
    const refused = await connect("halfmute", { headers: { "x-user": muteFirstUser } }).catch((error: { status: number; body: string }) => error);
    expect(refused).toMatchObject({ status: 502 });
    const { error } = JSON.parse((refused as { body: string }).body) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ code: "upstream_reset", endpoint: "mute-0", sent: true, tries: 1, notRetried: "not_safe_to_retry" });
  });

  test("metrics: open tunnels, bytes each way, ends by reason; the access log records the tunnel's end", async () => {
    const scrape = async () => (await metrics.render()).body;
    const socket = await connect("metered");
    await vi.waitFor(async () => expect(await scrape()).toContain('vipr_tunnels_open{service="default/metered"} 1'));
    expect(await ask(socket, "x".repeat(1000))).toBe("x".repeat(1000));
    socket.close(4005);
    await closed(socket);
    await vi.waitFor(async () => expect(await scrape()).toContain('vipr_tunnels_open{service="default/metered"} 0'));
    const body = await scrape();
    expect(body).toContain('vipr_tunnel_ends_total{service="default/metered",reason="client_closed"} 1');
    const bytes = (direction: string) => Number(new RegExp(`vipr_tunnel_bytes_total\\{service="default/metered",direction="${direction}"\\} (\\d+)`).exec(body)?.[1]);
    // A 1000-byte message each way (permessage-deflate may shrink it: the payload is compressible),
    // the pod's 101 head to the client, and the close frames.
    expect(bytes("to_pod")).toBeGreaterThan(0);
    expect(bytes("to_client")).toBeGreaterThan(100);
    const line = JSON.parse(logLines.find((l) => l.includes('"service":"default/metered"'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ method: "GET", status: 101, upstream_status: 101, endpoint: chatPods[2]!.name, bytes: bytes("to_client"), tunnel: { bytes_in: bytes("to_pod"), end: "client_closed" } });
    expect(line["duration_ms"]).toBeGreaterThan(0);
  });

  test("other upgrades keep today's answers: h2c is ignored, anything else 501", async () => {
    const h2c = await rawAnswer("GET / HTTP/1.1\r\nhost: fragile\r\nupgrade: h2c\r\nconnection: Upgrade, HTTP2-Settings\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\nconnection: close\r\n\r\n");
    expect(h2c).toMatch(/^HTTP\/1\.1 200 /);
    const other = await rawAnswer("GET / HTTP/1.1\r\nhost: fragile\r\nupgrade: IRC/6.9\r\nconnection: Upgrade, close\r\n\r\n");
    expect(other).toMatch(/^HTTP\/1\.1 501 /);
    expect(other).toContain("upgrade_not_supported");
  });
});

/** Everything vipr sends back for `request` on a new connection, until it closes it. */
function rawAnswer(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1", () => socket.write(request));
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}
