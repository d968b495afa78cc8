// maxBodyBytes for bodies without a Content-Length (adapters/node/serve-node.ts, the edge of both
// runtimes, router/forward/body-limit.ts): a chunked body (RFC 9112 section
// 7.1) is counted as it streams; at the first chunk past the limit the upstream request is aborted
// and the client gets 413, or, when the pod's response had already started, a closed connection.
// The pods count every byte they receive, so the tests check that none ever gets more than the limit.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bodyBytes, bodySum, chunkedPost, eventually, startBodyLimitRouter, type BodyLimitRouter, type PodRequest } from "./support/body-limit-router.ts";
import { parseResponses, rawExchange, runtime } from "./support/safety-router.ts";

const LIMIT = 16 * 1024;
const expected413 = { error: { status: 413, code: "body_too_large", message: `request body is larger than ${LIMIT} bytes`, maxBodyBytes: LIMIT } };

/** The pods' requests since `before` (one count per pod). */
function since(vipr: BodyLimitRouter, before: readonly number[]): PodRequest[] {
  return vipr.pods.flatMap((pod, i) => pod.requests.slice(before[i]));
}
const counts = (vipr: BodyLimitRouter): number[] => vipr.pods.map((pod) => pod.requests.length);

async function served(vipr: BodyLimitRouter): Promise<number> {
  const exchange = await rawExchange(vipr.server.port, "GET /info HTTP/1.1\r\nhost: simpleservice\r\nconnection: close\r\n\r\n");
  return parseResponses(exchange.text)[0]?.status ?? 0;
}

describe(`request body limit on ${runtime.name}`, () => {
  let vipr: BodyLimitRouter;

  beforeAll(async () => {
    vipr = await startBodyLimitRouter({ maxBodyBytes: LIMIT, pods: 2 });
  });

  afterAll(async () => {
    await vipr?.close();
  });

  test("a chunked body of 3x the limit: 413 JSON, the pod gets at most the limit and an aborted request", async () => {
    const before = counts(vipr);
    const dialledBefore = vipr.dialled.length;
    const body = bodyBytes(3 * LIMIT);
    // 25 ms apart: the body is still coming when the 413 goes out.
    const exchange = await rawExchange(vipr.server.port, chunkedPost("/upload", body, 4096), { gapMs: 25, waitMs: 3000 });
    const [response, ...more] = parseResponses(exchange.text);
    expect(more).toEqual([]);
    expect(response?.status, JSON.stringify({ ...exchange, text: exchange.text.slice(0, 200) })).toBe(413);
    expect(response?.headers.get("x-vipr-error")).toBe("body_too_large");
    expect(response?.headers.get("connection")).toBe("close");
    expect(JSON.parse(response!.body)).toEqual(expected413);
    expect(exchange.closed).toBe(true);
    // One try, never retried on the other pod.
    expect(vipr.dialled.length - dialledBefore).toBe(1);
    await eventually(() => since(vipr, before).every((r) => r.aborted || r.complete));
    const seen = since(vipr, before);
    expect(seen.length).toBeLessThanOrEqual(1);
    for (const request of seen) {
      expect(request.bytes).toBeLessThanOrEqual(LIMIT);
      expect(request.complete).toBe(false);
      expect(request.aborted).toBe(true);
    }
    const logged = vipr.accessLog.at(-1);
    expect(logged).toMatchObject({ status: 413, error: `request body is larger than ${LIMIT} bytes` });
    expect(await served(vipr)).toBe(200);
  });

  test("a chunked body under the limit reaches the pod intact", async () => {
    const body = bodyBytes(LIMIT - 1000, 7);
    const exchange = await rawExchange(vipr.server.port, chunkedPost("/upload", body, 3000, "connection: close\r\n"), { gapMs: 5 });
    const [response] = parseResponses(exchange.text);
    expect(response?.status).toBe(200);
    expect(JSON.parse(response!.body)).toMatchObject({ bodyBytes: LIMIT - 1000, bodySum: bodySum(body) });
  });

  test("a chunked body of exactly the limit is allowed; one byte more is not", async () => {
    const exact = bodyBytes(LIMIT, 3);
    const ok = await rawExchange(vipr.server.port, chunkedPost("/upload", exact, 1024, "connection: close\r\n"));
    const [accepted] = parseResponses(ok.text);
    expect(accepted?.status).toBe(200);
    expect(JSON.parse(accepted!.body)).toMatchObject({ bodyBytes: LIMIT, bodySum: bodySum(exact) });

    const before = counts(vipr);
    // Written at once: the whole body is usually read before the 413 goes out; the 413 still closes.
    const over = await rawExchange(vipr.server.port, chunkedPost("/upload", bodyBytes(LIMIT + 1, 3), 1024), { waitMs: 3000 });
    const [refused] = parseResponses(over.text);
    expect(refused?.status).toBe(413);
    expect(over.closed).toBe(true);
    await eventually(() => since(vipr, before).every((r) => r.aborted || r.complete));
    for (const request of since(vipr, before)) {
      expect(request.bytes).toBeLessThanOrEqual(LIMIT);
      expect(request.complete).toBe(false);
    }
  });

  test("a Content-Length over the limit gets 413 before a byte of the body is sent", async () => {
    const before = counts(vipr);
    const dialledBefore = vipr.dialled.length;
    // Only the head: the answer must come without waiting for the body.
    const exchange = await rawExchange(vipr.server.port, `POST /upload HTTP/1.1\r\nhost: simpleservice\r\ncontent-length: ${3 * LIMIT}\r\n\r\n`, { waitMs: 1000 });
    const [response] = parseResponses(exchange.text);
    expect(response?.status).toBe(413);
    expect(JSON.parse(response!.body)).toEqual(expected413);
    // Closed at once, without waiting for the declared body.
    expect(exchange.closed).toBe(true);
    expect(exchange.ms).toBeLessThan(1000);
    expect(vipr.dialled.length).toBe(dialledBefore);
    expect(since(vipr, before)).toEqual([]);
  });

  test("the pod's response had started: the client connection is closed, the pod gets at most the limit", async () => {
    const before = counts(vipr);
    const exchange = await rawExchange(vipr.server.port, chunkedPost("/early", bodyBytes(3 * LIMIT), 4096), { gapMs: 30, waitMs: 3000 });
    expect(exchange.closed).toBe(true);
    expect(exchange.text.startsWith("HTTP/1.1 200 ")).toBe(true);
    expect(exchange.text).toContain("early answer");
    // No 413 after a 200 head, and the chunked response never got its last chunk.
    expect(exchange.text).not.toContain("body_too_large");
    expect(exchange.text).not.toContain("done");
    await eventually(() => since(vipr, before).every((r) => r.aborted || r.complete));
    const seen = since(vipr, before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.bytes).toBeLessThanOrEqual(LIMIT);
    expect(seen[0]!.aborted).toBe(true);
    await eventually(() => vipr.accessLog.some((line) => String(line["error"] ?? "").includes("client connection was closed")));
    const logged = vipr.accessLog.find((line) => String(line["error"] ?? "").includes("client connection was closed"));
    expect(logged).toMatchObject({ status: 200, path: "/early" });
    expect(String(logged!["error"])).toContain(`request body is larger than ${LIMIT} bytes`);
    expect(await served(vipr)).toBe(200);
  });
});

