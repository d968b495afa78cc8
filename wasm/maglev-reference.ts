// Plain-TS reference of wasm/assembly/maglev.ts: the same algorithm step for step (see the
// comments there for the paper and Envoy's weighting), kept readable rather than tuned, and used
// as the oracle in the conformance suite and the baseline in bench/core.bench.ts.
import { encodeKeyInto, encodeStrings, maxUtf8Length } from "./key-encoding.ts";
import { checkLoadFactor, planMaglevTable, type MaglevEndpoint, type MaglevOptions } from "./maglev-plan.ts";
import { KEY_HASH_SEED, type MaglevTable } from "./maglev-table.ts";
import { xxh32 } from "./xxhash32.ts";

/** Seeds of the two hashes of an identity, as in wasm/assembly/maglev.ts. */
export const OFFSET_SEED = 0x9e3779b9;
export const SKIP_SEED = 0x85ebca6b;

let keyBytes = new Uint8Array(256);

function hashKey(key: string): number {
  const room = maxUtf8Length(key.length);
  if (room > keyBytes.length) keyBytes = new Uint8Array(Math.max(room, keyBytes.length * 2));
  return xxh32(keyBytes, KEY_HASH_SEED, 0, encodeKeyInto(key, keyBytes, 0));
}

/** Fills `size` slots for endpoints with the given identities (sorted) and weights. */
export function populateMaglevSlots(size: number, ids: readonly string[], weights: Uint32Array): Uint32Array {
  const count = ids.length;
  const slots = new Uint32Array(size).fill(0xffffffff);
  const position = new Uint32Array(count);
  const skip = new Uint32Array(count);
  const target = new Float64Array(count); // exact: round x weight stays far below 2^53
  let maxWeight = 1;
  const { bytes, offsets } = encodeStrings(ids);
  for (let i = 0; i < count; i++) {
    const start = offsets[i]!;
    const length = offsets[i + 1]! - start;
    position[i] = xxh32(bytes, OFFSET_SEED, start, length) % size;
    skip[i] = (xxh32(bytes, SKIP_SEED, start, length) % (size - 1)) + 1;
    maxWeight = Math.max(maxWeight, weights[i]!);
  }
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (let i = 0; i < count && filled < size; i++) {
      if (round * weights[i]! < target[i]!) continue;
      target[i] = target[i]! + maxWeight;
      const step = skip[i]!;
      let c = position[i]!;
      while (slots[c] !== 0xffffffff) {
        c += step;
        if (c >= size) c -= size;
      }
      slots[c] = i;
      c += step;
      if (c >= size) c -= size;
      position[i] = c;
      filled++;
    }
  }
  return slots;
}

class ReferenceMaglevTable implements MaglevTable {
  readonly size: number;
  readonly ids: readonly string[];
  total = 0;
  readonly #slots: Uint32Array;
  readonly #loads: Uint32Array;
  readonly #seen: Uint32Array;
  #generation = 0;

  constructor(size: number, ids: readonly string[], slots: Uint32Array) {
    this.size = size;
    this.ids = ids;
    this.#slots = slots;
    this.#loads = new Uint32Array(ids.length);
    this.#seen = new Uint32Array(ids.length);
  }

  #nextGeneration(): number {
    this.#generation = (this.#generation + 1) >>> 0;
    if (this.#generation === 0) {
      this.#seen.fill(0);
      this.#generation = 1;
    }
    return this.#generation;
  }

  lookup(hash: number, attempt = 0): number {
    let slot = (hash >>> 0) % this.size;
    if (attempt === 0) return this.#slots[slot]!;
    const generation = this.#nextGeneration();
    let wanted = (attempt >>> 0) % this.ids.length;
    for (;;) {
      const endpoint = this.#slots[slot]!;
      if (this.#seen[endpoint] !== generation) {
        this.#seen[endpoint] = generation;
        if (wanted === 0) return endpoint;
        wanted--;
      }
      slot = slot + 1 === this.size ? 0 : slot + 1;
    }
  }

  lookupKey(key: string, attempt = 0): number {
    return this.lookup(hashKey(key), attempt);
  }

  pickBounded(hash: number, factor: number): number {
    checkLoadFactor(factor);
    const count = this.ids.length;
    const bound = Math.ceil((factor * (this.total + 1)) / count);
    let slot = (hash >>> 0) % this.size;
    const first = this.#slots[slot]!;
    if (this.#loads[first]! < bound) return first;
    const generation = this.#nextGeneration();
    this.#seen[first] = generation;
    for (let met = 1; met < count; ) {
      slot = slot + 1 === this.size ? 0 : slot + 1;
      const endpoint = this.#slots[slot]!;
      if (this.#seen[endpoint] === generation) continue;
      this.#seen[endpoint] = generation;
      if (this.#loads[endpoint]! < bound) return endpoint;
      met++;
    }
    return first;
  }

  pickBoundedKey(key: string, factor: number): number {
    return this.pickBounded(hashKey(key), factor);
  }

  acquire(index: number): void {
    this.#loads[index]!++;
    this.total++;
  }

  release(index: number): void {
    if (this.#loads[index] === 0) return;
    this.#loads[index]!--;
    this.total--;
  }

  load(index: number): number {
    return this.#loads[index] ?? 0;
  }

  slots(): Uint32Array {
    return this.#slots.slice();
  }

  slotCounts(): Uint32Array {
    const counts = new Uint32Array(this.ids.length);
    for (const endpoint of this.#slots) counts[endpoint]!++;
    return counts;
  }

  free(): void {}
}

/** Builds a Maglev table in plain TS. */
export function buildReferenceMaglevTable(endpoints: readonly MaglevEndpoint[], options?: MaglevOptions): MaglevTable {
  const plan = planMaglevTable(endpoints, options);
  return new ReferenceMaglevTable(plan.size, plan.ids, populateMaglevSlots(plan.size, plan.ids, plan.weights));
}

export { hashKey as referenceHashKey };
