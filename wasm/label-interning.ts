// The compile step shared by the plain-TS and the WASM label index (DESIGN.md, "Choosing one
// endpoint"): every `key=value` pair and every key present among a set of endpoints' labels gets
// an integer id; each endpoint becomes a bitset of its ids; a Selector compiles to bit masks over
// those ids, so matching an endpoint is a few AND operations on u32 words, with no string compare.
//
// Worked example. Endpoints [{app: "web"}, {app: "db", canary: ""}] intern, in first-seen order,
// key app -> 0, app=web -> 1, app=db -> 2, key canary -> 3, canary= -> 4; one u32 word per row:
//   endpoint 0: 0b00011 (bits 0, 1)      endpoint 1: 0b11101 (bits 0, 2, 3, 4)
// `app in (web,db),!canary` compiles to [2, ANY, 1, 0, 0b00110, NONE, 1, 0, 0b01000]
// and only endpoint 0 matches (it has bit 1 or 2, and not bit 3).
import type { Requirement, Selector } from "./label-selector.ts";

/** An endpoint's labels, as on the Pod (or EndpointSlice endpoint). */
export type Labels = Readonly<Record<string, string>>;

/** Requirement modes in a compiled program. */
export const MODE_ANY = 0; // holds when any listed bit is set (In, Exists)
export const MODE_NONE = 1; // holds when no listed bit is set (NotIn, DoesNotExist)

/**
 * A selector compiled against one interning. `program` is u32 words:
 *
 *   [R, then R requirements, each: mode, T, then T terms (word index, bit mask)]
 *
 * A requirement with mode ANY holds when (row[word] & mask) != 0 for some term; NONE holds when
 * that is so for no term. Terms of one requirement have distinct word indices (bits in the same
 * word are ORed into one mask), and every word index is below the interning's `words`.
 * Requirements that always hold (NotIn of values no endpoint carries, DoesNotExist of a key no
 * endpoint has) are left out; one that never holds (In of such values, Exists of such a key)
 * replaces the whole program with [1, ANY, 0], which matches nothing.
 */
export interface CompiledSelector {
  readonly interning: LabelInterning;
  readonly program: Uint32Array;
}

/**
 * The contract of a label index (one per endpoint set; immutable once built, so callers may
 * cache compiled selectors and results for as long as they hold the index).
 */
export interface LabelIndex {
  /** Number of endpoints. */
  readonly size: number;
  /** Compiles a selector against this index's interning; the result is reusable. */
  compile(selector: Selector): CompiledSelector;
  /** Writes 1 or 0 for endpoints 0..size-1 into out[0..size), returns the count of 1s. */
  matchInto(compiled: CompiledSelector, out: Uint8Array): number;
  /** compile + matchInto into a fresh array of `size` bytes. */
  match(selector: Selector): Uint8Array;
  /** Releases the index's WASM memory, after which the WASM index throws; a no-op for the reference. */
  free(): void;
}

interface InternedKey {
  readonly id: number;
  readonly values: Map<string, number>;
}

/** The id tables of one endpoint set; compile selectors with `compile`. */
export class LabelInterning {
  /** Number of endpoints. */
  readonly size: number;
  /** u32 words per endpoint row: ceil(ids / 32). */
  readonly words: number;
  readonly #keys: ReadonlyMap<string, InternedKey>;

  constructor(size: number, words: number, keys: ReadonlyMap<string, InternedKey>) {
    this.size = size;
    this.words = words;
    this.#keys = keys;
  }

  /** Compiles `selector` to the program described at CompiledSelector. */
  compile(selector: Selector): CompiledSelector {
    const program: number[] = [0];
    let count = 0;
    for (const requirement of selector) {
      const ids = this.#ids(requirement);
      const mode = requirement.operator === "In" || requirement.operator === "Exists" ? MODE_ANY : MODE_NONE;
      if (ids.length === 0) {
        if (mode === MODE_NONE) continue; // nothing to exclude: always holds
        return { interning: this, program: Uint32Array.of(1, MODE_ANY, 0) }; // never holds
      }
      program.push(mode, 0);
      const countAt = program.length - 1;
      const masks = new Map<number, number>();
      for (const id of ids) masks.set(id >>> 5, ((masks.get(id >>> 5) ?? 0) | (1 << (id & 31))) >>> 0);
      for (const [word, mask] of masks) program.push(word, mask);
      program[countAt] = masks.size;
      count++;
    }
    program[0] = count;
    return { interning: this, program: Uint32Array.from(program) };
  }

  /** The ids a requirement tests: the key's id, or the ids of its values that some endpoint has. */
  #ids(requirement: Requirement): number[] {
    const key = this.#keys.get(requirement.key);
    if (key === undefined) return [];
    if (requirement.operator === "Exists" || requirement.operator === "DoesNotExist") return [key.id];
    const ids: number[] = [];
    for (const value of requirement.values) {
      const id = key.values.get(value);
      if (id !== undefined) ids.push(id);
    }
    return ids;
  }
}

/** The interning of an endpoint set and its rows: `size` x `words` u32 words, row-major. */
export interface InternedLabels {
  readonly interning: LabelInterning;
  readonly bits: Uint32Array;
}

/** Interns the labels of endpoints 0..n-1 (ids in first-seen order) and builds their bitsets. */
export function internLabels(labels: readonly Labels[]): InternedLabels {
  const keys = new Map<string, InternedKey>();
  let next = 0;
  const rows: number[][] = [];
  for (const endpoint of labels) {
    const ids: number[] = [];
    for (const name of Object.keys(endpoint)) {
      const value = endpoint[name] ?? "";
      let key = keys.get(name);
      if (key === undefined) {
        key = { id: next++, values: new Map() };
        keys.set(name, key);
      }
      let pair = key.values.get(value);
      if (pair === undefined) {
        pair = next++;
        key.values.set(value, pair);
      }
      ids.push(key.id, pair);
    }
    rows.push(ids);
  }
  const words = (next + 31) >>> 5;
  const bits = new Uint32Array(labels.length * words);
  rows.forEach((ids, row) => {
    for (const id of ids) bits[row * words + (id >>> 5)]! |= 1 << (id & 31);
  });
  return { interning: new LabelInterning(labels.length, words, keys), bits };
}

/** Throws unless `compiled` was compiled by `interning` (ids mean nothing in another table). */
export function checkCompiled(compiled: CompiledSelector, interning: LabelInterning, out: Uint8Array): void {
  if (compiled.interning !== interning) throw new Error("label index: selector was compiled by another label index");
  if (out.length < interning.size) {
    throw new Error(`label index: output holds ${out.length} bytes, need ${interning.size} (one per endpoint)`);
  }
}
