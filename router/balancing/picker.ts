// The contract every load-balancing policy meets, one file per policy: least-request-picker.ts,
// round-robin-picker.ts, maglev-picker.ts, bounded-load-picker.ts (pickerFor in
// picker-for-policy.ts chooses). A picker is built from one service port's eligible endpoints and
// their weights, then asked for one endpoint per request.
//
// What is composed around a policy meets the same contract: a layer (picker-layer.ts) takes a
// picker and is one, so ServiceBalancer (service-balancer.ts) builds the policy's picker and wraps
// the layers the service's settings ask for (picker-layers.ts stacks them), outermost first:
//   session-affinity-layer.ts  sessionAffinity ClientIP may answer before the policy is asked;
//   slow-start-layer.ts        the view's weights become the ramped ones of endpoints just ready;
//   ejection-layer.ts          outlier detection's ejected candidates are marked to pass over.
// tests/balancing/picker.conformance.ts is the suite every picker and every layered combination
// runs (distribution, weights, determinism where promised, release accounting, ejection, churn).
import type { CoreEngine } from "../../wasm/core-engine.ts";
import type { EligibleEndpoint } from "../table/eligible-endpoints.ts";
import type { RandomSource } from "./least-request.ts";
import type { PickPolicy, PolicyName } from "./policy-name.ts";

/** What a picker is built from; fixed for its life (a new table entry means a new picker). */
export interface PickerInput {
  /** The eligible endpoints; an endpoint index is a position here. */
  readonly endpoints: readonly EligibleEndpoint[];
  /** Weight per endpoint index (vipr.io/weight, router/table/endpoint-weight.ts), all above 0;
   * undefined when all are equal. May be longer than `endpoints` (the caller's numbering). */
  readonly weights: ArrayLike<number> | undefined;
  /** Requests in flight per endpoint index, counted by the caller, which also calls the picker's
   * acquire and release. Read only here. May be longer than `endpoints`. */
  readonly inFlight: ArrayLike<number>;
  /** Numbers in [0, 1) for the random policies; injected so tests repeat. */
  readonly random: RandomSource;
  /** Builds the hashing policies' Maglev tables and hashes their keys. */
  readonly core: CoreEngine;
  /** Bounded load's c >= 1. */
  readonly loadFactor: number;
  /** Maglev table size, a prime; default wasm/maglev-plan.ts. */
  readonly maglevTableSize?: number | undefined;
}

/** One request as a picker sees it: what the layers around it decided already. */
export interface PickView {
  /** The request's hash key; undefined when it has none (the hashing pickers then pick as
   * least-request does, and say so). The other pickers ignore it. */
  readonly key: string | undefined;
  /** 0 for the first try, 1 for the first retry, ... */
  readonly attempt: number;
  /** The client's address, for session affinity; "" when unknown. The policies ignore it. */
  readonly clientIp: string;
  /** The endpoint indices the pick must come from, ascending: a subset's eligible members, or every
   * eligible endpoint. Empty when there is none: a policy then has no answer (undefined), while a
   * layer may still have one (an affinity to a terminating endpoint that still serves). */
  readonly candidates: readonly number[];
  /** 1 per endpoint index of the subset when `candidates` are a subset, over every endpoint the
   * caller numbers, eligible or not (the same array for every request naming that subset, so a
   * picker may key state on it); undefined: every endpoint. */
  readonly members: Uint8Array | undefined;
  /** 1 per ejected candidate; undefined when no candidate, or every one, is ejected (then
   * ejection is ignored rather than fail the request). Pickers pass over marked candidates. */
  readonly ejected: Uint8Array | undefined;
  /** Endpoint indices this request already tried (retries). */
  readonly tried: readonly number[];
  /** The weights now: PickerInput.weights, or slow start's ramped ones. */
  readonly weights: ArrayLike<number> | undefined;
  /** Changes whenever `weights` hold new values: 0 for the plain weights, 1, 2, ... for slow
   * start's recomputations (slow-start-layer.ts), so a picker that copies weights can tell. */
  readonly weightsGeneration: number;
  /** False for /debug/explain: answer as a real pick would, but change no state. */
  readonly commit: boolean;
}

/** A view as a layer may change it: each view is made for one pick (never shared or kept), so a
 * layer sets what it decided in place instead of copying the view for each request. */
export type MutablePickView = { -readonly [K in keyof PickView]: PickView[K] };

/** The endpoint a picker chose and why. */
export interface PickerChoice {
  /** An element of the view's candidates; a session affinity's answer may be any endpoint index
   * of the subset (a terminating endpoint that still serves). */
  readonly index: number;
  /** What chose: the policy (a hashing picker with no key reports least-request), or an
   * existing session affinity. */
  readonly policy: PickPolicy;
  /** One line for logs and /debug/explain. */
  readonly reason: string;
  /** The key's xxHash32, when a Maglev table chose. */
  readonly hash?: number;
  /** The key's own table slot: hash mod table size. */
  readonly slot?: number;
}

export interface Picker {
  readonly policy: PolicyName;
  /** Chooses among `view.candidates`; undefined only when there is no candidate and no layer had
   * an answer of its own. */
  pick(view: PickView): PickerChoice | undefined;
  /** The caller counted a request in to (acquire) or out of (release) endpoint `index`; a picker
   * that keeps its own loads (the Maglev table's) mirrors it. Indices past `endpoints` are ignored. */
  acquire(index: number): void;
  release(index: number): void;
  /** Releases native memory (WASM tables). The picker keeps working afterwards, on tables in
   * plain memory rebuilt on demand, so a late retry on a retired balancer still gets an answer. */
  free(): void;
  /** The identity owning each hash table slot, for the share of keys a rebuild moved; undefined
   * for the pickers without a table, or when the table is not built and `build` is false. */
  slotOwners(build: boolean): string[] | undefined;
  /** The built hash table's size; undefined when there is none. */
  tableSize(): number | undefined;
}

/**
 * PickerInput.weights for `endpoints`: each endpoint's weight (1 where it is not a number above 0),
 * or undefined when all are equal, so the equal case takes the pickers' unweighted paths.
 * @example // endpoints of weights 1 and 3: Float64Array [1, 3]; of weights 2 and 2: undefined
 */
export function endpointWeights(endpoints: readonly EligibleEndpoint[]): Float64Array | undefined {
  const weights = endpoints.map(({ endpoint }) => (Number.isFinite(endpoint.weight) && endpoint.weight > 0 ? endpoint.weight : 1));
  return weights.some((w) => w !== weights[0]) ? Float64Array.from(weights) : undefined;
}
