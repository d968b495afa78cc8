// Request smuggling (CL.TE, TE.CL, duplicate Content-Length, obfuscated Transfer-Encoding) through
// the served router: each framing conflict is rejected with 400 and the connection closed before
// the app runs, so the pod never sees the request nor the second one hidden in its body.
// The parser refuses these itself, on both runtimes the same way: Node's llhttp in strict mode
// (serve-node.ts keeps it so) and Deno's node:http, which vipr uses on Deno for that reason
// (adapters/runtime-adapter.ts). tests/safety/parsing-parity.test.ts has more framing cases.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { knownGoodStatus, parseResponses, rawExchange, runtime, startSafetyRouter, type SafetyRouter } from "./support/safety-router.ts";

let vipr: SafetyRouter;

beforeAll(async () => {
  vipr = await startSafetyRouter();
});

afterAll(async () => {
  await vipr?.close();
});

/** Hidden after the first request; if anything processes it, the pod records /smuggled. */
const SMUGGLED = "GET /smuggled HTTP/1.1\r\nhost: simpleservice\r\n\r\n";
const head = (fields: string): string => `POST /first HTTP/1.1\r\nhost: simpleservice\r\n${fields}\r\n`;
const chunkOf = (text: string): string => `${text.length.toString(16)}\r\n${text}\r\n`;

const conflicts: ReadonlyArray<readonly [string, string]> = [
  // CL.TE: a front end honouring Content-Length forwards "0\r\n\r\n" + SMUGGLED as one body; a back
  // end honouring chunked ends the body at "0" and reads SMUGGLED as a new request.
  ["CL.TE", head(`content-length: ${5 + SMUGGLED.length}\r\ntransfer-encoding: chunked\r\n`) + "0\r\n\r\n" + SMUGGLED],
  // TE.CL: the reverse; Content-Length 4 ends the body inside the chunk that carries SMUGGLED.
  ["TE.CL", head("transfer-encoding: chunked\r\ncontent-length: 4\r\n") + chunkOf(SMUGGLED) + "0\r\n\r\n"],
  ["TE.CL, Content-Length first", head("content-length: 4\r\ntransfer-encoding: chunked\r\n") + chunkOf(SMUGGLED) + "0\r\n\r\n"],
  ["duplicate differing Content-Length", head("content-length: 0\r\ncontent-length: " + SMUGGLED.length + "\r\n") + SMUGGLED],
  ["Content-Length list with differing values", head(`content-length: 0, ${SMUGGLED.length}\r\n`) + SMUGGLED],
  ["Transfer-Encoding: xchunked", head("transfer-encoding: xchunked\r\n") + "0\r\n\r\n" + SMUGGLED],
  ["Transfer-Encoding: xchunked with Content-Length", head(`transfer-encoding: xchunked\r\ncontent-length: ${5 + SMUGGLED.length}\r\n`) + "0\r\n\r\n" + SMUGGLED],
  ["space before the colon", head("transfer-encoding : chunked\r\n") + "0\r\n\r\n" + SMUGGLED],
  ["space before the colon, with Content-Length", head(`transfer-encoding : chunked\r\ncontent-length: ${5 + SMUGGLED.length}\r\n`) + "0\r\n\r\n" + SMUGGLED],
  ["Transfer-Encoding: chunked, identity", head("transfer-encoding: chunked, identity\r\n") + "0\r\n\r\n" + SMUGGLED],
  ["Transfer-Encoding: identity, chunked with Content-Length", head("transfer-encoding: identity, chunked\r\ncontent-length: 4\r\n") + "0\r\n\r\n" + SMUGGLED],
  ["tab after the colon, with Content-Length", head("transfer-encoding:\tchunked\r\ncontent-length: 4\r\n") + "0\r\n\r\n" + SMUGGLED],
  ["tab before the colon", head("transfer-encoding\t: chunked\r\n") + "0\r\n\r\n" + SMUGGLED],
  ["obs-fold (line starting with a space)", head(`content-length: ${5 + SMUGGLED.length}\r\nx-folded: a\r\n transfer-encoding: chunked\r\n`) + "0\r\n\r\n" + SMUGGLED],
  ["two Transfer-Encoding fields", head("transfer-encoding: chunked\r\ntransfer-encoding: x\r\n") + "0\r\n\r\n" + SMUGGLED],
  ["Transfer-Encoding: chunked with a trailing tab and Content-Length", head("transfer-encoding: chunked\t\r\ncontent-length: 4\r\n") + "0\r\n\r\n" + SMUGGLED],
  ["bare LF line ends", "POST /first HTTP/1.1\nhost: simpleservice\ncontent-length: 0\ntransfer-encoding: chunked\n\n0\n\n" + SMUGGLED],
];

describe(`request smuggling on ${runtime.name}`, () => {
  test.each(conflicts)("%s: 400, connection closed, nothing reaches the pod", async (_name, bytes) => {
    const before = vipr.pod.hits.length;
    const exchange = await rawExchange(vipr.server.port, bytes);
    expect(exchange.closed).toBe(true);
    const responses = parseResponses(exchange.text);
    // Exactly one answer: the smuggled request got none, because it was never parsed.
    expect(responses.map((r) => r.status)).toEqual([400]);
    expect(vipr.pod.hits.slice(before)).toEqual([]);
    expect(await knownGoodStatus(vipr.server.port)).toBe(200);
  });

  test("identical duplicate Content-Length: 400, nothing reaches the pod", async () => {
    // RFC 9110 section 8.6 lets a recipient take identical repeated values as one; strict llhttp
    // (and Deno's node:http) refuse any repeated Content-Length, which is the safer of the two.
    const before = vipr.pod.hits.length;
    const second = "GET /second HTTP/1.1\r\nhost: simpleservice\r\nconnection: close\r\n\r\n";
    const exchange = await rawExchange(vipr.server.port, head("content-length: 0\r\ncontent-length: 0\r\n") + second);
    expect(parseResponses(exchange.text).map((r) => r.status)).toEqual([400]);
    expect(vipr.pod.hits.slice(before)).toEqual([]);
  });

  test("a plain chunked POST and a pipelined GET are both served (the rejections above are not blanket)", async () => {
    const before = vipr.pod.hits.length;
    const second = "GET /second HTTP/1.1\r\nhost: simpleservice\r\nconnection: close\r\n\r\n";
    const exchange = await rawExchange(vipr.server.port, head("transfer-encoding: chunked\r\n") + chunkOf("hello") + "0\r\n\r\n" + second);
    const responses = parseResponses(exchange.text);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(JSON.parse(responses[0]!.body).bodyBytes).toBe(5);
    expect(vipr.pod.hits.slice(before)).toEqual(["/first", "/second"]);
  });

  test("every target dialled is the pod", () => {
    expect(vipr.dialled.length).toBeGreaterThan(0);
    for (const target of vipr.dialled) expect({ address: target.address, port: target.port }).toEqual({ address: "127.0.0.1", port: vipr.pod.port });
  });
});
