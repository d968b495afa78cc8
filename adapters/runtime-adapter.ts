// The runtime edge, picked once at start: on Deno, Deno.serve and the fetch transport; on Node,
// @hono/node-server and the undici transport (adapters/deno/, adapters/node/). Everything above
// this (router/, wasm/) is the same code on both.
import type { ClientAddressOf, RequestHeadersOf, UpstreamTransport } from "../router/forward/upstream-transport.ts";

export interface ServeOptions {
  readonly port?: number;
  /** Default "127.0.0.1". */
  readonly hostname?: string;
  /** How long close() lets requests in flight finish before cutting their connections (Node;
   * default 10000). Long-lived watch streams of a fake API server need a short one in tests. */
  readonly closeGraceMs?: number;
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
