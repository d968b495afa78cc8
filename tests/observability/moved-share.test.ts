import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { movedShare, routesAlike } from "../../router/observability/moved-share.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { seedService, slicesFor } from "../support/seed-backends.ts";
import { buildReferenceMaglevTable } from "../../wasm/maglev-reference.ts";

describe("movedShare on worked examples", () => {
  // Endpoint c removed from a 7-slot table: its slots 2 and 5 go to a and b; no slot of a or b moves.
  const before = ["a", "b", "c", "a", "b", "c", "a"];
  const afterRemoval = ["a", "b", "a", "a", "b", "b", "a"];

  test("removal: every slot counts, so the removed endpoint's slots are the moved ones", () => {
    expect(movedShare(before, afterRemoval)).toBe(2 / 7);
  });

  test("removal, excluding gone owners: only slots of surviving endpoints count, none moved", () => {
    expect(movedShare(before, afterRemoval, { excludeGoneOwners: true })).toBe(0);
  });

  test("removal with a collateral move: slot 0 of survivor a went to b", () => {
    const after = ["b", "b", "a", "a", "b", "b", "a"];
    expect(movedShare(before, after)).toBe(3 / 7);
    // Counted: the 5 slots a and b held (0, 1, 3, 4, 6); moved among them: slot 0.
    expect(movedShare(before, after, { excludeGoneOwners: true })).toBe(1 / 5);
  });

  test("addition: d takes slots 1 (from b) and 5 (from c); nobody is gone, so both counts agree", () => {
    const after = ["a", "d", "c", "a", "b", "d", "a"];
    expect(movedShare(before, after)).toBe(2 / 7);
    expect(movedShare(before, after, { excludeGoneOwners: true })).toBe(2 / 7);
  });

  test("an unchanged table moved nothing; a fully replaced one moved everything", () => {
    expect(movedShare(before, [...before])).toBe(0);
    expect(movedShare(before, before.map(() => "z"))).toBe(1);
  });

  test("nothing to count gives 0: empty tables, or every old owner gone", () => {
    expect(movedShare([], [])).toBe(0);
    expect(movedShare(before, before.map(() => "z"), { excludeGoneOwners: true })).toBe(0);
  });

  test("tables of different sizes are refused", () => {
    expect(() => movedShare(["a", "b"], ["a"])).toThrow("movedShare compares tables of the same size, got 2 and 1 slots");
  });
});

describe("movedShare on real Maglev tables (65537 slots, 10 endpoints)", () => {
  const owners = (ids: readonly string[]): string[] => {
    const table = buildReferenceMaglevTable(ids.map((id) => ({ id })), { size: 65537 });
    return Array.from(table.slots(), (i) => table.ids[i]!);
  };
  const ten = Array.from({ length: 10 }, (_, i) => `web-${i}`);
  const base = owners(ten);

  test("removing one endpoint moves its ~1/10 and very few keys of the others (minimal disruption)", () => {
    const after = owners(ten.filter((id) => id !== "web-3"));
    expect(movedShare(base, after)).toBeGreaterThanOrEqual(0.1 - 0.005);
    expect(movedShare(base, after)).toBeLessThan(0.11);
    // Measured 0.29% with this hash and these names. Maglev trades a little disruption for an even
    // spread (Eisenbud et al. 2016, section 3.4), so the bound is loose but far below 1/10.
    expect(movedShare(base, after, { excludeGoneOwners: true })).toBeLessThan(0.01);
  });

  test("adding an eleventh endpoint moves about 1/11 of the keys, to it", () => {
    const after = owners([...ten, "web-10"]);
    const share = movedShare(base, after);
    expect(share).toBeGreaterThan(1 / 11 - 0.005);
    expect(share).toBeLessThan(1 / 11 + 0.01);
  });
});

describe("movedShare properties", () => {
  const tables = fc
    .integer({ min: 0, max: 40 })
    .chain((n) => fc.tuple(fc.array(fc.constantFrom("a", "b", "c", "d"), { minLength: n, maxLength: n }), fc.array(fc.constantFrom("a", "b", "c", "e"), { minLength: n, maxLength: n })));

  test("a share from 0 to 1, symmetric when every slot counts", () => {
    fc.assert(
      fc.property(tables, ([a, b]) => {
        const share = movedShare(a, b);
        expect(share).toBeGreaterThanOrEqual(0);
        expect(share).toBeLessThanOrEqual(1);
        expect(movedShare(b, a)).toBe(share);
        const excluded = movedShare(a, b, { excludeGoneOwners: true });
        expect(excluded).toBeGreaterThanOrEqual(0);
        expect(excluded).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe("routesAlike: a rebuild that changed nothing a request sees", () => {
  const build = (annotations: Record<string, string>, version: string, ports: number[]) =>
    buildRoutingTable({ services: [{ ...seedService(annotations), metadata: { ...seedService().metadata, annotations, resourceVersion: version } }], endpointSlices: slicesFor("simpleservice", ports.map((port, i) => ({ pod: `p${i}`, port }))) }).services.get("default/simpleservice")!;
  const base = build({}, "1", [9001, 9002]);

  test("a new resourceVersion of the same objects routes alike", () => {
    const again = build({}, "2", [9001, 9002]);
    expect(again).not.toBe(base);
    expect(routesAlike(base, again)).toBe(true);
  });

  test("an endpoint, a port or an annotation that differs is a change", () => {
    expect(routesAlike(base, build({}, "1", [9001]))).toBe(false);
    expect(routesAlike(base, build({}, "1", [9001, 9003]))).toBe(false);
    expect(routesAlike(base, build({ "vipr.io/hash-key": "path" }, "1", [9001, 9002]))).toBe(false);
  });
});
