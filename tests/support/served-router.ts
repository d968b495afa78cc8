// A ServiceRouter served on loopback by this runtime's adapter, with the adapter's transport, and
// a client that sends requests to it with any Host (fetch will not send a foreign Host, so this
// uses node:http, which Deno provides too). For tests that need the whole request path: real
// connections to the router and from it to loopback pods.
import http from "node:http";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import { ServiceRouter, type ServiceRouterOptions } from "../../router/service-router.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";

/** The router's options but what the runtime adapter provides. */
export type ServedRouterOptions = Omit<ServiceRouterOptions, "core" | "transport" | "clientAddress" | "requestHeaders">;

export interface ServedAnswer {
  readonly status: number;
  /** The body parsed as JSON; undefined when it is empty or not JSON. */
  readonly json: unknown;
}

export interface ServedRouter {
  readonly router: ServiceRouter;
  readonly port: number;
  /** A request to the router, Host `host`, over a connection of its own. */
  send(host: string, options?: { readonly method?: string; readonly path?: string; readonly headers?: Record<string, string> }): Promise<ServedAnswer>;
  close(): Promise<void>;
}

export async function serveRouter(options: ServedRouterOptions): Promise<ServedRouter> {
  const runtime = await loadRuntimeAdapter();
  const router = new ServiceRouter({
    core: createWasmCore(),
    transport: runtime.createTransport(),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    ...options,
  });
  let server: RunningServer;
  try {
    server = await runtime.serve(router.app, { closeGraceMs: 1000 });
  } catch (error) {
    await router.close();
    throw error;
  }
  return {
    router,
    port: server.port,
    send: (host, request = {}) =>
      new Promise((resolve, reject) => {
        const headers = { ...request.headers, host, connection: "close" };
        const outgoing = http.request({ host: "127.0.0.1", port: server.port, method: request.method ?? "GET", path: request.path ?? "/", headers }, (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (text += chunk));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, json: parseJson(text) }));
        });
        outgoing.on("error", reject);
        outgoing.end();
      }),
    close: async () => {
      await server.close();
      await router.close();
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
