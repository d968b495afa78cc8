// Limits at the serve adapter (adapters/node/serve-node.ts, the edge of both runtimes): header
// size and count, request line, slowloris, body size. After every refusal the router still serves.
// One answer for both runtimes: a head over 16 KiB gets the parser's 431 (llhttp on Node, Deno's
// node:http on Deno), more than 100 fields gets the adapter's 431 (Deno's node:http does not
// enforce maxHeadersCount, so serve-node.ts counts the fields itself on both).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { knownGoodStatus, parseResponses, rawExchange, runtime, startSafetyRouter, type SafetyRouter } from "./support/safety-router.ts";

let vipr: SafetyRouter;

beforeAll(async () => {
  vipr = await startSafetyRouter({ headersTimeoutMs: 500, requestTimeoutMs: 3000, maxBodyBytes: 1000 });
});

afterAll(async () => {
  await vipr?.close();
});

const get = (path: string, fields = ""): string => `GET ${path} HTTP/1.1\r\nhost: simpleservice\r\n${fields}connection: close\r\n\r\n`;
const fields = (count: number): string => Array.from({ length: count }, (_, i) => `x-field-${i}: v\r\n`).join("");

async function refused(bytes: string): Promise<number[]> {
  const before = vipr.pod.hits.length;
  const exchange = await rawExchange(vipr.server.port, bytes);
  expect(vipr.pod.hits.slice(before)).toEqual([]);
  expect(await knownGoodStatus(vipr.server.port)).toBe(200);
  return parseResponses(exchange.text).map((r) => r.status);
}

describe(`serve limits on ${runtime.name}`, () => {
  test("a 20 KiB header field: 431 from the adapter's 16 KiB limit", async () => {
    expect(await refused(get("/info", `x-big: ${"a".repeat(20 * 1024)}\r\n`))).toEqual([431]);
  });

  test("a 64 KiB header field: 431", async () => {
    expect(await refused(get("/info", `x-big: ${"a".repeat(64 * 1024)}\r\n`))).toEqual([431]);
  });

  test("a header block just under 16 KiB is served", async () => {
    const exchange = await rawExchange(vipr.server.port, get("/info", `x-big: ${"a".repeat(15 * 1024)}\r\n`));
    expect(parseResponses(exchange.text).map((r) => r.status)).toEqual([200]);
  });

  test("110 header fields: 431 JSON from the adapter's limit of 100", async () => {
    const before = vipr.pod.hits.length;
    const exchange = await rawExchange(vipr.server.port, get("/info", fields(110)));
    const [response, ...more] = parseResponses(exchange.text);
    expect(more).toEqual([]);
    expect(response?.status).toBe(431);
    expect(JSON.parse(response!.body).error).toMatchObject({ status: 431, code: "headers_too_large" });
    expect(vipr.pod.hits.slice(before)).toEqual([]);
    expect(await knownGoodStatus(vipr.server.port)).toBe(200);
  });

  test("101 header fields: 431; exactly 100 are served", async () => {
    // get() adds Host and Connection: 98 more fields make 100.
    expect(await refused(get("/info", fields(99)))).toEqual([431]);
    const exchange = await rawExchange(vipr.server.port, get("/info", fields(98)));
    expect(parseResponses(exchange.text).map((r) => r.status)).toEqual([200]);
  });

  test("200 header fields: 431", async () => {
    expect(await refused(get("/info", fields(200)))).toEqual([431]);
  });

  test("90 header fields are served", async () => {
    const exchange = await rawExchange(vipr.server.port, get("/info", fields(90)));
    expect(parseResponses(exchange.text).map((r) => r.status)).toEqual([200]);
  });

  test("a 20 KiB request line: 431", async () => {
    expect(await refused(get(`/${"a".repeat(20 * 1024)}`))).toEqual([431]);
  });

  test("a 100 KiB request line: 431", async () => {
    expect(await refused(get(`/${"a".repeat(100 * 1024)}`))).toEqual([431]);
  });

  test("a Content-Length above maxBodyBytes: 413 JSON, the pod never sees it", async () => {
    const before = vipr.pod.hits.length;
    const exchange = await rawExchange(vipr.server.port, `POST /upload HTTP/1.1\r\nhost: simpleservice\r\ncontent-length: 2000\r\n\r\n${"b".repeat(2000)}`);
    const [response, ...more] = parseResponses(exchange.text);
    expect(more).toEqual([]);
    expect(response?.status).toBe(413);
    expect(response?.headers.get("x-vipr-error")).toBe("body_too_large");
    expect(JSON.parse(response!.body).error).toMatchObject({ status: 413, code: "body_too_large", maxBodyBytes: 1000 });
    expect(vipr.pod.hits.slice(before)).toEqual([]);
    expect(await knownGoodStatus(vipr.server.port)).toBe(200);
  });

  test("a body within maxBodyBytes is forwarded whole", async () => {
    const exchange = await rawExchange(vipr.server.port, `POST /upload HTTP/1.1\r\nhost: simpleservice\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n${"b".repeat(1000)}`);
    const [response] = parseResponses(exchange.text);
    expect(response?.status).toBe(200);
    expect(JSON.parse(response!.body).bodyBytes).toBe(1000);
  });

  test("slowloris: a header line every 200 ms is cut off with 408 soon after headersTimeoutMs (500)", async () => {
    const drip = ["GET /info HTTP/1.1\r\nhost: simpleservice\r\n", ...Array.from({ length: 30 }, (_, i) => `x-drip-${i}: v\r\n`)];
    const exchange = await rawExchange(vipr.server.port, drip, { gapMs: 200, waitMs: 4000 });
    expect(exchange.closed).toBe(true);
    // The check runs every headersTimeoutMs / 2 (serve-node.ts), so at most 750 ms after the start.
    expect(exchange.ms).toBeLessThan(1500);
    expect(parseResponses(exchange.text).map((r) => r.status)).toEqual([408]);
    expect(await knownGoodStatus(vipr.server.port)).toBe(200);
  });

  test("an idle keep-alive connection outlives headersTimeoutMs: the next request on it is served", async () => {
    const request = "GET /info HTTP/1.1\r\nhost: simpleservice\r\n\r\n";
    const exchange = await rawExchange(vipr.server.port, [request, request.replace("\r\n\r\n", "\r\nconnection: close\r\n\r\n")], { gapMs: 1200, waitMs: 4000 });
    expect(parseResponses(exchange.text).map((r) => r.status)).toEqual([200, 200]);
  });

  test("a body sent too slowly is cut off with 408 after requestTimeoutMs (3000)", async () => {
    const drip = [`POST /upload HTTP/1.1\r\nhost: simpleservice\r\ncontent-length: 40\r\n\r\n`, ...Array.from({ length: 40 }, () => "b")];
    const exchange = await rawExchange(vipr.server.port, drip, { gapMs: 200, waitMs: 6000 });
    expect(exchange.closed).toBe(true);
    expect(exchange.ms).toBeLessThan(5000);
    // Node answers 408 itself, although the head was already forwarded (the pod sees an aborted body).
    expect(parseResponses(exchange.text).map((r) => r.status)).toEqual([408]);
    expect(await knownGoodStatus(vipr.server.port)).toBe(200);
  });
});
