// Least-request by the power of two choices: sample two endpoints at random and send the request
// to the one with fewer requests in flight. Mitzenmacher ("The Power of Two Choices in Randomized
// Load Balancing", IEEE TPDS 2001) shows two random choices cut the maximum load from
// O(log n / log log n) to O(log log n), close to a full scan's result without reading every
// counter and without the herd a pure "least loaded" sends to one idle endpoint. Envoy's
// LEAST_REQUEST does the same with choice_count 2 by default when all weights are equal.
// With unequal weights Envoy switches to an EDF schedule on weight / (active + 1); this keeps the
// pick stateless instead: the two choices are sampled in proportion to weight and compared on
// in-flight / weight. With no load the shares then follow the weights (3:1 gives 75% / 25%), and
// under load the in-flight counts settle in proportion to the weights.

/** A random source: a number in [0, 1), like Math.random. Injected so tests are deterministic. */
export type RandomSource = () => number;

/**
 * One element of `candidates` (endpoint indices), chosen by two random choices over `inFlight`
 * (indexed by endpoint). `weights` (by endpoint) is undefined when all are equal; otherwise the two
 * choices are sampled in proportion to weight (they may coincide) and compared on
 * in-flight / weight. Ties keep the first choice, which is itself random, so equal loads spread
 * evenly (or by weight). `candidates` must be non-empty.
 */
export function leastRequestChoice(
  candidates: readonly number[],
  inFlight: ArrayLike<number>,
  weights: ArrayLike<number> | undefined,
  random: RandomSource,
): number {
  const count = candidates.length;
  if (count === 1) return candidates[0]!;
  let first: number;
  let second: number;
  if (weights === undefined) {
    // Two distinct positions: the second is drawn from the count - 1 others.
    const i = Math.min(count - 1, Math.floor(random() * count));
    let j = Math.min(count - 2, Math.floor(random() * (count - 1)));
    if (j >= i) j++;
    first = candidates[i]!;
    second = candidates[j]!;
    return inFlight[second]! < inFlight[first]! ? second : first;
  }
  first = weightedSample(candidates, weights, random);
  second = weightedSample(candidates, weights, random);
  // in-flight / weight, compared without division.
  return inFlight[second]! * weights[first]! < inFlight[first]! * weights[second]! ? second : first;
}

/** One candidate with probability weight / total weight (a linear scan: only weighted services pay it). */
function weightedSample(candidates: readonly number[], weights: ArrayLike<number>, random: RandomSource): number {
  let total = 0;
  for (let i = 0; i < candidates.length; i++) total += weights[candidates[i]!]!;
  let target = random() * total;
  for (let i = 0; i < candidates.length; i++) {
    target -= weights[candidates[i]!]!;
    if (target < 0) return candidates[i]!;
  }
  return candidates[candidates.length - 1]!;
}
