// The Maglev table the hashing pickers share (maglev-picker.ts, bounded-load-picker.ts): Eisenbud
// et al., "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI 2016, section 3.4, in
// the picker's own endpoint numbering. The table numbers endpoints by sorted identity
// (wasm/maglev-plan.ts), the picker by its eligible list; MaglevEndpointTable maps between the two
// and adds the walks the table's own calls do not cover: the preference walk restricted to a
// subset, and bounded load (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with Bounded
// Loads", SODA 2018) over a subset or from a later attempt. MaglevEndpoints builds it on the first
// pick that needs it and, once freed, rebuilds it in plain memory with the reference core.
import { createReferenceCore, type CoreEngine } from "../../wasm/core-engine.ts";
import { MAX_MAGLEV_WEIGHT } from "../../wasm/maglev-plan.ts";
import type { MaglevTable } from "../../wasm/maglev-table.ts";
import type { EligibleEndpoint } from "../table/eligible-endpoints.ts";
import type { PickerInput } from "./picker.ts";

/** A Maglev weight: an integer in [1, 65535] (a weight the table cannot take is clamped, not refused). */
export function maglevWeight(weight: number): number {
  if (!Number.isFinite(weight) || weight < 1) return 1;
  return Math.min(MAX_MAGLEV_WEIGHT, Math.round(weight));
}

/** The bounded-load cap for one more request: ceil(c x (total + 1) / n) (Mirrokni et al., section 2). */
export function loadBound(factor: number, total: number, count: number): number {
  return Math.ceil((factor * (total + 1)) / count);
}

export class MaglevEndpointTable {
  readonly table: MaglevTable;
  readonly #toIndex: Int32Array;
  readonly #toTable: Int32Array;

  /**
   * Builds the table over `endpoints` (the eligible ones, balancer indices 0..n-1) with `core`, and
   * counts the requests already in flight to them (`inFlight`, by balancer index) into its loads, so
   * bounded load sees them even when the table is built after they started.
   */
  constructor(core: CoreEngine, endpoints: readonly EligibleEndpoint[], inFlight: ArrayLike<number>, size?: number) {
    const input = endpoints.map(({ endpoint }) => ({ id: endpoint.identity, weight: maglevWeight(endpoint.weight) }));
    const table = core.buildMaglev(input, size === undefined ? {} : { size });
    this.table = table;
    const position = new Map<string, number>();
    endpoints.forEach(({ endpoint }, index) => position.set(endpoint.identity, index));
    this.#toIndex = new Int32Array(table.ids.length);
    this.#toTable = new Int32Array(endpoints.length);
    table.ids.forEach((id, t) => {
      const index = position.get(id)!;
      this.#toIndex[t] = index;
      this.#toTable[index] = t;
      for (let k = inFlight[index] ?? 0; k > 0; k--) table.acquire(t);
    });
  }

  /** The balancer index at `attempt` on the key's preference walk (0: the key's own slot). */
  lookup(hash: number, attempt: number): number {
    return this.#toIndex[this.table.lookup(hash, attempt)]!;
  }

  /** The table's bounded-load pick over all eligible endpoints, with the table's own loads. */
  pickBounded(hash: number, factor: number): number {
    return this.#toIndex[this.table.pickBounded(hash, factor)]!;
  }

  /**
   * Walks the key's preference list (attempt 0, 1, 2, ...) over the endpoints with `members[i] === 1`
   * (all when undefined; `memberCount` of them), skips the first `attempt % memberCount` members (a
   * retry goes to a different endpoint) and returns the first later member whose in-flight count is
   * below `bound`; when every one is at the bound, the first member not skipped. Pass
   * Infinity as `bound` for plain Maglev.
   *
   * Each step is one table lookup at the next attempt, and the table walks from the key's slot
   * each time, so reaching the j-th distinct endpoint costs about j^2 / 2 slot reads; j is about
   * n / memberCount for a subset, small for any subset that is not a tiny share of a big service.
   */
  walk(
    hash: number,
    attempt: number,
    members: Uint8Array | undefined,
    memberCount: number,
    bound: number,
    inFlight: ArrayLike<number>,
  ): number {
    let skip = attempt % memberCount;
    let fallback = -1;
    const count = this.table.ids.length;
    for (let a = 0; a < count; a++) {
      const index = this.lookup(hash, a);
      if (members !== undefined && members[index] !== 1) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      if (fallback === -1) fallback = index;
      if (inFlight[index]! < bound) return index;
    }
    return fallback;
  }

  acquire(index: number): void {
    if (index < this.#toTable.length) this.table.acquire(this.#toTable[index]!);
  }

  release(index: number): void {
    if (index < this.#toTable.length) this.table.release(this.#toTable[index]!);
  }

  free(): void {
    this.table.free();
  }
}

let referenceCore: CoreEngine | undefined;

/** A picker's Maglev table, built on first use (a table is built in full, then only read). */
export class MaglevEndpoints {
  readonly #input: PickerInput;
  #core: CoreEngine;
  #table: MaglevEndpointTable | undefined;

  constructor(input: PickerInput) {
    this.#input = input;
    this.#core = input.core;
  }

  /** xxHash32 of a hash key (KEY_HASH_SEED), the same on every core. */
  hash(key: string): number {
    return this.#core.hashKey(key);
  }

  /** The table, built now if it was not. */
  table(): MaglevEndpointTable {
    return this.#table ?? this.#build();
  }

  #build(): MaglevEndpointTable {
    const { endpoints, inFlight, maglevTableSize } = this.#input;
    return (this.#table = new MaglevEndpointTable(this.#core, endpoints, inFlight, maglevTableSize));
  }

  /** The table if it is built. */
  built(): MaglevEndpointTable | undefined {
    return this.#table;
  }

  acquire(index: number): void {
    this.#table?.acquire(index);
  }

  release(index: number): void {
    this.#table?.release(index);
  }

  /** Frees the table's memory; a later table() builds a new one with the plain-TS reference core
   * (the same slots, in memory the garbage collector reclaims). */
  free(): void {
    this.#table?.free();
    this.#table = undefined;
    this.#core = referenceCore ??= createReferenceCore();
  }

  /** The identity owning each slot; undefined when there is no eligible endpoint, or the table is
   * not built and `build` is false. */
  slotOwners(build: boolean): string[] | undefined {
    if (this.#input.endpoints.length === 0 || (this.#table === undefined && !build)) return undefined;
    const table = this.table().table;
    const ids = table.ids;
    return Array.from(table.slots(), (slot) => ids[slot]!);
  }
}
