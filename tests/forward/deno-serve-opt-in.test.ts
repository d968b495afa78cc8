// The Deno.serve opt-in (`vipr/deno`: serveDeno with the undici transport), for apps that must live
// inside Deno.serve. Deno only. It forwards as `vipr serve` does, and its parser (hyper) answers
// some malformed requests differently: this pins the differences the README lists ("Under Deno"),
// so a Deno release that changes one fails here and the table gets updated.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Context } from "hono";
import { loadRuntimeAdapter } from "../../adapters/runtime-adapter.ts";
import { createUndiciTransport, denoClientAddress, denoRequestHeaders, guardedDenoHandler, serveDeno, type DenoServer } from "../../adapters/deno/index.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { seedService, slicesFor } from "../support/seed-backends.ts";
import { fieldOf, startRawPod, type RawPod } from "../safety/support/raw-pod.ts";
import { parseResponses, rawExchange } from "../safety/support/safety-router.ts";

const CRLF = "\r\n";

describe.skipIf(!("Deno" in globalThis))("vipr inside Deno.serve (serveDeno + undici)", () => {
  let pod: RawPod;
  let router: ServiceRouter;
  let server: DenoServer;

  beforeAll(async () => {
    pod = await startRawPod();
    router = new ServiceRouter({ core: createWasmCore(), transport: createUndiciTransport(), clientAddress: denoClientAddress, requestHeaders: denoRequestHeaders, outlierDetection: false });
    router.setTable(buildRoutingTable({ services: [seedService()], endpointSlices: slicesFor("simpleservice", [{ pod: "raw-pod", port: pod.port }]) }));
    server = await serveDeno(router.app, { closeGraceMs: 200 });
  });

  afterAll(async () => {
    await server?.close();
    await router?.close();
    await pod?.close();
  });

  test("forwards a Content-Length body as it came, with the client's address", async () => {
    const before = pod.requests.length;
    const exchange = await rawExchange(server.port, `POST /upload HTTP/1.1${CRLF}host: simpleservice${CRLF}content-length: 5${CRLF}connection: close${CRLF}${CRLF}hello`);
    expect(parseResponses(exchange.text).map((r) => r.status)).toEqual([200]);
    const [request] = pod.requests.slice(before);
    expect(request?.body.toString()).toBe("hello");
    expect(fieldOf(request!, "x-forwarded-for")).toBe("127.0.0.1");
    expect(fieldOf(request!, "user-agent")).toBeUndefined();
  });

  // [request, answer on this path]; `vipr serve` answers 400, 400, 200, 200 and 400 (with the
  // connection closed) to these on both runtimes (tests/safety/parsing-parity.test.ts).
  const differences: readonly (readonly [string, string, readonly number[]])[] = [
    ["bare-LF line endings: served", "GET /info HTTP/1.1\nhost: simpleservice\nconnection: close\n\n", [200]],
    ["no Host: routed as localhost", `GET /info HTTP/1.1${CRLF}connection: close${CRLF}${CRLF}`, [404]],
    ["Transfer-Encoding: identity, chunked: 400", `POST /upload HTTP/1.1${CRLF}host: simpleservice${CRLF}transfer-encoding: identity, chunked${CRLF}connection: close${CRLF}${CRLF}5${CRLF}hello${CRLF}0${CRLF}${CRLF}`, [400]],
    ["HTTP/2.0 request line: 400", `GET /info HTTP/2.0${CRLF}host: simpleservice${CRLF}connection: close${CRLF}${CRLF}`, [400]],
    ["broken chunk framing: closed without an answer", `POST /upload HTTP/1.1${CRLF}host: simpleservice${CRLF}transfer-encoding: chunked${CRLF}connection: close${CRLF}${CRLF}5\nhello${CRLF}0${CRLF}${CRLF}`, []],
  ];

  test.each(differences)("%s", async (_name, bytes, statuses) => {
    const exchange = await rawExchange(server.port, bytes, { waitMs: 3000 });
    expect(parseResponses(exchange.text).map((r) => r.status)).toEqual(statuses);
  });

  test("h2c prior-knowledge preface: taken as HTTP/2 (the connection stays open)", async () => {
    const exchange = await rawExchange(server.port, `PRI * HTTP/2.0${CRLF}${CRLF}SM${CRLF}${CRLF}`, { waitMs: 500 });
    expect(exchange.closed).toBe(false);
    expect(exchange.text.startsWith("HTTP/1.1")).toBe(false);
  });

  test("the runtime adapter's client address also reads Deno.serve's connection info (the `deno serve` entry)", async () => {
    const runtime = await loadRuntimeAdapter();
    expect(runtime.clientAddress({ env: { remoteAddr: { transport: "tcp", hostname: "10.1.2.3", port: 5000 } } } as unknown as Context)).toBe("10.1.2.3");
  });

  test("guardedDenoHandler (the `deno serve` entry's handler) refuses a Host that is not host[:port]", async () => {
    // Deno.serve builds request.url from Host: "simpleservice/x" would make GET /info reach the pod as /x/info.
    const handler = guardedDenoHandler(router.app);
    const info = { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 5000 } };
    const bad = await handler(new Request("http://simpleservice/x/info", { headers: { host: "simpleservice/x" } }), info);
    expect([bad.status, bad.headers.get("x-vipr-error")]).toEqual([400, "bad_host"]);
    const good = await handler(new Request("http://simpleservice/info", { headers: { host: "simpleservice" } }), info);
    expect(good.status).toBe(200);
  });
});
