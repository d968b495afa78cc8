// Backend protocols by the Service port's appProtocol (GEP-1911) behind an HTTPRoute: the gateway
// forward path reads the same rule as a request addressed by service name (service-port.ts
// upstreamProtocolOf). A port with appProtocol kubernetes.io/h2c is spoken to in HTTP/2 with prior
// knowledge, whatever the client used (here HTTP/1.1), and a rule's retry codes work on its
// streams; a port with appProtocol kubernetes.io/ws takes WebSocket handshakes through the route,
// with the chosen backendRef's filters on the handshake. Real pods: a node:http2 server and a `ws`
// server on loopback.
import http from "node:http";
import http2, { type Http2Server, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { nodeClientAddress, nodeRequestHeaders, serveNode, type NodeServer } from "../../adapters/node/serve-node.ts";
import { createUndiciTransport } from "../../adapters/node/undici-transport.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeEndpointSlice, KubeService } from "../../router/table/kubernetes-objects.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { startWsPod, type WsPod } from "../forward/websocket-pods.ts";
import { BASE_GATEWAY, gatewayObjects } from "./gateway-yaml.ts";

const NS = "gateway-conformance-infra";

/** An h2c pod: answers each stream with its HTTP version and body; a `x-fail-first` value gets 503
 * on its first stream. */
async function startH2cPod(): Promise<{ server: Http2Server; port: number; sessions: Set<ServerHttp2Session>; streams: { failKey: string | undefined; body: string }[] }> {
  const streams: { failKey: string | undefined; body: string }[] = [];
  const failed = new Set<string>();
  const server = http2.createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      const key = request.headers["x-fail-first"] as string | undefined;
      streams.push({ failKey: key, body });
      const fail = key !== undefined && !failed.has(key);
      if (key !== undefined) failed.add(key);
      response.writeHead(fail ? 503 : 200, { "content-type": "application/json" });
      response.end(JSON.stringify({ httpVersion: request.httpVersion, body }));
    });
  });
  const sessions = new Set<ServerHttp2Session>();
  server.on("session", (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { server, port: (server.address() as AddressInfo).port, sessions, streams };
}

function serviceOf(name: string, appProtocol: string, podPort: number): { service: KubeService; slice: KubeEndpointSlice } {
  return {
    service: { apiVersion: "v1", kind: "Service", metadata: { name, namespace: NS, resourceVersion: "1" }, spec: { selector: { app: name }, ports: [{ name: "web", port: 8080, targetPort: podPort, protocol: "TCP", appProtocol }] } } as KubeService,
    slice: {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: `${name}-0`, namespace: NS, resourceVersion: "1", labels: { "kubernetes.io/service-name": name } },
      addressType: "IPv4",
      ports: [{ name: "web", port: podPort, protocol: "TCP", appProtocol }],
      endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: "Pod", namespace: NS, name: `${name}-0` } }],
    } as KubeEndpointSlice,
  };
}

let h2c: Awaited<ReturnType<typeof startH2cPod>>;
let ws: WsPod;
let router: ServiceRouter;
let server: NodeServer;

beforeAll(async () => {
  h2c = await startH2cPod();
  ws = await startWsPod("ws-backend-0");
  router = new ServiceRouter({ core: createWasmCore(), transport: createUndiciTransport(), clientAddress: nodeClientAddress, requestHeaders: nodeRequestHeaders });
  const backends = [serviceOf("h2c-backend", "kubernetes.io/h2c", h2c.port), serviceOf("ws-backend", "kubernetes.io/ws", ws.port)];
  const table = buildRoutingTable({ services: backends.map((b) => b.service), endpointSlices: backends.map((b) => b.slice), pods: [] });
  router.setTable(table);
  router.setGatewayObjects(
    gatewayObjects(`${BASE_GATEWAY}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: protocols, namespace: ${NS} }
spec:
  parentRefs: [{ name: same-namespace }]
  hostnames: [protocols.example]
  rules:
  - matches: [{ path: { type: PathPrefix, value: /h2c } }]
    retry: { codes: [503], attempts: 1 }
    backendRefs: [{ name: h2c-backend, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /ws } }]
    backendRefs:
    - name: ws-backend
      port: 8080
      filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-via-route, value: ws-backend }] } }]
`),
    { serviceExists: (key) => table.services.has(key) },
  );
  server = await serveNode(router.app, { upgrades: router, closeGraceMs: 200 });
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  for (const session of h2c?.sessions ?? []) session.destroy();
  await new Promise<void>((done) => (h2c === undefined ? done() : h2c.server.close(() => done())));
  ws?.wss.close();
  await new Promise<void>((done) => (ws === undefined ? done() : ws.server.close(() => done())));
});

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: server.port, path, method: "POST", headers: { host: "protocols.example", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("backend protocols by appProtocol behind an HTTPRoute", () => {
  test("kubernetes.io/h2c: an HTTP/1.1 request reaches the pod over HTTP/2, body and all", async () => {
    const answer = await post("/h2c/one", "hello h2c");
    expect([answer.status, JSON.parse(answer.body)]).toEqual([200, { httpVersion: "2.0", body: "hello h2c" }]);
  });

  test("kubernetes.io/h2c with retry codes: the 503 stream is dropped and the copied body sent again", async () => {
    const answer = await post("/h2c/retry", "sent twice", { "x-fail-first": "k1" });
    expect([answer.status, JSON.parse(answer.body).httpVersion]).toEqual([200, "2.0"]);
    expect(h2c.streams.filter((s) => s.failKey === "k1")).toEqual([
      { failKey: "k1", body: "sent twice" },
      { failKey: "k1", body: "sent twice" },
    ]);
  });

  test("kubernetes.io/ws: a WebSocket handshake goes through the route, with the backendRef's filters", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws/chat`, { headers: { host: "protocols.example" } });
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => {
        socket.send("whoami");
        socket.send("headers");
      });
      socket.on("message", (data) => {
        messages.push(data.toString());
        if (messages.length === 2) resolve();
      });
      socket.once("error", reject);
    });
    socket.close();
    expect([messages[0], JSON.parse(messages[1]!)["x-via-route"]]).toEqual(["ws-backend-0", "ws-backend"]);
  });
});
