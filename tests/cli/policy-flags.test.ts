// The default policy `vipr serve` builds from its flags (adapters/cli/serve-command.ts).
import { describe, expect, test } from "vitest";
import { policyFromFlags, trustedProxiesFromFlags } from "../../adapters/cli/serve-command.ts";
import { policyFromAnnotations } from "../../router/balancing/policy-config.ts";

describe("policyFromFlags", () => {
  test("--slow-start-window 30s: Envoy's defaults for the rest, and services inherit it", () => {
    const policy = policyFromFlags(undefined, undefined, undefined, "30s");
    expect(policy).toEqual({ policy: "least-request", loadFactor: 1.25, slowStart: { windowMs: 30_000, aggression: 1, minWeightPercent: 10 } });
    // A service without annotations keeps it; one that says 0 turns it off; Maglev is not shaped.
    expect(policyFromAnnotations({}, policy).config.slowStart).toEqual({ windowMs: 30_000, aggression: 1, minWeightPercent: 10 });
    expect(policyFromAnnotations({ "vipr.io/slow-start-window": "0" }, policy).config.slowStart).toBeUndefined();
    expect(policyFromAnnotations({ "vipr.io/hash-key": "header:x-user" }, policy).config.slowStart).toBeUndefined();
  });

  test("--slow-start-window 0 is off; a bad value names the flag", () => {
    expect(policyFromFlags(undefined, undefined, undefined, "0").slowStart).toBeUndefined();
    expect(() => policyFromFlags(undefined, undefined, undefined, "fast")).toThrow('--slow-start-window "fast": expected a duration');
  });
});

describe("trustedProxiesFromFlags", () => {
  test("repeatable and comma-separated, IPv4 and IPv6, spaces around commas allowed", () => {
    expect(trustedProxiesFromFlags(["10.0.0.0/8, 2001:db8::/32", "192.0.2.7"])).toEqual(["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]);
    expect(trustedProxiesFromFlags(undefined)).toEqual([]);
  });
});
