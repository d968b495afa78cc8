// What a serve adapter takes (adapters/node/serve-node.ts; adapters/deno/serve-deno.ts takes the
// part Deno.serve can honour). Its own module so that the adapters and runtime-adapter.ts, which
// loads them, do not import each other.
import type { UpgradeRouter } from "../router/forward/upgrade-route.ts";
import type { Http2ListenerOptions } from "./node/listener-server.ts";
import type { TlsCertificateSource } from "./node/tls-certificates.ts";

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
  /** Listen with SO_REUSEPORT (Linux), so that several processes share the port and the kernel
   * spreads connections over them (`vipr serve --workers`, adapters/workers/). Default false. */
  readonly reusePort?: boolean;
  /** TLS termination with these certificates (adapters/node/tls-certificates.ts); serveNode only. */
  readonly tls?: TlsCertificateSource;
  /** HTTP/2 on the listener: h2c with prior knowledge, h2 by ALPN over TLS (listener-server.ts). */
  readonly http2?: Http2ListenerOptions;
}
