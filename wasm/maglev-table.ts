// The contract of a built Maglev table, met by the WASM core (wasm/maglev-wasm.ts) and the plain
// TS reference (wasm/maglev-reference.ts); the CoreEngine conformance suite
// (tests/core/core.conformance.ts, run by tests/core/core-engines.test.ts) checks both.

/** Seed of key hashes (xxHash32) for lookupKey and pickBoundedKey. */
export const KEY_HASH_SEED = 0;

/**
 * A table built in full, then only read. Endpoint indices refer to `ids`, the identities in
 * sorted order. In-flight loads for bounded-load picks live with the table, counted by the
 * caller with acquire and release.
 */
export interface MaglevTable {
  /** M, the number of slots. */
  readonly size: number;
  /** Endpoint identities; an endpoint index is a position here. */
  readonly ids: readonly string[];
  /** Sum of in-flight loads. */
  readonly total: number;
  /** The endpoint of the key's preference walk at `attempt` (0 = its own slot). */
  lookup(hash: number, attempt?: number): number;
  /** lookup for a string key, hashed from its UTF-8 bytes with KEY_HASH_SEED. */
  lookupKey(key: string, attempt?: number): number;
  /** Bounded load: the first endpoint on the walk whose load is below ceil(factor x (total + 1) / N). */
  pickBounded(hash: number, factor: number): number;
  pickBoundedKey(key: string, factor: number): number;
  /** Counts a request in to, and out of, an endpoint. */
  acquire(index: number): void;
  release(index: number): void;
  load(index: number): number;
  /** A copy of the slots: the endpoint index in each. */
  slots(): Uint32Array;
  /** How many slots each endpoint holds. */
  slotCounts(): Uint32Array;
  /** Releases the table's memory; the table must not be used afterwards. */
  free(): void;
}
