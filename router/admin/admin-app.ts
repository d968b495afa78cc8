// The admin listener's app: probes, metrics and debug views, served on a port of its own (loopback
// by default) so that neither probes nor scrapes compete with routed traffic for a name, and
// nothing here is reachable through the router. Like the router, a plain fetch handler (Hono); the
// runtime adapter binds it to a socket.

import { Hono } from "hono";
import type { RoutingTable } from "../table/routing-table.ts";
import type { MetricsRecorder } from "../observability/router-metrics.ts";
import { describeTable, type EndpointHealthByService } from "./table-view.ts";

/** What /debug/explain asks the router. Absent parameters are absent here, not "". */
export interface ExplainQuery {
  readonly host: string;
  /** The hash key, as the policy would read it from a header, cookie, query or path. */
  readonly key?: string;
  /** A label selector for a request-time subset (`track=canary`). */
  readonly subset?: string;
  /** The client address, for ClientIP affinity and client-address keys. */
  readonly clientIp?: string;
  /** With `vipr serve --workers`: which worker answers (0 to N-1); default the first listening.
   * Every worker gives the same answer for a hash key (the same table, the same Maglev build). */
  readonly worker?: number;
}

/** The router's answer, passed on as JSON; `found: false` (no such service) makes it a 404. */
export interface ExplainResult {
  readonly found: boolean;
}

export interface AdminDeps {
  /** True once the first full sync is done and a table is published. */
  isReady(): boolean;
  /** Why not ready yet, for /readyz's 503 body; default: waiting for the first full sync. */
  notReadyReason?(): string;
  readonly metrics: Pick<MetricsRecorder, "render">;
  /** The current snapshot; undefined before the first build. */
  getTable(): RoutingTable | undefined;
  /** Passive health by service key (ServiceRouter.endpointHealth); without it /debug/table shows
   * every endpoint as not ejected. */
  endpointHealth?(): EndpointHealthByService | Promise<EndpointHealthByService>;
  explain(query: ExplainQuery): ExplainResult | Promise<ExplainResult>;
  /** With `vipr serve --workers`: each worker's own report (/debug/workers). */
  workers?(): Promise<unknown>;
}

const routes = ["/healthz", "/readyz", "/metrics", "/debug/table", "/debug/explain", "/debug/workers"] as const;

function jsonResponse(body: unknown, status: number, pretty = false): Response {
  return new Response(`${JSON.stringify(body, null, pretty ? 2 : undefined)}\n`, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

/** The router's error shape (router/router-errors.ts), with the admin listener's own codes:
 * `{"error":{"status":400,"code":"missing_host","message":"..."}}`. */
type AdminErrorCode = "missing_host" | "bad_worker" | "no_table" | "unknown_service" | "method_not_allowed" | "not_found" | "internal";

function errorResponse(status: number, code: AdminErrorCode, message: string): Response {
  return jsonResponse({ error: { status, code, message } }, status);
}

const text = (body: string, status = 200): Response =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });

/**
 * @example
 * ```ts
 * const admin = createAdminApp({ isReady, metrics, getTable, explain });
 * // a runtime adapter then serves admin.fetch on its own loopback port
 * ```
 */
export function createAdminApp(deps: AdminDeps): Hono {
  const app = new Hono();

  // Liveness: answering at all is the signal. It must not depend on the table or the API server,
  // or an API outage would get every router restarted while it still serves the last table.
  app.get("/healthz", () => text("ok\n"));

  app.get("/readyz", () => {
    if (deps.isReady()) return text("ok\n");
    const reason = deps.notReadyReason?.() ?? "waiting for the first full sync of services and endpoints";
    return jsonResponse({ ready: false, reason }, 503);
  });

  app.get("/metrics", async () => {
    const { contentType, body } = await deps.metrics.render();
    return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
  });

  // Pretty-printed: these two are read by people, with curl.
  app.get("/debug/table", async (c) => {
    const table = deps.getTable();
    if (table === undefined) {
      return errorResponse(503, "no_table", "no routing table has been built yet");
    }
    const service = c.req.query("service");
    if (service !== undefined && table.services.get(service) === undefined) {
      return errorResponse(404, "unknown_service", `no service ${JSON.stringify(service)} in table generation ${table.generation}; expected namespace/name`);
    }
    return jsonResponse(describeTable(table, service, await deps.endpointHealth?.()), 200, true);
  });

  app.get("/debug/explain", async (c) => {
    const host = c.req.query("host");
    if (host === undefined || host === "") {
      return errorResponse(400, "missing_host", "/debug/explain needs ?host=<service name>, e.g. ?host=simpleservice.default&key=user-42");
    }
    const key = c.req.query("key");
    const subset = c.req.query("subset");
    const clientIp = c.req.query("client");
    const workerText = c.req.query("worker");
    const worker = workerText === undefined ? undefined : Number(workerText);
    if (worker !== undefined && !(Number.isInteger(worker) && worker >= 0)) {
      return errorResponse(400, "bad_worker", `/debug/explain?worker=${JSON.stringify(workerText)}: expected a worker index, 0 to N-1 (see /debug/workers)`);
    }
    const query: ExplainQuery = {
      host,
      ...(key === undefined ? {} : { key }),
      ...(subset === undefined ? {} : { subset }),
      ...(clientIp === undefined ? {} : { clientIp }),
      ...(worker === undefined ? {} : { worker }),
    };
    const result = await deps.explain(query);
    return jsonResponse(result, result.found === false ? 404 : 200, true);
  });

  // One line per worker (index, pid, table generation, listening, restarts); a single vipr has none.
  app.get("/debug/workers", async () => jsonResponse({ workers: (await deps.workers?.()) ?? [] }, 200, true));

  for (const path of routes) {
    app.all(path, (c) => {
      const res = errorResponse(405, "method_not_allowed", `${c.req.method} ${path}: only GET and HEAD are served`);
      res.headers.set("allow", "GET, HEAD");
      return res;
    });
  }

  app.notFound((c) =>
    errorResponse(404, "not_found", `no admin route ${c.req.method} ${c.req.path}; routes: ${routes.join(", ")}`),
  );

  app.onError((err) => errorResponse(500, "internal", err instanceof Error ? err.message : String(err)));

  return app;
}
