// Serving a Hono app on Deno with Deno.serve: the opt-in for apps that must live inside Deno.serve
// (`vipr/deno`). vipr's own edge on Deno is serve-node.ts, whose parser answers as Node's does;
// Deno.serve's hyper does not in the cases the README lists ("Under Deno"), pinned by
// tests/forward/deno-serve-opt-in.test.ts. The handler's connection info (remoteAddr) is passed
// to the app as its env, the same shape hono/deno's getConnInfo reads (c.env.remoteAddr).

import type { ServeOptions } from "../serve-options.ts";
import type { ClientAddressOf, RequestHeadersOf } from "../../router/forward/upstream-transport.ts";
import { webRequestHeaders } from "../../router/forward/upstream-transport.ts";
import { BodyByteLimit, limitedBody, setBodyLimit } from "../../router/forward/body-limit.ts";
import { bodyTooLarge } from "../../router/router-errors.ts";
import type { DenoServeHandlerInfo } from "./deno-api.ts";
import { denoApi } from "./deno-api.ts";

/** What serveDeno needs of an app: Hono's `fetch`. */
export interface FetchApp {
  fetch(request: Request, env: DenoServeHandlerInfo): Response | Promise<Response>;
}

/** The ServeOptions Deno.serve can honour (documented there); the timeouts are Node's only. */
export type ServeDenoOptions = Pick<ServeOptions, "port" | "hostname" | "closeGraceMs" | "maxHeaderBytes" | "maxHeadersCount" | "maxBodyBytes">;

/**
 * What Deno.serve (hyper's HTTP/1 server) enforces on its own, found by tests/safety/ on Deno 2:
 * - at most 128 header fields and a head of about 64 KiB; above either it answers 400 (not 431)
 *   and closes;
 * - Content-Length with Transfer-Encoding, differing duplicate Content-Length and a Transfer-Encoding
 *   that does not end in chunked (xchunked, "chunked, identity", "transfer-encoding :", a folded
 *   line) get 400 and the connection closes; identical duplicate Content-Length is taken as one
 *   (RFC 9110 section 8.6 allows that);
 * - no header timeout: a client that sends a header line now and then holds its connection open
 *   (slowloris). Deno.serve has no option for it and hands the app nothing before the head is
 *   complete, so vipr cannot add one here; run vipr behind something that does, or on Node.
 * - no check of the Host field: Deno builds request.url as "http://" + Host + target, so a Host of
 *   "simpleservice/x" turned GET /info into /x/info at the pod, and "a@simpleservice" or
 *   "simpleservice?x" were routed too (found by tests/safety/fuzz-hosts.test.ts).
 * What this adapter adds, checked in the handler before the app runs: a Host that is not
 * host[:port] gets 400 (RFC 9112 section 3.2 requires it; on Node @hono/node-server does the same);
 * the same header count and size limits as on Node (100 fields, 16 KiB), answered with 431; and the
 * optional body limit: 413 for a Content-Length above it, and a chunked body counted as it streams
 * (the app gets a Request whose body fails at the first chunk past the limit; body-limit.ts).
 */
export const DENO_SERVE_LIMITS = { maxHeaderBytes: 16_384, maxHeadersCount: 100 } as const;

/** RFC 3986 host (IP-literal, IPv4 or reg-name, without userinfo) and an optional port of 1 to 5
 * digits; empty is allowed (RFC 9112 section 3.2: a client with no authority sends an empty Host).
 * Repeated Host fields arrive joined by ", " and fail on the space. */
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::\d{1,5})?$/;

export interface DenoServer {
  readonly port: number;
  readonly address: string;
  /** Stops accepting; requests in flight get closeGraceMs to finish. */
  close(): Promise<void>;
}

/**
 * Starts `app` on Deno; resolves once it listens.
 *
 * @example
 * const server = await serveDeno(app, { port: 8080, hostname: "0.0.0.0" });
 * await server.close();
 */
