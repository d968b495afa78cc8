// Timing for benchmarks: run a batch repeatedly until a time budget is spent, and report the
// median time per operation over several samples (the median resists the noise of a shared
// 2-core machine better than the mean).

export interface MeasureOptions {
  /** Operations per timed batch. */
  readonly batch: number;
  /** Timed samples; the median is reported. */
  readonly samples?: number;
  /** Untimed batches first, so the JIT has compiled the code under test. */
  readonly warmup?: number;
}

/** Median nanoseconds per operation; `run(batch)` performs `batch` operations. */
export function measureNs(run: (batch: number) => unknown, options: MeasureOptions): number {
  const { batch, samples = 15, warmup = 3 } = options;
  let sink: unknown;
  for (let i = 0; i < warmup; i++) sink = run(batch);
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    sink = run(batch);
    times.push(((performance.now() - start) * 1e6) / batch);
  }
  if (sink === Symbol.for("never")) console.log(sink); // keeps results observable
  return median(times);
}

/** The middle value (the upper one of an even count), NaN for none. */
export function median(list: readonly number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
