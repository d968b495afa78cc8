// An independent oracle for unweighted Maglev: pseudocode 1 of Eisenbud et al. (NSDI 2016,
// section 3.4) written literally, with permutation[i][j] = (offset + j x skip) mod M and the
// next[] array, sharing only the hash and seeds with the engines.
import { OFFSET_SEED, SKIP_SEED } from "../../wasm/maglev-reference.ts";
import { xxh32 } from "../../wasm/xxhash32.ts";

export function textbookMaglev(names: readonly string[], size: number): string[] {
  const sorted = [...names].sort();
  const encoder = new TextEncoder();
  const permutation = sorted.map((name) => {
    const bytes = encoder.encode(name);
    const offset = xxh32(bytes, OFFSET_SEED) % size;
    const skip = (xxh32(bytes, SKIP_SEED) % (size - 1)) + 1;
    return (j: number) => Number((BigInt(offset) + BigInt(j) * BigInt(skip)) % BigInt(size));
  });
  const next = sorted.map(() => 0);
  const entry: (string | undefined)[] = new Array(size).fill(undefined);
  let n = 0;
  for (;;) {
    for (let i = 0; i < sorted.length; i++) {
      let c = permutation[i]!(next[i]!);
      while (entry[c] !== undefined) {
        next[i]!++;
        c = permutation[i]!(next[i]!);
      }
      entry[c] = sorted[i];
      next[i]!++;
      n++;
      if (n === size) return entry as string[];
    }
  }
}
