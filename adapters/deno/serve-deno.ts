// Serving a Hono app on Deno with Deno.serve. The handler's connection info (remoteAddr) is passed
// to the app as its env, the same shape hono/deno's getConnInfo reads (c.env.remoteAddr).

import type { ClientAddressOf, RequestHeadersOf } from "../../router/forward/upstream-transport.ts";
import { webRequestHeaders } from "../../router/forward/upstream-transport.ts";
import type { DenoServeHandlerInfo } from "./deno-api.ts";
import { denoApi } from "./deno-api.ts";

/** What serveDeno needs of an app: Hono's `fetch`. */
export interface FetchApp {
  fetch(request: Request, env: DenoServeHandlerInfo): Response | Promise<Response>;
}

export interface ServeDenoOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Default "127.0.0.1". */
  readonly hostname?: string;
}

export interface DenoServer {
  readonly port: number;
  readonly address: string;
  /** Stops accepting; requests in flight finish. */
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
  return new Promise((resolve) => {
    const server = deno.serve(
      {
        port: options.port ?? 0,
        hostname: options.hostname ?? "127.0.0.1",
        onListen: (addr) => resolve({ port: addr.port, address: addr.hostname, close: () => server.shutdown() }),
      },
      (request, info) => app.fetch(request, info),
    );
  });
}

/** The client address from Deno.serve's remoteAddr ("" outside serveDeno). */
export const denoClientAddress: ClientAddressOf = (c) => {
  const hostname = (c.env as { remoteAddr?: { hostname?: unknown } } | undefined)?.remoteAddr?.hostname;
  return typeof hostname === "string" ? hostname : "";
};

/** Deno has only the Web Request: its fields, lowercase. */
export const denoRequestHeaders: RequestHeadersOf = webRequestHeaders;