export function serveDeno(app: FetchApp, options: ServeDenoOptions = {}): Promise<DenoServer> {
  const deno = denoApi();
  const closeGraceMs = checkedLimit("closeGraceMs", options.closeGraceMs) ?? 10_000;
  const handler = guardedDenoHandler(app, options);
  return new Promise((resolve) => {
    const server = deno.serve(
      {
        port: options.port ?? 0,
        hostname: options.hostname ?? "127.0.0.1",
        onListen: (addr) => resolve({ port: addr.port, address: addr.hostname, close: () => shutdownWithin(server.shutdown(), closeGraceMs) }),
      },
      handler,
    );
  });
}

/**
 * The Deno.serve handler serveDeno serves: `app` behind the checks listed at DENO_SERVE_LIMITS
 * (Host form, header count and size, the body limit). For a `deno serve` entry, which hands its
 * default export's fetch to Deno.serve itself (adapters/deno/serve-entry.ts).
 *
 * @example
 * export default { fetch: guardedDenoHandler(router.app) };
 */
export function guardedDenoHandler(app: FetchApp, options: Pick<ServeDenoOptions, "maxHeaderBytes" | "maxHeadersCount" | "maxBodyBytes"> = {}): (request: Request, info: DenoServeHandlerInfo) => Response | Promise<Response> {
  const maxHeaderBytes = checkedLimit("maxHeaderBytes", options.maxHeaderBytes) ?? DENO_SERVE_LIMITS.maxHeaderBytes;
  const maxHeadersCount = checkedLimit("maxHeadersCount", options.maxHeadersCount) ?? DENO_SERVE_LIMITS.maxHeadersCount;
  const maxBodyBytes = checkedLimit("maxBodyBytes", options.maxBodyBytes);
  return (request, info) => {
    // The URL Deno builds adds scheme and authority; its length still bounds the request target.
    let bytes = request.url.length;
    let count = 0;
    for (const [name, value] of request.headers) {
      bytes += name.length + value.length + 4; // ": " and CRLF, as on the wire
      count++;
    }
    const host = request.headers.get("host");
    if (host !== null && !VALID_HOST.test(host)) return limitResponse(400, "bad_host", "the Host field must be host[:port]", { host: host.slice(0, 256) });
    if (maxHeadersCount > 0 && count > maxHeadersCount) return headersTooLarge(`more than ${maxHeadersCount} header fields`);
    if (maxHeaderBytes > 0 && bytes > maxHeaderBytes) return headersTooLarge(`request target and header fields larger than ${maxHeaderBytes} bytes`);
    if (maxBodyBytes !== undefined) {
      const declared = request.headers.get("content-length");
      if (declared !== null) {
        if (Number(declared) > maxBodyBytes) return bodyTooLarge(maxBodyBytes);
      } else if (request.body !== null && request.method !== "GET" && request.method !== "HEAD") {
        // A chunked body (RFC 9112 section 7.1) says its length only at its last chunk: count it
        // as the app reads it. (Deno.serve hands over a GET or HEAD without its body, and a new
        // Request could not carry one: a chunked GET reaches the pod with no body at all.)
        return fetchCounted(app, request, request.body, info, maxBodyBytes);
      }
    }
    return app.fetch(request, info);
  };
}

/**
 * The app gets `request` with `body` counted against maxBodyBytes (body-limit.ts). Once the count
 * passed the limit, what remains of the body is never forwarded; what becomes of it depends on
 * the answer, because Deno.serve (hyper) cannot be told to close a connection (Deno 2.9, found
 * with raw sockets in tests/safety/body-limit.test.ts):
 * - the router answered 413: the rest is read and dropped (discardRest). Deno.serve ignores the
 *   answer's Connection: close: it closes the connection when the request body ends after the
 *   answer; when the client had already sent the whole body, the connection stays open, idle and
 *   clean (its chunked framing was read through), so Connection: close is only advice to the
 *   client; and a body left half read would hold the connection open for good.
 * - the pod's response had started: the rest is cancelled, which lets Deno.serve close the
 *   connection when that response's body fails (with the rest left alone, it stays open).
 */
