// Both runtimes parse alike (issue 17): the same bytes, sent over a raw socket to the router served
// by this runtime's adapter (loadRuntimeAdapter: @hono/node-server and undici on both), get ONE
// answer on Node and on Deno, and the pod (a raw TCP server, support/raw-pod.ts) receives the same
// thing. Each case below once had two answers, when Deno served with Deno.serve and forwarded with
// fetch (adapters/runtime-adapter.ts says why that changed). After every case vipr still serves.
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { RunningServer } from "../../adapters/runtime-adapter.ts";
import type { UpstreamTarget } from "../../router/forward/upstream-transport.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { seedService, slicesFor } from "../support/seed-backends.ts";
import { fieldOf, startRawPod, type RawPod, type RawPodRequest } from "./support/raw-pod.ts";
import { parseResponses, rawExchange, recordingTransport, runtime } from "./support/safety-router.ts";

/** A gzip body the pod answers /gzip with; it must reach the client byte for byte. */
const GZIPPED = gzipSync(Buffer.from("compressed through vipr ".repeat(200)));

let pod: RawPod;
let server: RunningServer;
let router: ServiceRouter;
const dialled: UpstreamTarget[] = [];

beforeAll(async () => {
  pod = await startRawPod((request) =>
    request.requestLine.startsWith("GET /gzip ")
      ? { status: 200, fields: [["content-type", "text/plain"], ["content-encoding", "gzip"]], body: GZIPPED }
      : { status: 200, fields: [["content-type", "application/json"], ["x-pod", "raw-pod"]], body: Buffer.from(JSON.stringify({ requestLine: request.requestLine, bodyBytes: request.body.length })) },
  );
  router = new ServiceRouter({
    core: createWasmCore(),
    transport: recordingTransport(runtime.createTransport(), dialled),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    timeouts: { connectMs: 500, responseMs: 2000 },
    outlierDetection: false,
  });
  router.setTable(buildRoutingTable({ services: [seedService()], endpointSlices: slicesFor("simpleservice", [{ pod: "raw-pod", port: pod.port }]) }));
  server = await runtime.serve(router.app, { closeGraceMs: 200 });
});

afterAll(async () => {
  await server?.close();
  await router?.close();
  await pod?.close();
});

const CRLF = "\r\n";
const fields = (count: number): string => Array.from({ length: count }, (_, i) => `x-field-${i}: v${CRLF}`).join("");
const get = (extra: string): string => `GET /info HTTP/1.1${CRLF}host: simpleservice${CRLF}${extra}connection: close${CRLF}${CRLF}`;
const chunkedPost = (body: string): string => `POST /upload HTTP/1.1${CRLF}host: simpleservice${CRLF}transfer-encoding: chunked${CRLF}connection: close${CRLF}${CRLF}${body}`;

/** What one case must produce on both runtimes. `pod`: the request line the pod got, or null. */
interface Parity {
  readonly name: string;
  readonly bytes: string;
  readonly statuses: readonly number[];
  readonly pod: string | null;
  /** The answer's error code (x-vipr-error), for answers vipr itself writes. */
  readonly code?: string;
}

