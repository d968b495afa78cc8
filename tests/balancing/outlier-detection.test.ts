// Passive health's store on its own, with an injected clock: ejection after N failures in a row,
// the growing ejection period, resets on success, the max-percent cap and expiry.
import { describe, expect, test } from "vitest";
import { OutlierDetector } from "../../router/balancing/outlier-detection.ts";

function detector(options: ConstructorParameters<typeof OutlierDetector>[0] = {}) {
  const clock = { ms: 1_000_000 };
  return { clock, outliers: new OutlierDetector({ now: () => clock.ms, ...options }) };
}

/** `n` failures of pod `id` at 10.0.0.1 in a service of `eligible` endpoints; true if one ejected. */
function fail(outliers: OutlierDetector, id: string, n: number, eligible = 4): boolean {
  let ejected = false;
  for (let i = 0; i < n; i++) ejected = outliers.recordFailure(id, "10.0.0.1", eligible) || ejected;
  return ejected;
}

describe("OutlierDetector", () => {
  test("ejects after 5 failures in a row (the default), not after 4", () => {
    const { outliers } = detector();
    expect(fail(outliers, "a", 4)).toBe(false);
    expect(outliers.isEjected("a", "10.0.0.1")).toBe(false);
    expect(outliers.ejectedCount()).toBe(0);
    expect(fail(outliers, "a", 1)).toBe(true);
    expect(outliers.isEjected("a", "10.0.0.1")).toBe(true);
    expect(outliers.isEjected("a", "10.0.0.2")).toBe(false); // a new address is a new pod
    expect(outliers.ejectedCount()).toBe(1);
  });

  test("a success resets the count", () => {
    const { outliers } = detector();
    fail(outliers, "a", 4);
    outliers.recordSuccess("a", "10.0.0.1");
    expect(fail(outliers, "a", 4)).toBe(false);
    expect(fail(outliers, "a", 1)).toBe(true);
  });

  test("the n-th ejection lasts n x 30 s, capped at 300 s, and ends by itself", () => {
    const { clock, outliers } = detector();
    const lengths: number[] = [];
    for (let n = 1; n <= 12; n++) {
      expect(fail(outliers, "a", 5)).toBe(true);
      const until = outliers.snapshot()[0]!.ejectedUntil!;
      lengths.push((until - clock.ms) / 1000);
      clock.ms = until - 1;
      expect(outliers.isEjected("a", "10.0.0.1")).toBe(true);
      clock.ms = until;
      expect(outliers.isEjected("a", "10.0.0.1")).toBe(false);
      expect(outliers.ejectedCount()).toBe(0);
    }
    expect(lengths).toEqual([30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300]);
    expect(outliers.snapshot()).toEqual([{ identity: "a", address: "10.0.0.1", consecutiveFailures: 0, ejections: 12, ejectedUntil: null }]);
  });

  test("failures of tries that started before the ejection do not extend it", () => {
    const { outliers } = detector();
    fail(outliers, "a", 5);
    const until = outliers.snapshot()[0]!.ejectedUntil;
    expect(fail(outliers, "a", 10)).toBe(false);
    expect(outliers.snapshot()[0]).toMatchObject({ ejections: 1, ejectedUntil: until });
  });

  test("never more than maxEjectionPercent of the eligible endpoints, and never the last one", () => {
    const { outliers } = detector();
    // 4 endpoints at 50 %: two may go, the third stays.
    expect(fail(outliers, "a", 5, 4)).toBe(true);
    expect(fail(outliers, "b", 5, 4)).toBe(true);
    expect(fail(outliers, "c", 5, 4)).toBe(false);
    expect(outliers.ejectedCount()).toBe(2);

    const single = detector().outliers;
    expect(fail(single, "only", 50, 1)).toBe(false);
    expect(single.ejectedCount()).toBe(0);

    const all = detector({ maxEjectionPercent: 100 }).outliers;
    expect(fail(all, "a", 5, 2)).toBe(true);
    expect(fail(all, "b", 5, 2)).toBe(false); // one always stays
  });

  test("a refused ejection is taken once another ends", () => {
    const { clock, outliers } = detector();
    fail(outliers, "a", 5, 2);
    expect(fail(outliers, "b", 5, 2)).toBe(false);
    clock.ms += 30_000;
    expect(outliers.ejectedCount()).toBe(0);
    expect(fail(outliers, "b", 1, 2)).toBe(true); // b's failures kept counting while refused
  });

  test("retain forgets endpoints that left the service", () => {
    const { outliers } = detector();
    fail(outliers, "a", 5);
    fail(outliers, "b", 2);
    outliers.retain([{ identity: "b", address: "10.0.0.1" }]);
    expect(outliers.ejectedCount()).toBe(0);
    expect(outliers.snapshot().map((e) => e.identity)).toEqual(["b"]);
  });

  test("settings are checked at construction with exact messages", () => {
    expect(() => new OutlierDetector({ consecutiveFailures: 0 })).toThrow("consecutiveFailures must be an integer of at least 1, got 0");
    expect(() => new OutlierDetector({ baseEjectionMs: 10, maxEjectionMs: 5 })).toThrow(
      "ejection times must satisfy 0 < baseEjectionMs <= maxEjectionMs, got 10 and 5",
    );
    expect(() => new OutlierDetector({ maxEjectionPercent: 120 })).toThrow("maxEjectionPercent must be from 0 to 100, got 120");
  });
});

describe("OutlierDetector: the multiplier decays", () => {
  test("each 10 s out of ejection lowers the next ejection's length by one step", () => {
    const { clock, outliers } = detector();
    for (let n = 1; n <= 4; n++) {
      fail(outliers, "a", 5);
      clock.ms = outliers.snapshot()[0]!.ejectedUntil!;
    }
    expect(outliers.snapshot()[0]!.ejections).toBe(4);
    // 25 s healthy: two whole intervals; the next ejection is the 3rd step (90 s), not the 5th.
    clock.ms += 25_000;
    expect(outliers.snapshot()[0]!.ejections).toBe(2);
    fail(outliers, "a", 5);
    expect((outliers.snapshot()[0]!.ejectedUntil! - clock.ms) / 1000).toBe(90);
  });

  test("while ejected it does not decay, and a long healthy spell starts it over at 30 s", () => {
    const { clock, outliers } = detector();
    fail(outliers, "a", 5);
    fail(outliers, "a", 5, 4); // tries that began before: ignored
    clock.ms += 29_999;
    expect(outliers.snapshot()[0]!.ejections).toBe(1);
    clock.ms += 1 + 3_600_000;
    fail(outliers, "a", 5);
    expect((outliers.snapshot()[0]!.ejectedUntil! - clock.ms) / 1000).toBe(30);
  });

  test("an endpoint with nothing left on record is forgotten on its next success", () => {
    const { clock, outliers } = detector();
    fail(outliers, "a", 3);
    outliers.recordSuccess("a", "10.0.0.1");
    expect(outliers.snapshot()).toEqual([]);
    fail(outliers, "b", 5);
    clock.ms = outliers.snapshot()[0]!.ejectedUntil!;
    outliers.recordSuccess("b", "10.0.0.1");
    // Multiplier 1 until 10 s have passed out of ejection.
    expect(outliers.snapshot()).toEqual([{ identity: "b", address: "10.0.0.1", consecutiveFailures: 0, ejections: 1, ejectedUntil: null }]);
    clock.ms += 10_000;
    outliers.recordSuccess("b", "10.0.0.1");
    expect(outliers.snapshot()).toEqual([]);
  });
});
