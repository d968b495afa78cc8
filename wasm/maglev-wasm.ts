// Maglev tables in the WASM core (wasm/assembly/maglev.ts). The table's slots, loads and walk
// stamps live in linear memory; this class holds the pointer and reads loads through the core's
// views. The build input (identity bytes, offsets, weights) goes through the core's scratch region.
import { encodeStrings } from "./key-encoding.ts";
import { checkLoadFactor, planMaglevTable, type MaglevEndpoint, type MaglevOptions } from "./maglev-plan.ts";
import { KEY_HASH_SEED, type MaglevTable } from "./maglev-table.ts";
import type { CoreExports } from "./core-wasm-module.ts";
import type { WasmCore } from "./wasm-core.ts";

class WasmMaglevTable implements MaglevTable {
  readonly size: number;
  readonly ids: readonly string[];
  readonly #core: WasmCore;
  #table: number;
  readonly #loadsIndex: number; // u32 index of loads[0]
  readonly #totalIndex: number; // u32 index of the total
  // Export functions taken once: a property read per call is measurable at ~100 ns per pick.
  readonly #lookup: CoreExports["maglevLookup"];
  readonly #lookupKey: CoreExports["maglevLookupKey"];
  readonly #pickBounded: CoreExports["maglevPickBounded"];
  readonly #pickBoundedKey: CoreExports["maglevPickBoundedKey"];

  constructor(core: WasmCore, table: number, size: number, ids: readonly string[]) {
    this.#core = core;
    this.#table = table;
    this.size = size;
    this.ids = ids;
    this.#loadsIndex = core.exports.maglevLoads(table) >>> 2;
    this.#totalIndex = core.exports.maglevTotal(table) >>> 2;
    this.#lookup = core.exports.maglevLookup;
    this.#lookupKey = core.exports.maglevLookupKey;
    this.#pickBounded = core.exports.maglevPickBounded;
    this.#pickBoundedKey = core.exports.maglevPickBoundedKey;
  }

  get total(): number {
    return this.#core.u32[this.#totalIndex]!;
  }

  lookup(hash: number, attempt = 0): number {
    return this.#lookup(this.#table, hash, attempt);
  }

  lookupKey(key: string, attempt = 0): number {
    const core = this.#core;
    const length = core.writeKey(key);
    return this.#lookupKey(this.#table, core.keyPtr, length, KEY_HASH_SEED, attempt);
  }

  pickBounded(hash: number, factor: number): number {
    checkLoadFactor(factor);
    return this.#pickBounded(this.#table, hash, factor);
  }

  pickBoundedKey(key: string, factor: number): number {
    checkLoadFactor(factor);
    const core = this.#core;
    const length = core.writeKey(key);
    return this.#pickBoundedKey(this.#table, core.keyPtr, length, KEY_HASH_SEED, factor);
  }

  acquire(index: number): void {
    if (index < 0 || index >= this.ids.length) throw new RangeError(`endpoint index ${index} out of range`);
    const u32 = this.#core.u32;
    u32[this.#loadsIndex + index]!++;
    u32[this.#totalIndex]!++;
  }

  release(index: number): void {
    if (index < 0 || index >= this.ids.length) throw new RangeError(`endpoint index ${index} out of range`);
    const u32 = this.#core.u32;
    if (u32[this.#loadsIndex + index] === 0) return;
    u32[this.#loadsIndex + index]!--;
    u32[this.#totalIndex]!--;
  }

  load(index: number): number {
    if (index < 0 || index >= this.ids.length) return 0;
    return this.#core.u32[this.#loadsIndex + index]!;
  }

  slots(): Uint32Array {
    const { exports } = this.#core;
    const entries = exports.maglevEntries(this.#table);
    if (exports.maglevIsWide(this.#table) !== 0) {
      return this.#core.u32.slice(entries >>> 2, (entries >>> 2) + this.size);
    }
    return Uint32Array.from(this.#core.u16.subarray(entries >>> 1, (entries >>> 1) + this.size));
  }

  slotCounts(): Uint32Array {
    const counts = new Uint32Array(this.ids.length);
    for (const endpoint of this.slots()) counts[endpoint]!++;
    return counts;
  }

  free(): void {
    if (this.#table === 0) return;
    this.#core.exports.maglevFree(this.#table);
    this.#table = 0;
  }
}

/** Builds a Maglev table in the given WASM core instance. */
export function buildWasmMaglevTable(core: WasmCore, endpoints: readonly MaglevEndpoint[], options?: MaglevOptions): MaglevTable {
  const plan = planMaglevTable(endpoints, options);
  const count = plan.ids.length;
  const { bytes, offsets } = encodeStrings(plan.ids);
  // Scratch layout: offsets (N + 1 u32), weights (N u32), then the identity bytes.
  const ptr = core.scratch(offsets.byteLength + plan.weights.byteLength + bytes.length);
  const offsetsPtr = ptr;
  const weightsPtr = offsetsPtr + offsets.byteLength;
  const bytesPtr = weightsPtr + plan.weights.byteLength;
  const u32 = core.u32;
  u32.set(offsets, offsetsPtr >>> 2);
  u32.set(plan.weights, weightsPtr >>> 2);
  core.u8.set(bytes, bytesPtr);
  const table = core.exports.maglevBuild(plan.size, count, bytesPtr, offsetsPtr, weightsPtr);
  return new WasmMaglevTable(core, table, plan.size, plan.ids);
}
