// The traffic listener's protocols: HTTP/1.1, h2c with prior knowledge on the same plain port,
// and TLS with HTTP/2 or HTTP/1.1 picked by ALPN. serveNode (serve-node.ts) builds its server
// here; the HTTP/1.1 side is the same node:http server (the same limits, the same upgrade and
// CONNECT handling) whichever way the connection arrived.
//
// Node's HTTP/2 server cannot share a socket with its HTTP/1 server, so one listening server
// takes every connection and hands it over (both Node and Deno 2.9's node:http2 take a socket
// given by emit('connection'), and read what was already buffered on it):
// - plain: the first bytes are read and compared with the HTTP/2 connection preface (RFC 9113
//   section 3.4, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"); the bytes are put back (unshift) and the
//   socket goes to the HTTP/2 server if they match, else to node:http's own connection listener.
//   An "Upgrade: h2c" request (RFC 7540 section 3.2, removed by RFC 9113) stays HTTP/1.1.
// - TLS: an https server does the handshake (SNI picks the certificate, tls-certificates.ts) and
//   offers "h2" then "http/1.1" by ALPN (RFC 7301); a connection that chose h2 goes to the HTTP/2
//   server, every other one (http/1.1, or a client without ALPN) to node:http.
// Every HTTP/2 stream is one request through the same Hono app, so each is routed and balanced on
// its own: one client connection spreads over the pods.

import type { Socket } from "node:net";
import { createServer as createHttpServer, type RequestListener, type Server, type ServerOptions } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createHttp2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from "node:http2";
import type { TLSSocket } from "node:tls";
import { getRequestListener } from "@hono/node-server";

type FetchCallback = Parameters<typeof getRequestListener>[0];
import type { TlsCertificateSource } from "./tls-certificates.ts";
import { TLS_MIN_VERSION } from "./tls-certificates.ts";
import { http2Fetch, type Http2Limits } from "./http2-requests.ts";

/** The HTTP/2 connection preface a client with prior knowledge sends first (RFC 9113 section 3.4). */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** HTTP/2 on the listener. */
export interface Http2ListenerOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 section 6.5.2) per connection. Default 100, as
   * RFC 9113 recommends as a minimum and nginx (http2_max_concurrent_streams) and Envoy use. */
  readonly maxConcurrentStreams?: number;
}

/** What the listener speaks beside plain HTTP/1.1. */
export interface ListenerProtocols {
  /** TLS with these certificates; none: plain TCP. */
  readonly tls?: TlsCertificateSource;
  /** HTTP/2 (h2c on a plain port, h2 by ALPN over TLS); none: HTTP/1.1 only. */
  readonly http2?: Http2ListenerOptions;
}

