// Serving a Hono app with @hono/node-server over node:http: vipr's edge on Node and on Deno, whose
// node:http parses as llhttp does (adapters/runtime-adapter.ts says why Deno uses it too; the one
// gap found, maxHeadersCount, is closed in the fetch wrapper below and checked, with every other
// parsing case, by tests/safety/parsing-parity.test.ts). The raw IncomingMessage and ServerResponse
// reach the app as c.env.incoming / c.env.outgoing (HttpBindings), which the undici transport
// writes into directly and from which the two getters below read without building Web objects
// (touching c.req.raw.headers on Node builds a whole Request).

import type { AddressInfo, Socket } from "node:net";
import { IncomingMessage, createServer } from "node:http";
import type { RequestListener, Server, ServerOptions, ServerResponse } from "node:http";
import { serve } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { Context } from "hono";
import type { HttpBindings } from "@hono/node-server";
import type { ClientAddressOf, RequestHeadersOf } from "../../router/forward/upstream-transport.ts";
import type { ServeOptions } from "../serve-options.ts";
import { http2IncomingOf, http2RequestHeaders } from "./http2-requests.ts";
import { webRequestHeaders } from "../../router/forward/upstream-transport.ts";
import { BodyByteLimit, setBodyLimit } from "../../router/forward/body-limit.ts";
import { bodyTooLarge, connectNotSupported, userinfoNotAllowed } from "../../router/router-errors.ts";
import type { UpgradeRouter } from "../../router/forward/upgrade-route.ts";
import { NodeRequestView } from "./node-request-view.ts";
import { endWithResponse, isWebSocketUpgrade, tunnelUpgrade, upgradeRequestOf } from "./upgrade-tunnel.ts";
import { OpenTunnels } from "./ws-tunnels.ts";
import { createListenerServer } from "./listener-server.ts";

/** What serveNode needs of an app: Hono's `fetch`; and, optionally, a direct way into its
 * handler for GETs (RouterApp, router/service-router.ts; see serveRequest in serveNode). */
export interface FetchApp {
  fetch(request: Request, env: HttpBindings): Response | Promise<Response>;
  /** The app's handler for a Context built here; undefined when fetch must be used. */
  readonly direct?: ((c: Context) => Promise<Response>) | undefined;
  /** What fetch answers when the handler fails (required with `direct`). */
  answerError?(error: unknown, c: Context): Response | Promise<Response>;
}

/** Port, address, close grace and the limits below; each documented at ServeOptions. */
export type ServeNodeOptions = ServeOptions;

/**
 * Defaults a proxy facing untrusted clients uses (nginx, Envoy and HAProxy are in the same range):
 * - 16 KiB of request line and headers: Node's own default, nginx's large_client_header_buffers
 *   (4 x 8k) and Envoy's 60 KiB bracket it; a bigger head is nearly always an attack or a bug.
 * - 100 header fields: Envoy's max_headers_count default; Node's 2000 lets one request make
 *   thousands of strings. Counted by serveNode itself, not by the parser (see the fetch wrapper).
 * - 10 s for the header block (slowloris): Node's default of 60 s, checked only every 30 s, lets
 *   one client hold a socket for up to 90 s with a byte every few seconds.
 * - 60 s for the whole request; 65 s keep-alive, above the 60 s idle timeout of common load
 *   balancers in front, so that they, not vipr, close an idle connection (no race on reuse).
 * The same on both runtimes: Deno's node:http honours maxHeaderSize and both timeouts (checked by
 * tests/safety/limits.test.ts on both). llhttp stays strict (no insecureHTTPParser): it rejects Content-Length with Transfer-Encoding,
 * differing duplicate Content-Length and any Transfer-Encoding that does not end in chunked
 * (tests/safety/smuggling.test.ts).
 */
export const NODE_SERVE_LIMITS = {
  maxHeaderBytes: 16_384,
  maxHeadersCount: 100,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
} as const;

