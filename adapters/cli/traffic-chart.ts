// The demo's live chart: requests per pod over a sliding window, as bars. Pure text, so it can be
// printed as one block (and redrawn in place on a terminal) or as plain lines in a log.

export interface PodCount {
  readonly pod: string;
  readonly address: string;
  readonly count: number;
}

/** One line per pod: name, address, a bar of `width` cells at most, count and share. */
export function renderChart(counts: readonly PodCount[], width = 40): string[] {
  const total = counts.reduce((sum, c) => sum + c.count, 0);
  const max = Math.max(1, ...counts.map((c) => c.count));
  const nameWidth = Math.max(3, ...counts.map((c) => c.pod.length));
  const addressWidth = Math.max(7, ...counts.map((c) => c.address.length));
  return counts.map((c) => {
    const cells = Math.round((c.count / max) * width);
    const share = total === 0 ? 0 : Math.round((c.count / total) * 100);
    return `  ${c.pod.padEnd(nameWidth)}  ${c.address.padEnd(addressWidth)}  ${"█".repeat(cells)}${" ".repeat(width - cells)}  ${String(c.count).padStart(5)} (${String(share).padStart(3)}%)`;
  });
}
