// Serving a Hono app on Node with @hono/node-server. The raw IncomingMessage and ServerResponse
// reach the app as c.env.incoming / c.env.outgoing (HttpBindings), which the undici transport
// writes into directly and from which the two getters below read without building Web objects
// (touching c.req.raw.headers on Node builds a whole Request).

import type { AddressInfo, Socket } from "node:net";
import { IncomingMessage } from "node:http";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import type { HttpBindings } from "@hono/node-server";
import type { ClientAddressOf, RequestHeadersOf } from "../../router/forward/upstream-transport.ts";
import { webRequestHeaders } from "../../router/forward/upstream-transport.ts";
import { connectNotSupported } from "../../router/router-errors.ts";

/** What serveNode needs of an app: Hono's `fetch`. */
export interface FetchApp {
  fetch(request: Request, env: HttpBindings): Response | Promise<Response>;
}

export interface ServeNodeOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Default "127.0.0.1". */
  readonly hostname?: string;
  /** How long close() lets requests in flight finish before it cuts their connections. Default 10000. */
  readonly closeGraceMs?: number;
}

export interface NodeServer {
  readonly port: number;
  readonly address: string;
  /** Stops accepting, closes idle keep-alive connections and connections that never sent a
   * request, waits for requests in flight (at most closeGraceMs). */
  close(): Promise<void>;
}

/**
 * Starts `app` on Node; resolves once it listens.
 *
 * @example
 * const server = await serveNode(app, { port: 8080, hostname: "0.0.0.0" });
 * await server.close();
 */
export function serveNode(app: FetchApp, options: ServeNodeOptions = {}): Promise<NodeServer> {
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: (request, env) => app.fetch(request, env as HttpBindings), port: options.port ?? 0, hostname: options.hostname ?? "127.0.0.1" },
      (info: AddressInfo) => {
        server.off("error", reject);
        resolve({ port: info.port, address: info.address, close: () => closeServer(server as Server, sockets, options.closeGraceMs ?? 10_000) });
      },
    );
    // Connections that never sent a byte are neither idle nor busy to server.close(), which would
    // wait for the client (or the request timeout) to end them.
    const sockets = new Set<Socket>();
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
    // Node hands CONNECT to a "connect" listener, never to the app (and fetch's Request cannot
    // carry that method): answer it here with the router's own error, then close.
    server.on("connect", (_request: IncomingMessage, socket: Socket) => void refuseConnect(socket));
    server.once("error", reject);
  });
}

async function refuseConnect(socket: Socket): Promise<void> {
  const response = connectNotSupported();
  const body = await response.text();
  const head = [`HTTP/1.1 ${response.status} Method Not Allowed`];
  response.headers.forEach((value, name) => head.push(`${name}: ${value}`));
  head.push(`content-length: ${Buffer.byteLength(body)}`, "connection: close");
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}

function closeServer(server: Server, sockets: ReadonlySet<Socket>, graceMs: number): Promise<void> {
  return new Promise<void>((done) => {
    const grace = setTimeout(() => server.closeAllConnections(), graceMs);
    grace.unref();
    server.close(() => {
      clearTimeout(grace);
      done();
    });
    server.closeIdleConnections();
    for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
  });
}

function incomingOf(env: unknown): IncomingMessage | undefined {
  const incoming = (env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof IncomingMessage ? incoming : undefined;
}

/** The client address from the raw socket ("" outside serveNode, e.g. app.request()). */
export const nodeClientAddress: ClientAddressOf = (c) => incomingOf(c.env)?.socket?.remoteAddress ?? "";

/** The request's fields as Node received them (IncomingMessage.rawHeaders); from the Web Request
 * outside serveNode. */
export const nodeRequestHeaders: RequestHeadersOf = (c) => incomingOf(c.env)?.rawHeaders ?? webRequestHeaders(c);
