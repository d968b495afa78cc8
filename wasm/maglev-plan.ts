// Validation and input order for a Maglev table, shared by the WASM core and the TS reference, so
// both fail the same way with the same message and fill their tables in the same order.

/** Default table size M: a prime, as the paper requires, large enough for 655 endpoints at 100 slots each. */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;
/**
 * M >= 100 x N keeps each endpoint's share within about 1% of its ideal and bounds the keys a
 * removal moves to other survivors (Eisenbud et al. 2016, section 5.3: disruption shrinks as M/N grows).
 */
export const MIN_SLOTS_PER_ENDPOINT = 100;
/** Largest table: 2^26 slots (256 MiB of u32 entries) is far past any real service. */
export const MAX_MAGLEV_TABLE_SIZE = 67108864;
/** Weights are integers in [1, 65535]: relative shares, as Envoy's load-balancing weights are. */
export const MAX_MAGLEV_WEIGHT = 65535;

/** One endpoint: its stable identity (pod name, not address) and an optional weight (default 1). */
export interface MaglevEndpoint {
  readonly id: string;
  readonly weight?: number;
}

export interface MaglevOptions {
  /**
   * Table size M, a prime >= the endpoint count; default: the smallest prime >= max(65537,
   * 100 x endpoints).
   */
  readonly size?: number;
}

/** Validated build input: identities sorted (the table's endpoint order), weights beside them. */
export interface MaglevPlan {
  readonly size: number;
  readonly ids: readonly string[];
  readonly weights: Uint32Array;
}

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** The smallest prime >= n. */
export function nextPrime(n: number): number {
  let candidate = Math.max(2, Math.ceil(n));
  while (!isPrime(candidate)) candidate++;
  return candidate;
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * Checks the endpoints and size and sorts the endpoints by identity. Sorting makes the table a
 * function of the set, not of its order: every replica, given the same endpoints in any order,
 * builds the same table (Envoy sorts its hosts for the same reason).
 */
export function planMaglevTable(endpoints: readonly MaglevEndpoint[], options: MaglevOptions = {}): MaglevPlan {
  const count = endpoints.length;
  if (count === 0) throw new RangeError("maglev table needs at least one endpoint");
  const sorted = endpoints.map((endpoint, index) => {
    const { id } = endpoint;
    if (typeof id !== "string" || id.length === 0) {
      throw new TypeError(`maglev endpoint identity must be a non-empty string, got ${describe(id)} at index ${index}`);
    }
    const weight = endpoint.weight ?? 1;
    if (!Number.isInteger(weight) || weight < 1 || weight > MAX_MAGLEV_WEIGHT) {
      throw new RangeError(
        `maglev endpoint weight must be an integer from 1 to ${MAX_MAGLEV_WEIGHT}, got ${describe(weight)} for ${JSON.stringify(id)}`,
      );
    }
    return { id, weight };
  });
  sorted.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < count; i++) {
    if (sorted[i]!.id === sorted[i - 1]!.id) {
      throw new RangeError(`maglev endpoint identity ${JSON.stringify(sorted[i]!.id)} appears more than once`);
    }
  }

  const minimum = MIN_SLOTS_PER_ENDPOINT * count;
  let size: number;
  if (options.size === undefined) {
    size = nextPrime(Math.max(DEFAULT_MAGLEV_TABLE_SIZE, minimum));
    if (size > MAX_MAGLEV_TABLE_SIZE) {
      throw new RangeError(`maglev table for ${count} endpoints would need ${size} slots, more than ${MAX_MAGLEV_TABLE_SIZE}`);
    }
  } else {
    size = options.size;
    if (!Number.isInteger(size)) throw new RangeError(`maglev table size must be an integer, got ${describe(size)}`);
    if (size > MAX_MAGLEV_TABLE_SIZE) throw new RangeError(`maglev table size must be at most ${MAX_MAGLEV_TABLE_SIZE}, got ${size}`);
    if (!isPrime(size)) throw new RangeError(`maglev table size must be prime, got ${size}`);
    // An explicit size below 100 x N is allowed (golden tests use 7 slots; a memory-tight
    // deployment may choose it), but every endpoint needs a slot: round one gives each a turn,
    // so M >= N is enough, and the preference walk relies on it.
    if (size < count) {
      throw new RangeError(`maglev table size must be at least the endpoint count ${count}, got ${size}`);
    }
  }
  const weights = new Uint32Array(count);
  for (let i = 0; i < count; i++) weights[i] = sorted[i]!.weight;
  return { size, ids: sorted.map((endpoint) => endpoint.id), weights };
}

/** Checks a bounded-load factor c; c >= 1 guarantees some endpoint is under the bound. */
export function checkLoadFactor(factor: number): void {
  if (!(factor >= 1) || !Number.isFinite(factor)) {
    throw new RangeError(`bounded load factor must be a finite number of at least 1, got ${describe(factor)}`);
  }
}
