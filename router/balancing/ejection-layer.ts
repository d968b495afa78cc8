// Outlier ejection as a layer (picker-layer.ts) around a policy's picker: the candidates that
// passive health (outlier-detection.ts, after Envoy's outlier detection) ejected are marked in the
// view, and the policy passes over them (least-request and round robin as over a tried endpoint,
// the hashing policies by skipping them on the key's preference walk, so only the ejected
// endpoint's keys move). When every candidate is ejected, ejection is ignored rather than fail
// the request (Envoy goes further: below its panic threshold, 50% healthy by default, it balances
// over every host, healthy or not). The
// layer is also where the outcome of each try is reported, since what it reports decides what it
// ejects.
import type { EndpointEntry } from "../table/routing-table.ts";
import type { OutlierDetector } from "./outlier-detection.ts";
import type { MutablePickView, PickerChoice, Picker, PickView } from "./picker.ts";
import { PickerLayer } from "./picker-layer.ts";

export class EjectionLayer extends PickerLayer {
  readonly #outliers: OutlierDetector;
  /** The caller's endpoints (its numbering; the eligible ones first). */
  readonly #endpoints: readonly { readonly endpoint: EndpointEntry }[];
  readonly #eligibleCount: number;

  /** `endpoints`: every endpoint the caller numbers, its `eligibleCount` eligible ones first (the
   * ejection cap counts those). `outliers`: the service's detector, kept across rebuilds. */
  constructor(inner: Picker, outliers: OutlierDetector, endpoints: readonly { readonly endpoint: EndpointEntry }[], eligibleCount: number) {
    super(inner);
    this.#outliers = outliers;
    this.#endpoints = endpoints;
    this.#eligibleCount = eligibleCount;
  }

  pick(view: PickView): PickerChoice | undefined {
    // The common case (nothing ejected in the service) costs one compare; marks the caller set
    // already (tests) are kept.
    if (view.ejected !== undefined || this.#outliers.ejectedCount() === 0) return this.inner.pick(view);
    (view as MutablePickView).ejected = this.#ejectedAmong(view.candidates);
    return this.inner.pick(view);
  }

  /** Whether endpoint `index` is ejected now (for /debug/explain). */
  isEjected(index: number): boolean {
    const entry = this.#endpoints[index];
    return entry !== undefined && this.#outliers.isEjected(entry.endpoint.identity, entry.endpoint.address);
  }

  /** Reports how a try to `endpoint` ended: `failed` per outlier-detection.ts. Returns true when
   * this try ejected it. */
  recordOutcome(endpoint: EndpointEntry, failed: boolean): boolean {
    if (!failed) {
      this.#outliers.recordSuccess(endpoint.identity, endpoint.address);
      return false;
    }
    return this.#outliers.recordFailure(endpoint.identity, endpoint.address, this.#eligibleCount);
  }

  /** A mark per endpoint index of the ejected candidates; undefined when none or all of them are. */
  #ejectedAmong(candidates: readonly number[]): Uint8Array | undefined {
    const outliers = this.#outliers;
    const marks = new Uint8Array(this.#endpoints.length);
    let count = 0;
    for (let i = 0; i < candidates.length; i++) {
      const index = candidates[i]!;
      const { endpoint } = this.#endpoints[index]!;
      if (outliers.isEjected(endpoint.identity, endpoint.address)) {
        marks[index] = 1;
        count++;
      }
    }
    return count === 0 || count === candidates.length ? undefined : marks;
  }
}
