// Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
// Balancer", NSDI 2016, section 3.4, pseudocode 1), with weights as Envoy does them
// (source/extensions/load_balancing_policies/maglev/maglev_lb.cc): an endpoint of weight w takes a
// turn in a round only when round * w has caught up with its running target, which grows by the
// largest weight each time it takes a slot; unweighted, every endpoint takes a turn every round.
//
// The table lives in linear memory, built in full by maglevBuild and then only read. The caller
// (wasm/maglev-wasm.ts) sorts endpoints by identity first, so the table is independent of input
// order, and validates sizes and weights, so nothing here can fail.

import { xxh32 } from "./hash";

/** Seeds of the two hashes of an endpoint identity: its offset and its skip in the paper. */
// @ts-ignore: decorator
@inline export const OFFSET_SEED: u32 = 0x9e3779b9;
// @ts-ignore: decorator
@inline export const SKIP_SEED: u32 = 0x85ebca6b;

// Table header, u32 words at the table pointer.
// @ts-ignore: decorator
@inline const H_SIZE: usize = 0; // M, a prime
// @ts-ignore: decorator
@inline const H_COUNT: usize = 4; // N endpoints
// @ts-ignore: decorator
@inline const H_WIDE: usize = 8; // 1 when entries are u32 (N > 65535), else u16
// @ts-ignore: decorator
@inline const H_ENTRIES: usize = 12; // pointer to M entries
// @ts-ignore: decorator
@inline const H_LOADS: usize = 16; // pointer to N u32 in-flight counts, written by JS
// @ts-ignore: decorator
@inline const H_SEEN: usize = 20; // pointer to N u32 generation stamps for walks
// @ts-ignore: decorator
@inline const H_GEN: usize = 24; // current walk generation
// @ts-ignore: decorator
@inline const H_TOTAL: usize = 28; // sum of loads, written by JS
// @ts-ignore: decorator
@inline const HEADER_BYTES: usize = 32;

// @ts-ignore: decorator
@inline
function entryAt(entries: usize, wide: bool, slot: u32): u32 {
  // slot < M always holds at the call sites (hash % M, or a walk that wraps at M).
  return wide ? load<u32>(entries + (<usize>slot << 2)) : <u32>load<u16>(entries + (<usize>slot << 1));
}

/**
 * Fills `size` slots of type T (u16 or u32) at `entries` with endpoint indices. Per endpoint, the
 * 16-byte state at `state` holds: the next candidate slot (offset + next x skip) mod M, the skip,
 * and the running target (u64). A byte per slot marks it taken (64 KiB at M = 65537, in L2): the
 * ~M ln M probes read it instead of the entries. Measured on this project's machines with
 * taskset, 1000 endpoints at M = 65537: 2.10 ms with a bitmap (M bits, in L1 but a shift and a
 * mask per probe), 2.02 ms with bytes; the probes are bound by mispredicted loop exits.
 */
function populate<T>(entries: usize, size: u32, count: u32, state: usize, weights: usize, maxWeight: u64, taken: usize): void {
  let filled: u32 = 0;
  for (let round: u64 = 1; filled < size; round++) {
    let s = state;
    for (let i: u32 = 0; i < count && filled < size; i++, s += 16) {
      const w = <u64>load<u32>(weights + (<usize>i << 2)); // i < count: inside the weights
      const t = load<u64>(s, 8);
      if (round * w < t) continue;
      store<u64>(s, t + maxWeight, 8);
      const step = load<u32>(s, 4);
      let c = load<u32>(s);
      // Adding the skip modulo M walks the endpoint's permutation without a multiply or divide;
      // c < M and step < M, so c + step < 2^32. A free slot exists while filled < size.
      while (load<u8>(taken + <usize>c) != 0) {
        c += step;
        if (c >= size) c -= size;
      }
      store<u8>(taken + <usize>c, 1);
      store<T>(entries + (<usize>c << alignof<T>()), <T>i);
      c += step;
      if (c >= size) c -= size;
      store<u32>(s, c);
      filled++;
    }
  }
}

/**
 * Builds a table of `size` slots for `count` endpoints whose identities are the UTF-8 bytes
 * `bytes[offsets[i] .. offsets[i+1])` and whose weights are `weights[i]` (positive integers).
 * Returns the table pointer; free it with maglevFree.
 */
export function maglevBuild(size: u32, count: u32, bytes: usize, offsets: usize, weights: usize): usize {
  const wide = count > 0xffff;
  const entries = heap.alloc(<usize>size << (wide ? 2 : 1));
  const n = <usize>count;
  const state = heap.alloc(n << 4);
  const takenBytes = <usize>size;
  const taken = heap.alloc(takenBytes);
  memory.fill(taken, 0, takenBytes);
  let maxWeight: u64 = 1;
  for (let i: usize = 0; i < n; i++) {
    const start = load<u32>(offsets + (i << 2));
    const len = load<u32>(offsets + ((i + 1) << 2)) - start;
    const id = bytes + <usize>start;
    const s = state + (i << 4);
    store<u32>(s, xxh32(id, len, OFFSET_SEED) % size);
    store<u32>(s, xxh32(id, len, SKIP_SEED) % (size - 1) + 1, 4);
    store<u64>(s, 0, 8);
    const w = <u64>load<u32>(weights + (i << 2));
    if (w > maxWeight) maxWeight = w;
  }
  if (wide) populate<u32>(entries, size, count, state, weights, maxWeight, taken);
  else populate<u16>(entries, size, count, state, weights, maxWeight, taken);
  heap.free(state);
  heap.free(taken);

  const table = heap.alloc(HEADER_BYTES);
  const loads = heap.alloc(n << 2);
  const seen = heap.alloc(n << 2);
  memory.fill(loads, 0, n << 2);
  memory.fill(seen, 0, n << 2);
  store<u32>(table + H_SIZE, size);
  store<u32>(table + H_COUNT, count);
  store<u32>(table + H_WIDE, wide ? 1 : 0);
  store<u32>(table + H_ENTRIES, <u32>entries);
  store<u32>(table + H_LOADS, <u32>loads);
  store<u32>(table + H_SEEN, <u32>seen);
  store<u32>(table + H_GEN, 0);
  store<u32>(table + H_TOTAL, 0);
  return table;
}

