// A Prometheus histogram with one label, written for the request path: a series is looked up once
// and kept by the caller, and observing is a bucket scan and three additions (about 10 ns).
// prom-client's own Histogram costs about 1 us per observation even through a cached `labels()`
// child: each call validates the labels, hashes them to a string, and indexes the buckets by the
// bound turned into a string. So the counts live here in plain numbers and are turned into
// prom-client's metric shape only when the registry is scraped. The output is line for line what a
// prom-client Histogram prints (`name_bucket{le="0.005",service="x"} 3`, then `_sum`, `_count`).

import type { Metric, Registry } from "prom-client";

/** One labelled series. Counts are per bucket (not cumulative); `counts[bounds.length]` holds the
 * observations above the largest bound, which only the `+Inf` bucket and `_count` include. */
export class HistogramSeries {
  /** Shared by every exported sample of this series; frozen, so the registry can cache its text. */
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(labels: Readonly<Record<string, string>>, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** A non-finite value is dropped: it would make `_sum` NaN or Infinity for good. A negative one
   * (a clock stepped back) counts as 0. */
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    if (value < 0) value = 0;
    const bounds = this.#bounds;
    const n = bounds.length;
    // Linear, not binary: proxy latencies sit in the first few buckets, so the scan stops early.
    let i = 0;
    while (i < n && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

export interface LatencyHistogramOptions {
  readonly name: string;
  readonly help: string;
  readonly labelName: string;
  /** Upper bounds in seconds, strictly increasing, finite. */
  readonly buckets: readonly number[];
  readonly registry: Registry;
}

/** The sample shape prom-client's Registry formats (what its own Histogram returns from get()). */
interface ExportedSample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly sharedLabels?: Readonly<Record<string, string>>;
  readonly value: number;
}

export class LatencyHistogram {
  // The fields prom-client's Registry reads from a registered metric.
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly labelName: string;
  readonly bounds: readonly number[];
  readonly #series = new Map<string, HistogramSeries>();

  constructor(options: LatencyHistogramOptions) {
    checkBuckets(options.buckets);
    this.name = options.name;
    this.help = options.help;
    this.labelName = options.labelName;
    this.bounds = Object.freeze([...options.buckets]);
    // The Registry duck-types its metrics (name, type, get, reset); its TypeScript signature names
    // prom-client's four classes only, hence the cast.
    options.registry.registerMetric(this as unknown as Metric);
  }

  /** The series for a label value, made on first use. Keep it: this lookup is the slow part. */
  series(labelValue: string): HistogramSeries {
    let series = this.#series.get(labelValue);
    if (series === undefined) {
      series = new HistogramSeries(Object.freeze({ [this.labelName]: labelValue }), this.bounds);
      this.#series.set(labelValue, series);
    }
    return series;
  }

  /** Forgets a label value's series (its service left the table); a later series() starts anew. */
  remove(labelValue: string): void {
    this.#series.delete(labelValue);
  }

  /** Called by the Registry on scrape (and by getMetricsAsJSON). */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedSample[] }> {
    const values: ExportedSample[] = [];
    const bucket = `${this.name}_bucket`;
    const bounds = this.bounds;
    for (const series of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i < bounds.length; i++) {
        cumulative += series.counts[i]!;
        values.push({ metricName: bucket, labels: { le: bounds[i]! }, sharedLabels: series.labels, value: cumulative });
      }
      values.push({ metricName: bucket, labels: { le: "+Inf" }, sharedLabels: series.labels, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels: {}, sharedLabels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: {}, sharedLabels: series.labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics(): zero every series in place, so series held by callers stay live. */
  reset(): void {
    for (const series of this.#series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}

function checkBuckets(buckets: readonly number[]): void {
  if (buckets.length === 0) throw new RangeError("histogram buckets must not be empty");
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    if (!Number.isFinite(b)) throw new RangeError(`histogram bucket bounds must be finite numbers, got ${b}`);
    const previous = buckets[i - 1];
    if (previous !== undefined && b <= previous) {
      throw new RangeError(`histogram bucket bounds must increase, got ${b} after ${previous}`);
    }
  }
}
