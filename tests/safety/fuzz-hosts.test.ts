// Property-based fuzzing (fast-check) of Host values, header sets and request lines, sent over raw
// sockets to the served router with one pod. For every input: a well-formed HTTP/1.x answer with a
// 2xx, 4xx or 5xx status; a 2xx only from the pod and only when the request named simpleservice;
// the router still answers a known-good request afterwards (no crash, no wedged listener); and the
// transport was never asked to dial anything but the pod (vipr is never an open proxy).
// Bounded: 150 runs per property, a fixed seed (VIPR_FUZZ_SEED overrides it), 20 s per property.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { knownGoodStatus, parseResponses, rawExchange, runtime, startSafetyRouter, type SafetyRouter } from "./support/safety-router.ts";

let vipr: SafetyRouter;

beforeAll(async () => {
  vipr = await startSafetyRouter();
});

afterAll(async () => {
  await vipr?.close();
});

const SEED = Number(process.env["VIPR_FUZZ_SEED"] ?? 20261126);
const RUN = { numRuns: 150, seed: SEED, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true } as const;
const POD = "rcsise-a1b2c";

/** Names under which the one service is reachable from namespace default (port 80 or none). */
const KNOWN = ["simpleservice", "simpleservice.default", "simpleservice.default.svc", "simpleservice.default.svc.cluster.local"];
const namesService = (host: string): boolean => {
  // Leading and trailing spaces and tabs are not part of a field value (RFC 9110 section 5.5).
  const bare = host.replace(/^[ \t]+|[ \t]+$/g, "").toLowerCase().replace(/:80$/, "").replace(/\.$/, "");
  return KNOWN.includes(bare);
};

/** One byte per char (latin1): printable ASCII plus a few that parsers must refuse or tolerate. */
const ODD = ["\t", "\r", "\x00", "\x01", "\x7f", "\x80", "\xe9", "\xff", " ", "@", ":", "/", "%", "[", "]", "#", "?", "\\"];
const byteChar = fc.oneof(fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), fc.constantFrom(...ODD));
const byteString = (maxLength: number) => fc.array(byteChar, { maxLength }).map((chars) => chars.join(""));

const hostArb = fc.oneof(
  fc.constantFrom(
    ...KNOWN,
    "SimpleService:80",
    "simpleservice.default.svc.cluster.local.",
    "simpleservice:9876",
    "simpleservice:0",
    "simpleservice:65536",
    "simpleservice:-1",
    "simpleservice.other",
    "simpleservice.default.svc.cluster.local.evil.example",
    "evil.example",
    "127.0.0.1",
    "127.0.0.1:9876",
    "localhost",
    "169.254.169.254",
    "[::1]",
    "[::1]:80",
    "kubernetes.default",
    "",
    " simpleservice",
    "simpleservice ",
    "simple\x00service",
  ),
  fc.tuple(fc.constantFrom(...KNOWN), byteString(6), byteString(6)).map(([name, before, after]) => `${before}${name}${after}`),
  fc.tuple(fc.constantFrom(...KNOWN), fc.integer({ min: 0, max: 70000 })).map(([name, port]) => `${name}:${port}`),
  byteString(40),
);

const interestingNames = [
  "host", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded", "x-real-ip", "x-vipr-subset",
  "connection", "upgrade", "te", "trailer", "keep-alive", "proxy-connection", "via", "cookie", "authorization",
  "accept-encoding", "range", "if-none-match", "max-forwards", "x-http-method-override", "expect", "x-user",
];
const tokenChar = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-_.!#$%&'*+^`|~");
// Body framing (Content-Length, Transfer-Encoding) is left to smuggling.test.ts: a random length
// with no body would only wait for bytes that never come.
const headerName = fc.oneof(fc.constantFrom(...interestingNames), fc.array(tokenChar, { minLength: 1, maxLength: 12 }).map((c) => c.join("")), byteString(8).filter((n) => n.length > 0))
  .filter((name) => !/^\s*(content-length|transfer-encoding)\s*$/i.test(name));
const headerValue = fc.oneof(fc.constantFrom("close", "keep-alive", "upgrade", "websocket", "h2c", "100-continue", "trailers", "evil.example", "127.0.0.1", "app=evil", "a".repeat(300)), byteString(30));
const headerSet = fc.array(fc.tuple(headerName, headerValue), { maxLength: 12 });

