// Benchmark output: a table for people, or with --json one object per line,
// {"bench","metric","value","unit","baseline","ratio"}, where ratio = value / baseline measured in
// the same run (below 1: faster than the baseline, for time units).

export interface BenchRow {
  readonly bench: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** The same figure for the baseline (the plain-TS reference), or null where there is none. */
  readonly baseline: number | null;
  readonly ratio: number | null;
  /** What the baseline is, for the table only. */
  readonly note?: string;
}

function round(value: number): number {
  return Number(value.toPrecision(4));
}

export function row(bench: string, metric: string, value: number, unit: string, baseline: number | null, note?: string): BenchRow {
  const ratio = baseline === null || baseline === 0 ? null : round(value / baseline);
  return { bench, metric, value: round(value), unit, baseline: baseline === null ? null : round(baseline), ratio, ...(note === undefined ? {} : { note }) };
}

export function printRows(rows: readonly BenchRow[], json: boolean): void {
  if (json) {
    for (const { bench, metric, value, unit, baseline, ratio } of rows) {
      console.log(JSON.stringify({ bench, metric, value, unit, baseline, ratio }));
    }
    return;
  }
  const header = ["metric", "value", "baseline", "ratio", "note"];
  const lines = rows.map((r) => [
    r.metric,
    `${r.value} ${r.unit}`,
    r.baseline === null ? "-" : `${r.baseline} ${r.unit}`,
    r.ratio === null ? "-" : `${r.ratio}`,
    r.note ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  console.log(format(header));
  console.log(format(widths.map((w) => "-".repeat(w))));
  for (const line of lines) console.log(format(line));
}
