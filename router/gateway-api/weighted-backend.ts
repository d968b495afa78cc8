// A rule's backend for one request: a weighted random choice (HTTPBackendRef.Weight: "the
// proportion of requests forwarded to the referenced backend is weight divided by the sum of all
// weights in this BackendRefs list"; weight 0 gets none). Invalid backends keep their share, which
// is answered 500 (HTTPRouteRule.BackendRefs).
import type { CompiledBackend, CompiledRule } from "./compile-gateway-routes.ts";

/** The chosen backend, or undefined when the rule has no backend with weight (answered 500).
 * `random` returns a number in [0, 1). */
export function chooseBackend(rule: CompiledRule, random: () => number): CompiledBackend | undefined {
  if (rule.totalWeight <= 0) return undefined;
  const backends = rule.backends;
  if (backends.length === 1) return backends[0];
  let point = random() * rule.totalWeight;
  for (const backend of backends) {
    if (point < backend.weight) return backend;
    point -= backend.weight;
  }
  // Floating point left a sliver past the last: the last backend with weight.
  for (let i = backends.length - 1; i >= 0; i--) if (backends[i]!.weight > 0) return backends[i];
  return undefined;
}