export interface NodeServer {
  readonly port: number;
  readonly address: string;
  /** Stops accepting, closes idle keep-alive connections and connections that never sent a
   * request, waits for requests in flight (at most closeGraceMs). */
  close(): Promise<void>;
}

/**
 * Starts `app` on node:http (Node, or Deno's node:http); resolves once it listens.
 *
 * @example
 * const server = await serveNode(app, { port: 8080, hostname: "0.0.0.0" });
 * await server.close();
 */
export function serveNode(app: FetchApp, options: ServeNodeOptions = {}): Promise<NodeServer> {
  const limits = { ...NODE_SERVE_LIMITS, ...definedOnly(options) };
  const maxBodyBytes = options.maxBodyBytes;
  const upgrades = options.upgrades;
  if (maxBodyBytes !== undefined && !(Number.isInteger(maxBodyBytes) && maxBodyBytes >= 0)) throw new RangeError(`maxBodyBytes must be a whole number >= 0, got ${maxBodyBytes}`);
  /** The checks every request gets before the app (refusedHead, the body limit), then `run`. */
  const guarded = (incoming: IncomingMessage, run: () => Response | Promise<Response>): Response | Promise<Response> => {
    const refused = refusedHead(incoming, limits.maxHeadersCount);
    if (refused !== undefined) return refused;
    if (maxBodyBytes !== undefined) {
      const declared = incoming.headers["content-length"];
      if (declared !== undefined) {
        if (Number(declared) > maxBodyBytes) return bodyTooLarge(maxBodyBytes);
      } else if (incoming.headers["transfer-encoding"] !== undefined) {
        // A chunked body (RFC 9112 section 7.1) says its length only at its last chunk: the
        // undici transport counts it as it reads it from this IncomingMessage and fails it at
        // the first chunk past the limit (router/forward/body-limit.ts).
        const limit = new BodyByteLimit(maxBodyBytes);
        setBodyLimit(incoming, limit);
        return Promise.resolve(run()).then((response) => {
          if (limit.exceeded !== undefined) lingerOnClose(incoming.socket);
          return response;
        });
      }
    }
    return run();
  };
  /** Answers the direct path already has (serveRequest), for @hono/node-server to write. */
  const answers = new WeakMap<IncomingMessage, Response | Promise<Response>>();
  const fetch = (request: Request, env: unknown): Response | Promise<Response> => {
    const incoming = incomingOf(env);
    if (incoming === undefined) return app.fetch(request, env as HttpBindings);
    const answer = answers.get(incoming);
    if (answer !== undefined) {
      answers.delete(incoming);
      return answer;
    }
    return guarded(incoming, () => app.fetch(request, env as HttpBindings));
  };
  let honoListener: RequestListener | undefined;
  /** vipr's answer written by @hono/node-server, as its listener writes the app's. */
  const writeAnswer = (incoming: IncomingMessage, outgoing: ServerResponse, answer: Response | Promise<Response>): void => {
    answers.set(incoming, answer);
    void honoListener!(incoming, outgoing);
  };
  /**
   * Serves one request node:http parsed: the entry point of every request on this server.
   * A GET whose Host and target @hono/node-server would take as they are (plainUrl), to an app
   * that offers its pipeline directly (RouterApp.direct, router/service-router.ts), skips
   * @hono/node-server's Request and Hono's dispatch: the pipeline gets a Context over the raw
   * objects (NodeRequestView), and a response the transport already wrote (RESPONSE_ALREADY_SENT,
   * nearly every request) needs nothing more. Profiled with node --cpu-prof under bench:proxy's
   * Maglev load (issue 11), @hono/node-server's listener and Hono's dispatch were about a third of
   * the CPU vipr's request entry took over the raw proxy's. Anything else, and the
   * router's own answers, go through @hono/node-server's listener as before, so every answer is
   * written the same way.
   */
  const serveRequest = (incoming: IncomingMessage, outgoing: ServerResponse): void => {
    // A rejection here would be unhandled (and end the process): drop the connection instead.
    if (incoming.headers.host?.includes("@") === true) return void writeResponse(outgoing, userinfoNotAllowed("host")).catch(() => outgoing.destroy());
    const direct = app.direct;
    const url = direct === undefined || incoming.method !== "GET" ? undefined : plainUrl(incoming);
    if (url === undefined) return void honoListener!(incoming, outgoing);
    const c = new Context(new NodeRequestView(url, incoming, outgoing) as unknown as Request, { env: { incoming, outgoing } });
    const answer = guarded(incoming, () => direct!(c));
    if (!(answer instanceof Promise)) return writeAnswer(incoming, outgoing, answer);
    answer.then(
      (response) => {
        if (response !== RESPONSE_ALREADY_SENT) writeAnswer(incoming, outgoing, response);
      },
      (error: unknown) => {
        let handled: Response | Promise<Response>;
        try {
          handled = app.answerError!(error, c);
        } catch (thrown) {
          handled = Promise.reject(thrown);
        }
        writeAnswer(incoming, outgoing, handled);
      },
    );
  };
  // Node checks headersTimeout and requestTimeout only every connectionsCheckingInterval (30 s by
  // default); check often enough that a timeout fires within half its own length (at most 1 s late).
  const timeouts = [limits.headersTimeoutMs, limits.requestTimeoutMs].filter((ms) => ms > 0);
  const serverOptions: ServerOptions = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, ...timeouts.map((ms) => Math.floor(ms / 2)))),
    // With upgrades, a WebSocket handshake leaves the request path for the 'upgrade' event below;
    // every other Upgrade (h2c too) stays a request for the app.
    ...(upgrades === undefined ? {} : { shouldUpgradeCallback: isWebSocketUpgrade }),
  };
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch,
        port: options.port ?? 0,
        hostname: options.hostname ?? "127.0.0.1",
        serverOptions,
        createServer: ((serverOptions: ServerOptions, listener: RequestListener) => {
          honoListener = listener;
          // TLS and HTTP/2 (listener-server.ts) when the options ask for them; plain node:http otherwise.
          const server = createListenerServer(serverOptions, serveRequest, options, { fetch, limits: { ...limits, maxBodyBytes }, ...limits });
          return options.reusePort === true ? listeningWithReusePort(server) : server;
        }) as typeof createServer,
      },
      (info: AddressInfo) => {
        server.off("error", reject);
        resolve({ port: info.port, address: info.address, close: () => closeServer(server as Server, sockets, tunnels, options.closeGraceMs ?? 10_000) });
      },
    );
    // No parser limit (0): the fetch wrapper above counts the fields, the same on both runtimes.
    (server as Server).maxHeadersCount = 0;
    // Connections that never sent a byte are neither idle nor busy to server.close(), which would
    // wait for the client (or the request timeout) to end them.
    const sockets = new Set<Socket>();
    const tunnels = new OpenTunnels();
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      // Node's server listens for errors on a socket only while it parses HTTP on it: a socket it
      // hands over (CONNECT, upgrade) or one reset between its listeners has none, and an
      // unhandled 'error' event (ECONNRESET from a client that resets) ends the process. Every
      // client socket gets this listener for its whole life; a client's reset is never vipr's
      // failure, so there is nothing to log.
      socket.on("error", ignoreClientSocketError);
    });
    // Node hands CONNECT to a "connect" listener, never to the app (and fetch's Request cannot
    // carry that method): answer it here with the router's own error, then close.
    server.on("connect", (_request: IncomingMessage, socket: Socket) => void endWithResponse(socket, connectNotSupported()));
    if (upgrades !== undefined) {
      server.on("upgrade", (incoming: IncomingMessage, socket: Socket, head: Buffer) => onUpgrade(upgrades, limits.maxHeadersCount, incoming, socket, head, tunnels));
    }
    server.once("error", reject);
  });
}

