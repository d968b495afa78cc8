import { describe, expect, test } from "vitest";
import { DEFAULT_POLICY_CONFIG } from "../../router/balancing/policy-config.ts";
import { ServiceSettingsCache } from "../../router/service-settings.ts";
import type { ServiceEntry } from "../../router/table/routing-table.ts";
import { DEFAULT_ROUTER_TIMEOUTS } from "../../router/timeout-config.ts";
import { webService, pods } from "../balancing/balancer-fixtures.ts";

function annotated(annotations: Record<string, string>): ServiceEntry {
  return { ...webService(pods(2)), annotations };
}

describe("ServiceSettingsCache", () => {
  test("resolves policy and timeouts from the entry's annotations over the defaults", () => {
    const cache = new ServiceSettingsCache(DEFAULT_POLICY_CONFIG, DEFAULT_ROUTER_TIMEOUTS);
    const settings = cache.of(annotated({ "vipr.io/hash-key": "header:X-User", "vipr.io/slow-start-window": "10s" }));
    expect(settings.policy).toEqual({ policy: "maglev", hashKey: { from: "header", name: "x-user" }, loadFactor: 1.25 });
    expect(settings.timeouts).toEqual(DEFAULT_ROUTER_TIMEOUTS);
    expect(settings.diagnostics).toEqual([
      'vipr.io/slow-start-window: "10s" has no effect with policy maglev; it applies to least-request and round-robin',
    ]);
  });

  test("resolves once per entry: the same object for the same entry, a new one for a new entry", () => {
    const cache = new ServiceSettingsCache(DEFAULT_POLICY_CONFIG, DEFAULT_ROUTER_TIMEOUTS);
    const entry = annotated({ "vipr.io/lb-policy": "round-robin" });
    const first = cache.of(entry);
    expect(cache.of(entry)).toBe(first);
    const changed = { ...entry, annotations: { "vipr.io/lb-policy": "maglev" } };
    expect(cache.of(changed)).not.toBe(first);
    expect(cache.of(changed).policy.policy).toBe("least-request"); // maglev without a hash key falls back
  });
});
