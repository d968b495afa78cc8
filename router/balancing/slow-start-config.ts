// Slow start settings of a service, read from its annotations by policyFromAnnotations
// (policy-config.ts) with the same rule: a bad value never throws, the default stays in force and
// a diagnostic names the annotation, the value and what was expected. How the settings shape the
// weights is in slow-start.ts.
import { formatDurationMs, parseDurationMs } from "../timeout-config.ts";
import type { PolicyName } from "./policy-name.ts";

/** Envoy's `slow_start_config` (RoundRobin and LeastRequest load balancers), per service. */
export interface SlowStartConfig {
  /** How long after turning ready an endpoint's weight ramps up; always above 0 here. */
  readonly windowMs: number;
  /** Above 0; 1 ramps linearly, more ramps faster early on (the time factor's 1/aggression power). */
  readonly aggression: number;
  /** The least share of its weight a new endpoint gets, in (0, 100]. */
  readonly minWeightPercent: number;
}

export const SLOW_START_WINDOW_ANNOTATION = "vipr.io/slow-start-window";
export const SLOW_START_AGGRESSION_ANNOTATION = "vipr.io/slow-start-aggression";
export const SLOW_START_MIN_WEIGHT_ANNOTATION = "vipr.io/slow-start-min-weight-percent";

/** Envoy's defaults: aggression 1.0 (linear), min_weight_percent 10. */
export const DEFAULT_SLOW_START_AGGRESSION = 1;
export const DEFAULT_SLOW_START_MIN_WEIGHT_PERCENT = 10;

// A plain decimal: "1.5", "10"; not "0x2", "1e1" or "", which Number() would also accept.
const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;

/** The policies slow start shapes, as in Envoy (round robin and least request). Maglev and
 * bounded load place keys by a table built from the endpoints; weighting that table by age would
 * move keys to and from the new endpoint as it ramps (a rebuild every refresh), and keeping each
 * key on one endpoint is what those policies are for. A ClientIP affinity is kept as it is: slow
 * start shapes only the least-request or round-robin pick that makes a new binding. */
export function slowStartApplies(policy: PolicyName): boolean {
  return policy === "least-request" || policy === "round-robin";
}

/**
 * The slow start of a service: the window annotation turns it on (or off with `0`) over
 * `defaults`; aggression and minimum weight override the defaults' (or Envoy's) values. Undefined
 * when off, or when `policy` is one slow start does not shape (with a diagnostic if annotated).
 * `get` reads one annotation; problems are appended to `diagnostics`.
 *
 * @example
 * // annotations { "vipr.io/slow-start-window": "30s" }, policy least-request:
 * // { windowMs: 30000, aggression: 1, minWeightPercent: 10 }
 */
export function slowStartFromAnnotations(
  get: (name: string) => string | undefined,
  defaults: SlowStartConfig | undefined,
  policy: PolicyName,
  diagnostics: string[],
): SlowStartConfig | undefined {
  let windowMs = defaults?.windowMs ?? 0;
  let windowRefused = false;
  const windowText = get(SLOW_START_WINDOW_ANNOTATION);
  if (windowText !== undefined) {
    const ms = parseDurationMs(windowText.trim());
    if (ms === undefined) {
      windowRefused = true;
      diagnostics.push(
        `${SLOW_START_WINDOW_ANNOTATION}: ${JSON.stringify(windowText)} is not a slow start window; ` +
          `expected a duration such as 30s or 2m, or whole milliseconds (0: off), at most 24h; using ${windowMs === 0 ? "off" : formatDurationMs(windowMs)}`,
      );
    } else {
      windowMs = ms;
    }
  }

  const aggression = decimalSetting(
    get,
    SLOW_START_AGGRESSION_ANNOTATION,
    defaults?.aggression ?? DEFAULT_SLOW_START_AGGRESSION,
    (value) => value > 0,
    "is not a slow start aggression; expected a decimal number above 0, such as 1 or 1.5",
    diagnostics,
  );
  const minWeightPercent = decimalSetting(
    get,
    SLOW_START_MIN_WEIGHT_ANNOTATION,
    defaults?.minWeightPercent ?? DEFAULT_SLOW_START_MIN_WEIGHT_PERCENT,
    (value) => value > 0 && value <= 100,
    "is not a minimum weight percent; expected a decimal number above 0 and at most 100, such as 10",
    diagnostics,
  );

  if (windowMs === 0) {
    // A refused window was reported already; the other settings then need no line of their own.
    if (windowRefused) return undefined;
    for (const name of [SLOW_START_AGGRESSION_ANNOTATION, SLOW_START_MIN_WEIGHT_ANNOTATION]) {
      const text = get(name);
      if (text !== undefined) diagnostics.push(`${name}: ${JSON.stringify(text)} has no effect without ${SLOW_START_WINDOW_ANNOTATION}`);
    }
    return undefined;
  }
  if (!slowStartApplies(policy)) {
    if (windowText !== undefined) {
      diagnostics.push(`${SLOW_START_WINDOW_ANNOTATION}: ${JSON.stringify(windowText)} has no effect with policy ${policy}; it applies to least-request and round-robin`);
    }
    return undefined;
  }
  return Object.freeze({ windowMs, aggression, minWeightPercent });
}

function decimalSetting(
  get: (name: string) => string | undefined,
  annotation: string,
  fallback: number,
  valid: (value: number) => boolean,
  problem: string,
  diagnostics: string[],
): number {
  const text = get(annotation);
  if (text === undefined) return fallback;
  const trimmed = text.trim();
  const value = DECIMAL.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (Number.isFinite(value) && valid(value)) return value;
  diagnostics.push(`${annotation}: ${JSON.stringify(text)} ${problem}; using ${fallback}`);
  return fallback;
}