/**
 * What is refused from the request's head before the app (or the upgrade path) sees it.
 * - Node keeps the first of repeated Host fields in headers.host (routing) while rawHeaders, which
 *   the transport forwards, keeps both: the pod could read the other. RFC 9112 section 3.2: more
 *   than one Host gets 400. (@hono/node-server already refuses a malformed Host.)
 * - The field count is checked here, not by the parser (server.maxHeadersCount is 0): Deno's
 *   node:http ignores maxHeadersCount as a limit (it keeps the first N fields and drops the rest,
 *   and answers the request), so a parser limit would answer 431 on Node and 200 on Deno. Counted
 *   here, both runtimes give the same 431, in the router's error shape. The 16 KiB head limit,
 *   which both parsers enforce, bounds how many fields there can be.
 */
function refusedHead(incoming: IncomingMessage, maxHeadersCount: number): Response | undefined {
  if (hostFieldCount(incoming.rawHeaders) > 1) return limitResponse(400, "bad_host", "the request has more than one Host field");
  if (maxHeadersCount > 0 && incoming.rawHeaders.length > 2 * maxHeadersCount) {
    return limitResponse(431, "headers_too_large", `the request has more than ${maxHeadersCount} header fields`);
  }
  return undefined;
}

/** Routes a WebSocket handshake the server handed over (its 'upgrade' event) and relays it
 * (upgrade-tunnel.ts), or answers it: the same head checks as the app's requests get first. */
