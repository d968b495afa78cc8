// The plain-TS label index: the bitset algorithm of label-interning.ts evaluated over a
// Uint32Array, step for step what wasm/assembly/labels.ts does in linear memory. It is the
// reference the WASM index is tested against and the fallback where WASM is not wanted.
import type { Selector } from "./label-selector.ts";
import { checkCompiled, internLabels, MODE_NONE, type CompiledSelector, type LabelIndex, type Labels } from "./label-interning.ts";

/**
 * Runs a compiled program over `size` rows of `words` u32 words and writes 1/0 per row into out;
 * returns the count of 1s. Short-circuits: a row stops at its first failing requirement.
 */
export function evaluateProgram(bits: Uint32Array, size: number, words: number, program: Uint32Array, out: Uint8Array): number {
  const requirements = program[0] ?? 0;
  let matched = 0;
  for (let row = 0, base = 0; row < size; row++, base += words) {
    let ok = 1;
    let pc = 1;
    for (let r = 0; r < requirements; r++) {
      const mode = program[pc] ?? 0;
      const terms = program[pc + 1] ?? 0;
      const end = pc + 2 + 2 * terms;
      let any = false;
      for (let t = pc + 2; t < end; t += 2) {
        if (((bits[base + (program[t] ?? 0)] ?? 0) & (program[t + 1] ?? 0)) !== 0) {
          any = true;
          break;
        }
      }
      if (any === (mode === MODE_NONE)) {
        ok = 0;
        break;
      }
      pc = end;
    }
    out[row] = ok;
    matched += ok;
  }
  return matched;
}

/** Builds the plain-TS index over endpoints 0..n-1 with the given labels. */
export function buildReferenceLabelIndex(labels: readonly Labels[]): LabelIndex {
  const { interning, bits } = internLabels(labels);
  const matchInto = (compiled: CompiledSelector, out: Uint8Array): number => {
    checkCompiled(compiled, interning, out);
    return evaluateProgram(bits, interning.size, interning.words, compiled.program, out);
  };
  return {
    size: interning.size,
    compile: (selector: Selector) => interning.compile(selector),
    matchInto,
    match(selector: Selector): Uint8Array {
      const out = new Uint8Array(interning.size);
      matchInto(interning.compile(selector), out);
      return out;
    },
    free(): void {},
  };
}
