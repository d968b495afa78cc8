// The request path end to end on this runtime (Node: @hono/node-server + undici; Deno: Deno.serve +
// fetch): real loopback pods, the router served on a loopback port, real HTTP clients.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { seededRandom } from "../balancing/balancer-fixtures.ts";
import { deadPort } from "../forward/loopback-backend.ts";
import { seedService, slicesFor, startPod, type Pod } from "../support/seed-backends.ts";

const runtime = await loadRuntimeAdapter();

let pods: Pod[];
let router: ServiceRouter;
let server: RunningServer;
let base: string;

interface Echo {
  pod: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  bodyBytes: number;
  bodySum: number;
}

/** A request with an explicit Host, through a raw socket (fetch will not send a foreign Host). */
function rawRequest(lines: string, body = ""): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1", () => socket.write(`${lines}\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const split = data.indexOf("\r\n\r\n");
      const head = data.slice(0, split);
      let rest = data.slice(split + 4);
      if (/transfer-encoding: chunked/i.test(head)) {
        let out = "";
        for (;;) {
          const eol = rest.indexOf("\r\n");
          const size = parseInt(rest.slice(0, eol), 16);
          if (!(size > 0)) break;
          out += rest.slice(eol + 2, eol + 2 + size);
          rest = rest.slice(eol + 2 + size + 2);
        }
        rest = out;
      }
      resolve({ status: Number(head.split(" ")[1]), headers: head, body: rest });
    });
  });
}

async function get(host: string, path = "/info", extra = ""): Promise<{ status: number; json: any; headers: string }> {
  const response = await rawRequest(`GET ${path} HTTP/1.1\r\nhost: ${host}${extra}`);
  return { status: response.status, json: response.body === "" ? undefined : JSON.parse(response.body), headers: response.headers };
}

beforeAll(async () => {
  pods = await Promise.all(["rcsise-a1b2c", "rcsise-d3e4f"].map((name) => startPod(name)));
  router = new ServiceRouter({
    core: createWasmCore(),
    transport: runtime.createTransport(),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    timeouts: { responseMs: 500 },
    random: seededRandom(7), // the least-request split is the same on every run
  });
  router.setTable(
    buildRoutingTable({
      services: [
        seedService(),
        { ...seedService(), metadata: { name: "nopods", namespace: "default", resourceVersion: "1" } },
        { ...seedService(), metadata: { name: "deadpod", namespace: "default", resourceVersion: "1" } },
        { ...seedService(), metadata: { name: "sticky", namespace: "default", resourceVersion: "1", annotations: { "vipr.io/hash-key": "header:x-user" } } },
        { ...seedService(), metadata: { name: "ext", namespace: "default", resourceVersion: "1" }, spec: { type: "ExternalName", externalName: "example.com" } },
        { ...seedService(), metadata: { name: "halfdead", namespace: "default", resourceVersion: "1" } },
      ],
      endpointSlices: [
        ...slicesFor("simpleservice", pods.map((p) => ({ pod: p.name, port: p.port }))),
        ...slicesFor("sticky", pods.map((p) => ({ pod: p.name, port: p.port }))),
        ...slicesFor("deadpod", [{ pod: "gone", port: await deadPort() }]),
        ...slicesFor("halfdead", [
          { pod: "gone", port: await deadPort() },
          { pod: pods[0]!.name, port: pods[0]!.port },
        ]),
        ...slicesFor("nopods", [{ pod: "starting", port: pods[0]!.port, ready: false, serving: false }]),
      ],
    }),
  );
  server = await runtime.serve(router.app);
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  await Promise.all(pods.map((p) => p.close()));
});