const cases: readonly Parity[] = [
  // RFC 9112 section 2.2: a recipient MAY take a bare LF as a line end; llhttp (strict) refuses it.
  { name: "bare-LF line ends", bytes: "GET /info HTTP/1.1\nhost: simpleservice\nconnection: close\n\n", statuses: [400], pod: null },
  // RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host.
  { name: "no Host field", bytes: `GET /info HTTP/1.1${CRLF}connection: close${CRLF}${CRLF}`, statuses: [400], pod: null },
  // RFC 6585 section 5: 431 for too many or too large fields.
  { name: "200 header fields", bytes: get(fields(200)), statuses: [431], pod: null, code: "headers_too_large" },
  { name: "one 64 KiB header field", bytes: get(`x-big: ${"a".repeat(64 * 1024)}${CRLF}`), statuses: [431], pod: null },
  { name: "1000 header fields", bytes: get(fields(1000)), statuses: [431], pod: null },
  // RFC 9112 section 7.1: chunk-size CRLF, chunk-data CRLF. The head is routed before the body is
  // parsed, so the pod may see the start of the request; never a complete one (checked below).
  { name: "chunk size line ending in a bare LF", bytes: chunkedPost(`5\nhello${CRLF}0${CRLF}${CRLF}`), statuses: [400], pod: null },
  { name: "chunk size larger than 64 bits", bytes: chunkedPost(`1ffffffffffffffff${CRLF}hello${CRLF}0${CRLF}${CRLF}`), statuses: [400], pod: null },
  { name: "no CRLF after the chunk data", bytes: chunkedPost(`5${CRLF}helloXX0${CRLF}${CRLF}`), statuses: [400], pod: null },
  // RFC 9112 section 6.1: chunked is the final coding; identity before it is accepted by llhttp
  // (identity is not a registered coding any more, but it does not change where the body ends).
  {
    name: "Transfer-Encoding: identity, chunked",
    bytes: `POST /upload HTTP/1.1${CRLF}host: simpleservice${CRLF}transfer-encoding: identity, chunked${CRLF}connection: close${CRLF}${CRLF}5${CRLF}hello${CRLF}0${CRLF}${CRLF}`,
    statuses: [200],
    pod: "POST /upload HTTP/1.1",
  },
  // RFC 9112 section 2.3 lets a server refuse a major version it does not implement (505); llhttp
  // accepts 2.0 in an HTTP/1 request line instead, and the pod gets an HTTP/1.1 request.
  { name: "HTTP/2.0 in an HTTP/1 request line", bytes: `GET /info HTTP/2.0${CRLF}host: simpleservice${CRLF}connection: close${CRLF}${CRLF}`, statuses: [200], pod: "GET /info HTTP/1.1" },
  // RFC 9110 section 10.1.1: 100-continue is answered by the server (interim 100, not relayed
  // from the pod); any other expectation gets 417.
  {
    name: "Expect: 100-continue",
    bytes: `POST /upload HTTP/1.1${CRLF}host: simpleservice${CRLF}expect: 100-continue${CRLF}content-length: 3${CRLF}connection: close${CRLF}${CRLF}abc`,
    statuses: [200],
    pod: "POST /upload HTTP/1.1",
  },
  { name: "Expect: something else", bytes: get(`expect: something${CRLF}`), statuses: [417], pod: null },
  // RFC 9112 section 3.2.4: the asterisk-form asks about the server itself; vipr does not route it.
  { name: "OPTIONS *", bytes: `OPTIONS * HTTP/1.1${CRLF}host: simpleservice${CRLF}connection: close${CRLF}${CRLF}`, statuses: [400], pod: null },
  { name: "HTTP/1.0", bytes: `GET /info HTTP/1.0${CRLF}host: simpleservice${CRLF}${CRLF}`, statuses: [200], pod: "GET /info HTTP/1.1" },
  // RFC 9113 section 3.3: h2c with prior knowledge. vipr serves HTTP/1.1 only: refused.
  { name: "h2c prior-knowledge preface", bytes: `PRI * HTTP/2.0${CRLF}${CRLF}SM${CRLF}${CRLF}`, statuses: [400], pod: null },
];

/** Requests the pod completed since `before`, as request lines. */
const podLines = (before: number): string[] => pod.requests.slice(before).map((r) => r.requestLine);

async function stillServes(): Promise<void> {
  const before = pod.requests.length;
  const exchange = await rawExchange(server.port, get(""));
  expect(parseResponses(exchange.text).map((r) => r.status)).toEqual([200]);
  expect(podLines(before)).toEqual(["GET /info HTTP/1.1"]);
}