function onUpgrade(upgrades: UpgradeRouter, maxHeadersCount: number, incoming: IncomingMessage, socket: Socket, head: Buffer, tunnels: OpenTunnels): void {
  const refused = refusedHead(incoming, maxHeadersCount);
  if (refused !== undefined) return tunnelUpgrade(socket, head, refused);
  if (incoming.headers.host?.includes("@") === true) return tunnelUpgrade(socket, head, userinfoNotAllowed("host"));
  let request: Request;
  try {
    request = upgradeRequestOf(incoming);
  } catch {
    return tunnelUpgrade(socket, head, limitResponse(400, "bad_host", "the request's Host does not form a URL"));
  }
  // What the router reads of the bindings: the client's address and fields (nodeClientAddress,
  // nodeRequestHeaders). There is no ServerResponse: the socket is the tunnel's.
  tunnelUpgrade(socket, head, upgrades.routeUpgrade(request, { incoming }), tunnels);
}

function definedOnly(options: ServeNodeOptions): Partial<Record<keyof typeof NODE_SERVE_LIMITS, number>> {
  const out: Partial<Record<keyof typeof NODE_SERVE_LIMITS, number>> = {};
  for (const key of Object.keys(NODE_SERVE_LIMITS) as (keyof typeof NODE_SERVE_LIMITS)[]) {
    const value = options[key];
    if (value !== undefined) {
      if (!(Number.isInteger(value) && value >= 0)) throw new RangeError(`${key} must be a whole number >= 0, got ${value}`);
      out[key] = value;
    }
  }
  return out;
}

/** How long a connection answered 413 keeps reading what its client still sends (lingerOnClose). */
const LINGER_MS = 5_000;

/**
 * NGINX's lingering close (lingering_close, lingering_time) for a connection answered 413 while
 * its client may still be sending the body. Node's server ends a Connection: close answer with
 * socket.destroySoon(), which closes the socket as soon as the answer is written; what the client
 * sends after that stays unread, and a socket closed with unread bytes sends RST, on which the
 * client can lose the 413 before reading it (seen under load in tests/safety/body-limit.test.ts).
 * Here the answer is followed by FIN, the socket keeps reading (the rest of the body is parsed and
 * dropped) until the client closes its side or LINGER_MS pass, and only then closes.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function lingeringClose(this: Socket): void {
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once("end", () => this.destroy());
    this.once("close", () => clearTimeout(timer));
  };
}

/** Host fields in a raw header list (name, value, name, value...). */
function hostFieldCount(raw: readonly string[]): number {
  let count = 0;
  for (let i = 0, n = raw.length; i < n; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === "host") count++;
  }
  return count;
}