/** What the HTTP/2 side needs of serveNode: its fetch and the limits HTTP/1.1 requests get. */
export interface Http2Serving {
  readonly fetch: (request: Request, env: unknown) => Response | Promise<Response>;
  readonly limits: Http2Limits;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

export const DEFAULT_MAX_CONCURRENT_STREAMS = 100;

/**
 * The listening server: node:http (plain) or node:https (TLS) with `http1Listener` for HTTP/1.1,
 * and with `protocols.http2` an HTTP/2 server behind it. Closing it sends GOAWAY to every HTTP/2
 * connection (RFC 9113 section 6.8: streams already begun finish, no new ones), then closes as
 * node:http does.
 */
export function createListenerServer(serverOptions: ServerOptions, http1Listener: RequestListener, protocols: ListenerProtocols, serving: Http2Serving): Server {
  if (protocols.tls === undefined && protocols.http2 === undefined) return createHttpServer(serverOptions, http1Listener);
  const store = protocols.tls;
  const server: Server =
    store === undefined
      ? createHttpServer(serverOptions, http1Listener)
      : (createHttpsServer(
          {
            ...serverOptions,
            SNICallback: (servername, done) => done(null, store.contextFor(servername)),
            ...defaultCertificate(store),
            ALPNProtocols: protocols.http2 === undefined ? ["http/1.1"] : ["h2", "http/1.1"],
            minVersion: TLS_MIN_VERSION,
            // A connection that never finishes its handshake is held no longer than one that never
            // finishes its header block.
            handshakeTimeout: serving.headersTimeoutMs > 0 ? serving.headersTimeoutMs : 120_000,
          },
          http1Listener,
        ) as unknown as Server);
  if (store !== undefined) keepDefaultCertificateCurrent(server, store);
  if (protocols.http2 === undefined) return server;

  const h2 = createHttp2Server(
    {
      settings: { maxConcurrentStreams: protocols.http2.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS, maxHeaderListSize: serving.limits.maxHeaderBytes },
      // nghttp2 refuses a header block with more fields than this before the app (the stream is
      // reset); the app's own count (http2-requests.ts) answers 431 below it, as HTTP/1.1 does.
      maxHeaderListPairs: Math.max(128, 2 * serving.limits.maxHeadersCount + 8),
    },
    // autoCleanupIncoming off: @hono/node-server would otherwise destroy an HTTP/2 request whose
    // body has not ended two ticks after the response was handed over (RESPONSE_ALREADY_SENT at
    // the response head), which cuts every bidirectional gRPC stream after its first reply.
    // http2Fetch ends an unread upload itself, once the response has finished.
    getRequestListener(http2Fetch(serving.fetch, serving.limits) as FetchCallback, { autoCleanupIncoming: false }) as unknown as (request: Http2ServerRequest, response: Http2ServerResponse) => void,
  );
  const sessions = trackSessions(h2, serving.keepAliveTimeoutMs);
  if (store === undefined) takePriorKnowledge(server, h2, serving.headersTimeoutMs);
  else takeAlpnH2(server, h2);
  // GOAWAY first, then node:http's close: server.close() waits for every connection the listening
  // server accepted, HTTP/2 ones included, so the sessions must be told to end.
  const close = server.close.bind(server);
  server.close = ((callback?: (error?: Error) => void) => {
    for (const session of sessions) if (!session.closed && !session.destroyed) session.close();
    return close(callback);
  }) as Server["close"];
  return server;
}

/** The default certificate (a client without SNI) as https options; none when the store has none
 * yet (a Gateway whose Secret is not there: clients without SNI then fail the handshake). */
function defaultCertificate(store: TlsCertificateSource): { cert: Buffer; key: Buffer } | Record<string, never> {
  const pair = store.defaultPair();
  return pair === undefined ? {} : { cert: pair.cert, key: pair.key };
}

/** A reload replaces the default certificate too (SNICallback is only asked when the client sent
 * a name). */
function keepDefaultCertificateCurrent(server: Server, store: TlsCertificateSource): void {
  const tlsServer = server as unknown as { setSecureContext?: (options: object) => void };
  store.onReload(() => {
    try {
      tlsServer.setSecureContext?.({ ...defaultCertificate(store), minVersion: TLS_MIN_VERSION });
    } catch {
      // Deno's node:tls has no setSecureContext: clients without SNI keep the first default.
    }
  });
}

/** The HTTP/2 sessions open now; errors on them are the client's (a reset, a protocol error that
 * nghttp2 already answered with GOAWAY) and are not vipr's to log. */
function trackSessions(h2: Http2Server, idleMs: number): Set<ServerHttp2Session> {
  const sessions = new Set<ServerHttp2Session>();
  h2.on("session", (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    session.on("error", ignore);
    // An idle connection (no stream for keepAliveTimeoutMs) is closed with GOAWAY, as HTTP/1.1's
    // keep-alive timeout closes an idle connection.
    if (idleMs > 0) session.setTimeout(idleMs, () => session.close());
  });
  h2.on("sessionError", ignore);
  return sessions;
}

/**
 * Plain port: the first bytes decide. node:http's own connection listener is taken off the server
 * and called for HTTP/1.1 connections; serveNode's listeners (socket tracking) stay.
 */
function takePriorKnowledge(server: Server, h2: Http2Server, firstBytesTimeoutMs: number): void {
  const http1 = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  server.on("connection", (socket: Socket) => {
    let seen: Buffer = Buffer.alloc(0);
    // A connection that has not said which protocol it speaks within the header timeout is closed,
    // as node:http closes one that has not sent its head. One timer from the connection's start,
    // not socket.setTimeout: that one restarts at every byte, and a client sending the preface a
    // byte at a time would hold the socket 24 times as long.
    const timer = firstBytesTimeoutMs > 0 ? setTimeout(() => socket.destroy(), firstBytesTimeoutMs) : undefined;
    timer?.unref();
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const prefix = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      // Still a prefix of the preface: wait for the rest (a client may send it in pieces).
      if (prefix && seen.length < PREFACE.length) return;
      socket.off("readable", onReadable);
      socket.off("end", onEnd);
      clearTimeout(timer);
      socket.unshift(seen);
      if (prefix) h2.emit("connection", socket);
      else for (const listener of http1) listener.call(server, socket);
    };
    const onEnd = (): void => {
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on("readable", onReadable);
    socket.once("end", onEnd);
  });
}

/** TLS: after the handshake, a connection that chose h2 by ALPN goes to the HTTP/2 server. */
function takeAlpnH2(server: Server, h2: Http2Server): void {
  const http1 = server.listeners("secureConnection") as ((socket: TLSSocket) => void)[];
  server.removeAllListeners("secureConnection");
  server.on("secureConnection", (socket: TLSSocket) => {
    if (socket.alpnProtocol === "h2") h2.emit("connection", socket);
    else for (const listener of http1) listener.call(server, socket);
  });
}

function ignore(): void {}
