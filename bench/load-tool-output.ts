// What the load tools print (wrk, h2load), read into numbers.

/** A latency as wrk and h2load print it ("812.00us", "1.25ms", "2.01s") in milliseconds. */
export function latencyMs(text: string): number {
  const match = /([\d.]+)(us|ms|s)/.exec(text);
  if (match === null) return NaN;
  const value = Number(match[1]);
  return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
}

/** wrk's requests/s, p50 and p99 (NaN without --latency) and errors: non-2xx/3xx responses plus socket errors. */
export function parseWrkOutput(out: string): { rps: number; p50: number; p99: number; errors: number } {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50 = latencyMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? "");
  const p99 = latencyMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? "");
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socketErrors === null ? 0 : socketErrors.slice(1).reduce((a, b) => a + Number(b), 0));
  return { rps, p50, p99, errors };
}
