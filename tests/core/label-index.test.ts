// The label index conformance suite for the plain-TS reference and both WASM builds, plus what
// only the WASM binding can get wrong: views after memory growth, use after free, and the
// core's own check of the compiled program.
import { describe, expect, test } from "vitest";
import { buildReferenceLabelIndex } from "../../wasm/label-index-reference.ts";
import { buildWasmLabelIndex } from "../../wasm/label-index-wasm.ts";
import { parseSelector } from "../../wasm/label-selector.ts";
import { WasmCore } from "../../wasm/wasm-core.ts";
import { runLabelIndexConformance } from "./label-index.conformance.ts";

runLabelIndexConformance("reference", buildReferenceLabelIndex);

for (const build of ["release", "debug"] as const) {
  const core = new WasmCore(build);
  runLabelIndexConformance(`wasm ${build}`, (labels) => buildWasmLabelIndex(core, labels));

  describe(`wasm label index binding (${build})`, () => {
    const labels = [{ app: "web" }, { app: "db" }, { app: "web", canary: "" }];

    test("still matches after linear memory grows (old views are detached)", () => {
      const index = buildWasmLabelIndex(core, labels);
      const compiled = index.compile(parseSelector("app=web,!canary"));
      const before = core.exports.memory.buffer.byteLength;
      const big = core.exports.alloc(before * 2);
      expect(core.exports.memory.buffer.byteLength).toBeGreaterThan(before);
      // A program larger than any scratch so far (2000 requirements, 8000 words) also makes the
      // binding grow its scratch region.
      const wide = index.compile(Array.from({ length: 2000 }, () => ({ key: "app", operator: "NotIn" as const, values: ["db"] })));
      expect(wide.program.byteLength).toBeGreaterThan(16_000);
      expect([...index.match(parseSelector("app=web,!canary"))]).toEqual([1, 0, 0]);
      const out = new Uint8Array(3);
      expect(index.matchInto(compiled, out)).toBe(1);
      expect(index.matchInto(wide, out)).toBe(2);
      core.exports.free(big);
      index.free();
    });

    test("free() releases the index; later matches throw and a second free() is harmless", () => {
      const index = buildWasmLabelIndex(core, labels);
      const compiled = index.compile([]);
      index.free();
      index.free();
      expect(() => index.matchInto(compiled, new Uint8Array(3))).toThrow("label index: used after free()");
    });

    test("the core refuses a malformed program instead of reading out of bounds", () => {
      const index = buildWasmLabelIndex(core, labels);
      const good = index.compile(parseSelector("app=web"));
      const forged = (program: number[]) => ({ interning: good.interning, program: Uint32Array.from(program) });
      const out = new Uint8Array(3);
      for (const program of [[], [1], [1, 0, 1, 0], [1, 0, 1, 5, 1], [1, 2, 0], [0, 0], [2, 0, 0], [1, 0, 0x80000000, 0, 1]]) {
        expect(() => index.matchInto(forged(program), out), JSON.stringify(program)).toThrow("label index: malformed compiled selector");
      }
      expect(index.matchInto(forged([1, 0, 1, 0, 0b10]), out)).toBe(2); // the pair app=web by hand
      index.free();
    });
  });
}
