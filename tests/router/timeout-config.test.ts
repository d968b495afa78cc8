// Per-service timeout annotations: durations as Go writes them or whole milliseconds, and the exact
// diagnostic of each bad value (the router default stays in force).
import { describe, expect, test } from "vitest";
import { DEFAULT_ROUTER_TIMEOUTS, formatDurationMs, parseDurationMs, timeoutsFromAnnotations, type RouterTimeouts } from "../../router/timeout-config.ts";

const EXPECTED = "expected a duration such as 250ms, 2s or 1m, or whole milliseconds (0: no limit), at most 24h";

describe("parseDurationMs", () => {
  test.each<[string, number]>([
    ["250ms", 250],
    ["2s", 2000],
    ["1m", 60_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1h2m3s4ms", 3_723_004],
    ["1.5s", 1500],
    ["1.1s", 1100],
    [".5s", 500],
    ["500us", 1],
    ["500µs", 1],
    ["2500000ns", 3],
    ["250", 250],
    ["0", 0],
    ["0s", 0],
    ["24h", 86_400_000],
  ])("%s is %i ms", (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  test.each(["", "fast", "-1s", "+1s", "1.5", "1e3", "0x10", "2 s", "2sec", "1d", "s", "25h", "86400001", "1..5s"])("%j is not a duration", (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  test.each<[number, string]>([
    [0, "no limit"],
    [250, "250ms"],
    [2000, "2s"],
    [90_000, "90s"],
    [120_000, "2m"],
    [7_200_000, "2h"],
  ])("%i ms shows as %s", (ms, text) => {
    expect(formatDurationMs(ms)).toBe(text);
  });
});

describe("timeoutsFromAnnotations", () => {
  test("no annotation: the router's defaults", () => {
    expect(timeoutsFromAnnotations({})).toEqual({ config: DEFAULT_ROUTER_TIMEOUTS, diagnostics: [] });
    const defaults: RouterTimeouts = { connectMs: 500, responseMs: 1000, idleMs: 5000, requestMs: 3000 };
    expect(timeoutsFromAnnotations({ "vipr.io/lb-policy": "maglev" }, defaults)).toEqual({ config: defaults, diagnostics: [] });
  });

  test("each annotation overrides its own default", () => {
    const { config, diagnostics } = timeoutsFromAnnotations({
      "vipr.io/connect-timeout": "250ms",
      "vipr.io/response-timeout": " 2s ",
      "vipr.io/idle-timeout": "1m",
      "vipr.io/request-timeout": "5000",
    });
    expect(diagnostics).toEqual([]);
    expect(config).toEqual({ connectMs: 250, responseMs: 2000, idleMs: 60_000, requestMs: 5000 });
    expect(timeoutsFromAnnotations({ "vipr.io/response-timeout": "0" }).config.responseMs).toBe(0);
  });

  test.each<[Record<string, string>, Partial<RouterTimeouts>, string[]]>([
    [{ "vipr.io/connect-timeout": "fast" }, {}, [`vipr.io/connect-timeout: "fast" is not a timeout; ${EXPECTED}; using 2s`]],
    [{ "vipr.io/response-timeout": "-1s" }, {}, [`vipr.io/response-timeout: "-1s" is not a timeout; ${EXPECTED}; using 30s`]],
    [{ "vipr.io/idle-timeout": "1d" }, {}, [`vipr.io/idle-timeout: "1d" is not a timeout; ${EXPECTED}; using 1m`]],
    [{ "vipr.io/request-timeout": "" }, {}, [`vipr.io/request-timeout: "" is not a timeout; ${EXPECTED}; using no limit`]],
    [{ "vipr.io/request-timeout": "48h" }, { requestMs: 1500 }, [`vipr.io/request-timeout: "48h" is not a timeout; ${EXPECTED}; using 1500ms`]],
    [
      { "vipr.io/response-timeout": "1.5", "vipr.io/idle-timeout": "10s" },
      {},
      [`vipr.io/response-timeout: "1.5" is not a timeout; ${EXPECTED}; using 30s`],
    ],
  ])("%j: default kept, with a diagnostic", (annotations, overrides, diagnostics) => {
    const defaults = { ...DEFAULT_ROUTER_TIMEOUTS, ...overrides };
    const resolution = timeoutsFromAnnotations(annotations, defaults);
    expect(resolution.diagnostics).toEqual(diagnostics);
    const idle = annotations["vipr.io/idle-timeout"] === "10s" ? { idleMs: 10_000 } : {};
    expect(resolution.config).toEqual({ ...defaults, ...idle });
  });
});
