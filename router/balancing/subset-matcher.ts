// Request-time subsets (DESIGN.md, "Choosing one endpoint"): a request names a label selector
// (`version=v2,!canary`) and is balanced among the matching endpoints only, as Envoy's subset load
// balancer does with metadata. Matching runs on the core's label index (wasm/label-interning.ts),
// built on the first subset a balancer sees. A balancer's endpoints never change, so the answer
// for one selector text never changes either: each distinct text is parsed and matched once and
// kept in a small LRU, and a bad text is remembered as bad.
import type { LabelIndex, Labels } from "../../wasm/label-interning.ts";
import { parseSelector } from "../../wasm/label-selector.ts";

/** Longest selector text accepted from a request; parsing is linear, but a request should not
 * make the router parse megabytes. */
export const MAX_SUBSET_LENGTH = 1024;
export const DEFAULT_SUBSET_CACHE_SIZE = 32;

export type SubsetMatch =
  | {
      readonly ok: true;
      readonly text: string;
      /** 1 for each balancer endpoint (eligible and draining) that matches, else 0. */
      readonly matches: Uint8Array;
      /** The matching eligible endpoints' indices: where new requests may go. */
      readonly eligible: readonly number[];
    }
  | { readonly ok: false; readonly text: string; readonly message: string };

/** A selector that parsed, with its matches. */
export type MatchedSubset = Extract<SubsetMatch, { ok: true }>;

export class SubsetMatcher {
  readonly #labels: readonly Labels[];
  readonly #eligibleCount: number;
  readonly #buildIndex: (labels: readonly Labels[]) => LabelIndex;
  readonly #capacity: number;
  readonly #cache = new Map<string, SubsetMatch>();
  #index: LabelIndex | undefined;

  /**
   * `labels` of the balancer's endpoints (eligible first: indices below `eligibleCount`);
   * `buildIndex` builds the label index on first need (a core engine's buildLabelIndex).
   */
  constructor(
    labels: readonly Labels[],
    eligibleCount: number,
    buildIndex: (labels: readonly Labels[]) => LabelIndex,
    capacity = DEFAULT_SUBSET_CACHE_SIZE,
  ) {
    this.#labels = labels;
    this.#eligibleCount = eligibleCount;
    this.#buildIndex = buildIndex;
    this.#capacity = Math.max(1, capacity);
  }

  /** The endpoints matching selector `text`, or why it does not parse. Never throws. */
  match(text: string): SubsetMatch {
    const cache = this.#cache;
    const cached = cache.get(text);
    if (cached !== undefined) {
      // Re-insert: Map order is recency order, so the first key is the least recently used.
      cache.delete(text);
      cache.set(text, cached);
      return cached;
    }
    const result = this.#compute(text);
    cache.set(text, result);
    if (cache.size > this.#capacity) {
      for (const key of cache.keys()) {
        cache.delete(key);
        break;
      }
    }
    return result;
  }

  #compute(text: string): SubsetMatch {
    if (text.length > MAX_SUBSET_LENGTH) {
      return { ok: false, text, message: `subset selector is ${text.length} characters long; at most ${MAX_SUBSET_LENGTH} are accepted` };
    }
    let selector;
    try {
      selector = parseSelector(text);
    } catch (error) {
      return { ok: false, text, message: error instanceof Error ? error.message : String(error) };
    }
    this.#index ??= this.#buildIndex(this.#labels);
    const index = this.#index;
    const matches = new Uint8Array(index.size);
    index.matchInto(index.compile(selector), matches);
    const eligible: number[] = [];
    for (let i = 0; i < this.#eligibleCount; i++) if (matches[i] === 1) eligible.push(i);
    return { ok: true, text, matches, eligible };
  }

  /** Frees the label index; cached answers stay valid (they are plain arrays), and a selector not
   * seen yet builds an index again with `buildIndex`. */
  free(): void {
    this.#index?.free();
    this.#index = undefined;
  }
}
