// A served vipr with the Gateway API conformance suite's backends (echo servers, as its base
// manifests name them: infra-backend-v1..v3 in gateway-conformance-infra, web-backend in
// gateway-conformance-web-backend, app-backend-v1/v2 in gateway-conformance-app-backend), the
// base GatewayClass and Gateways (gateway-yaml.ts), and a client that sends real HTTP/1.1 requests
// with any Host. `apply` replaces the Gateway API objects, as a table source does.
import http from "node:http";
import { loadRuntimeAdapter, type RunningServer, type RuntimeAdapter } from "../../adapters/runtime-adapter.ts";
import type { GatewayApiStatus } from "../../router/gateway-api/gateway-conditions.ts";
import { ServiceRouter, type ServiceRouterOptions } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { startEchoBackend, type EchoAnswer, type EchoBackend } from "../support/echo-backend.ts";
import { closeNow, listenOnLoopback } from "../support/seed-backends.ts";
import { BASE_GATEWAY, gatewayObjects } from "./gateway-yaml.ts";

export const INFRA = "gateway-conformance-infra";
export const WEB = "gateway-conformance-web-backend";
export const APP = "gateway-conformance-app-backend";

export interface GatewayAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The echo backend's answer, when the request reached one. */
  readonly echo: EchoAnswer | undefined;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string | string[]>;
  /** A request body, sent with Content-Length. */
  readonly body?: string | Uint8Array;
}

export interface GatewayHarness {
  readonly router: ServiceRouter;
  readonly backends: ReadonlyMap<string, EchoBackend>;
  /** Replaces the Gateway API objects with the base ones plus `yaml` (and namespaces' labels, for
   * allowedRoutes selectors); returns their status. */
  apply(yaml: string, namespaceLabels?: Record<string, Record<string, string>>): GatewayApiStatus;
  request(host: string, path: string, options?: RequestOptions): Promise<GatewayAnswer>;
  close(): Promise<void>;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** A deterministic random source (mulberry32), so weighted choices are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A router on `runtime` with the WASM core, as the harnesses serve it; `options` add or override. */
export function harnessRouter(runtime: RuntimeAdapter, options: Partial<ServiceRouterOptions>): ServiceRouter {
  return new ServiceRouter({ core: createWasmCore(), transport: runtime.createTransport(), clientAddress: runtime.clientAddress, requestHeaders: runtime.requestHeaders, ...options });
}

export async function startGatewayHarness(options: Partial<ServiceRouterOptions> = {}): Promise<GatewayHarness> {
  const runtime = await loadRuntimeAdapter();
  const list = await Promise.all([
    startEchoBackend(INFRA, "infra-backend-v1"),
    startEchoBackend(INFRA, "infra-backend-v2"),
    startEchoBackend(INFRA, "infra-backend-v3"),
    startEchoBackend(WEB, "web-backend"),
    startEchoBackend(APP, "app-backend-v1"),
    startEchoBackend(APP, "app-backend-v2"),
  ]);
  const backends = new Map(list.map((b) => [b.service, b]));
  const router = harnessRouter(runtime, options);
  const objects = list.map((b) => b.objects());
  // dead-backend: one endpoint on a loopback port nothing listens on (taken, then freed), for retries.
  const probe = http.createServer();
  const deadPort = await listenOnLoopback(probe);
  await closeNow(probe);
  const dead = { ...list[0]!.objects() };
  const deadService = { ...dead.services[0]!, metadata: { name: "dead-backend", namespace: INFRA, resourceVersion: "1" } };
  const deadSlice = { ...dead.endpointSlices[0]!, metadata: { name: "dead-backend-0", namespace: INFRA, resourceVersion: "1", labels: { "kubernetes.io/service-name": "dead-backend" } }, ports: [{ name: "http", port: deadPort, protocol: "TCP" }] };
  const table = buildRoutingTable({
    services: [...objects.flatMap((o) => o.services), deadService],
    endpointSlices: [...objects.flatMap((o) => o.endpointSlices), deadSlice],
    pods: [],
  });
  router.setTable(table);
  const server: RunningServer = await runtime.serve(router.app);

  const request = (host: string, path: string, opts: RequestOptions = {}): Promise<GatewayAnswer> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: server.port, path, method: opts.method ?? "GET", headers: { ...opts.headers, host }, agent }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          let echo: EchoAnswer | undefined;
          if (res.headers["content-type"] === "application/json" && !("x-vipr-error" in res.headers) && body !== "") echo = JSON.parse(body) as EchoAnswer;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, echo });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(opts.body);
    });

  return {
    router,
    backends,
    apply: (yaml, namespaceLabels = {}) =>
      router.setGatewayObjects({ ...gatewayObjects(BASE_GATEWAY + yaml), namespaceLabels: new Map(Object.entries(namespaceLabels)) }, { serviceExists: (key) => table.services.has(key) }),
    request,
    close: async () => {
      agent.destroy();
      await server.close();
      await router.close();
      await Promise.all(list.map((b) => b.close()));
    },
  };
}
