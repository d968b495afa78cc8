// How much of a service's hash-key space a rebuild moved to another endpoint, measured on two
// Maglev lookup tables. Every hash key lands on one table slot (hash mod size), so with keys spread
// evenly the share of slots whose owner changed is the share of keys that now reach another
// endpoint: the disruption Maglev is built to keep small (Eisenbud et al., NSDI 2016, section 3.4,
// "minimal disruption"). Removing one of N endpoints must move at least its own ~1/N of the slots;
// anything above that is keys of surviving endpoints moved for nothing, which `excludeGoneOwners`
// isolates.

import type { ServiceEntry } from "../table/routing-table.ts";

export interface MovedShareOptions {
  /** Count only the slots whose old owner is still in the new table. The slots of a removed
   * endpoint must move, so leaving them out measures the collateral moves alone. Default false. */
  readonly excludeGoneOwners?: boolean;
}

/**
 * The share, from 0 to 1, of table slots whose owner differs between two tables of the same size.
 * `oldOwners[i]` and `newOwners[i]` name the endpoint (its stable identity) that owns slot `i`.
 *
 * Counted: slot `i` is moved when `oldOwners[i] !== newOwners[i]`. The share is moved slots over
 * counted slots, where counted slots are all slots, or with `excludeGoneOwners` only those whose
 * old owner appears somewhere in `newOwners`. No counted slots (empty tables, or every old owner
 * gone) gives 0: no key that could have stayed was moved.
 *
 * @example Endpoint c removed from a 7-slot table:
 * ```ts
 * const before = ["a", "b", "c", "a", "b", "c", "a"];
 * const after  = ["a", "b", "a", "a", "b", "b", "a"];
 * movedShare(before, after);                                // 2/7: slots 2 and 5 moved
 * movedShare(before, after, { excludeGoneOwners: true });   // 0: no key of a or b moved
 * ```
 */
export function movedShare(
  oldOwners: readonly string[],
  newOwners: readonly string[],
  options: MovedShareOptions = {},
): number {
  const n = oldOwners.length;
  if (newOwners.length !== n) {
    throw new RangeError(`movedShare compares tables of the same size, got ${n} and ${newOwners.length} slots`);
  }
  const survivors = options.excludeGoneOwners === true ? new Set(newOwners) : undefined;
  let counted = 0;
  let moved = 0;
  for (let i = 0; i < n; i++) {
    const before = oldOwners[i]!;
    if (survivors !== undefined && !survivors.has(before)) continue;
    counted++;
    if (before !== newOwners[i]) moved++;
  }
  return counted === 0 ? 0 : moved / counted;
}

/** Fields of a ServiceEntry that say nothing about where requests go: a new resourceVersion or
 * uid for the same spec (a re-applied or re-created object), and the builder's diagnostics. */
const bookkeeping: ReadonlySet<string> = new Set(["resourceVersion", "uid", "diagnostics"]);

/**
 * True when a rebuilt service entry routes exactly as the one it replaces: every field the router
 * reads (ports, endpoints with their addresses, conditions, hints and labels, annotations, session
 * affinity, traffic policies) is equal. Builders rebuild more than changed: in Pods mode every
 * service of a namespace whose pods changed is rebuilt (build-routing-table.ts), and a file
 * reload re-reads every file. Such a rebuild moved no key, and is not a change a reload should
 * report or a moved-keys gauge should be reset for: the gauge keeps the figure of the last rebuild
 * that did change the service.
 *
 * @example
 * routesAlike(entry, { ...entry, resourceVersion: "42" }); // true
 * routesAlike(entry, { ...entry, endpoints: entry.endpoints.slice(1) }); // false
 */
export function routesAlike(before: ServiceEntry, after: ServiceEntry): boolean {
  if (before === after) return true;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    if (bookkeeping.has(key)) continue;
    if (!sameValue((before as unknown as Record<string, unknown>)[key], (after as unknown as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** Deep equality of plain data (what a table entry holds: strings, numbers, booleans, arrays, plain objects). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], other[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const xKeys = Object.keys(x);
  if (xKeys.length !== Object.keys(y).length) return false;
  for (const key of xKeys) if (!Object.hasOwn(y, key) || !sameValue(x[key], y[key])) return false;
  return true;
}
