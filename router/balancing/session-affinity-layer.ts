// `sessionAffinity: ClientIP` as a layer (picker-layer.ts), outermost: a client seen within the
// service's timeoutSeconds goes back to the endpoint it used last (the store and kube-proxy's rule
// are in session-affinity.ts) before the policy is asked, and the policy's choice for a client
// not bound yet becomes its binding. The binding holds also when its endpoint now terminates but
// still serves: it drains, as a conntrack entry does. So this layer may answer when the view has
// no candidate at all (the service's only endpoints terminate).
//
// Retries (attempt > 0) neither use nor change the binding: the endpoint just failed this request.
// A binding to an endpoint that is gone (same identity at a new address is a new pod, and
// kube-proxy keys affinity on the endpoint address too), or outside the request's subset, is
// replaced by the policy's pick. Ejection does not break a binding: an affinity is checked before
// the layers inside it, as kube-proxy's `recent` match comes before its endpoint choice.
import type { EndpointEntry } from "../table/routing-table.ts";
import type { PickerChoice, Picker, PickView } from "./picker.ts";
import { PickerLayer } from "./picker-layer.ts";
import type { AffinityHit, SessionAffinityStore } from "./session-affinity.ts";

const BOUND = "session affinity: the endpoint this client used last";
const DRAINING = "session affinity: the endpoint this client used last, terminating but still serving (draining)";

export class SessionAffinityLayer extends PickerLayer {
  readonly timeoutSeconds: number;
  readonly #store: SessionAffinityStore;
  /** The caller's endpoints: the eligible ones (indices below #eligibleCount), then the
   * terminating ones that still serve, which only a binding reaches. */
  readonly #endpoints: readonly { readonly endpoint: EndpointEntry }[];
  readonly #eligibleCount: number;
  #byIdentity: Map<string, number> | undefined;

  constructor(inner: Picker, store: SessionAffinityStore, timeoutSeconds: number, endpoints: readonly { readonly endpoint: EndpointEntry }[], eligibleCount: number) {
    super(inner);
    this.#store = store;
    this.timeoutSeconds = timeoutSeconds;
    this.#endpoints = endpoints;
    this.#eligibleCount = eligibleCount;
  }

  pick(view: PickView): PickerChoice | undefined {
    const { clientIp } = view;
    if (view.attempt !== 0 || clientIp === "") return this.inner.pick(view);
    const store = this.#store;
    const hit = view.commit ? store.lookup(clientIp, this.timeoutSeconds) : store.peek(clientIp, this.timeoutSeconds);
    if (hit !== undefined) {
      const index = this.#indexOf(hit);
      if (index !== -1 && (view.members === undefined || view.members[index] === 1)) {
        return { index, policy: "session-affinity", reason: index < this.#eligibleCount ? BOUND : DRAINING };
      }
    }
    const choice = this.inner.pick(view);
    if (choice !== undefined && view.commit) store.remember(clientIp, this.#endpoints[choice.index]!.endpoint, this.timeoutSeconds);
    return choice;
  }

  /** The binding of `clientIp` now, without refreshing it (for /debug/explain). */
  boundTo(clientIp: string): AffinityHit | undefined {
    return clientIp === "" ? undefined : this.#store.peek(clientIp, this.timeoutSeconds);
  }

  /** The endpoint index of a binding: same identity and same address; -1 when it is gone. */
  #indexOf(hit: AffinityHit): number {
    if (this.#byIdentity === undefined) {
      this.#byIdentity = new Map();
      this.#endpoints.forEach((e, i) => this.#byIdentity!.set(e.endpoint.identity, i));
    }
    const index = this.#byIdentity.get(hit.target.identity);
    return index !== undefined && this.#endpoints[index]!.endpoint.address === hit.target.address ? index : -1;
  }
}
