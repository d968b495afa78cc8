// Issue 13: HTTP/2 to the pod when the service port says so (appProtocol kubernetes.io/h2c, the
// Gateway API's convention): the undici transport speaks h2c with prior knowledge to a real
// node:http2 pod (no TLS, no Upgrade), whatever protocol the client used to reach vipr.
import http from "node:http";
import http2, { type Http2Server, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeClientAddress, nodeRequestHeaders, serveNode, type NodeServer } from "../../adapters/node/serve-node.ts";
import { createUndiciTransport } from "../../adapters/node/undici-transport.ts";
import { nodeRequestProtocol } from "../../adapters/node/protocol-of.ts";
import { createAccessLog, type AccessRecord } from "../../router/observability/access-log.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { seedService, slicesFor } from "../support/seed-backends.ts";

const runtimeName = "Deno" in globalThis ? "deno" : "node";

/** An h2c pod: answers every stream with what it received (HTTP version, fields, body size). */
interface H2cPod {
  readonly server: Http2Server;
  readonly port: number;
  readonly sessions: Set<ServerHttp2Session>;
  sessionsSeen: number;
}

async function startH2cPod(): Promise<H2cPod> {
  const server = http2.createServer((request, response) => {
    let bytes = 0;
    request.on("data", (chunk: Buffer) => (bytes += chunk.length));
    request.on("end", () => {
      response.setHeader("content-type", "application/json");
      response.setHeader("x-pod", "h2c-0");
      response.end(JSON.stringify({ httpVersion: request.httpVersion, method: request.method, path: request.url, authority: request.authority, headers: request.headers, bodyBytes: bytes }));
    });
  });
  const pod: H2cPod = { server, port: 0, sessions: new Set(), sessionsSeen: 0 };
  server.on("session", (session: ServerHttp2Session) => {
    pod.sessionsSeen++;
    pod.sessions.add(session);
    session.once("close", () => pod.sessions.delete(session));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return Object.assign(pod, { port: (server.address() as AddressInfo).port });
}

const records: AccessRecord[] = [];
let pod: H2cPod;
let router: ServiceRouter;
let server: NodeServer;

beforeAll(async () => {
  pod = await startH2cPod();
  router = new ServiceRouter({
    core: createWasmCore(),
    transport: createUndiciTransport(),
    clientAddress: nodeClientAddress,
    requestHeaders: nodeRequestHeaders,
    requestProtocol: nodeRequestProtocol,
    accessLog: createAccessLog({ sampleRate: 1, write: (line) => void records.push(JSON.parse(line) as AccessRecord) }),
  });
  router.setTable(
    buildRoutingTable({
      services: [
        { ...seedService({}, { ports: [{ name: "grpc", port: 80, targetPort: 9876, protocol: "TCP", appProtocol: "kubernetes.io/h2c" }] }), metadata: { name: "h2svc", namespace: "default", resourceVersion: "1" } },
      ],
      endpointSlices: slicesFor("h2svc", [{ pod: "h2c-0", port: pod.port }]).map((slice) => ({ ...slice, ports: [{ name: "grpc", port: pod.port, protocol: "TCP", appProtocol: "kubernetes.io/h2c" }] })),
    }),
  );
  // The body limit is above every upload below but the one that tests it.
  server = await serveNode(router.app, { http2: {}, closeGraceMs: 200, maxBodyBytes: 2 * 1024 * 1024 });
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  for (const session of pod?.sessions ?? []) session.destroy();
  await new Promise<void>((done) => (pod === undefined ? done() : pod.server.close(() => done())));
});

function get(path: string, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ port: server.port, host: "127.0.0.1", path, method: body === undefined ? "GET" : "POST", headers: { host: "h2svc" }, agent: false }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers, body: text }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

describe(`HTTP/2 to an h2c pod on ${runtimeName}`, () => {
  test("an HTTP/1.1 request reaches an appProtocol kubernetes.io/h2c pod over HTTP/2, with the forwarded fields", async () => {
    const answer = await get("/hello?x=1");
    expect(answer.status).toBe(200);
    expect(answer.headers["x-pod"]).toBe("h2c-0");
    const seen = JSON.parse(answer.body) as { httpVersion: string; path: string; authority: string; headers: Record<string, string> };
    expect(seen.httpVersion).toBe("2.0");
    expect(seen.path).toBe("/hello?x=1");
    expect(seen.authority).toBe("h2svc");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
  });

  test("/debug/explain's answer names the protocol vipr speaks to the service's pods", () => {
    expect(router.explain({ host: "h2svc" })).toMatchObject({ found: true, resolvedAs: { service: "default/h2svc", port: 80, upstreamProtocol: "h2c" } });
  });

  test("a 1 MB body goes up; 30 concurrent requests share the pod's HTTP/2 connection", async () => {
    const up = await get("/upload", Buffer.alloc(1024 * 1024, 7));
    expect(JSON.parse(up.body)).toMatchObject({ httpVersion: "2.0", method: "POST", bodyBytes: 1024 * 1024 });
    const before = pod.sessionsSeen;
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => get(`/many?i=${i}`)));
    for (const answer of answers) expect(JSON.parse(answer.body)).toMatchObject({ httpVersion: "2.0" });
    // Multiplexed: far fewer connections than requests (HTTP/1.1 would have opened up to 30).
    expect(pod.sessionsSeen - before).toBeLessThanOrEqual(2);
  });

  test("a body without a length past maxBodyBytes gets vipr's 413 on the way to an h2c pod, over HTTP/1.1 and HTTP/2", async () => {
    const chunk = Buffer.alloc(256 * 1024, 1);
    // HTTP/1.1, chunked (no Content-Length): counted as it is read.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request({ port: server.port, host: "127.0.0.1", path: "/too-big", method: "POST", headers: { host: "h2svc" }, agent: false }, (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (part: string) => (text += part));
        response.on("end", () => resolve({ status: response.statusCode!, body: text }));
      });
      request.on("error", reject);
      for (let i = 0; i < 12; i++) request.write(chunk);
      request.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ error: { code: "body_too_large" } });
    // HTTP/2, DATA frames without content-length.
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ":authority": "h2svc", ":path": "/too-big", ":method": "POST" });
        stream.on("response", (headers) => resolve(Number(headers[":status"])));
        stream.on("error", reject);
        for (let i = 0; i < 12; i++) stream.write(chunk);
        stream.end();
      });
      expect(status).toBe(413);
    } finally {
      session.destroy();
    }
    // The pod's session carries on.
    expect((await get("/after-413")).status).toBe(200);
  });

  test("an HTTP/2 client through vipr to the h2c pod: HTTP/2 both hops", async () => {
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ":authority": "h2svc", ":path": "/both" });
        let text = "";
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => (text += chunk));
        stream.on("end", () => resolve(text));
        stream.on("error", reject);
      });
      expect(JSON.parse(answer)).toMatchObject({ httpVersion: "2.0", path: "/both" });
      // The access log names both hops' protocols.
      expect(records.find((r) => r.path === "/both")).toMatchObject({ status: 200, protocol: "h2c", upstream_protocol: "h2c" });
      expect(records.find((r) => r.path === "/hello?x=1")).toMatchObject({ status: 200, protocol: "http/1.1", upstream_protocol: "h2c" });
    } finally {
      await new Promise<void>((done) => session.close(() => done()));
    }
  });
});
