// The one place the layers (picker-layer.ts) are stacked around a policy's picker, in a fixed
// order, outermost first:
//   1. session affinity (session-affinity-layer.ts): a bound client is answered before anything
//      else is asked, also when its endpoint is ejected or terminating but still serving;
//   2. slow start (slow-start-layer.ts): the ramped weights, for least-request and round robin only;
//   3. outlier ejection (ejection-layer.ts): the ejected candidates marked, next to the policy.
// ServiceBalancer builds its picker here, and tests/balancing/picker.conformance.ts runs the
// stacks it builds, so the suite checks the combinations the router makes.
import type { EndpointEntry } from "../table/routing-table.ts";
import { EjectionLayer } from "./ejection-layer.ts";
import type { OutlierDetector } from "./outlier-detection.ts";
import type { Picker } from "./picker.ts";
import { SessionAffinityLayer } from "./session-affinity-layer.ts";
import type { SessionAffinityStore } from "./session-affinity.ts";
import { slowStartApplies, type SlowStartConfig } from "./slow-start-config.ts";
import { SlowStartLayer } from "./slow-start-layer.ts";

/** What the layers a service asks for are built from; an absent layer's field is undefined. */
export interface LayerSettings {
  /** Every endpoint the caller numbers: the `eligibleCount` eligible ones first, then those only
   * a session affinity may reach (terminating but serving). */
  readonly endpoints: readonly { readonly endpoint: EndpointEntry }[];
  readonly eligibleCount: number;
  /** The endpoints' plain weights (undefined: all equal), which slow start scales. */
  readonly weights: ArrayLike<number> | undefined;
  /** Milliseconds, the router's clock. */
  readonly now: () => number;
  /** ClientIP affinity: the service's store (kept across rebuilds) and its timeoutSeconds. */
  readonly affinity?: { readonly store: SessionAffinityStore; readonly timeoutSeconds: number } | undefined;
  /** Slow start: the service's settings and when each endpoint turned ready (ready-since.ts). */
  readonly slowStart?: { readonly config: SlowStartConfig; readonly readySince: { sinceOf(endpoint: EndpointEntry): number } } | undefined;
  /** Passive health: the service's detector (kept across rebuilds). */
  readonly outliers?: OutlierDetector | undefined;
}

/** A policy's picker inside its layers, and the layers themselves (for /debug/explain and the
 * outcome reports); a layer the settings did not ask for, or that has nothing to do, is absent. */
export interface LayeredPicker {
  readonly picker: Picker;
  readonly affinity?: SessionAffinityLayer;
  readonly slowStart?: SlowStartLayer;
  readonly ejection?: EjectionLayer;
}

/** `policy` wrapped in the layers `settings` ask for, innermost first. */
export function withLayers(policy: Picker, settings: LayerSettings): LayeredPicker {
  const { endpoints, eligibleCount } = settings;
  let picker = policy;
  let ejection: EjectionLayer | undefined;
  let slowStart: SlowStartLayer | undefined;
  let affinity: SessionAffinityLayer | undefined;
  if (settings.outliers !== undefined) picker = ejection = new EjectionLayer(picker, settings.outliers, endpoints, eligibleCount);
  if (settings.slowStart !== undefined && slowStartApplies(policy.policy)) {
    const { config, readySince } = settings.slowStart;
    slowStart = SlowStartLayer.around(picker, config, endpoints.map((e) => readySince.sinceOf(e.endpoint)), settings.weights, settings.now);
    picker = slowStart ?? picker;
  }
  if (settings.affinity !== undefined) {
    const { store, timeoutSeconds } = settings.affinity;
    picker = affinity = new SessionAffinityLayer(picker, store, timeoutSeconds, endpoints, eligibleCount);
  }
  return { picker, ...(affinity && { affinity }), ...(slowStart && { slowStart }), ...(ejection && { ejection }) };
}