/** Frees a table made by maglevBuild. */
export function maglevFree(table: usize): void {
  heap.free(<usize>load<u32>(table + H_ENTRIES));
  heap.free(<usize>load<u32>(table + H_LOADS));
  heap.free(<usize>load<u32>(table + H_SEEN));
  heap.free(table);
}

/** Pointer to the table's entries (u16 or u32 per slot, see maglevIsWide). */
export function maglevEntries(table: usize): usize {
  return <usize>load<u32>(table + H_ENTRIES);
}

/** Pointer to the table's N u32 in-flight loads; the JS side counts requests in and out there. */
export function maglevLoads(table: usize): usize {
  return <usize>load<u32>(table + H_LOADS);
}

/** Pointer to the u32 sum of loads, kept by the JS side beside the loads. */
export function maglevTotal(table: usize): usize {
  return table + H_TOTAL;
}

/** 1 when entries are u32. */
export function maglevIsWide(table: usize): u32 {
  return load<u32>(table + H_WIDE);
}

/** Starts a new walk: a fresh generation, so that no endpoint counts as seen. */
// @ts-ignore: decorator
@inline
function nextGeneration(table: usize, seen: usize, count: u32): u32 {
  let gen = load<u32>(table + H_GEN) + 1;
  if (gen == 0) {
    // Wrapped after 2^32 walks: old stamps could collide, so clear them.
    memory.fill(seen, 0, <usize>count << 2);
    gen = 1;
  }
  store<u32>(table + H_GEN, gen);
  return gen;
}

/**
 * The key's preference walk: attempt 0 is the endpoint in slot hash % M; attempt k is the k-th
 * further distinct endpoint met scanning the slots after it (wrapping), so retries go to
 * endpoints that differ from earlier attempts and follow the same consistent order on every
 * replica. Attempts past N wrap around (attempt % N).
 */
export function maglevLookup(table: usize, hash: u32, attempt: u32): u32 {
  const size = load<u32>(table + H_SIZE);
  const entries = <usize>load<u32>(table + H_ENTRIES);
  const wide = load<u32>(table + H_WIDE) != 0;
  let slot = hash % size;
  if (attempt == 0) return entryAt(entries, wide, slot);
  const count = load<u32>(table + H_COUNT);
  const seen = <usize>load<u32>(table + H_SEEN);
  const gen = nextGeneration(table, seen, count);
  let wanted = attempt % count;
  // Every endpoint holds at least one slot (M >= N), so the scan meets all N within M steps.
  while (true) {
    const e = entryAt(entries, wide, slot);
    const stamp = seen + (<usize>e << 2);
    if (load<u32>(stamp) != gen) {
      store<u32>(stamp, gen);
      if (wanted == 0) return e;
      wanted--;
    }
    slot++;
    if (slot == size) slot = 0;
  }
  return unreachable();
}

/**
 * Bounded-load pick (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with Bounded Loads",
 * SODA 2018): the first endpoint on the key's preference walk whose in-flight load is below
 * ceil(factor * (total + 1) / N). With factor >= 1 some endpoint is always below that bound when
 * total is the sum of loads; if the JS side ever breaks that invariant, the walk ends after all N
 * endpoints and falls back to the key's first choice instead of spinning.
 */
export function maglevPickBounded(table: usize, hash: u32, factor: f64): u32 {
  const size = load<u32>(table + H_SIZE);
  const count = load<u32>(table + H_COUNT);
  const entries = <usize>load<u32>(table + H_ENTRIES);
  const wide = load<u32>(table + H_WIDE) != 0;
  const loads = <usize>load<u32>(table + H_LOADS);
  const total = load<u32>(table + H_TOTAL);
  const bound = <u32>Math.ceil(factor * (<f64>total + 1) / <f64>count);
  const first = hash % size;
  let slot = first;
  const e0 = entryAt(entries, wide, slot);
  if (load<u32>(loads + (<usize>e0 << 2)) < bound) return e0;
  const seen = <usize>load<u32>(table + H_SEEN);
  const gen = nextGeneration(table, seen, count);
  store<u32>(seen + (<usize>e0 << 2), gen);
  let met: u32 = 1;
  while (met < count) {
    slot++;
    if (slot == size) slot = 0;
    const e = entryAt(entries, wide, slot);
    const stamp = seen + (<usize>e << 2);
    if (load<u32>(stamp) == gen) continue;
    store<u32>(stamp, gen);
    if (load<u32>(loads + (<usize>e << 2)) < bound) return e;
    met++;
  }
  return e0;
}

/** maglevLookup for a key of `len` bytes at `key`, hashed with xxHash32 and `seed`. */
export function maglevLookupKey(table: usize, key: usize, len: usize, seed: u32, attempt: u32): u32 {
  return maglevLookup(table, xxh32(key, len, seed), attempt);
}

/** maglevPickBounded for a key of `len` bytes at `key`, hashed with xxHash32 and `seed`. */
export function maglevPickBoundedKey(table: usize, key: usize, len: usize, seed: u32, factor: f64): u32 {
  return maglevPickBounded(table, xxh32(key, len, seed), factor);
}
