// Issue 13: HTTP/2 on vipr's listener (adapters/node/listener-server.ts, http2-requests.ts):
// h2c with prior knowledge beside HTTP/1.1 on one plain port, h2 by ALPN over TLS, each stream
// routed and balanced on its own through the same pipeline. Real clients (curl, Node's http2
// client) against serveNode with real loopback pods; the same cases on Node and Deno.
// Nothing waits by sleeping: each step waits for the event that says it happened.
import http2, { type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import net from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { nodeClientAddress, nodeRequestHeaders, serveNode, type NodeServer } from "../../adapters/node/serve-node.ts";
import { CertificateStore } from "../../adapters/node/tls-certificates.ts";
import { createUndiciTransport } from "../../adapters/node/undici-transport.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";
import { makeCertificate, run } from "./tls-test-certs.ts";

const runtimeName = "Deno" in globalThis ? "deno" : "node";
const MAX_STREAMS = 64;
let temp: string;
let pods: Pod[];
let plainRouter: ServiceRouter;
let tlsRouter: ServiceRouter;
let h2c: NodeServer;
let tls: NodeServer;
let limited: NodeServer;
let store: CertificateStore;

function newRouter(proto: "http" | "https"): ServiceRouter {
  const router = new ServiceRouter({ core: createWasmCore(), transport: createUndiciTransport(), clientAddress: nodeClientAddress, requestHeaders: nodeRequestHeaders, proto });
  router.setTable(
    buildRoutingTable({
      services: [seedService({ "vipr.io/lb-policy": "round-robin" })],
      endpointSlices: slicesFor("simpleservice", pods.map((pod) => ({ pod: pod.name, port: pod.port }))),
    }),
  );
  return router;
}

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "vipr-h2-"));
  await makeCertificate(join(temp, "tls.crt"), join(temp, "tls.key"), ["vipr.test"]);
  store = new CertificateStore({ certFile: join(temp, "tls.crt"), keyFile: join(temp, "tls.key") });
  pods = await Promise.all(["sise-0", "sise-1", "sise-2"].map((name) => startPod(name)));
  plainRouter = newRouter("http");
  tlsRouter = newRouter("https");
  h2c = await serveNode(plainRouter.app, { upgrades: plainRouter, http2: { maxConcurrentStreams: MAX_STREAMS }, closeGraceMs: 200 });
  tls = await serveNode(tlsRouter.app, { upgrades: tlsRouter, tls: store, http2: {}, closeGraceMs: 200 });
  limited = await serveNode(plainRouter.app, { http2: {}, maxBodyBytes: 1000, closeGraceMs: 200 });
}, 60_000);

afterAll(async () => {
  await Promise.all([h2c?.close(), tls?.close(), limited?.close()]);
  await plainRouter?.close();
  await tlsRouter?.close();
  for (const pod of pods ?? []) await pod.close();
  store?.close();
  if (temp !== undefined) await rm(temp, { recursive: true, force: true });
});

/** One HTTP/2 request on `session`: status, headers and body. */
function request(session: ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":authority": "simpleservice", ...headers }, { endStream: body === undefined });
    let responseHeaders: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (responseHeaders = h));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve({ status: Number(responseHeaders[":status"]), headers: responseHeaders, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
    if (body !== undefined) stream.end(body);
  });
}

function connect(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once("connect", () => resolve(session));
    session.once("error", reject);
  });
}

function closeSession(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => (session.closed ? resolve() : session.close(() => resolve())));
}

