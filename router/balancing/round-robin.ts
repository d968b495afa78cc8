// Round robin over a fixed candidate list. Equal weights: a counter, so n requests visit each of n
// endpoints exactly once. Unequal weights: nginx's smooth weighted round robin
// (ngx_http_upstream_round_robin.c, ngx_http_upstream_get_peer): every pick adds each weight to
// its running score, takes the highest score and subtracts the total from it, which interleaves
// heavy endpoints with light ones instead of sending bursts. Worked example, weights [5, 1, 1]:
// picks a a b a c a a, then repeats. The start position is given by the caller, so replicas
// (and rebuilt balancers) do not all send their first request to the same endpoint, as Envoy
// randomises its round-robin start.

export class RoundRobin {
  readonly #count: number;
  readonly #weights: Float64Array | undefined;
  readonly #scores: Float64Array | undefined;
  readonly #total: number;
  #next: number;

  /** `weights` per candidate position; undefined when all are equal. `start` in [0, count). */
  constructor(count: number, weights: readonly number[] | undefined, start: number) {
    this.#count = count;
    this.#next = count === 0 ? 0 : Math.abs(Math.trunc(start)) % count;
    if (weights === undefined || weights.every((w) => w === weights[0])) {
      this.#weights = undefined;
      this.#scores = undefined;
      this.#total = count;
    } else {
      this.#weights = Float64Array.from(weights);
      this.#scores = new Float64Array(count);
      this.#total = weights.reduce((sum, w) => sum + w, 0);
      // Starting scores rotate the sequence by `start` positions without changing its shares.
      for (let i = 0; i < this.#next; i++) this.#advance();
    }
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

  #advance(): number {
    const weights = this.#weights!;
    const scores = this.#scores!;
    let best = 0;
    for (let i = 0; i < this.#count; i++) {
      scores[i]! += weights[i]!;
      if (scores[i]! > scores[best]!) best = i;
    }
    scores[best]! -= this.#total;
    return best;
  }
}
