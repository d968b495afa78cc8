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
import type { ServeOptions } from "./serve-options.ts";

// Defined in serve-options.ts, which the serve adapters import: they never import this module,
// which imports them (no import circle).
export type { ServeOptions } from "./serve-options.ts";

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
  readonly requestIsTls: (c: Parameters<RequestProtocolOf>[0]) => boolean;
}

export function isDeno(): boolean {
  return "Deno" in globalThis;
}

/** The adapter of the runtime this process runs on: the same edge on both (see the top of this file). */
export async function loadRuntimeAdapter(): Promise<RuntimeAdapter> {
  const { createUndiciTransport } = await import("./node/undici-transport.ts");
  const { serveNode, nodeClientAddress, nodeRequestHeaders } = await import("./node/serve-node.ts");
  const { nodeRequestProtocol, nodeRequestIsTls } = await import("./node/protocol-of.ts");
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
      requestIsTls: nodeRequestIsTls,
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
    requestIsTls: nodeRequestIsTls,
  };
}
