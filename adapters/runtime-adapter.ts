// The runtime edge, picked once at start: on Deno, Deno.serve and the fetch transport; on Node,
// @hono/node-server and the undici transport (adapters/deno/, adapters/node/). Everything above
// this (router/, wasm/) is the same code on both.
import type { ClientAddressOf, RequestHeadersOf, UpstreamTransport } from "../router/forward/upstream-transport.ts";

export interface ServeOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Default "127.0.0.1". */
  readonly hostname?: string;
  /** How long close() lets requests in flight finish, in ms (default 10000): then Node cuts their
   * connections, and on Deno close() returns and they end with the process. Long-lived watch
   * streams of a fake API server need a short one in tests. */
  readonly closeGraceMs?: number;
  /** Request line plus header fields, in bytes; 431 above it. Default 16384 (both runtimes). */
  readonly maxHeaderBytes?: number;
  /** Header fields per request; 431 above it. Default 100 (both runtimes). */
  readonly maxHeadersCount?: number;
  /** Until the header block is complete (slowloris), then 408. Node only (default 10000): Deno.serve
   * has no such limit (adapters/deno/serve-deno.ts). */
  readonly headersTimeoutMs?: number;
  /** Until the whole request is received, then 408. Node only (default 60000; 0: none). */
  readonly requestTimeoutMs?: number;
  /** Idle keep-alive connections. Node only (default 65000). */
  readonly keepAliveTimeoutMs?: number;
  /** Request body limit, in bytes (default: none). A Content-Length above it gets 413 JSON before
   * routing. A body without one (chunked, RFC 9112 section 7.1) is counted as the transport
   * forwards it (router/forward/body-limit.ts): the chunk that would pass the limit is never sent,
   * the upstream request is aborted, and the client gets the same 413, or, if the pod's response
   * had already started, a closed connection. Both runtimes; on Node the count is where the undici
   * transport reads the IncomingMessage, so it applies to what vipr forwards (an app of your own
   * reading the raw request is not counted). */
  readonly maxBodyBytes?: number;
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
}

export function isDeno(): boolean {
  return "Deno" in globalThis;
}

/** The adapter of the runtime this process runs on. */
export async function loadRuntimeAdapter(): Promise<RuntimeAdapter> {
  if (isDeno()) {
    const { createFetchTransport } = await import("./deno/fetch-transport.ts");
    const { serveDeno, denoClientAddress, denoRequestHeaders } = await import("./deno/serve-deno.ts");
    const deno = (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno;
    return {
      name: "deno",
      version: deno.version.deno,
      createTransport: () => createFetchTransport(),
      serve: (app, options) => serveDeno(app, options),
      clientAddress: denoClientAddress,
      requestHeaders: denoRequestHeaders,
    };
  }
  const { createUndiciTransport } = await import("./node/undici-transport.ts");
  const { serveNode, nodeClientAddress, nodeRequestHeaders } = await import("./node/serve-node.ts");
  return {
    name: "node",
    version: process.versions.node,
    createTransport: () => createUndiciTransport(),
    serve: (app, options) => serveNode(app, options),
    clientAddress: nodeClientAddress,
    requestHeaders: nodeRequestHeaders,
  };
}
