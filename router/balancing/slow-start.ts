// Slow start: an endpoint that just turned ready gets a reduced weight that ramps up to its full
// weight over a window, so a cold pod (JIT, empty caches, fresh connection pools) is not handed its
// full share of new requests at once. The formula is Envoy's (Envoy docs, "Slow start mode",
// intro/arch_overview/upstream/load_balancing/slow_start; cluster.proto `SlowStartConfig`):
//
//   effective weight = weight * max(min_weight_percent / 100, time_factor ^ (1 / aggression))
//   time_factor      = age / window
//
// with age the time since the endpoint turned ready (ready-since.ts). Envoy's docs floor the age at
// 1 s; here the minimum weight covers the first moments instead, so a short window ramps from its
// first millisecond. Worked example, window 10 s, aggression 1, minimum 10%: at 0.5 s the factor
// is max(0.1, 0.05) = 0.1, at 5 s 0.5, from 10 s on 1 (out of slow start). With two warm endpoints
// of weight 1 beside it, the new one's share of requests is 0.1 / 2.1 = 4.8% at 1 s and
// 0.5 / 2.5 = 20% at 5 s. Aggression 2 ramps faster early: at 2.5 s sqrt(0.25) = 0.5.
//
// Only least-request and round robin are shaped, as in Envoy (slowStartApplies in
// slow-start-config.ts says why not the hashing policies). As Envoy's docs note, slow start helps
// when a few endpoints join warm ones (a scale-up); endpoints that join together ramp together and
// keep equal shares among themselves.
import type { SlowStartConfig } from "./slow-start-config.ts";

/** How often, at most, the weights are recomputed while some endpoint ramps: 50 ms is 200 steps
 * over a 10 s window, smooth enough, and keeps the cost per pick to one clock read. */
export const SLOW_START_REFRESH_MS = 50;

/**
 * The factor in (0, 1] an endpoint's weight is scaled by, `ageMs` after it turned ready; 1 from the
 * end of the window on (and for -Infinity "since", an age of Infinity: never in slow start).
 *
 * @example slowStartFactor(5000, { windowMs: 10000, aggression: 1, minWeightPercent: 10 }) // 0.5
 */
export function slowStartFactor(ageMs: number, config: SlowStartConfig): number {
  if (!(ageMs < config.windowMs)) return 1;
  const time = Math.max(0, ageMs) / config.windowMs;
  const ramp = config.aggression === 1 ? time : Math.pow(time, 1 / config.aggression);
  return Math.max(config.minWeightPercent / 100, ramp);
}

/** An endpoint's slow start state, for /debug/explain. */
export interface SlowStartState {
  /** Since it turned ready, in ms. */
  readonly readyMs: number;
  /** Its effective weight now, as a percentage of its weight. */
  readonly weightPercent: number;
}

/**
 * The effective weights of one balancer's endpoints while some of them ramp up. `since` is fixed
 * when the balancer is made (a new endpoint means a new table entry and a new balancer), so the
 * last ramp ends at a known time: after it, refresh() says so once and the slow start layer
 * (slow-start-layer.ts) goes back to the plain weights, with no cost per pick.
 */
export class SlowStartWeights {
  readonly config: SlowStartConfig;
  /** The weights the policies read now, by balancer index. */
  readonly weights: Float64Array;
  /** Counts recomputations, so a round robin can tell its copy of the weights is stale. */
  generation = 0;
  readonly #since: Float64Array;
  readonly #base: Float64Array;
  readonly #endsAt: number;
  #refreshedAt = Number.NaN;

  /**
   * Slow start over `count` endpoints, or undefined when none of them is within its window at
   * `now`. `since[i]`: when endpoint i turned ready (-Infinity: warm); `base`: their weights
   * (undefined: all 1).
   */
  static start(config: SlowStartConfig, since: ArrayLike<number>, base: ArrayLike<number> | undefined, count: number, now: number): SlowStartWeights | undefined {
    let endsAt = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < count; i++) endsAt = Math.max(endsAt, since[i]! + config.windowMs);
    if (!(now < endsAt)) return undefined;
    const weights = new Float64Array(count);
    for (let i = 0; i < count; i++) weights[i] = base === undefined ? 1 : base[i]!;
    return new SlowStartWeights(config, Float64Array.from({ length: count }, (_, i) => since[i]!), weights, endsAt, now);
  }

  private constructor(config: SlowStartConfig, since: Float64Array, base: Float64Array, endsAt: number, now: number) {
    this.config = config;
    this.#since = since;
    this.#base = base;
    this.#endsAt = endsAt;
    this.weights = new Float64Array(base.length);
    this.#recompute(now);
  }

  /**
   * Brings the weights up to `now` when the last recomputation is SLOW_START_REFRESH_MS old (or the
   * clock went back). False once every endpoint is past its window: the caller drops this then.
   */
  refresh(now: number): boolean {
    const refreshedAt = this.#refreshedAt;
    if (now >= refreshedAt && now - refreshedAt < SLOW_START_REFRESH_MS) return true;
    if (now >= this.#endsAt) return false;
    this.#recompute(now);
    return true;
  }

  /** Endpoint `index`'s state at `now`; undefined when it is not ramping. */
  stateOf(index: number, now: number): SlowStartState | undefined {
    const since = this.#since[index];
    if (since === undefined) return undefined;
    const age = now - since;
    if (!(age < this.config.windowMs)) return undefined;
    return { readyMs: Math.max(0, age), weightPercent: Math.round(slowStartFactor(age, this.config) * 10_000) / 100 };
  }

  #recompute(now: number): void {
    const { weights } = this;
    const since = this.#since;
    const base = this.#base;
    for (let i = 0; i < weights.length; i++) weights[i] = base[i]! * slowStartFactor(now - since[i]!, this.config);
    this.#refreshedAt = now;
    this.generation++;
  }
}
