// The controllers of the fake's control plane (workloads make pods, Services get EndpointSlices),
// run after each change, never inside one: the store calls its listeners while it records a
// change, and a write made there would reach watches before the change that caused it. So a change
// only schedules a pass (a microtask, after the request that made it has been answered), and a
// pass's own writes schedule the next one until nothing changes.

import { FakeEndpointSliceController } from "./fake-endpointslice-controller.ts";
import type { FakeObjectState } from "./fake-object-state.ts";
import { FakeWorkloadController } from "./fake-workload-controller.ts";

export class FakeControllers {
  readonly #workloads: FakeWorkloadController;
  readonly #slices: FakeEndpointSliceController;
  #scheduled = false;
  readonly #unsubscribe: () => void;

  constructor(state: FakeObjectState, now: () => number) {
    this.#workloads = new FakeWorkloadController(state, now);
    this.#slices = new FakeEndpointSliceController(state);
    this.#unsubscribe = state.subscribe((event) => {
      if (!["Service", "Pod", "EndpointSlice", "ReplicationController", "ReplicaSet", "Deployment"].includes(event.stored.resource.kind)) return;
      this.#schedule();
    });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#workloads.reconcile();
      this.#slices.reconcile();
    });
  }

  stop(): void {
    this.#unsubscribe();
  }
}
