// One worker of `vipr serve --workers N`, started by the supervisor (supervisor.ts) with
// node:child_process fork, on Node and on Deno alike. It runs the same router as a single vipr,
// with no source and no admin listener of its own: the table arrives from the supervisor as
// changes (worker-protocol.ts), and the traffic listener opens only once the whole table is in, so
// a late or restarted worker never answers 404 for a service the others route. The listener is
// shared with the other workers through SO_REUSEPORT (see supervisor.ts for why not node:cluster).
//
// Signals: a terminal's Ctrl-C reaches the whole process group, and in a pod only PID 1 (the
// supervisor) gets SIGTERM; either way the supervisor decides, and tells each worker to drain. A
// worker whose supervisor is gone (the IPC channel closed) drains at once and exits, so that no
// worker outlives its pod's supervisor.
import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import type { FetchApp } from "../node/serve-node.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import type { RunningServer } from "../runtime-adapter.ts";
import { startVipr } from "../cli/start-vipr.ts";
import { listenerFromFlags } from "../node/listener-flags.ts";
import { GatewayCertificateStore, checkCertificatePem } from "../node/gateway-certificates.ts";
import { applyTableChanges, freezeEntries } from "./table-changes.ts";
import { WORKER_CONFIG_ENV, WORKER_HEADER, type FromWorker, type QueryMessage, type TableMessage, type ToWorker, type WorkerConfig } from "./worker-protocol.ts";

const send = (message: FromWorker): void => void process.send?.(message);

async function main(): Promise<void> {
  const config = JSON.parse(process.env[WORKER_CONFIG_ENV] ?? "null") as WorkerConfig | null;
  if (config === null || process.send === undefined) throw new Error(`adapters/workers/worker-main.ts is started by vipr serve --workers (no ${WORKER_CONFIG_ENV} or no IPC channel)`);
  const prefix = `vipr[worker ${config.index}]: `;
  const log = (line: string): void => console.error(prefix + line);
  const listener = listenerFromFlags(config.listenerFlags ?? {}, log);
  const vipr = await startVipr({ ...config.options, listen: null, admin: null, log });
  const { router, runtime } = vipr;
  const tag = String(config.index);
  // The header is set on the node:http response before the router writes it: one setHeader, and
  // it reaches both the answers the router builds and the ones the transport streams itself.
  // The router's direct entry for GETs (RouterApp.direct; serve-node.ts's serveRequest) is kept:
  // an app with fetch alone sends every request through @hono/node-server's listener and Hono's
  // dispatch, which cost 2 workers about a fifth more CPU per request than one vipr
  // (bench:proxy -- --workers 2).
  const routerDirect = router.app.direct;
  const app: FetchApp = {
    fetch: (request: Request, env: HttpBindings) => {
      env.outgoing?.setHeader(WORKER_HEADER, tag);
      return router.app.fetch(request, env);
    },
    direct:
      routerDirect === undefined
        ? undefined
        : (c: Context) => {
            (c.env as HttpBindings).outgoing.setHeader(WORKER_HEADER, tag);
            return routerDirect(c);
          },
    answerError: (error: unknown, c: Context) => router.app.answerError(error, c),
  };
  let table: RoutingTable | undefined;
  /** The parts of a publish received so far (TableMessage.more), applied at its last part. */
  let parts: TableMessage[] = [];
  let server: RunningServer | undefined;
  let httpsServer: RunningServer | undefined;
  const gatewayCertificates = config.listenHttps === undefined ? undefined : new GatewayCertificateStore(log);
  let draining: Promise<void> | undefined;

  const drain = (delayMs: number): Promise<void> =>
    (draining ??= (async () => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      await Promise.all([server?.close(), httpsServer?.close()]);
      await router.close();
      process.exit(0);
    })());

  const answer = async (query: QueryMessage): Promise<unknown> => {
    switch (query.what) {
      case "metrics":
        return vipr.metrics instanceof RouterMetrics ? await vipr.metrics.registry.getMetricsAsJSON() : [];
      case "health":
        return [...router.endpointHealth()];
      case "explain":
        return router.explain(query.query);
      case "status":
        return { pid: process.pid, generation: table?.generation ?? 0, services: table?.services.size ?? 0, inFlight: router.inFlight };
    }
  };

  process.on("message", (message: ToWorker) => {
    if (message.type === "table") {
      freezeEntries(message);
      parts.push(message);
      if (message.more === true) return;
      const fromCurrent = table !== undefined && !parts.some((part) => part.full);
      table = applyTableChanges(table, parts);
      parts = [];
      // A change names every service that differs (rebuilt, removed): the publish costs those
      // services, not the table (ServiceRouter.setTable's fromCurrent).
      router.setTable(table, fromCurrent);
      if (server !== undefined || draining !== undefined) return send({ type: "applied", generation: table.generation, listening: server !== undefined });
      const options = config.options;
      const common = { reusePort: true, upgrades: router, ...(listener.http2 === undefined ? {} : { http2: listener.http2 }), ...(options.shutdownGraceMs === undefined ? {} : { closeGraceMs: options.shutdownGraceMs }), ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }) };
      const https = config.listenHttps;
      Promise.all([
        runtime.serve(app, { ...config.listen, ...common, ...(listener.tls === undefined ? {} : { tls: listener.tls }) }),
        https === undefined ? undefined : runtime.serve(app, { ...https, ...common, tls: gatewayCertificates! }).catch((error: unknown) => {
          throw new Error(`${(error as Error).message} (HTTPS ${https.hostname}:${https.port})`);
        }),
      ])
        .then(
          ([running, runningHttps]) => {
            server = running;
            httpsServer = runningHttps;
            send({ type: "applied", generation: table!.generation, listening: true });
          },
          (error: unknown) => {
            send({ type: "failed", message: `cannot listen on ${config.listen.hostname}:${config.listen.port}: ${(error as Error).message}` });
            process.exit(1);
          },
        );
    } else if (message.type === "query") {
      answer(message).then(
        (value) => send({ type: "answer", id: message.id, value }),
        (error: unknown) => send({ type: "answer", id: message.id, error: (error as Error).message }),
      );
    } else if (message.type === "drain") {
      void drain(message.delayMs);
    } else if (message.type === "gateway") {
      router.setGatewayObjects(message.objects, {
        serviceExists: (key) => router.table?.services.has(key) ?? true,
        service: (key) => router.table?.services.get(key),
        ...(message.controllerName === undefined ? {} : { controllerName: message.controllerName }),
        checkCertificate: checkCertificatePem,
        httpsListener: gatewayCertificates !== undefined,
      });
      gatewayCertificates?.update(router.gatewayListenerTls);
    }
  });
  process.on("disconnect", () => void drain(0));
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => {});
}

main().catch((error: unknown) => {
  send({ type: "failed", message: (error as Error).message });
  console.error(`vipr[worker]: ${(error as Error).message}`);
  process.exit(1);
});
