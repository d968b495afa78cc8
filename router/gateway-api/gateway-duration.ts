// Gateway API durations (GEP-2257): one to four parts of 1-5 digits with a unit h, m, s or ms,
// such as "1h", "10s", "500ms", "1m30s"; no fractions, no negatives. "0s" means no timeout where
// a field allows it (HTTPRoute timeouts, GEP-1742).
const durationPattern = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const partPattern = /([0-9]{1,5})(ms|h|m|s)/g;
const unitMs: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds, or undefined when `text` is not a GEP-2257 duration. */
export function parseGatewayDuration(text: string): number | undefined {
  if (!durationPattern.test(text)) return undefined;
  let total = 0;
  for (const [, digits, unit] of text.matchAll(partPattern)) total += Number(digits) * unitMs[unit!]!;
  return total;
}