describe(`parsing parity on ${runtime.name}`, () => {
  test.each(cases)("$name: $statuses", async ({ bytes, statuses, pod: expectedLine, code }) => {
    const before = pod.requests.length;
    const exchange = await rawExchange(server.port, bytes, { waitMs: 3000 });
    // Every case ends with the connection closed: by Connection: close or by the refusal.
    expect(exchange.closed).toBe(true);
    const responses = parseResponses(exchange.text);
    expect(responses.map((r) => r.status)).toEqual(statuses);
    if (code !== undefined) {
      expect(responses[0]?.headers.get("x-vipr-error")).toBe(code);
      expect(JSON.parse(responses[0]!.body).error).toMatchObject({ status: statuses[0], code });
    }
    expect(podLines(before)).toEqual(expectedLine === null ? [] : [expectedLine]);
    await stillServes();
  });

  test("TE: identity, chunked: the pod gets the body, re-framed as chunked", async () => {
    const before = pod.requests.length;
    await rawExchange(server.port, cases.find((c) => c.name.startsWith("Transfer-Encoding"))!.bytes, { waitMs: 3000 });
    const [request] = pod.requests.slice(before);
    expect(request?.framing).toBe("chunked");
    expect(request?.body.toString()).toBe("hello");
    expect(fieldOf(request!, "transfer-encoding")).toBe("chunked");
  });

  test("every target dialled is the pod", () => {
    expect(dialled.length).toBeGreaterThan(0);
    for (const target of dialled) expect(`${target.address}:${target.port}`).toBe(`127.0.0.1:${pod.port}`);
  });
});

describe(`the transport passes the client's request as it came, on ${runtime.name}`, () => {
  /** Sends `bytes`, returns the one request the pod got and the raw answer. */
  async function through(bytes: string): Promise<{ request: RawPodRequest; answer: string }> {
    const before = pod.requests.length;
    const exchange = await rawExchange(server.port, bytes, { waitMs: 3000 });
    const seen = pod.requests.slice(before);
    expect(seen).toHaveLength(1);
    return { request: seen[0]!, answer: exchange.text };
  }

  test("no user-agent, accept or accept-language is added", async () => {
    const { request } = await through(get("x-test: 1\r\n"));
    const names = request.fields.map(([name]) => name.toLowerCase());
    expect(names).not.toContain("user-agent");
    expect(names).not.toContain("accept");
    expect(names).not.toContain("accept-language");
    expect(fieldOf(request, "x-test")).toBe("1");
  });

  test("the client's user-agent and accept are passed as they came", async () => {
    const { request } = await through(get("user-agent: curl/8.5.0\r\naccept: text/plain\r\n"));
    expect([fieldOf(request, "user-agent"), fieldOf(request, "accept")]).toEqual(["curl/8.5.0", "text/plain"]);
  });

  test("Accept-Encoding is unchanged, and a gzip body comes back compressed, byte for byte", async () => {
    const { request, answer } = await through(`GET /gzip HTTP/1.1\r\nhost: simpleservice\r\naccept-encoding: gzip, br\r\nconnection: close\r\n\r\n`);
    expect(fieldOf(request, "accept-encoding")).toBe("gzip, br");
    const [response] = parseResponses(answer);
    expect(response?.headers.get("content-encoding")).toBe("gzip");
    expect(Buffer.from(response!.body, "latin1").equals(GZIPPED)).toBe(true);
  });

  test("a Content-Length body arrives with its Content-Length, not chunked", async () => {
    const body = "x".repeat(3000);
    const { request } = await through(`POST /upload HTTP/1.1\r\nhost: simpleservice\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    expect(request.framing).toBe("content-length");
    expect(fieldOf(request, "content-length")).toBe(String(body.length));
    expect(fieldOf(request, "transfer-encoding")).toBeUndefined();
    expect(request.body.toString()).toBe(body);
  });

  test("TRACE reaches no pod: 405 on both runtimes (tests/safety/hostile-clients.test.ts has the rest)", async () => {
    const before = pod.requests.length;
    const exchange = await rawExchange(server.port, `TRACE /info HTTP/1.1\r\nhost: simpleservice\r\nconnection: close\r\n\r\n`, { waitMs: 3000 });
    expect(parseResponses(exchange.text).map((r) => r.status)).toEqual([405]);
    expect(pod.requests.length).toBe(before);
  });
});
