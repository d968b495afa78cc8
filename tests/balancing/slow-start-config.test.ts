// The slow start annotations, read by policyFromAnnotations, with the exact diagnostic of each bad
// value (the default, or off, stays in force).
import { describe, expect, test } from "vitest";
import { policyFromAnnotations, type PolicyConfig } from "../../router/balancing/policy-config.ts";
import type { SlowStartConfig } from "../../router/balancing/slow-start-config.ts";

const WINDOW = "vipr.io/slow-start-window";
const AGGRESSION = "vipr.io/slow-start-aggression";
const MIN_WEIGHT = "vipr.io/slow-start-min-weight-percent";

describe("slow start annotations", () => {
  test.each<[string, Record<string, string>, PolicyConfig | undefined, SlowStartConfig | undefined]>([
    ["off by default", {}, undefined, undefined],
    ["a window turns it on with Envoy's defaults", { [WINDOW]: "30s" }, undefined, { windowMs: 30_000, aggression: 1, minWeightPercent: 10 }],
    ["whole milliseconds, and every setting", { [WINDOW]: " 1500 ", [AGGRESSION]: "1.5", [MIN_WEIGHT]: "25" }, undefined, { windowMs: 1500, aggression: 1.5, minWeightPercent: 25 }],
    ["a minimum of 100%", { [WINDOW]: "1m", [MIN_WEIGHT]: "100" }, undefined, { windowMs: 60_000, aggression: 1, minWeightPercent: 100 }],
    ["with round robin", { [WINDOW]: "10s", "vipr.io/lb-policy": "round-robin" }, undefined, { windowMs: 10_000, aggression: 1, minWeightPercent: 10 }],
    ["0 turns a configured default off", { [WINDOW]: "0" }, { policy: "least-request", loadFactor: 1.25, slowStart: { windowMs: 5000, aggression: 1, minWeightPercent: 10 } }, undefined],
    [
      "annotations override a configured default's settings",
      { [AGGRESSION]: "3" },
      { policy: "least-request", loadFactor: 1.25, slowStart: { windowMs: 5000, aggression: 1, minWeightPercent: 20 } },
      { windowMs: 5000, aggression: 3, minWeightPercent: 20 },
    ],
  ])("%s", (_, annotations, defaults, slowStart) => {
    const resolved = policyFromAnnotations(annotations, defaults);
    expect(resolved.diagnostics).toEqual([]);
    expect(resolved.config.slowStart).toEqual(slowStart);
  });

  test.each<[string, Record<string, string>, SlowStartConfig | undefined, string[]]>([
    [
      "a window that is not a duration",
      { [WINDOW]: "soon", [AGGRESSION]: "2" },
      undefined,
      [`${WINDOW}: "soon" is not a slow start window; expected a duration such as 30s or 2m, or whole milliseconds (0: off), at most 24h; using off`],
    ],
    ["a negative window", { [WINDOW]: "-5s" }, undefined, [`${WINDOW}: "-5s" is not a slow start window; expected a duration such as 30s or 2m, or whole milliseconds (0: off), at most 24h; using off`]],
    ["more than a day", { [WINDOW]: "25h" }, undefined, [`${WINDOW}: "25h" is not a slow start window; expected a duration such as 30s or 2m, or whole milliseconds (0: off), at most 24h; using off`]],
    ...["0", "-1", "abc", "", "1e1", "Infinity"].map((text): [string, Record<string, string>, SlowStartConfig | undefined, string[]] => [
      `aggression ${JSON.stringify(text)}`,
      { [WINDOW]: "10s", [AGGRESSION]: text },
      { windowMs: 10_000, aggression: 1, minWeightPercent: 10 },
      [`${AGGRESSION}: ${JSON.stringify(text)} is not a slow start aggression; expected a decimal number above 0, such as 1 or 1.5; using 1`],
    ]),
    ...["0", "0.0", "100.5", "150", "-10", "ten", "10%"].map((text): [string, Record<string, string>, SlowStartConfig | undefined, string[]] => [
      `minimum weight ${JSON.stringify(text)}`,
      { [WINDOW]: "10s", [MIN_WEIGHT]: text },
      { windowMs: 10_000, aggression: 1, minWeightPercent: 10 },
      [`${MIN_WEIGHT}: ${JSON.stringify(text)} is not a minimum weight percent; expected a decimal number above 0 and at most 100, such as 10; using 10`],
    ]),
    [
      "settings without a window",
      { [AGGRESSION]: "2", [MIN_WEIGHT]: "20" },
      undefined,
      [`${AGGRESSION}: "2" has no effect without ${WINDOW}`, `${MIN_WEIGHT}: "20" has no effect without ${WINDOW}`],
    ],
    [
      "a hashing policy",
      { [WINDOW]: "10s", "vipr.io/lb-policy": "bounded-load", "vipr.io/hash-key": "client-ip" },
      undefined,
      [`${WINDOW}: "10s" has no effect with policy bounded-load; it applies to least-request and round-robin`],
    ],
  ])("%s: default kept, diagnostic given", (_, annotations, slowStart, diagnostics) => {
    const resolved = policyFromAnnotations(annotations);
    expect(resolved.diagnostics).toEqual(diagnostics);
    expect(resolved.config.slowStart).toEqual(slowStart);
  });

  test("the rest of the policy is unchanged by slow start", () => {
    expect(policyFromAnnotations({ [WINDOW]: "10s" }).config).toEqual({
      policy: "least-request",
      loadFactor: 1.25,
      slowStart: { windowMs: 10_000, aggression: 1, minWeightPercent: 10 },
    });
  });
});