const methodArb = fc.oneof(
  fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT", "PRI", "get", "G@T", "GET GET", ""),
  fc.array(tokenChar, { minLength: 1, maxLength: 8 }).map((c) => c.join("").toUpperCase()),
);
const targetArb = fc.oneof(
  fc.constantFrom(
    "/", "*", "/info", "//evil.example/x", "http://evil.example/", "http://127.0.0.1:9876/", "http://169.254.169.254/latest/meta-data",
    "http://simpleservice/info", "https://simpleservice/info", "http://simpleservice@evil.example/", "http://evil.example@simpleservice/",
    "simpleservice:80", "evil.example:443", "/%2e%2e/%2e%2e/etc/passwd", "/..;/", "/a?b=c#d", "",
  ),
  byteString(30).map((path) => `/${path}`),
  byteString(30),
);
const versionArb = fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "http/1.1", "HTTP/1.1 x", "", "HTTP/11");

interface Answer {
  readonly statuses: number[];
  readonly pods: (string | undefined)[];
}

/** Sends one request; the answer must be well-formed HTTP/1.x with final statuses in 2xx-5xx. */
async function send(bytes: string, head: boolean): Promise<Answer> {
  const exchange = await rawExchange(vipr.server.port, bytes, { waitMs: 3000 });
  const responses = parseResponses(exchange.text, { head });
  if (responses.length === 0) throw new Error(`no answer (${exchange.closed ? "closed" : "still open"} after ${exchange.ms} ms) to ${JSON.stringify(bytes.slice(0, 300))}`);
  for (const r of responses) if (r.status < 200 || r.status > 599 || (r.status >= 300 && r.status < 400)) throw new Error(`status ${r.status} for ${JSON.stringify(bytes.slice(0, 300))}`);
  return { statuses: responses.map((r) => r.status), pods: responses.map((r) => r.headers.get("x-pod")) };
}

async function afterEach(): Promise<void> {
  expect(await knownGoodStatus(vipr.server.port)).toBe(200);
  for (const target of vipr.dialled) expect(`${target.address}:${target.port}`).toBe(`127.0.0.1:${vipr.pod.port}`);
}

describe(`fuzzing the served router on ${runtime.name}`, () => {
  // Found by the Host property when vipr served Deno with Deno.serve, which pastes Host into
  // request.url: these reached the pod (with /x/info, /?x/info, //info as the path). Both runtimes
  // now serve with @hono/node-server, which refuses them. RFC 9112 section 3.2: an invalid Host
  // gets 400.
  test.each(["simpleservice/x", "simpleservice?x", "simpleservice/", "simpleservice:80/", "a@simpleservice", "simpleservice:", "simpleservice\\x", "simpleservice, evil.example"])(
    "Host %j: 400, nothing reaches the pod",
    async (host) => {
      const before = vipr.pod.hits.length;
      const answer = await send(`GET /info HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`, false);
      expect(answer.statuses).toEqual([400]);
      expect(vipr.pod.hits.slice(before)).toEqual([]);
    },
  );

  test("two Host fields: 400, nothing reaches the pod", async () => {
    const before = vipr.pod.hits.length;
    const answer = await send("GET /info HTTP/1.1\r\nhost: simpleservice\r\nhost: evil.example\r\nconnection: close\r\n\r\n", false);
    expect(answer.statuses).toEqual([400]);
    expect(vipr.pod.hits.slice(before)).toEqual([]);
  });

  test("Host values", { timeout: 40_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(hostArb, async (host) => {
        const answer = await send(`GET /info HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`, false);
        answer.statuses.forEach((status, i) => {
          if (status < 300) {
            expect(answer.pods[i]).toBe(POD);
            expect(namesService(host), `2xx for host ${JSON.stringify(host)}`).toBe(true);
          }
        });
        await afterEach();
      }),
      RUN,
    );
  });

  test("header sets", { timeout: 40_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(headerSet, async (fields) => {
        const lines = fields.map(([name, value]) => `${name}: ${value}\r\n`).join("");
        const answer = await send(`GET /info HTTP/1.1\r\nhost: simpleservice\r\n${lines}connection: close\r\n\r\n`, false);
        answer.statuses.forEach((status, i) => {
          if (status < 300) expect(answer.pods[i]).toBe(POD);
        });
        await afterEach();
      }),
      RUN,
    );
  });

  test("request lines", { timeout: 40_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(methodArb, targetArb, versionArb, async (method, target, version) => {
        const answer = await send(`${method} ${target} ${version}\r\nhost: simpleservice\r\nconnection: close\r\n\r\n`, method === "HEAD");
        answer.statuses.forEach((status, i) => {
          if (status < 300) expect(answer.pods[i]).toBe(POD);
        });
        await afterEach();
      }),
      RUN,
    );
  });
});