describe(`service router on ${runtime.name}`, () => {
  test.each(["simpleservice", "simpleservice.default", "simpleservice.default.svc", "simpleservice.default.svc.cluster.local", "SimpleService:80", "simpleservice.default.svc.cluster.local:80"])(
    "%s reaches a pod of the service",
    async (host) => {
      const { status, json } = await get(host);
      expect(status).toBe(200);
      expect(["rcsise-a1b2c", "rcsise-d3e4f"]).toContain(json.pod);
      expect(json.path).toBe("/info");
    },
  );

  test("traffic splits between both pods (least-request, no key)", async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const { json } = await get("simpleservice");
      counts.set(json.pod, (counts.get(json.pod) ?? 0) + 1);
    }
    expect(counts.size).toBe(2);
    for (const n of counts.values()) expect(n).toBeGreaterThan(60);
  });

  test("an absolute-form request (http_proxy style) is routed by its request-target", async () => {
    const response = await rawRequest("GET http://simpleservice/info?x=1 HTTP/1.1\r\nhost: simpleservice");
    expect(response.status).toBe(200);
    const echo = JSON.parse(response.body) as Echo;
    expect(echo.path).toBe("/info?x=1");
    expect(echo.headers["host"]).toBe("simpleservice");
  });

  test("fetch through the router: forwarding headers added, hop-by-hop removed, body streamed", async () => {
    const body = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    const response = await fetch(`${base}/echo`, {
      method: "POST",
      body,
      headers: { "x-user": "u1", connection: "keep-alive, x-drop-me", "x-drop-me": "1", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    });
    // fetch sends Host 127.0.0.1:port, which is not a service name.
    expect(response.status).toBe(404);
    const routed = await rawRequest(`POST /echo HTTP/1.1\r\nhost: simpleservice\r\nx-drop-me: 1\r\nconnection: x-drop-me\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01`, "hello");
    const echo = JSON.parse(routed.body) as Echo;
    expect(echo.bodyBytes).toBe(5);
    expect(echo.headers["x-drop-me"]).toBeUndefined();
    expect(echo.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(echo.headers["x-forwarded-host"]).toBe("simpleservice");
    expect(echo.headers["x-forwarded-proto"]).toBe("http");
    expect(echo.headers["forwarded"]).toBe("for=127.0.0.1;proto=http;host=simpleservice");
    expect(echo.headers["via"]).toBe("1.1 vipr");
    expect(echo.headers["traceparent"]).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    expect(routed.headers).toMatch(/via: 1.1 vipr/i);
  });

  test("a large response streams through whole", async () => {
    const response = await rawRequest("GET /big?bytes=8388608 HTTP/1.1\r\nhost: simpleservice");
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(8388608);
  });

  test("a hash key sends the same user to the same pod", async () => {
    for (const user of ["alice", "bob", "carol", "dave"]) {
      const first = await get("sticky", "/info", `\r\nx-user: ${user}`);
      for (let i = 0; i < 5; i++) expect((await get("sticky", "/info", `\r\nx-user: ${user}`)).json.pod).toBe(first.json.pod);
    }
  });

  test.each([
    ["nosuch", 404, "unknown_service", 'host "nosuch": no service "nosuch" in namespace "default"'],
    ["simpleservice.other", 404, "unknown_service", 'host "simpleservice.other": no service "simpleservice" in namespace "other"'],
    ["simpleservice:8080", 404, "unknown_port", 'host "simpleservice:8080": service default/simpleservice has no port 8080 (its ports: 80)'],
    ["10.0.0.1", 404, "unknown_host", undefined],
    ["nopods", 503, "no_endpoints", undefined],
    ["deadpod", 502, "upstream_connect", undefined],
    ["ext", 403, "external_name_not_allowed", undefined],
  ])("%s gets %i %s", async (host, status, code, message) => {
    const response = await get(host);
    expect(response.status).toBe(status);
    expect(response.json.error.code).toBe(code);
    expect(response.json.error.status).toBe(status);
    if (message !== undefined) expect(response.json.error.message).toBe(message);
  });

  test("a refused connection is retried on another endpoint: no GET or POST fails", async () => {
    for (let i = 0; i < 20; i++) {
      const response = await rawRequest("POST /echo HTTP/1.1\r\nhost: halfdead", "payload-" + i);
      expect(response.status).toBe(200);
      const echo = JSON.parse(response.body) as Echo;
      expect(echo.pod).toBe(pods[0]!.name);
      expect(echo.bodyBytes).toBe(("payload-" + i).length);
    }
  });

  test("a pod that never answers gets 504 after the response timeout", async () => {
    const started = Date.now();
    const response = await get("simpleservice", "/slow");
    expect(response.status).toBe(504);
    expect(response.json.error.code).toBe("upstream_timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  test("CONNECT is refused with a clear error", async () => {
    const response = await rawRequest("CONNECT simpleservice:443 HTTP/1.1\r\nhost: simpleservice:443");
    expect(response.status).toBe(405);
    expect(response.body).toContain("connect_not_supported");
  });

  test("explain names the endpoint a key reaches and why", () => {
    const answer = router.explain({ host: "sticky", key: "alice" });
    expect(answer.found).toBe(true);
    if (!answer.found) return;
    expect(answer.policy).toBe("maglev");
    expect(answer.hash).toBeTypeOf("number");
    expect(answer.slot).toBe((answer.hash ?? 0) % 65537);
    expect(answer.result.ok).toBe(true);
  });
});
