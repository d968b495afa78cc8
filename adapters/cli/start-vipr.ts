// One running vipr: the router on the traffic listener, the admin app on its own listener, the
// metrics and access log, on whichever runtime this is. `vipr serve` and `vipr demo` both start
// one; the table source (files or Kubernetes) is attached by the caller through setTable.
import { createAdminApp } from "../../router/admin/admin-app.ts";
import { createAccessLog } from "../../router/observability/access-log.ts";
import { createRouterMetrics, type MetricsRecorder } from "../../router/observability/router-metrics.ts";
import { ServiceRouter, type ServiceRouterOptions } from "../../router/service-router.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { loadRuntimeAdapter, type RunningServer, type RuntimeAdapter, type ServeOptions } from "../runtime-adapter.ts";
import { UsageError } from "./cli-errors.ts";

export interface Listen {
  readonly hostname: string;
  readonly port: number;
}

export interface StartOptions extends Omit<ServiceRouterOptions, "core" | "transport" | "clientAddress" | "requestHeaders" | "requestProtocol" | "requestIsTls" | "metrics" | "accessLog"> {
  /** The traffic listener; null when the caller serves router.app itself (`deno serve`). */
  readonly listen: Listen | null;
  /** The admin listener; null for none. */
  readonly admin: Listen | null;
  readonly metrics?: boolean;
  /** Share of requests logged as JSON lines to `accessLogWrite` (0: off). */
  readonly accessLogSample?: number;
  readonly accessLogWrite?: (line: string) => void;
  /** How long requests in flight get to finish once the traffic listener closes (ms, default 10000). */
  readonly shutdownGraceMs?: number;
  /** The traffic listener's request body limit (ServeOptions.maxBodyBytes); default none. */
  readonly maxBodyBytes?: number;
  /** TLS and HTTP/2 on the traffic listener (ServeOptions.tls, .http2). */
  readonly tls?: ServeOptions["tls"];
  readonly http2?: ServeOptions["http2"];
  /** The Gateways' HTTPS listeners: a second traffic listener terminating TLS with their
   * certificates (`vipr serve --listen-https`; adapters/node/gateway-certificates.ts). */
  readonly listenHttps?: { readonly listen: Listen; readonly certificates: NonNullable<ServeOptions["tls"]> };
}

export interface RunningVipr {
  readonly runtime: RuntimeAdapter;
  readonly router: ServiceRouter;
  readonly metrics: MetricsRecorder;
  readonly server: RunningServer | undefined;
  /** The HTTPS listener for Gateway HTTPS listeners (StartOptions.listenHttps). */
  readonly httpsServer: RunningServer | undefined;
  readonly adminServer: RunningServer | undefined;
  /** Publishes a table; the first one also makes /readyz ready (unless `ready` is false). */
  setTable(table: RoutingTable, ready?: boolean): void;
  /** Marks the first full sync done: /readyz answers 200 from now on. */
  setReady(): void;
  /**
   * Graceful stop, as a pod on SIGTERM: /readyz answers 503 at once (so that load balancers and
   * Kubernetes stop sending), the traffic listener keeps serving for `delayMs` while they notice,
   * then closes (no new connections, requests in flight get shutdownGraceMs), then the rest.
   */
  drain(delayMs: number): Promise<void>;
  close(): Promise<void>;
}

/** "127.0.0.1:8080", ":8080", "8080", "[::1]:8080" -> { hostname, port }; throws with the reason. */
export function parseListen(text: string, flag: string): Listen {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]*))?:?(\d{1,5})$/.exec(text.trim());
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: expected HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:8080)`);
  }
  const hostname = match[1] ?? (match[2] === undefined || match[2] === "" ? "127.0.0.1" : match[2]);
  return { hostname, port };
}

export async function startVipr(options: StartOptions): Promise<RunningVipr> {
  const runtime = await loadRuntimeAdapter();
  const metrics = createRouterMetrics({ enabled: options.metrics ?? true });
  const sample = options.accessLogSample ?? 0;
  const accessLog = createAccessLog({ sampleRate: sample, write: options.accessLogWrite ?? ((line) => console.log(line)) });
  const router = new ServiceRouter({
    ...options,
    core: createWasmCore(),
    transport: runtime.createTransport(),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    requestProtocol: runtime.requestProtocol,
    requestIsTls: runtime.requestIsTls,
    metrics,
    accessLog,
  });
  let ready = false;
  let draining = false;
  const listen = options.listen;
  const bodyLimit = { ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }), ...(options.tls === undefined ? {} : { tls: options.tls }), ...(options.http2 === undefined ? {} : { http2: options.http2 }) };
  const server =
    listen === null
      ? undefined
      : await runtime.serve(router.app, { ...listen, ...bodyLimit, upgrades: router, ...(options.shutdownGraceMs === undefined ? {} : { closeGraceMs: options.shutdownGraceMs }) }).catch((error: unknown) => {
          throw new Error(`cannot listen on ${listen.hostname}:${listen.port}: ${(error as Error).message}`);
        });
  let httpsServer: RunningServer | undefined;
  const https = options.listenHttps;
  if (https !== undefined) {
    httpsServer = await runtime
      .serve(router.app, { ...https.listen, ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }), tls: https.certificates, ...(options.http2 === undefined ? {} : { http2: options.http2 }), upgrades: router, ...(options.shutdownGraceMs === undefined ? {} : { closeGraceMs: options.shutdownGraceMs }) })
      .catch(async (error: unknown) => {
        await server?.close();
        throw new Error(`cannot listen on ${https.listen.hostname}:${https.listen.port} (HTTPS): ${(error as Error).message}`);
      });
  }
  let adminServer: RunningServer | undefined;
  if (options.admin !== null) {
    const admin = createAdminApp({
      isReady: () => ready && !draining,
      notReadyReason: () => (draining ? "draining: vipr is shutting down" : "the first full sync of the table source has not finished"),
      metrics,
      getTable: () => router.table,
      endpointHealth: () => router.endpointHealth(),
      explain: (query) => router.explain({ host: query.host, ...(query.key === undefined ? {} : { key: query.key }), ...(query.subset === undefined ? {} : { subset: query.subset }), ...(query.clientIp === undefined ? {} : { clientIp: query.clientIp }) }),
    });
    adminServer = await runtime.serve(admin, options.admin).catch(async (error: unknown) => {
      await server?.close();
      await httpsServer?.close();
      throw new Error(`cannot listen on ${options.admin!.hostname}:${options.admin!.port} (admin): ${(error as Error).message}`);
    });
  }
  let trafficClosed: Promise<void> | undefined;
  const closeTraffic = (): Promise<void> => (trafficClosed ??= Promise.all([server?.close(), httpsServer?.close()]).then(() => undefined));
  return {
    runtime,
    router,
    metrics,
    server,
    httpsServer,
    adminServer,
    setTable(table, markReady = true) {
      router.setTable(table);
      if (markReady) ready = true;
    },
    setReady() {
      ready = true;
    },
    async drain(delayMs) {
      draining = true;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      await closeTraffic();
    },
    async close() {
      draining = true;
      await closeTraffic();
      await adminServer?.close();
      await router.close();
    },
  };
}
