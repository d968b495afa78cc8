// Choosing one endpoint per request: the public surface of router/balancing/. The router reads a
// service's policy (policyFromAnnotations), the request's hash key (hashKeyOf), keeps one
// SessionAffinityStore per service and one ServiceBalancer per service port and table entry.
export { hashKeyOf, cookieValue } from "./hash-key.ts";
export type { ExplainedEndpoint, Pick, PickExplanation, PickFailure, PickFailureReason, PickPolicy, PickRequest } from "./pick.ts";
export {
  DEFAULT_LOAD_FACTOR,
  DEFAULT_POLICY_CONFIG,
  formatHashKeySource,
  HASH_KEY_ANNOTATION,
  HashKeySourceError,
  LB_POLICY_ANNOTATION,
  LOAD_FACTOR_ANNOTATION,
  parseHashKeySource,
  policyFromAnnotations,
  SUBSET_HEADER_ANNOTATION,
  type HashKeySource,
  type PolicyConfig,
  type PolicyName,
  type PolicyResolution,
} from "./policy-config.ts";
export type { RandomSource } from "./least-request.ts";
export { ReadySinceStore, READY_BEFORE_START } from "./ready-since.ts";
export { slowStartFactor, type SlowStartState } from "./slow-start.ts";
export {
  DEFAULT_SLOW_START_AGGRESSION,
  DEFAULT_SLOW_START_MIN_WEIGHT_PERCENT,
  SLOW_START_AGGRESSION_ANNOTATION,
  SLOW_START_MIN_WEIGHT_ANNOTATION,
  SLOW_START_WINDOW_ANNOTATION,
  slowStartApplies,
  slowStartFromAnnotations,
  type SlowStartConfig,
} from "./slow-start-config.ts";
export { ServiceBalancer, type ServiceBalancerOptions } from "./service-balancer.ts";
export {
  DEFAULT_AFFINITY_TIMEOUT_SECONDS,
  DEFAULT_MAX_AFFINITY_ENTRIES,
  SessionAffinityStore,
  type AffinityTarget,
  type SessionAffinityOptions,
} from "./session-affinity.ts";
export { MAX_SUBSET_LENGTH } from "./subset-matcher.ts";