async function fetchCounted(app: FetchApp, request: Request, body: ReadableStream<Uint8Array>, info: DenoServeHandlerInfo, maxBodyBytes: number): Promise<Response> {
  const limit = new BodyByteLimit(maxBodyBytes);
  let rest: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let answer: Response | "failed" | undefined;
  let settled = false;
  // Acts once, when both are known: the limit was passed (rest) and the app answered.
  const settle = (): void => {
    if (settled || rest === undefined || answer === undefined) return;
    settled = true;
    if (answer !== "failed" && answer.headers.get("x-vipr-error") === "body_too_large") discardRest(rest);
    else rest.cancel().catch(() => {});
  };
  const onLimit = (reader: ReadableStreamDefaultReader<Uint8Array>): void => {
    rest = reader;
    settle();
  };
  const counted = new Request(request, { body: limitedBody(body, limit, onLimit), duplex: "half" } as RequestInit);
  setBodyLimit(counted, limit);
  try {
    answer = await app.fetch(counted, info);
    return answer;
  } catch (error) {
    answer = "failed";
    throw error;
  } finally {
    settle();
  }
}

/**
 * After a 413, the rest of the body is drained as NGINX's lingering close drains after an early
 * answer (lingering_time, lingering_timeout): at most LINGER_BYTES for at most LINGER_MS, then
 * cancelled. A client that sends more than that, or never ends its body, keeps its connection
 * until it stops sending (TCP flow control holds it): Deno.serve has no way to cut one, the same
 * gap as its missing header timeout (above).
 */
const LINGER_MS = 5_000;
const LINGER_BYTES = 1024 * 1024;

function discardRest(rest: ReadableStreamDefaultReader<Uint8Array>): void {
  let left = LINGER_BYTES;
  const stop = (): void => {
    clearTimeout(timer);
    rest.cancel().catch(() => {});
  };
  const timer = setTimeout(stop, LINGER_MS);
  const next = (): void => {
    rest.read().then(({ done, value }) => {
      if (done) return void clearTimeout(timer);
      left -= value.byteLength;
      if (left <= 0) stop();
      else next();
    }, stop);
  };
  next();
}

/**
 * Deno's shutdown() stops accepting and waits for every request in flight, with no limit and no way
 * to cut a connection (Deno 2.9). Waiting at most `graceMs` keeps close() bounded as on Node; what
 * is still in flight then is cut when the process exits (vipr serve exits right after).
 */
function shutdownWithin(shutdown: Promise<void>, graceMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
  return Promise.race([shutdown, grace]).finally(() => clearTimeout(timer));
}

function checkedLimit(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw new RangeError(`${name} must be a whole number >= 0, got ${value}`);
  return value;
}

function limitResponse(status: number, code: string, message: string, details: Readonly<Record<string, unknown>> = {}): Response {
  const body = JSON.stringify({ error: { status, code, message, ...details } });
  // The request body (if any) is never read: close rather than leave it in the connection.
  return new Response(body, { status, headers: { "content-type": "application/json; charset=utf-8", "x-vipr-error": code, connection: "close" } });
}

function headersTooLarge(what: string): Response {
  return limitResponse(431, "headers_too_large", `the request has ${what}`);
}

/** The client address from Deno.serve's remoteAddr ("" outside serveDeno). */
export const denoClientAddress: ClientAddressOf = (c) => {
  const hostname = (c.env as { remoteAddr?: { hostname?: unknown } } | undefined)?.remoteAddr?.hostname;
  return typeof hostname === "string" ? hostname : "";
};

/** Deno has only the Web Request: its fields, lowercase. */
export const denoRequestHeaders: RequestHeadersOf = webRequestHeaders;
