// The conformance suite of CoreEngine (wasm/core-engine.ts): every engine, WASM or reference,
// runs these same cases (tests/core/core-engines.test.ts).
import { describe, expect, test } from "vitest";
import type { CoreEngine } from "../../wasm/core-engine.ts";
import { xxh32 } from "../../wasm/xxhash32.ts";
import { textbookMaglev } from "./textbook-maglev.ts";

const encoder = new TextEncoder();
const ids = (count: number, prefix = "pod-"): { id: string }[] =>
  Array.from({ length: count }, (_, i) => ({ id: `${prefix}${i}` }));

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function runCoreConformance(name: string, createEngine: () => CoreEngine): void {
  describe(`core conformance: ${name}`, () => {
    const engine = createEngine();

    describe("xxHash32", () => {
      // Vectors from the xxHash reference implementation (seed 0 unless noted).
      test.each([
        ["", 0, 0x02cc5d05],
        ["a", 0, 0x550d7456],
        ["abc", 0, 0x32d153ff],
        ["Nobody inspects the spammish repetition", 0, 0xe2293b2f],
        ["abc", 1, xxh32(encoder.encode("abc"), 1)],
      ])("xxh32(%j, seed %i)", (text, seed, expected) => {
        expect(engine.hashBytes(encoder.encode(text), seed)).toBe(expected);
      });

      test("every length from 0 to 80 bytes matches the reference (all tail paths)", () => {
        const bytes = Uint8Array.from({ length: 80 }, (_, i) => (i * 37 + 11) & 0xff);
        for (let length = 0; length <= 80; length++) {
          const part = bytes.subarray(0, length);
          expect(engine.hashBytes(part, 7)).toBe(xxh32(part, 7));
        }
      });

      test("hashKey hashes the UTF-8 bytes, for ASCII, non-ASCII and long keys", () => {
        for (const key of ["", "user-42", "10.0.0.7", "grüße", "鍵🔑", "x".repeat(1000), "é".repeat(300)]) {
          expect(engine.hashKey(key)).toBe(xxh32(encoder.encode(key), 0));
        }
      });
    });

    describe("maglev configuration errors", () => {
      test.each([
        [[], {}, "maglev table needs at least one endpoint"],
        [ids(3), { size: 8 }, "maglev table size must be prime, got 8"],
        [ids(3), { size: 7.5 }, "maglev table size must be an integer, got 7.5"],
        [ids(3), { size: 2 }, "maglev table size must be at least the endpoint count 3, got 2"],
        [ids(1), { size: 67108879 }, "maglev table size must be at most 67108864, got 67108879"],
        [[{ id: "a" }, { id: "" }], {}, 'maglev endpoint identity must be a non-empty string, got "" at index 1'],
        [[{ id: "a" }, { id: "b" }, { id: "a" }], {}, 'maglev endpoint identity "a" appears more than once'],
        [[{ id: "a", weight: 0 }], {}, 'maglev endpoint weight must be an integer from 1 to 65535, got 0 for "a"'],
        [[{ id: "a", weight: 1.5 }], {}, 'maglev endpoint weight must be an integer from 1 to 65535, got 1.5 for "a"'],
        [[{ id: "a", weight: 65536 }], {}, 'maglev endpoint weight must be an integer from 1 to 65535, got 65536 for "a"'],
      ])("%# rejects with an exact message", (endpoints, options, message) => {
        expect(() => engine.buildMaglev(endpoints, options)).toThrow(message);
      });

      test("bounded load factor below 1 is rejected", () => {
        const table = engine.buildMaglev(ids(3), { size: 7 });
        expect(() => table.pickBounded(1, 0.5)).toThrow("bounded load factor must be a finite number of at least 1, got 0.5");
        expect(() => table.pickBoundedKey("k", Number.NaN)).toThrow("got NaN");
        table.free();
      });
    });

    describe("maglev tables", () => {
      test("default size is 65537, or the smallest prime >= 100 x endpoints", () => {
        const small = engine.buildMaglev(ids(3));
        expect(small.size).toBe(65537);
        small.free();
        const large = engine.buildMaglev(ids(1000));
        expect(large.size).toBe(100003);
        large.free();
      });

      // Golden tables: slot -> endpoint identity, frozen from the first build so that any change
      // to hashing, seeds or fill order shows here. Unweighted goldens are also checked against
      // the paper's pseudocode in tests/core/textbook-maglev.ts.
      test.each([
        [["a", "b", "c"], 7, "a a b b c c a"],
        [["pod-0", "pod-1"], 5, "pod-0 pod-1 pod-1 pod-0 pod-0"],
        [["web-1", "web-2", "web-3", "web-4"], 13, "web-2 web-4 web-1 web-2 web-4 web-4 web-3 web-3 web-3 web-1 web-1 web-2 web-1"],
      ])("golden %j at M=%i", (names, size, golden) => {
        const table = engine.buildMaglev(names.map((id) => ({ id })), { size });
        const owners = [...table.slots()].map((i) => table.ids[i]);
        expect(owners).toEqual(textbookMaglev(names, size));
        expect(owners.join(" ")).toBe(golden);
        table.free();
      });

      // Weights 2, 1, 1 (max 2): round 1 all take a turn (targets become 2); round 2 all again
      // (2 x 2 >= 2, 2 x 1 >= 2); round 3 only a (6 >= 4, 3 < 4); round 4 all; round 5 a fills
      // the last slot: a 5, b 3, c 3 of 11.
      test("golden weighted table: weight 2 takes about twice the slots", () => {
        const table = engine.buildMaglev([{ id: "a", weight: 2 }, { id: "b" }, { id: "c" }], { size: 11 });
        const owners = [...table.slots()].map((i) => table.ids[i]);
        expect(owners.join(" ")).toBe("b c a a b a a a c b c");
        expect([...table.slotCounts()]).toEqual([5, 3, 3]);
        table.free();
      });

      test("shuffled input builds the same table", () => {
        const endpoints = ids(200).map((e, i) => ({ ...e, weight: 1 + (i % 3) }));
        const first = engine.buildMaglev(endpoints, { size: 20011 });
        const owners = [...first.slots()].map((i) => first.ids[i]);
        for (const seed of [1, 2, 3]) {
          const other = engine.buildMaglev(shuffled(endpoints, seed), { size: 20011 });
          expect(other.ids).toEqual(first.ids);
          expect([...other.slots()].map((i) => other.ids[i])).toEqual(owners);
          other.free();
        }
        first.free();
      });

      test.each([
        [3, 65537],
        [7, 65537],
        [100, 65537],
        [655, 65537],
        [1000, 100003],
      ])("unweighted: each of %i endpoints holds floor or ceil of M/N slots (M=%i)", (count, size) => {
        const table = engine.buildMaglev(ids(count), { size });
        const counts = [...table.slotCounts()];
        const low = Math.floor(size / count);
        expect(Math.min(...counts)).toBeGreaterThanOrEqual(low);
        expect(Math.max(...counts)).toBeLessThanOrEqual(Math.ceil(size / count));
        expect(counts.reduce((a, b) => a + b, 0)).toBe(size);
        table.free();
      });

      test("weighted: slots are proportional to weights", () => {
        const weights = [1, 2, 3, 5, 8, 13];
        const table = engine.buildMaglev(weights.map((weight, i) => ({ id: `w-${i}`, weight })), { size: 65537 });
        const counts = table.slotCounts();
        const sum = weights.reduce((a, b) => a + b, 0);
        table.ids.forEach((id, index) => {
          const weight = weights[Number(id.slice(2))]!;
          const ideal = (65537 * weight) / sum;
          expect(Math.abs(counts[index]! - ideal)).toBeLessThanOrEqual(weights.length + 1);
        });
        table.free();
      });

      test("disruption: removing one of 100 endpoints moves its keys plus at most 1% of the table", () => {
        const size = 65537;
        const before = engine.buildMaglev(ids(100), { size });
        const after = engine.buildMaglev(ids(100).filter((e) => e.id !== "pod-37"), { size });
        const oldOwners = before.slots();
        const newOwners = after.slots();
        let moved = 0;
        for (let slot = 0; slot < size; slot++) {
          const from = before.ids[oldOwners[slot]!];
          if (from !== "pod-37" && from !== after.ids[newOwners[slot]!]) moved++;
        }
        const share = moved / size;
        console.log(`[${name}] maglev disruption, 100 -> 99 endpoints at M=${size}: ${moved} other slots moved (${(share * 100).toFixed(3)}%)`);
        expect(share).toBeLessThanOrEqual(0.01);
        before.free();
        after.free();
      });

      test("wide tables (more than 65535 endpoints) use u32 slots", () => {
        const table = engine.buildMaglev(ids(70000), { size: 70001 });
        const counts = table.slotCounts();
        expect(Math.min(...counts)).toBe(1);
        expect(table.ids[table.lookupKey("k")]).toMatch(/^pod-/);
        table.free();
      });
    });

    describe("preference walk and bounded load", () => {
      test("attempt 0 is the slot owner; attempts 0..N-1 visit every endpoint once; attempt N wraps", () => {
        const table = engine.buildMaglev(ids(10), { size: 1009 });
        const slots = table.slots();
        for (const hash of [0, 1, 12345, 0xffffffff, 0x80000000]) {
          expect(table.lookup(hash)).toBe(slots[(hash >>> 0) % 1009]);
          const walk = Array.from({ length: 10 }, (_, attempt) => table.lookup(hash, attempt));
          expect(new Set(walk).size).toBe(10);
          expect(table.lookup(hash, 10)).toBe(walk[0]);
          expect(table.lookup(hash, 13)).toBe(walk[3]);
        }
        table.free();
      });

      test("lookupKey equals lookup of hashKey", () => {
        const table = engine.buildMaglev(ids(5), { size: 101 });
        for (const key of ["alice", "bob", "10.1.2.3", "ünïcode"]) {
          for (const attempt of [0, 1, 4]) expect(table.lookupKey(key, attempt)).toBe(table.lookup(engine.hashKey(key), attempt));
        }
        table.free();
      });

      test("pickBounded takes the first endpoint on the walk under ceil(c x (total + 1) / N)", () => {
        const table = engine.buildMaglev(ids(4), { size: 101 });
        const hash = 424242;
        const walk = [0, 1, 2, 3].map((attempt) => table.lookup(hash, attempt));
        expect(table.pickBounded(hash, 1.25)).toBe(walk[0]);
        // Loads 3, 3, 0, 0: total 6, bound ceil(1.25 x 7 / 4) = 3, so the first two are full.
        for (let i = 0; i < 3; i++) {
          table.acquire(walk[0]!);
          table.acquire(walk[1]!);
        }
        expect(table.total).toBe(6);
        expect(table.load(walk[0]!)).toBe(3);
        expect(table.pickBounded(hash, 1.25)).toBe(walk[2]);
        expect(table.pickBoundedKey("any", 1000)).toBe(table.lookupKey("any"));
        for (let i = 0; i < 3; i++) table.release(walk[0]!);
        table.release(walk[0]!); // an extra release never goes below zero
        expect(table.load(walk[0]!)).toBe(0);
        expect(table.total).toBe(3);
        expect(table.pickBounded(hash, 1.25)).toBe(walk[0]);
        table.free();
      });

      test("bounded load keeps every endpoint at or under its bound as load grows", () => {
        const table = engine.buildMaglev(ids(8), { size: 1009 });
        const factor = 1.25;
        for (let request = 0; request < 400; request++) {
          const bound = Math.ceil((factor * (table.total + 1)) / 8);
          const picked = table.pickBoundedKey(`client-${request % 7}`, factor);
          expect(table.load(picked)).toBeLessThan(bound);
          table.acquire(picked);
        }
        const loads = table.ids.map((_, i) => table.load(i));
        expect(Math.max(...loads)).toBeLessThanOrEqual(Math.ceil((factor * 400) / 8));
        table.free();
      });
    });
  });
}