describe(`request body limit and retries on ${runtime.name}`, () => {
  let vipr: BodyLimitRouter;

  beforeAll(async () => {
    // One pod, and an endpoint that refuses connections: a try that failed to connect is retried
    // on the pod (nothing was sent), with the part of the body already read replayed.
    vipr = await startBodyLimitRouter({ maxBodyBytes: LIMIT, pods: 1, deadEndpoint: true });
  });

  afterAll(async () => {
    await vipr?.close();
  });

  test("an oversize body is never sent twice: one try at the pod, at most the limit in all", async () => {
    const pod = vipr.pods[0]!;
    let retried = 0;
    // Round-robin over two endpoints: some of these requests try the refusing endpoint first.
    for (let i = 0; i < 4; i++) {
      const before = pod.requests.length;
      const dialledBefore = vipr.dialled.length;
      const exchange = await rawExchange(vipr.server.port, chunkedPost("/upload", bodyBytes(3 * LIMIT, i), 4096), { gapMs: 15, waitMs: 3000 });
      expect(parseResponses(exchange.text).map((r) => r.status)).toEqual([413]);
      const dials = vipr.dialled.slice(dialledBefore).map((t) => t.identity);
      // At most one try at the live pod; the refusing endpoint, if tried, came first.
      expect(dials.filter((identity) => identity === pod.name)).toHaveLength(1);
      expect(dials.at(-1)).toBe(pod.name);
      if (dials.length > 1) retried++;
      await eventually(() => pod.requests.slice(before).every((r) => r.aborted || r.complete));
      const seen = pod.requests.slice(before);
      expect(seen.length).toBeLessThanOrEqual(1);
      for (const request of seen) {
        expect(request.bytes).toBeLessThanOrEqual(LIMIT);
        expect(request.complete).toBe(false);
      }
    }
    expect(retried).toBeGreaterThan(0);
  });

  test("a body under the limit is replayed whole after a refused connection", async () => {
    const pod = vipr.pods[0]!;
    for (let i = 0; i < 2; i++) {
      const body = bodyBytes(LIMIT / 2, i + 11);
      const exchange = await rawExchange(vipr.server.port, chunkedPost("/upload", body, 2048, "connection: close\r\n"), { gapMs: 5 });
      const [response] = parseResponses(exchange.text);
      expect(response?.status).toBe(200);
      expect(JSON.parse(response!.body)).toMatchObject({ pod: pod.name, bodyBytes: LIMIT / 2, bodySum: bodySum(body) });
    }
  });
});
