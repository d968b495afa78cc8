// /metrics of `vipr serve --workers N`: one page for the pod, made of the supervisor's metrics and
// every worker's, by prom-client's own cluster aggregation (AggregatorRegistry.aggregate, the
// function behind its clusterMetrics()), fed with getMetricsAsJSON() of each process over vipr's
// IPC channel instead of node:cluster's, so that it works the same on Deno.
//
// Who reports what: the supervisor owns the table source, so the table metrics (vipr_table_*) and
// the Kubernetes sync metrics (vipr_kube_*) are its own, once per pod; the workers' copies of the
// table metrics are dropped (N workers would otherwise show N times the services). Everything about
// requests comes from the workers and is summed (counters, histograms, requests in flight, endpoints
// ejected now: passive health is per worker, as in Envoy, so an endpoint ejected by two workers
// counts twice). The share of hash keys a rebuild moved is the same figure on every worker (the
// same table, the same Maglev build): the largest is shown, not the sum.
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from "prom-client";

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Metrics the supervisor reports for the whole pod. */
export function isSupervisorMetric(name: string): boolean {
  return name.startsWith("vipr_table_") || name.startsWith("vipr_kube_");
}

/** Gauges every worker computes alike from the same table: shown once (the largest), not summed. */
const sameOnEveryWorker = new Set(["vipr_hash_keys_moved_ratio"]);

/** The Prometheus text of the supervisor's metrics and every worker's, aggregated as above. */
export async function aggregateMetrics(supervisor: MetricsJson, workers: readonly MetricsJson[]): Promise<{ contentType: string; body: string }> {
  const own = supervisor.filter((metric) => isSupervisorMetric(metric.name));
  const theirs = workers.map((metrics) =>
    metrics
      .filter((metric) => !isSupervisorMetric(metric.name))
      .map((metric) => ({ ...withSharedLabels(metric), ...(sameOnEveryWorker.has(metric.name) ? { aggregator: "max" as const } : {}) })),
  );
  const registry = AggregatorRegistry.aggregate([own, ...theirs]);
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** A histogram's series labels travel beside `le` as `sharedLabels` (prom-client's own Histogram
 * and router/observability/latency-histogram.ts), which the aggregator's grouping does not read:
 * without this, every service's buckets would be summed into one series. */
function withSharedLabels(metric: MetricsJson[number]): MetricsJson[number] {
  const values = metric.values as (MetricValue<string> & { sharedLabels?: Record<string, string | number> })[];
  if (!values.some((value) => value.sharedLabels !== undefined)) return metric;
  return { ...metric, values: values.map(({ sharedLabels, ...value }) => ({ ...value, labels: { ...value.labels, ...sharedLabels } })) };
}