describe(`HTTP/2 on the listener on ${runtimeName}`, () => {
  test("curl: h2c with prior knowledge and HTTP/1.1 on the same plain port", async () => {
    const h2 = await run("curl", ["-sS", "--http2-prior-knowledge", "-H", "host: simpleservice", "-w", "\\n%{http_version}", `http://127.0.0.1:${h2c.port}/echo`]);
    expect(h2.code, h2.stderr).toBe(0);
    const [body2, version2] = h2.stdout.split("\n");
    expect(version2).toBe("2");
    expect(JSON.parse(body2!)).toMatchObject({ path: "/echo", headers: { host: "simpleservice", "x-forwarded-proto": "http" } });
    const h1 = await run("curl", ["-sS", "--http1.1", "-H", "host: simpleservice", "-w", "\\n%{http_version}", `http://127.0.0.1:${h2c.port}/echo`]);
    expect(h1.code, h1.stderr).toBe(0);
    expect(h1.stdout.split("\n")[1]).toBe("1.1");
    expect(JSON.parse(h1.stdout.split("\n")[0]!)).toMatchObject({ path: "/echo" });
  });

  test("curl over TLS: h2 by ALPN, and HTTP/1.1 when the client asks for it", async () => {
    const common = ["-sS", "--cacert", join(temp, "tls.crt"), "--resolve", `vipr.test:${tls.port}:127.0.0.1`, "-H", "host: simpleservice", "-w", "\\n%{http_version}"];
    const h2 = await run("curl", [...common, "--http2", `https://vipr.test:${tls.port}/echo`]);
    expect(h2.code, h2.stderr).toBe(0);
    expect(h2.stdout.split("\n")[1]).toBe("2");
    expect(JSON.parse(h2.stdout.split("\n")[0]!)).toMatchObject({ path: "/echo", headers: { "x-forwarded-proto": "https" } });
    const h1 = await run("curl", [...common, "--http1.1", `https://vipr.test:${tls.port}/echo`]);
    expect(h1.code, h1.stderr).toBe(0);
    expect(h1.stdout.split("\n")[1]).toBe("1.1");
  });

  test("100 streams on one connection are balanced over the 3 pods, and the max concurrent streams setting is sent", async () => {
    const session = await connect(h2c.port);
    try {
      await vi.waitFor(() => expect(session.remoteSettings.maxConcurrentStreams).toBe(MAX_STREAMS));
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => request(session, { ":path": `/echo?i=${i}` })));
      const byPod = new Map<string, number>();
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        const pod = String(answer.headers["x-pod"]);
        byPod.set(pod, (byPod.get(pod) ?? 0) + 1);
      }
      // Round robin over 3 pods: every pod gets its share, whatever the order streams arrive in.
      expect([...byPod.keys()].sort()).toEqual(["sise-0", "sise-1", "sise-2"]);
      for (const count of byPod.values()) expect(count).toBeGreaterThanOrEqual(30);
    } finally {
      await closeSession(session);
    }
  }, 60_000);

  test("a 20 MB body both ways, with flow control (the pod counts what it got, the client what came back)", async () => {
    const session = await connect(h2c.port);
    try {
      const size = 20 * 1024 * 1024;
      const body = Buffer.alloc(size);
      for (let i = 0; i < size; i++) body[i] = (i * 7) & 0xff;
      let sum = 0;
      for (let i = 0; i < size; i++) sum = (sum + body[i]!) % 65521;
      const up = await request(session, { ":method": "POST", ":path": "/echo", "content-type": "application/octet-stream" }, body);
      expect(up.status).toBe(200);
      expect(JSON.parse(up.body.toString())).toMatchObject({ bodyBytes: size, bodySum: sum });
      const down = await request(session, { ":path": `/big?bytes=${size}` });
      expect(down.status).toBe(200);
      expect(down.body.length).toBe(size);
      expect(down.body.every((byte) => byte === 120)).toBe(true);
    } finally {
      await closeSession(session);
    }
  }, 120_000);

  test("RST_STREAM of one stream leaves the others on the connection", async () => {
    const session = await connect(h2c.port);
    try {
      const cancelled = session.request({ ":authority": "simpleservice", ":path": "/delay?ms=60000" });
      cancelled.on("error", () => {});
      const closed = new Promise<number>((resolve) => cancelled.once("close", () => resolve(cancelled.rstCode)));
      // Cancel once vipr has the request in flight (its pod got it).
      await vi.waitFor(() => expect(pods.some((pod) => pod.hits.includes("/delay"))).toBe(true));
      const others = Array.from({ length: 5 }, (_, i) => request(session, { ":path": `/delay?ms=300&i=${i}` }));
      cancelled.close(http2.constants.NGHTTP2_CANCEL);
      expect(await closed).toBe(http2.constants.NGHTTP2_CANCEL);
      for (const answer of await Promise.all(others)) expect(answer.status).toBe(200);
      expect((await request(session, { ":path": "/echo" })).status).toBe(200);
      expect(session.destroyed).toBe(false);
      // The reset reached the pipeline: the cancelled request's upstream call was aborted, not
      // left waiting 60 s for its pod.
      await vi.waitFor(() => expect(plainRouter.inFlight).toBe(0), { timeout: 10_000 });
    } finally {
      await closeSession(session);
    }
  }, 60_000);

  test("the same limits as HTTP/1.1: too many header fields 431, a content-length past the body limit 413, a body without one past it 413", async () => {
    const session = await connect(limited.port);
    try {
      const many: http2.OutgoingHttpHeaders = { ":path": "/echo" };
      for (let i = 0; i < 101; i++) many[`x-field-${i}`] = "1";
      const fields = await request(session, many);
      expect(fields.status).toBe(431);
      expect(JSON.parse(fields.body.toString())).toMatchObject({ error: { status: 431, code: "headers_too_large" } });
      const declared = await request(session, { ":method": "POST", ":path": "/echo", "content-length": "5000" }, Buffer.alloc(5000));
      expect(declared.status).toBe(413);
      expect(JSON.parse(declared.body.toString())).toEqual({ error: { status: 413, code: "body_too_large", message: "request body is larger than 1000 bytes", maxBodyBytes: 1000 } });
      const streamed = await request(session, { ":method": "POST", ":path": "/echo" }, Buffer.alloc(5000));
      expect(streamed.status).toBe(413);
      const within = await request(session, { ":method": "POST", ":path": "/echo" }, Buffer.alloc(900, 1));
      expect(within.status).toBe(200);
      expect(JSON.parse(within.body.toString())).toMatchObject({ bodyBytes: 900 });
      // A Host field naming another authority than :authority (RFC 9113 section 8.3.1).
      expect((await request(session, { ":path": "/echo", host: "other" })).status).toBe(400);
    } finally {
      await closeSession(session);
    }
  }, 60_000);

  test("a connection that stalls inside the preface, a byte at a time, is closed at the header timeout", async () => {
    const server = await serveNode(plainRouter.app, { http2: {}, headersTimeoutMs: 500, closeGraceMs: 200 });
    try {
      const socket = net.connect(server.port, "127.0.0.1");
      socket.on("error", () => {});
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
      let sent = 0;
      // One byte every 200 ms: each byte would restart an inactivity timer of 500 ms, so only a
      // bound counted from the connection closes it before the whole preface is in (4.6 s).
      const drip = setInterval(() => {
        if (sent < preface.length - 1 && !socket.destroyed) socket.write(preface[sent++]!);
      }, 200);
      await closed;
      clearInterval(drip);
      expect(sent).toBeLessThan(preface.length - 1);
    } finally {
      await server.close();
    }
  }, 30_000);

  test("close (drain) sends GOAWAY: the stream in flight finishes, the connection then ends", async () => {
    const router = newRouter("http");
    const server = await serveNode(router.app, { http2: {}, closeGraceMs: 10_000 });
    const session = await connect(server.port);
    const goaway = new Promise<number>((resolve) => session.once("goaway", (code: number) => resolve(code)));
    session.on("error", () => {});
    const delays = (): number => pods.reduce((n, pod) => n + pod.hits.filter((p) => p === "/delay").length, 0);
    const before = delays();
    const inFlight = request(session, { ":path": "/delay?ms=500&drain=1" });
    await vi.waitFor(() => expect(delays()).toBe(before + 1));
    const closed = server.close();
    expect(await goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect((await inFlight).status).toBe(200);
    await closed;
    expect(session.closed || session.destroyed).toBe(true);
    await router.close();
  }, 60_000);
});
