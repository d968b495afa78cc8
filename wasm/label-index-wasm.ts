// The WASM label index: the endpoint bitsets of label-interning.ts are copied into the core's
// linear memory once, at build, transposed to columns (one column of u32 per interning word, so
// SIMD tests four endpoints at once), with lane and output buffers beside them; each
// match copies the compiled program into the binding's scratch region and makes one call to
// labelsMatch (wasm/assembly/labels.ts), which allocates nothing. Compiling stays in TS: it is
// string lookups in Maps, done once per selector and cacheable by the caller.
import type { Selector } from "./label-selector.ts";
import { checkCompiled, internLabels, type CompiledSelector, type LabelIndex, type Labels } from "./label-interning.ts";
import type { WasmCore } from "./wasm-core.ts";

/** Builds the WASM index over endpoints 0..n-1 with the given labels; call free() when done. */
export function buildWasmLabelIndex(core: WasmCore, labels: readonly Labels[]): LabelIndex {
  const { interning, bits } = internLabels(labels);
  const { size, words } = interning;
  const exports = core.exports;
  // Columns are padded to a multiple of 16 endpoints (one narrowing step of the SIMD loop), and
  // the padding stays zero. alloc(0) is not asked of the heap: an empty set gets 16 lanes.
  const stride = Math.max(16, (size + 15) & ~15);
  const matrix = exports.alloc(Math.max(words * stride * 4, 16));
  const lanes = exports.alloc(stride * 4);
  const output = exports.alloc(stride);
  // alloc is 16-byte aligned, so matrix / 4 indexes the u32 view; views are read after the
  // allocations because growing memory detaches the old ones.
  const u32 = core.u32;
  const base = matrix >>> 2;
  u32.fill(0, base, base + words * stride);
  for (let row = 0; row < size; row++) {
    for (let word = 0; word < words; word++) u32[base + word * stride + row] = bits[row * words + word]!;
  }
  let freed = false;

  const matchInto = (compiled: CompiledSelector, out: Uint8Array): number => {
    if (freed) throw new Error("label index: used after free()");
    checkCompiled(compiled, interning, out);
    const program = compiled.program;
    const ptr = core.scratch(program.byteLength); // 8-byte aligned, may grow memory
    core.u32.set(program, ptr >>> 2);
    // labelsMatch returns u32 0xffffffff for a malformed program, which JS sees as -1.
    const matched = exports.labelsMatch(matrix, size, stride, words, ptr, program.length, lanes, output);
    if (matched < 0) throw new Error("label index: malformed compiled selector");
    out.set(core.u8.subarray(output, output + size));
    return matched;
  };

  return {
    size,
    compile(selector: Selector): CompiledSelector {
      return interning.compile(selector);
    },
    matchInto,
    match(selector: Selector): Uint8Array {
      const out = new Uint8Array(size);
      matchInto(interning.compile(selector), out);
      return out;
    },
    free(): void {
      if (freed) return;
      freed = true;
      exports.free(matrix);
      exports.free(lanes);
      exports.free(output);
    },
  };
}
