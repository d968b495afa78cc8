import { describe, expect, test } from "vitest";
import { createAdminApp, type AdminDeps, type ExplainQuery, type ExplainResult } from "../../router/admin/admin-app.ts";
import { NoopMetrics, RouterMetrics } from "../../router/observability/router-metrics.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";

/** A fake router: readiness and the table are flipped by the test; explain calls are recorded. */
function fakeDeps(overrides: Partial<AdminDeps> = {}) {
  const state = { ready: false, table: undefined as RoutingTable | undefined, queries: [] as ExplainQuery[] };
  const deps: AdminDeps = {
    isReady: () => state.ready,
    metrics: new RouterMetrics(),
    getTable: () => state.table,
    explain: (query): ExplainResult => {
      state.queries.push(query);
      return query.host === "nosuch"
        ? { found: false, reason: `no service named ${query.host}` } as ExplainResult
        : { found: true, service: "default/simpleservice", endpoint: "rcsise-6nq3k", slot: 1234 } as ExplainResult;
    },
    ...overrides,
  };
  return { state, app: createAdminApp(deps) };
}

const json = async (res: Response): Promise<Record<string, unknown>> => (await res.json()) as Record<string, unknown>;

describe("probes", () => {
  test("/healthz answers ok while the process serves, ready or not, with or without a table", async () => {
    const { app } = fakeDeps();
    const res = await app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok\n");
  });

  test("/readyz is 503 with a JSON reason until the first full sync, then 200", async () => {
    const { app, state } = fakeDeps();
    let res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await res.json()).toEqual({ ready: false, reason: "waiting for the first full sync of services and endpoints" });
    state.ready = true;
    res = await app.request("/readyz");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok\n");
  });

  test("/readyz gives the router's own reason when it has one", async () => {
    const { app } = fakeDeps({ notReadyReason: () => "listing EndpointSlices: 403 Forbidden" });
    expect(await json(await app.request("/readyz"))).toEqual({ ready: false, reason: "listing EndpointSlices: 403 Forbidden" });
  });
});

describe("/metrics", () => {
  test("Prometheus text with its content type, from the router's metrics", async () => {
    const metrics = new RouterMetrics();
    metrics.requestDone("default/web", 200, 0.004);
    const { app } = fakeDeps({ metrics });
    const res = await app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const body = await res.text();
    expect(body).toContain('vipr_requests_total{service="default/web",code="200"} 1');
    expect(body).toContain('vipr_request_duration_seconds_bucket{le="0.005",service="default/web"} 1');
  });

  test("metrics off: still 200, one comment line", async () => {
    const { app } = fakeDeps({ metrics: new NoopMetrics() });
    const res = await app.request("/metrics");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("# vipr metrics are off by configuration\n");
  });
});

describe("/debug/explain", () => {
  test("400 with a clear JSON error when host is missing or empty", async () => {
    const { app, state } = fakeDeps();
    for (const url of ["/debug/explain", "/debug/explain?key=a", "/debug/explain?host="]) {
      const res = await app.request(url);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: { status: 400, code: "missing_host", message: "/debug/explain needs ?host=<service name>, e.g. ?host=simpleservice.default&key=user-42" },
      });
    }
    expect(state.queries).toEqual([]);
  });

  test("200 with the router's answer; only the parameters given are passed, client as clientIp", async () => {
    const { app, state } = fakeDeps();
    let res = await app.request("/debug/explain?host=simpleservice&key=user-42&subset=track%3Dcanary&client=10.0.0.7");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ found: true, service: "default/simpleservice", endpoint: "rcsise-6nq3k", slot: 1234 });
    res = await app.request("/debug/explain?host=simpleservice.default");
    expect(res.status).toBe(200);
    expect(state.queries).toEqual([
      { host: "simpleservice", key: "user-42", subset: "track=canary", clientIp: "10.0.0.7" },
      { host: "simpleservice.default" },
    ]);
  });

  test("404 with the router's answer when it found no service", async () => {
    const { app } = fakeDeps();
    const res = await app.request("/debug/explain?host=nosuch");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ found: false, reason: "no service named nosuch" });
  });

  test("an async answer is awaited; a failing one is a 500 JSON error", async () => {
    const ok = fakeDeps({ explain: async () => ({ found: true }) });
    expect((await ok.app.request("/debug/explain?host=a")).status).toBe(200);
    const failing = fakeDeps({
      explain: () => {
        throw new Error("maglev table not built");
      },
    });
    const res = await failing.app.request("/debug/explain?host=a");
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { status: 500, code: "internal", message: "maglev table not built" } });
  });
});

describe("other requests", () => {
  test("an unknown path is a 404 JSON error listing the routes", async () => {
    const { app } = fakeDeps();
    const res = await app.request("/debug/nothing");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { status: 404, code: "not_found", message: "no admin route GET /debug/nothing; routes: /healthz, /readyz, /metrics, /debug/table, /debug/explain, /debug/workers" },
    });
  });

  test("/debug/workers is an empty list for a vipr without workers; a bad ?worker= is a 400 naming it", async () => {
    const { app } = fakeDeps();
    const res = await app.request("/debug/workers");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ workers: [] });
    const bad = await app.request("/debug/explain?host=simpleservice&worker=-1");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("bad_worker");
  });

  test("another method on a route is a 405 with Allow; HEAD is served as GET without a body", async () => {
    const { app } = fakeDeps();
    const post = await app.request("/healthz", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(await post.json()).toEqual({ error: { status: 405, code: "method_not_allowed", message: "POST /healthz: only GET and HEAD are served" } });
    const head = await app.request("/healthz", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });
});
