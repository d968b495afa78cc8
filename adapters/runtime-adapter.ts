// The runtime edge, picked once at start. It is the same on both runtimes: @hono/node-server over
// node:http serves, the undici transport forwards (adapters/node/). Everything above this
// (router/, wasm/) is the same code on both as well.
//
// Why Deno gets the Node edge and not Deno.serve + fetch (issue 17, "both runtimes parse alike"):
// a proxy's parser decides where one request ends and the next begins, and two parsers that
// disagree on the same bytes are what request smuggling is made of (RFC 9112 section 11.2). With
// Deno.serve (hyper) and fetch, the same bytes got different answers on the two runtimes: bare-LF
// line ends were served on Deno and refused on Node (RFC 9112 section 2.2 lets a server refuse
// them), a request without Host was routed as localhost instead of refused (section 3.2: 400),
// header limits answered 400 instead of 431 (RFC 6585 section 5), broken chunk framing closed the
// connection without an answer, `Transfer-Encoding: identity, chunked` and an `HTTP/2.0` request
// line were answered differently, and h2c prior knowledge was served on Deno only. Deno's fetch
// also rewrote what it forwarded (added user-agent, accept and accept-language, replaced
// Accept-Encoding with identity, re-sent Content-Length bodies chunked), refused TRACE, and had
// one timeout for connect and response. Deno 2.9's node:http parses as llhttp does (measured with
// raw sockets, tests/safety/parsing-parity.test.ts keeps it so), and undici runs on Deno and sends
// the fields as given. The one gap found, maxHeadersCount, is enforced by serve-node.ts itself.
// The cost, measured with bench:proxy (proxy pinned to one core): node:http + undici under Deno
// ran at about 0.75-0.8x the requests/s of Deno.serve + fetch. One parser and one forwarder on
// both runtimes is worth that: smuggling parity is a security property, speed is a tuning one.
// Apps that must live inside Deno.serve can still use it (adapters/deno/, `vipr/deno`, and the
// `deno serve` entry), with the differences the README lists.
import type { ClientAddressOf, RequestHeadersOf, RequestProtocolOf, UpstreamTransport } from "../router/forward/upstream-transport.ts";
import type { UpgradeRouter } from "../router/forward/upgrade-route.ts";
import type { CertificateStore } from "./node/tls-certificates.ts";
import type { Http2ListenerOptions } from "./node/listener-server.ts";

export interface ServeOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Default "127.0.0.1". */
  readonly hostname?: string;
  /** How long close() lets requests in flight finish, in ms (default 10000): then their
   * connections are cut. Long-lived watch streams of a fake API server need a short one in tests. */
  readonly closeGraceMs?: number;
  /** Request line plus header fields, in bytes; 431 above it. Default 16384 (both runtimes). */
  readonly maxHeaderBytes?: number;
  /** Header fields per request; 431 above it. Default 100 (both runtimes). */
  readonly maxHeadersCount?: number;
  /** Until the header block is complete (slowloris), then 408 (default 10000). serveDeno (the
   * Deno.serve opt-in) has no such limit (adapters/deno/serve-deno.ts). */
  readonly headersTimeoutMs?: number;
  /** Until the whole request is received, then 408 (default 60000; 0: none). Not in serveDeno. */
  readonly requestTimeoutMs?: number;
  /** Idle keep-alive connections (default 65000). Not in serveDeno. */
  readonly keepAliveTimeoutMs?: number;
  /** Request body limit, in bytes (default: none). A Content-Length above it gets 413 JSON before
   * routing. A body without one (chunked, RFC 9112 section 7.1) is counted as the transport
   * forwards it (router/forward/body-limit.ts): the chunk that would pass the limit is never sent,
   * the upstream request is aborted, and the client gets the same 413, or, if the pod's response
   * had already started, a closed connection. The count is where the undici transport reads the
   * IncomingMessage, so it applies to what vipr forwards (an app of your own reading the raw
   * request is not counted). */
  readonly maxBodyBytes?: number;
  /** Where WebSocket handshakes are routed (the ServiceRouter): with it, serveNode relays them to
   * the picked pod (adapters/node/upgrade-tunnel.ts); without it, and in serveDeno, they reach
   * the app, which answers 501 upgrade_not_supported. */
  readonly upgrades?: UpgradeRouter;
  /** TLS termination with these certificates (adapters/node/tls-certificates.ts); serveNode only. */
  readonly tls?: CertificateStore;
  /** HTTP/2 on the listener: h2c with prior knowledge, h2 by ALPN over TLS (listener-server.ts). */
  readonly http2?: Http2ListenerOptions;
}

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface RuntimeAdapter {
  readonly name: "node" | "deno";
  readonly version: string;
  createTransport(): UpstreamTransport;
  serve(app: { fetch: (request: Request, env: any) => Response | Promise<Response> }, options?: ServeOptions): Promise<RunningServer>;
  readonly clientAddress: ClientAddressOf;
  readonly requestHeaders: RequestHeadersOf;
  readonly requestProtocol: RequestProtocolOf;
}

export function isDeno(): boolean {
  return "Deno" in globalThis;
}

/** The adapter of the runtime this process runs on: the same edge on both (see the top of this file). */
export async function loadRuntimeAdapter(): Promise<RuntimeAdapter> {
  const { createUndiciTransport } = await import("./node/undici-transport.ts");
  const { serveNode, nodeClientAddress, nodeRequestHeaders } = await import("./node/serve-node.ts");
  const { nodeRequestProtocol } = await import("./node/protocol-of.ts");
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  if (deno === undefined) {
    return {
      name: "node",
      version: process.versions.node,
      createTransport: () => createUndiciTransport(),
      serve: (app, options) => serveNode(app, options),
      clientAddress: nodeClientAddress,
      requestHeaders: nodeRequestHeaders,
      requestProtocol: nodeRequestProtocol,
    };
  }
  // The `deno serve` entry (adapters/deno/serve-entry.ts) hands vipr's app to Deno.serve, whose
  // env is its connection info, not node:http's objects: the client address falls back to it.
  const { denoClientAddress } = await import("./deno/serve-deno.ts");
  return {
    name: "deno",
    version: deno.version.deno,
    createTransport: () => createUndiciTransport(),
    serve: (app, options) => serveNode(app, options),
    clientAddress: (c) => nodeClientAddress(c) || denoClientAddress(c),
    requestHeaders: nodeRequestHeaders,
    requestProtocol: nodeRequestProtocol,
  };
}
