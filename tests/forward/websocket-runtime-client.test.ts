// Issue 13: the WebSocket cases with the runtime's own client, the WHATWG `WebSocket` global:
// Deno's under Deno, Node's (undici's) under Node; tests/forward/websocket.test.ts runs them with
// the `ws` package on both runtimes. The standard API cannot set Host or other fields, so the
// services are reached by gateway route rules on the path (router/route-rules.ts) and the Maglev
// key is a query parameter (vipr.io/hash-key query:user). Neither can it show the answer to a
// refused handshake (the WHATWG standard fails the connection, "fail the WebSocket connection",
// with code 1006): that answer is checked byte for byte with ws in websocket.test.ts.
import type { AddressInfo } from "node:net";
import type http from "node:http";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { nodeClientAddress, nodeRequestHeaders, serveNode, type NodeServer } from "../../adapters/node/serve-node.ts";
import { createUndiciTransport } from "../../adapters/node/undici-transport.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { closeNow, seedService, slicesFor } from "../support/seed-backends.ts";
import { startRefusingPod, startWsPod, type WsPod } from "./websocket-pods.ts";

const CLIENT = "Deno" in globalThis ? "Deno's WebSocket" : "Node's WebSocket (undici)";
/** The close code of a connection that ended without a closing handshake: 1006 by the WHATWG
 * standard (and Node's client); Deno 2.9's client reports 0 (wasClean false), the same when it
 * talks to a ws server directly, so it is the client's, not vipr's (README, WebSocket). */
const ABNORMAL = "Deno" in globalThis ? 0 : 1006;
const USERS = 30;
let chatPods: WsPod[];
let fragile: WsPod;
let refusing: http.Server;
let router: ServiceRouter;
let server: NodeServer;

const service = (name: string, annotations: Record<string, string> = {}) => ({ ...seedService(annotations), metadata: { name, namespace: "default", resourceVersion: "1", annotations } });

beforeAll(async () => {
  chatPods = await Promise.all(["chat-0", "chat-1", "chat-2"].map((name) => startWsPod(name)));
  fragile = await startWsPod("fragile-0");
  refusing = await startRefusingPod();
  router = new ServiceRouter({
    core: createWasmCore(),
    transport: createUndiciTransport(),
    clientAddress: nodeClientAddress,
    requestHeaders: nodeRequestHeaders,
    routes: ["chat", "fragile", "refusing"].map((name) => ({ pathPrefix: `/${name}`, service: name })),
  });
  router.setTable(
    buildRoutingTable({
      services: [service("chat", { "vipr.io/lb-policy": "maglev", "vipr.io/hash-key": "query:user" }), service("fragile"), service("refusing")],
      endpointSlices: [
        ...slicesFor("chat", chatPods.map((pod) => ({ pod: pod.name, port: pod.port }))),
        ...slicesFor("fragile", [{ pod: fragile.name, port: fragile.port }]),
        ...slicesFor("refusing", [{ pod: "refusing-0", port: (refusing.address() as AddressInfo).port }]),
      ],
    }),
  );
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
});

/** An open WebSocket through vipr to `path`, or the close that came instead of the open. */
function connect(path: string, protocols: string[] = []): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, protocols);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => resolve(socket);
    socket.onclose = (event) => reject(Object.assign(new Error(`closed before it opened: ${event.code}`), { code: event.code, wasClean: event.wasClean }));
  });
}

function nextMessage(socket: WebSocket): Promise<string | ArrayBuffer> {
  return new Promise((resolve) => socket.addEventListener("message", (event) => resolve(event.data as string | ArrayBuffer), { once: true }));
}

function closed(socket: WebSocket): Promise<{ code: number; reason: string; wasClean: boolean }> {
  if (socket.readyState === WebSocket.CLOSED) throw new Error("already closed: its close event has passed");
  return new Promise((resolve) => socket.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean }), { once: true }));
}

async function ask(socket: WebSocket, text: string): Promise<string> {
  const answer = nextMessage(socket);
  socket.send(text);
  return String(await answer);
}

describe(`WebSocket through vipr with ${CLIENT}`, () => {
  test("text and binary echo", async () => {
    const socket = await connect("/chat?user=alice");
    expect(await ask(socket, "hello")).toBe("hello");
    const binary = nextMessage(socket);
    socket.send(Uint8Array.of(0, 1, 2, 254, 255));
    expect(new Uint8Array((await binary) as ArrayBuffer)).toEqual(Uint8Array.of(0, 1, 2, 254, 255));
    const done = closed(socket);
    socket.close(1000);
    expect((await done).code).toBe(1000);
  });

  test("a 1 MB message both ways", async () => {
    const socket = await connect("/chat?user=bob");
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const echo = nextMessage(socket);
    socket.send(big);
    expect(new Uint8Array((await echo) as ArrayBuffer)).toEqual(big);
    const done = closed(socket);
    socket.close();
    await done;
  });

  test("close codes pass both ways (RFC 6455 section 7.4)", async () => {
    const fromPod = await connect("/chat?user=carol");
    const podClose = closed(fromPod);
    fromPod.send("close:4001");
    expect(await podClose).toEqual({ code: 4001, reason: "pod says bye", wasClean: true });

    const fromClient = await connect("/chat?user=carol");
    const name = await ask(fromClient, "whoami");
    const pod = chatPods.find((p) => p.name === name)!;
    const before = pod.closeCodes.length;
    const done = closed(fromClient);
    fromClient.close(4002, "client says bye");
    expect((await done).code).toBe(4002);
    await vi.waitFor(() => expect(pod.closeCodes.slice(before)).toEqual([4002]));
  });

  test("subprotocol negotiation (RFC 6455 section 11.3.4)", async () => {
    const socket = await connect("/chat?user=dave", ["chat.v1", "chat.v2"]);
    expect(socket.protocol).toBe("chat.v2");
    const done = closed(socket);
    socket.close();
    await done;
  });

  test("a pod that refuses the upgrade: the standard client fails the connection (1006; Deno 0)", async () => {
    await expect(connect("/refusing")).rejects.toMatchObject({ code: ABNORMAL, wasClean: false });
  });

  test("a pod killed mid-connection: the client sees the close (1006; Deno 0); vipr keeps serving", async () => {
    const socket = await connect("/fragile");
    expect(await ask(socket, "ping")).toBe("ping");
    const seen = closed(socket);
    for (const client of fragile.wss.clients) client.terminate();
    expect(await seen).toMatchObject({ code: ABNORMAL, wasClean: false });
    const again = await connect("/fragile");
    expect(await ask(again, "still here")).toBe("still here");
    const done = closed(again);
    again.close();
    await done;
  });

  test("many sockets over a Maglev query:user key land on the pods explain names", async () => {
    const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
    const sockets = await Promise.all(users.map((user) => connect(`/chat?user=${user}`)));
    const landed = await Promise.all(sockets.map((socket) => ask(socket, "whoami")));
    const expected = users.map((user) => {
      const answer = router.explain({ host: `127.0.0.1:${server.port}`, path: `/chat?user=${user}`, key: user });
      if (!answer.found || !answer.result.ok) throw new Error(`explain found no endpoint for ${user}`);
      return answer.result.identity;
    });
    expect(landed).toEqual(expected);
    expect(new Set(landed).size).toBeGreaterThan(1);
    await Promise.all(sockets.map((socket) => {
      const done = closed(socket);
      socket.close();
      return done;
    }));
    await vi.waitFor(() => expect(router.inFlight).toBe(0));
  });
});