/** An answer in the router's error shape (router-errors.ts), given before the app sees the
 * request. Its body (if any) is never read: close rather than leave it in the connection. */
function limitResponse(status: number, code: string, message: string, details: Readonly<Record<string, unknown>> = {}): Response {
  const body = JSON.stringify({ error: { status, code, message, ...details } });
  return new Response(body, { status, headers: { "content-type": "application/json; charset=utf-8", "x-vipr-error": code, connection: "close" } });
}

function ignoreClientSocketError(): void {}

/** The server, listening with SO_REUSEPORT (ServeOptions.reusePort): @hono/node-server calls
 * listen(port, hostname, callback), which has no place for the option. */
function listeningWithReusePort(server: Server): Server {
  const listen = server.listen.bind(server) as (options: object, callback?: () => void) => Server;
  server.listen = ((port: number, host: string, callback?: () => void) => listen({ port, host, reusePort: true }, callback)) as Server["listen"];
  return server;
}

/** Writes a small Response; the connection closes after it, as the request's body stays unread. */
async function writeResponse(outgoing: ServerResponse, response: Response): Promise<void> {
  const body = await response.text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  outgoing.writeHead(response.status, { ...headers, "content-length": String(Buffer.byteLength(body)), connection: "close" });
  outgoing.end(body);
}

function closeServer(server: Server, sockets: ReadonlySet<Socket>, tunnels: OpenTunnels, graceMs: number): Promise<void> {
  return new Promise<void>((done) => {
    const grace = setTimeout(() => {
      server.closeAllConnections();
      // Upgraded connections (WebSocket tunnels) are no longer the HTTP server's to close: each
      // tunnel goes away with a Close frame 1001 (upgrade-tunnel.ts), the rest are cut.
      tunnels.goAway();
      for (const socket of sockets) if (!tunnels.has(socket)) socket.destroy();
    }, graceMs);
    grace.unref();
    server.close(() => {
      clearTimeout(grace);
      done();
    });
    server.closeIdleConnections();
    for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
  });
}

/** What @hono/node-server's listener takes as is (its src/url.ts: reValidHost, reValidRequestUrl,
 * reDotSegment): a lowercase host with an optional port of 4 or 5 digits, and an origin-form
 * target of plain characters without dot segments. Anything else it parses with URL or refuses. */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;
const PLAIN_TARGET = /^\/[!#$&-;=?-\[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;

/** The request's URL as @hono/node-server builds it ("http://" + Host + target), when it takes
 * Host and target as they are; undefined otherwise (its listener then decides). */
function plainUrl(incoming: IncomingMessage): string | undefined {
  const host = incoming.headers.host;
  const target = incoming.url;
  if (host === undefined || target === undefined || target.charCodeAt(0) !== 47 /* / */) return undefined;
  if (!PLAIN_HOST.test(host) || !PLAIN_TARGET.test(target) || DOT_SEGMENT.test(target)) return undefined;
  return `${(incoming.socket as { encrypted?: boolean } | null)?.encrypted === true ? "https" : "http"}://${host}${target}`;
}

function incomingOf(env: unknown): IncomingMessage | undefined {
  const incoming = (env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof IncomingMessage ? incoming : undefined;
}

/** The client address from the raw socket ("" outside serveNode, e.g. app.request()). */
export const nodeClientAddress: ClientAddressOf = (c) => (incomingOf(c.env) ?? http2IncomingOf(c.env))?.socket?.remoteAddress ?? "";

/** The request's fields as Node received them (IncomingMessage.rawHeaders, or an HTTP/2 request's
 * without its pseudo-fields); from the Web Request outside serveNode. */
export const nodeRequestHeaders: RequestHeadersOf = (c) => {
  const incoming = incomingOf(c.env);
  if (incoming !== undefined) return incoming.rawHeaders;
  const http2 = http2IncomingOf(c.env);
  return http2 === undefined ? webRequestHeaders(c) : http2RequestHeaders(http2);
};
