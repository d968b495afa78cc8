// Round robin over a fixed candidate list. Equal weights: a counter, so n requests visit each of n
// endpoints exactly once. Unequal weights: nginx's smooth weighted round robin
// (ngx_http_upstream_round_robin.c, ngx_http_upstream_get_peer): every pick adds each weight to
// its running score, takes the highest score and subtracts the total from it, which interleaves
// heavy endpoints with light ones instead of sending bursts. Worked example, weights [5, 1, 1]:
// picks a a b a c a a, then repeats. The start position is given by the caller, so replicas
// (and rebuilt balancers) do not all send their first request to the same endpoint, as Envoy
// randomises its round-robin start. Weights may change while the rotation runs (slow start ramps
// a new endpoint up, slow-start.ts): like nginx, whose peers' effective_weight also changes
// between picks, the running scores are kept and the next pick adds the new weights.

export class RoundRobin {
  readonly #count: number;
  #weights: Float64Array | undefined;
  #scores: Float64Array | undefined;
  #total: number;
  #next: number;
  /** Which weights this rotation was given last, for a caller whose weights change over time
   * (ServiceBalancer's weights generation); this class only stores it. */
  generation = 0;

  /** `weights` per candidate position; undefined when all are equal. `start` in [0, count). */
  constructor(count: number, weights: ArrayLike<number> | undefined, start: number) {
    this.#count = count;
    const first = count === 0 ? 0 : Math.abs(Math.trunc(start)) % count;
    this.#next = first;
    this.#weights = undefined;
    this.#scores = undefined;
    this.#total = count;
    if (unequal(weights)) {
      this.#setWeights(weights);
      // Starting scores rotate the sequence by `start` positions without changing its shares.
      for (let i = 0; i < first; i++) this.#advance();
    }
  }

  /** New weights for the same candidates. Unequal weights keep the running scores; equal ones go
   * back to the counter, which carries on after the last pick. */
  reweight(weights: ArrayLike<number> | undefined): void {
    if (unequal(weights)) {
      this.#setWeights(weights);
      return;
    }
    this.#weights = undefined;
    this.#scores = undefined;
    this.#total = this.#count;
  }

  /** The next candidate position, advancing the rotation. */
  next(): number {
    if (this.#weights === undefined) {
      const position = this.#next;
      this.#next = position + 1 === this.#count ? 0 : position + 1;
      return position;
    }
    return this.#advance();
  }

  /** The position next() would return, without advancing (for /debug/explain). */
  peek(): number {
    if (this.#weights === undefined) return this.#next;
    const weights = this.#weights;
    const scores = this.#scores!;
    let best = 0;
    for (let i = 1; i < this.#count; i++) if (scores[i]! + weights[i]! > scores[best]! + weights[best]!) best = i;
    return best;
  }

  #setWeights(weights: ArrayLike<number>): void {
    this.#weights = Float64Array.from(weights);
    this.#scores ??= new Float64Array(this.#count);
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i]!;
    this.#total = total;
  }

  #advance(): number {
    const weights = this.#weights!;
    const scores = this.#scores!;
    let best = 0;
    for (let i = 0; i < this.#count; i++) {
      scores[i]! += weights[i]!;
      if (scores[i]! > scores[best]!) best = i;
    }
    scores[best]! -= this.#total;
    this.#next = best + 1 === this.#count ? 0 : best + 1;
    return best;
  }
}

/** True when some weight differs from the first (undefined: all equal). */
function unequal(weights: ArrayLike<number> | undefined): weights is ArrayLike<number> {
  if (weights === undefined) return false;
  for (let i = 1; i < weights.length; i++) if (weights[i] !== weights[0]) return true;
  return false;
}
