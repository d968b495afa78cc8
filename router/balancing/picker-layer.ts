// A layer: a picker (picker.ts) around another picker, which changes what the inner one is asked
// or answers before it, and passes everything else through: the in-flight accounting (acquire,
// release) reaches the policy's picker whatever wraps it, and so do free() and the Maglev table's
// queries. The layers are session-affinity-layer.ts, slow-start-layer.ts and ejection-layer.ts;
// ServiceBalancer (service-balancer.ts) stacks the ones a service's settings ask for, as
// linkerd2-proxy stacks its layers in one place.
import type { Picker, PickerChoice, PickView } from "./picker.ts";
import type { PolicyName } from "./policy-name.ts";

export abstract class PickerLayer implements Picker {
  readonly policy: PolicyName;
  protected readonly inner: Picker;

  constructor(inner: Picker) {
    this.inner = inner;
    this.policy = inner.policy;
  }

  abstract pick(view: PickView): PickerChoice | undefined;

  acquire(index: number): void {
    this.inner.acquire(index);
  }

  release(index: number): void {
    this.inner.release(index);
  }

  free(): void {
    this.inner.free();
  }

  slotOwners(build: boolean): string[] | undefined {
    return this.inner.slotOwners(build);
  }

  tableSize(): number | undefined {
    return this.inner.tableSize();
  }
}
