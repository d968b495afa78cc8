import { Histogram, Registry, register as globalRegistry } from "prom-client";
import { describe, expect, test } from "vitest";
import {
  createRouterMetrics,
  latencyBucketsSeconds,
  NoopMetrics,
  RouterMetrics,
} from "../../router/observability/router-metrics.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeEndpointSlice, KubeService } from "../../router/table/kubernetes-objects.ts";
import { parsePrometheusText, seriesKey } from "./prometheus-text.ts";

async function scrape(metrics: { render(): Promise<{ contentType: string; body: string }> }) {
  const { contentType, body } = await metrics.render();
  return { contentType, body, ...parsePrometheusText(body) };
}

function service(name: string): KubeService {
  return { metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 80, targetPort: "http" }] } };
}

function slice(name: string, serviceName: string, addresses: readonly string[]): KubeEndpointSlice {
  return {
    metadata: { name, namespace: "default", labels: { "kubernetes.io/service-name": serviceName } },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080 }],
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
  };
}

describe("requests and latency", () => {
  test("requestDone counts by service and status code", async () => {
    const m = new RouterMetrics();
    m.requestDone("default/web", 200, 0.002);
    m.requestDone("default/web", 200, 0.003);
    m.requestDone("default/web", 503, 0.0001);
    m.requestDone("default/api", 200, 0.3);
    const s = await scrape(m);
    expect(s.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(s.types.get("vipr_requests_total")).toBe("counter");
    expect(s.samples.get(seriesKey("vipr_requests_total", { service: "default/web", code: "200" }))).toBe(2);
    expect(s.samples.get(seriesKey("vipr_requests_total", { service: "default/web", code: "503" }))).toBe(1);
    expect(s.samples.get(seriesKey("vipr_requests_total", { service: "default/api", code: "200" }))).toBe(1);
    expect(s.body.split("\n")).toContain('vipr_requests_total{service="default/web",code="200"} 2');
    expect(s.samples.get(seriesKey("vipr_request_duration_seconds_count", { service: "default/web" }))).toBe(3);
    expect(s.samples.get(seriesKey("vipr_request_duration_seconds_count", { service: "default/api" }))).toBe(1);
  });

  test("the latency histogram has buckets from 0.5 ms to 10 s, cumulative, with +Inf, sum and count", async () => {
    const m = new RouterMetrics();
    // 0.0005 sits on a bound: buckets are "less than or equal", so it counts in le="0.0005".
    for (const seconds of [0.0003, 0.0005, 0.002, 0.07, 20]) m.requestDone("default/web", 200, seconds);
    const s = await scrape(m);
    expect(s.types.get("vipr_request_duration_seconds")).toBe("histogram");
    const les = s.body
      .split("\n")
      .filter((l) => l.startsWith("vipr_request_duration_seconds_bucket"))
      .map((l) => /le="([^"]+)"/.exec(l)![1]);
    expect(les).toEqual(["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]);
    const bucket = (le: string) => s.samples.get(seriesKey("vipr_request_duration_seconds_bucket", { service: "default/web", le }));
    expect([bucket("0.0005"), bucket("0.001"), bucket("0.0025"), bucket("0.05"), bucket("0.1"), bucket("10"), bucket("+Inf")]).toEqual([2, 2, 3, 3, 4, 4, 5]);
    expect(s.samples.get(seriesKey("vipr_request_duration_seconds_sum", { service: "default/web" }))).toBeCloseTo(20.0728, 10);
    expect(s.samples.get(seriesKey("vipr_request_duration_seconds_count", { service: "default/web" }))).toBe(5);
  });

  test("the histogram prints exactly what prom-client's own Histogram prints for the same observations", async () => {
    const m = new RouterMetrics();
    const oracleRegistry = new Registry();
    const oracle = new Histogram({
      name: "vipr_request_duration_seconds",
      help: "Time from request to the end of the response, by service.",
      labelNames: ["service"],
      buckets: [...latencyBucketsSeconds],
      registers: [oracleRegistry],
    });
    const observations: [string, number][] = [["default/web", 0.0004], ["default/api", 0.02], ["default/web", 1.7], ["default/web", 0.0049], ["default/api", 12]];
    for (const [svc, seconds] of observations) {
      m.requestDone(svc, 200, seconds);
      oracle.observe({ service: svc }, seconds);
    }
    expect(await m.registry.getSingleMetricAsString("vipr_request_duration_seconds")).toBe(
      await oracleRegistry.getSingleMetricAsString("vipr_request_duration_seconds"),
    );
  });

  test("a non-finite duration counts the request but not the histogram; a negative one counts as 0", async () => {
    const m = new RouterMetrics();
    m.requestDone("default/web", 200, Number.NaN);
    m.requestDone("default/web", 200, Number.POSITIVE_INFINITY);
    m.requestDone("default/web", 200, -0.5);
    const s = await scrape(m);
    expect(s.samples.get(seriesKey("vipr_requests_total", { service: "default/web", code: "200" }))).toBe(3);
    expect(s.samples.get(seriesKey("vipr_request_duration_seconds_count", { service: "default/web" }))).toBe(1);
    expect(s.samples.get(seriesKey("vipr_request_duration_seconds_bucket", { service: "default/web", le: "0.0005" }))).toBe(1);
    expect(s.samples.get(seriesKey("vipr_request_duration_seconds_sum", { service: "default/web" }))).toBe(0);
  });

  test("status codes outside 100..599 share one series, code=\"other\"", async () => {
    const m = new RouterMetrics();
    m.requestDone("default/web", 0, 0.001);
    m.requestDone("default/web", 999, 0.001);
    m.requestDone("default/web", 99, 0.001);
    const s = await scrape(m);
    expect(s.samples.get(seriesKey("vipr_requests_total", { service: "default/web", code: "other" }))).toBe(3);
    expect([...s.samples.keys()].filter((k) => k.startsWith("vipr_requests_total"))).toHaveLength(1);
  });

  test("counts held between scrapes are neither lost nor counted twice", async () => {
    const m = new RouterMetrics();
    const key = seriesKey("vipr_requests_total", { service: "default/web", code: "200" });
    m.requestDone("default/web", 200, 0.001);
    expect((await scrape(m)).samples.get(key)).toBe(1);
    expect((await scrape(m)).samples.get(key)).toBe(1);
    m.requestDone("default/web", 200, 0.001);
    m.requestDone("default/web", 200, 0.001);
    expect((await scrape(m)).samples.get(key)).toBe(3);
  });
});

describe("errors and unknown hosts", () => {
  test("upstream errors by service, endpoint and kind", async () => {
    const m = new RouterMetrics();
    m.upstreamError("default/web", "web-0", "connect");
    m.upstreamError("default/web", "web-0", "connect");
    m.upstreamError("default/web", "web-1", "timeout");
    m.upstreamError("default/api", "api-0", "reset");
    m.upstreamError("default/api", "api-0", "protocol");
    const s = await scrape(m);
    const errors = [...s.samples].filter(([k]) => k.startsWith("vipr_upstream_errors_total"));
    expect(Object.fromEntries(errors)).toEqual({
      [seriesKey("vipr_upstream_errors_total", { service: "default/web", endpoint: "web-0", kind: "connect" })]: 2,
      [seriesKey("vipr_upstream_errors_total", { service: "default/web", endpoint: "web-1", kind: "timeout" })]: 1,
      [seriesKey("vipr_upstream_errors_total", { service: "default/api", endpoint: "api-0", kind: "reset" })]: 1,
      [seriesKey("vipr_upstream_errors_total", { service: "default/api", endpoint: "api-0", kind: "protocol" })]: 1,
    });
  });

  describe("series of endpoints that left the table", () => {
    const errorKey = (endpoint: string) => seriesKey("vipr_upstream_errors_total", { service: "default/web", endpoint, kind: "connect" });
    const ejectionKey = (endpoint: string) => seriesKey("vipr_endpoint_ejections_total", { service: "default/web", endpoint });
    const webTable = (addresses: readonly string[], previous?: Parameters<typeof buildRoutingTable>[1]) =>
      buildRoutingTable({ services: [service("web")], endpointSlices: [slice("web-1", "web", addresses)] }, previous);
    const identities = (table: ReturnType<typeof buildRoutingTable>) => table.services.get("default/web")!.endpoints.map((e) => e.identity);

    test("are reported once more with their final count after the endpoint leaves, then dropped", async () => {
      const m = new RouterMetrics();
      const first = webTable(["10.0.0.1", "10.0.0.2"]);
      m.tableBuilt(first);
      const [a, b] = identities(first) as [string, string];
      m.upstreamError("default/web", a, "connect");
      m.upstreamError("default/web", b, "connect");
      m.endpointEjected("default/web", a);
      expect((await scrape(m)).samples.get(errorKey(a))).toBe(1);

      // a leaves, with one more error counted (a request that was in flight) not yet scraped.
      m.upstreamError("default/web", a, "connect");
      const second = webTable(["10.0.0.2"], first);
      m.tableBuilt(second);
      let s = await scrape(m);
      expect(s.samples.get(errorKey(a))).toBe(2);
      expect(s.samples.get(ejectionKey(a))).toBe(1);
      expect(s.samples.get(errorKey(b))).toBe(1);

      s = await scrape(m);
      expect(s.samples.has(errorKey(a))).toBe(false);
      expect(s.samples.has(ejectionKey(a))).toBe(false);
      expect(s.samples.get(errorKey(b))).toBe(1);
    });

    test("a count after the final report is reported before the series goes", async () => {
      const m = new RouterMetrics();
      const first = webTable(["10.0.0.1", "10.0.0.2"]);
      m.tableBuilt(first);
      const [a] = identities(first) as [string];
      m.upstreamError("default/web", a, "connect");
      m.tableBuilt(webTable(["10.0.0.2"], first));
      expect((await scrape(m)).samples.get(errorKey(a))).toBe(1);
      m.upstreamError("default/web", a, "connect");
      expect((await scrape(m)).samples.get(errorKey(a))).toBe(2);
      expect((await scrape(m)).samples.has(errorKey(a))).toBe(false);
    });

    test("an endpoint that comes back before the drop keeps its series", async () => {
      const m = new RouterMetrics();
      const first = webTable(["10.0.0.1", "10.0.0.2"]);
      m.tableBuilt(first);
      const [a] = identities(first) as [string];
      m.upstreamError("default/web", a, "connect");
      const second = webTable(["10.0.0.2"], first);
      m.tableBuilt(second);
      m.tableBuilt(webTable(["10.0.0.1", "10.0.0.2"], second));
      await scrape(m);
      await scrape(m);
      expect((await scrape(m)).samples.get(errorKey(a))).toBe(1);
    });

    test("without a scrape, a gone endpoint's series is dropped after the retirement period", async () => {
      let now = 0;
      const m = new RouterMetrics({ now: () => now, retireGoneEndpointsAfterMs: 60_000 });
      let table = webTable(["10.0.0.1"]);
      m.tableBuilt(table);
      // A rollout a minute for an hour: each pod has one error, then leaves.
      let lastGone = "";
      for (let i = 2; i <= 61; i++) {
        const [old] = identities(table) as [string];
        m.upstreamError("default/web", old, "connect");
        now += 30_000;
        table = webTable([`10.0.0.${i}`], table);
        m.tableBuilt(table);
        lastGone = old;
        now += 30_000;
      }
      m.tableBuilt(webTable(["10.0.0.61", "10.0.0.62"], table));
      const errors = [...(await scrape(m)).samples.keys()].filter((k) => k.startsWith("vipr_upstream_errors_total"));
      // Only the pod gone for less than the minute is left (gone 30 s ago); 59 were dropped.
      expect(errors).toEqual([errorKey(lastGone)]);
    });
  });

  test("unknown hosts are one series without labels, 0 before the first", async () => {
    const m = new RouterMetrics();
    expect((await scrape(m)).body.split("\n")).toContain("vipr_unknown_host_requests_total 0");
    m.unknownHost();
    m.unknownHost();
    expect((await scrape(m)).body.split("\n")).toContain("vipr_unknown_host_requests_total 2");
    m.unknownHost();
    expect((await scrape(m)).body.split("\n")).toContain("vipr_unknown_host_requests_total 3");
  });
});

describe("routing table", () => {
  test("tableBuilt sets services, endpoints and generation, and counts rebuilds", async () => {
    const m = new RouterMetrics();
    const first = buildRoutingTable({
      services: [service("web"), service("api")],
      endpointSlices: [slice("web-1", "web", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]), slice("api-1", "api", ["10.0.1.1"])],
    });
    m.tableBuilt(first);
    let s = await scrape(m);
    expect(s.samples.get("vipr_table_rebuilds_total")).toBe(1);
    expect(s.samples.get("vipr_table_services")).toBe(2);
    expect(s.samples.get("vipr_table_endpoints")).toBe(4);
    expect(s.samples.get("vipr_table_generation")).toBe(1);

    const second = buildRoutingTable({ services: [service("web")], endpointSlices: [slice("web-1", "web", ["10.0.0.1"])] }, first);
    m.tableBuilt(second);
    s = await scrape(m);
    expect(s.samples.get("vipr_table_rebuilds_total")).toBe(2);
    expect(s.samples.get("vipr_table_services")).toBe(1);
    expect(s.samples.get("vipr_table_endpoints")).toBe(1);
    expect(s.samples.get("vipr_table_generation")).toBe(2);
  });

  test("keysMoved sets a gauge per service, dropped when the service leaves the table", async () => {
    const m = new RouterMetrics();
    const first = buildRoutingTable({ services: [service("web"), service("api")], endpointSlices: [] });
    m.tableBuilt(first);
    m.keysMoved("default/web", 0.1);
    m.keysMoved("default/api", 0.25);
    m.keysMoved("default/web", 0.125);
    let s = await scrape(m);
    expect(s.types.get("vipr_hash_keys_moved_ratio")).toBe("gauge");
    expect(s.samples.get(seriesKey("vipr_hash_keys_moved_ratio", { service: "default/web" }))).toBe(0.125);
    expect(s.samples.get(seriesKey("vipr_hash_keys_moved_ratio", { service: "default/api" }))).toBe(0.25);

    m.tableBuilt(buildRoutingTable({ services: [service("web")], endpointSlices: [] }, first));
    s = await scrape(m);
    expect(s.samples.has(seriesKey("vipr_hash_keys_moved_ratio", { service: "default/api" }))).toBe(false);
    expect(s.samples.get(seriesKey("vipr_hash_keys_moved_ratio", { service: "default/web" }))).toBe(0.125);
  });

  test("a service that left the table: its requests and latency are reported once more, then dropped", async () => {
    const m = new RouterMetrics();
    const first = buildRoutingTable({ services: [service("web"), service("preview-42")], endpointSlices: [] });
    m.tableBuilt(first);
    m.requestDone("default/preview-42", 200, 0.01);
    m.requestDone("default/web", 200, 0.01);
    const requests = (name: string) => seriesKey("vipr_requests_total", { service: `default/${name}`, code: "200" });
    const latency = (name: string) => seriesKey("vipr_request_duration_seconds_count", { service: `default/${name}` });
    expect((await scrape(m)).samples.get(requests("preview-42"))).toBe(1);

    // preview-42 leaves with one more request (in flight then) not yet scraped.
    m.requestDone("default/preview-42", 200, 0.02);
    m.tableBuilt(buildRoutingTable({ services: [service("web")], endpointSlices: [] }, first));
    let s = await scrape(m);
    expect(s.samples.get(requests("preview-42"))).toBe(2);
    expect(s.samples.get(latency("preview-42"))).toBe(2);
    s = await scrape(m);
    expect(s.samples.has(requests("preview-42"))).toBe(false);
    expect(s.samples.has(latency("preview-42"))).toBe(false);
    expect([...s.samples.keys()].some((k) => k.includes("preview-42"))).toBe(false);
    expect(s.samples.get(requests("web"))).toBe(1);
    expect(s.samples.get(latency("web"))).toBe(1);
  });

  test("a service that comes back before the drop keeps its counts; without scrapes a gone one goes after the period", async () => {
    let now = 0;
    const m = new RouterMetrics({ now: () => now, retireGoneEndpointsAfterMs: 60_000 });
    const both = buildRoutingTable({ services: [service("web"), service("api")], endpointSlices: [] });
    m.tableBuilt(both);
    m.requestDone("default/api", 200, 0.01);
    m.requestDone("default/web", 200, 0.01);
    const webOnly = buildRoutingTable({ services: [service("web")], endpointSlices: [] }, both);
    m.tableBuilt(webOnly);
    const back = buildRoutingTable({ services: [service("web"), service("api")], endpointSlices: [] }, webOnly);
    m.tableBuilt(back);
    await scrape(m);
    await scrape(m);
    expect((await scrape(m)).samples.get(seriesKey("vipr_requests_total", { service: "default/api", code: "200" }))).toBe(1);

    // Gone for good; no scrape for two minutes, then a publish.
    m.tableBuilt(buildRoutingTable({ services: [service("web")], endpointSlices: [] }, back));
    now += 120_000;
    m.tableBuilt(buildRoutingTable({ services: [service("web"), service("other")], endpointSlices: [] }, back));
    const s = await scrape(m);
    expect([...s.samples.keys()].some((k) => k.includes("default/api"))).toBe(false);
    expect(s.samples.get(seriesKey("vipr_requests_total", { service: "default/web", code: "200" }))).toBe(1);
  });

  test("keysMoved refuses a share outside 0..1", () => {
    const m = new RouterMetrics();
    expect(() => m.keysMoved("default/web", 1.5)).toThrow("keys moved share must be a number from 0 to 1, got 1.5 for default/web");
    expect(() => m.keysMoved("default/web", Number.NaN)).toThrow("got NaN");
  });
});

describe("registries, options and the off switch", () => {
  test("each RouterMetrics has its own registry, never prom-client's global one", async () => {
    const a = new RouterMetrics();
    const b = new RouterMetrics();
    a.requestDone("default/web", 200, 0.001);
    expect((await scrape(b)).samples.has(seriesKey("vipr_requests_total", { service: "default/web", code: "200" }))).toBe(false);
    expect(globalRegistry.getSingleMetric("vipr_requests_total")).toBeUndefined();
  });

  test("a registry passed in receives the metrics, beside the caller's own", async () => {
    const registry = new Registry();
    const m = new RouterMetrics({ registry });
    m.unknownHost();
    expect(m.registry).toBe(registry);
    expect(await registry.metrics()).toContain("vipr_unknown_host_requests_total 1");
  });

  test("latency buckets are checked", () => {
    expect(() => new RouterMetrics({ latencyBuckets: [] })).toThrow("histogram buckets must not be empty");
    expect(() => new RouterMetrics({ latencyBuckets: [0.1, 0.05] })).toThrow("histogram bucket bounds must increase, got 0.05 after 0.1");
    expect(() => new RouterMetrics({ latencyBuckets: [0.1, Infinity] })).toThrow("histogram bucket bounds must be finite numbers, got Infinity");
  });

  test("metrics off: the same calls do nothing, and /metrics serves one comment line", async () => {
    const off = createRouterMetrics({ enabled: false });
    expect(off).toBeInstanceOf(NoopMetrics);
    expect(off.enabled).toBe(false);
    off.requestDone("default/web", 200, 0.001);
    off.upstreamError("default/web", "web-0", "connect");
    off.unknownHost();
    off.tableBuilt(buildRoutingTable({ services: [service("web")] }));
    off.keysMoved("default/web", 0.5);
    const s = await scrape(off);
    expect(s.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(s.body).toBe("# vipr metrics are off by configuration\n");
    expect(s.samples.size).toBe(0);
  });

  test("metrics on by default", () => {
    const on = createRouterMetrics();
    expect(on).toBeInstanceOf(RouterMetrics);
    expect(on.enabled).toBe(true);
  });
});
