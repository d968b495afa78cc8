// A service's timeouts, read from its annotations over the router's configured defaults (as
// policy-config.ts reads its balancing policy). A bad value never throws: the default stays in
// force and a diagnostic names the annotation, the value and what was expected.
//
// - connect: opening a connection to an endpoint (per try).
// - response: per try, from when the request has been sent (its body included) until the response
//   head arrives.
// - idle: the longest silence while the response body streams.
// - request: overall, across retries, from the request's arrival until a response head arrives:
//   once it has passed no further retry starts, and the try in flight is cut at it (the transport
//   gets the time left as UpstreamCall.requestTimeLeftMs, which also also caps the try's response timeout). It
//   does not bound the body (the idle timeout does).
//
// Values are Go-style durations (`250ms`, `2s`, `1m30s`, `1.5s`) or plain whole milliseconds
// (`250`); 0 means no limit. Durations are rounded up to whole milliseconds, at most 24 h.

export interface RouterTimeouts {
  /** Opening a connection to an endpoint. Default 2000 ms. (Node's transport fixes it per
   * endpoint pool when the pool is made.) */
  readonly connectMs: number;
  /** Per try, from when the request has been sent until the response head arrives. Default
   * 30000 ms. */
  readonly responseMs: number;
  /** Longest silence while the response body streams. Default 60000 ms. */
  readonly idleMs: number;
  /** Overall, across retries, until the response head arrives; bounds each try's response
   * timeout by the time left and stops retries once passed. Default 0: no overall limit (each try
   * is bounded by responseMs, and at most 1 + maxRetries tries run). */
  readonly requestMs: number;
}

export const DEFAULT_ROUTER_TIMEOUTS: RouterTimeouts = Object.freeze({ connectMs: 2000, responseMs: 30_000, idleMs: 60_000, requestMs: 0 });

export const CONNECT_TIMEOUT_ANNOTATION = "vipr.io/connect-timeout";
export const RESPONSE_TIMEOUT_ANNOTATION = "vipr.io/response-timeout";
export const IDLE_TIMEOUT_ANNOTATION = "vipr.io/idle-timeout";
export const REQUEST_TIMEOUT_ANNOTATION = "vipr.io/request-timeout";

const ANNOTATIONS: readonly (readonly [string, keyof RouterTimeouts])[] = [
  [CONNECT_TIMEOUT_ANNOTATION, "connectMs"],
  [RESPONSE_TIMEOUT_ANNOTATION, "responseMs"],
  [IDLE_TIMEOUT_ANNOTATION, "idleMs"],
  [REQUEST_TIMEOUT_ANNOTATION, "requestMs"],
];

/** 24 hours: well below setTimeout's limit of 2^31 - 1 ms. */
export const MAX_TIMEOUT_MS = 24 * 3_600_000;

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE = /^[0-9]+$/;
// Go's time.ParseDuration without a sign: one or more (decimal, unit) pairs, e.g. "1h30m", "1.5s".
const DURATION = /^(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const PART = /([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)/g;

const EXPECTED = "expected a duration such as 250ms, 2s or 1m, or whole milliseconds (0: no limit), at most 24h";

/**
 * Milliseconds of a Go-style duration or of plain whole milliseconds, rounded up; undefined when
 * the text is neither or exceeds MAX_TIMEOUT_MS.
 *
 * @example parseDurationMs("1m30s") // 90000
 * @example parseDurationMs("250") // 250
 */
export function parseDurationMs(text: string): number | undefined {
  let ms: number;
  if (WHOLE.test(text)) ms = Number(text);
  else if (DURATION.test(text)) {
    ms = 0;
    for (const [, number, unit] of text.matchAll(PART)) ms += Number(number) * UNIT_MS[unit!]!;
    // 1.1s is 1100.0000000000002 in floating point: round away that noise before rounding up.
    ms = Math.ceil(Math.round(ms * 1e6) / 1e6);
  } else return undefined;
  return Number.isFinite(ms) && ms <= MAX_TIMEOUT_MS ? ms : undefined;
}

/** "250ms", "2s", "1m", "1h"; "no limit" for 0. */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return "no limit";
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export interface TimeoutResolution {
  readonly config: RouterTimeouts;
  /** One line per annotation that was ignored, e.g.
   * `vipr.io/response-timeout: "fast" is not a timeout; expected ...; using 30s`. */
  readonly diagnostics: readonly string[];
}

/**
 * The timeouts of a service: each annotation overrides its default from `defaults` (the router's
 * configuration).
 *
 * @example
 * timeoutsFromAnnotations({ "vipr.io/response-timeout": "200ms" }).config.responseMs // 200
 */
export function timeoutsFromAnnotations(annotations: Readonly<Record<string, string>>, defaults: RouterTimeouts = DEFAULT_ROUTER_TIMEOUTS): TimeoutResolution {
  const diagnostics: string[] = [];
  const config: { -readonly [K in keyof RouterTimeouts]: number } = { ...defaults };
  for (const [annotation, field] of ANNOTATIONS) {
    if (!Object.hasOwn(annotations, annotation)) continue;
    const text = annotations[annotation]!;
    const ms = parseDurationMs(text.trim());
    if (ms === undefined) {
      diagnostics.push(`${annotation}: ${JSON.stringify(text)} is not a timeout; ${EXPECTED}; using ${formatDurationMs(config[field])}`);
    } else {
      config[field] = ms;
    }
  }
  return { config: Object.freeze(config), diagnostics };
}
