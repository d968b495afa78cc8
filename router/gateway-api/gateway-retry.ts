// A Gateway API rule's retry stanza (HTTPRouteRetry, GEP-1731) as the forward stage asks it:
// whether a response status is retried, and how long to wait before a retry. Pure: the random
// source is passed in.
import type { GatewayForwarding } from "./gateway-routing.ts";

/** The backoff grows at most to this many times the rule's `backoff` (Envoy's default cap for
 * its retry_back_off, ten times the base interval, which GEP-1731 quotes). */
const BACKOFF_CAP_FACTOR = 10;

/**
 * Whether the rule retries a response with this status (HTTPRouteRetry.codes). No codes: no
 * status is retried; connection failures still are, by vipr's own rules (retry-policy.ts), as the
 * spec says implementations SHOULD once a retry stanza is there.
 */
export function retriesStatus(forwarding: GatewayForwarding, status: number): boolean {
  const codes = forwarding.rule.rule.retry?.codes;
  return codes !== undefined && codes.includes(status);
}

/**
 * The wait before retry number `retry` (1 for the first retry), in ms; 0 when the rule sets no
 * backoff (vipr's retries go at once, as they always have).
 *
 * HTTPRouteRetry.backoff is a minimum: "unsuccessful backend requests are not retried before the
 * configured minimum duration", and an implementation MAY grow it, cap it and add jitter. vipr
 * doubles it per retry up to ten times the backoff, and adds up to half again at random. The
 * jitter is only ever added, never taken away, so the minimum holds; it is there because requests
 * that failed together (a pod restarting fails every request on it at once) would otherwise come
 * back together, at the same instants, to a backend that is recovering ("Exponential Backoff And
 * Jitter", AWS Architecture Blog, 2015).
 *
 * @example
 * // backoff 100ms: retry 1 waits 100-150 ms, retry 2 200-300 ms, retry 5 and later 1000-1500 ms.
 */
export function retryBackoffMs(forwarding: GatewayForwarding, retry: number, random: () => number): number {
  const base = forwarding.rule.rule.retry?.backoffMs ?? 0;
  if (base <= 0) return 0;
  const grown = Math.min(base * 2 ** Math.max(0, retry - 1), base * BACKOFF_CAP_FACTOR);
  return grown * (1 + random() / 2);
}
