// Property tests: the WASM core and the plain-TS reference agree on random inputs.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createReferenceCore, createWasmCore } from "../../wasm/core-engine.ts";
import { nextPrime } from "../../wasm/maglev-plan.ts";

const reference = createReferenceCore();
const wasm = createWasmCore("release");

const identity = fc.string({ minLength: 1, maxLength: 24, unit: "grapheme" });
const endpointSet = fc.uniqueArray(fc.record({ id: identity, weight: fc.integer({ min: 1, max: 9 }) }), {
  minLength: 1,
  maxLength: 40,
  selector: (endpoint) => endpoint.id,
});

describe("wasm and reference agree", () => {
  test("xxHash32 of random bytes and seeds", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffffffff }), (bytes, seed) => {
        expect(wasm.hashBytes(bytes, seed)).toBe(reference.hashBytes(bytes, seed));
      }),
      { numRuns: 300 },
    );
  });

  test("hashKey of random strings (ASCII fast path and UTF-8 fallback)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 64 }), fc.string({ unit: "grapheme", maxLength: 64 })), (key) => {
        expect(wasm.hashKey(key)).toBe(reference.hashKey(key));
      }),
      { numRuns: 300 },
    );
  });

  test("tables, walks and bounded picks for random endpoint sets, weights and sizes", () => {
    fc.assert(
      fc.property(
        endpointSet,
        fc.integer({ min: 0, max: 3000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 50 })), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat({ max: 30 }), { maxLength: 40 }),
        fc.double({ min: 1, max: 3, noNaN: true }),
        (endpoints, extra, probes, loads, factor) => {
          const size = nextPrime(endpoints.length + extra);
          const a = reference.buildMaglev(endpoints, { size });
          const b = wasm.buildMaglev(endpoints, { size });
          try {
            expect(b.ids).toEqual(a.ids);
            expect(b.slots()).toEqual(a.slots());
            loads.forEach((load, i) => {
              const index = i % a.ids.length;
              for (let n = 0; n < load; n++) {
                a.acquire(index);
                b.acquire(index);
              }
            });
            for (const [hash, attempt] of probes) {
              expect(b.lookup(hash, attempt)).toBe(a.lookup(hash, attempt));
              expect(b.pickBounded(hash, factor)).toBe(a.pickBounded(hash, factor));
            }
          } finally {
            a.free();
            b.free();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
