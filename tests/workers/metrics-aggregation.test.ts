// /metrics of `vipr serve --workers N` (router/admin/metrics-aggregation.ts): the workers' request
// metrics summed by prom-client's AggregatorRegistry, the table metrics once (the supervisor's),
// and mergeEndpointHealth's view of per-worker passive health.
import { describe, expect, test } from "vitest";
import { mergeEndpointHealth } from "../../router/admin/health-merge.ts";
import { aggregateMetrics } from "../../router/admin/metrics-aggregation.ts";
import { RouterMetrics } from "../../router/observability/router-metrics.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeService } from "../../router/table/kubernetes-objects.ts";
import { parsePrometheusText, seriesKey } from "../observability/prometheus-text.ts";

const services: KubeService[] = ["a", "b", "c"].map((name) => ({ metadata: { name, namespace: "default", resourceVersion: "1" }, spec: { ports: [{ port: 80 }] } }));
const table = buildRoutingTable({ services, endpointSlices: [] });

describe("/metrics over the workers", () => {
  test("requests and latency are summed over the workers; the table is counted once", async () => {
    const supervisor = new RouterMetrics();
    supervisor.tableBuilt(table);
    const workers = [new RouterMetrics(), new RouterMetrics()];
    for (const worker of workers) {
      worker.tableBuilt(table);
      worker.keysMoved("default/a", 0.25);
    }
    for (let i = 0; i < 3; i++) workers[0]!.requestDone("default/a", 200, 0.002);
    for (let i = 0; i < 5; i++) workers[1]!.requestDone("default/a", 200, 0.2);
    workers[1]!.requestDone("default/b", 503, 0.001);
    workers[0]!.upstreamError("default/a", "a-0", "connect");
    workers[1]!.upstreamError("default/a", "a-0", "connect");

    const { contentType, body } = await aggregateMetrics(
      await supervisor.registry.getMetricsAsJSON(),
      await Promise.all(workers.map((w) => w.registry.getMetricsAsJSON())),
    );
    expect(contentType).toMatch(/^text\/plain/);
    const { samples } = parsePrometheusText(body);
    expect(samples.get(seriesKey("vipr_requests_total", { service: "default/a", code: "200" }))).toBe(8);
    expect(samples.get(seriesKey("vipr_requests_total", { service: "default/b", code: "503" }))).toBe(1);
    expect(samples.get(seriesKey("vipr_request_duration_seconds_count", { service: "default/a" }))).toBe(8);
    expect(samples.get(seriesKey("vipr_request_duration_seconds_bucket", { service: "default/a", le: "0.0025" }))).toBe(3);
    expect(samples.get(seriesKey("vipr_upstream_errors_total", { service: "default/a", endpoint: "a-0", kind: "connect" }))).toBe(2);
    expect(samples.get("vipr_table_services")).toBe(3);
    expect(samples.get("vipr_table_generation")).toBe(1);
    expect(samples.get("vipr_table_rebuilds_total")).toBe(1);
    expect(samples.get(seriesKey("vipr_hash_keys_moved_ratio", { service: "default/a" }))).toBe(0.25);
  });
});

describe("/debug/table's passive health over the workers", () => {
  test("an endpoint shows the worst record: ejected if any worker ejected it", () => {
    const merged = mergeEndpointHealth([
      [["default/a", [{ identity: "a-0", address: "10.0.0.1", consecutiveFailures: 1, ejections: 0, ejectedUntil: null }]]],
      [
        ["default/a", [{ identity: "a-0", address: "10.0.0.1", consecutiveFailures: 0, ejections: 1, ejectedUntil: 5000 }]],
        ["default/b", [{ identity: "b-0", address: "10.0.0.2", consecutiveFailures: 2, ejections: 0, ejectedUntil: null }]],
      ],
    ]);
    expect(merged.get("default/a")).toEqual([{ identity: "a-0", address: "10.0.0.1", consecutiveFailures: 1, ejections: 1, ejectedUntil: 5000 }]);
    expect(merged.get("default/b")).toHaveLength(1);
  });
});
