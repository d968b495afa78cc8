// What the two hashing pickers (maglev-picker.ts, bounded-load-picker.ts) share: one Maglev table
// over the service's endpoints (maglev-endpoints.ts) whose loads follow acquire and release, and
// least-request for a request that carries no hash key. Each subclass only decides how a key walks
// the table. No candidate: no answer (and no table is built for an empty service).
import { LeastRequestPicker } from "./least-request-picker.ts";
import { MaglevEndpoints } from "./maglev-endpoints.ts";
import type { Picker, PickerChoice, PickerInput, PickView } from "./picker.ts";

export const NO_KEY_REASON = "least-request: the request has no hash key; the less loaded of two random endpoints";

export abstract class MaglevTablePicker implements Picker {
  abstract readonly policy: Picker["policy"];
  protected readonly maglev: MaglevEndpoints;
  protected readonly noKey: LeastRequestPicker;
  protected readonly inFlight: ArrayLike<number>;

  constructor(input: PickerInput) {
    this.maglev = new MaglevEndpoints(input);
    this.noKey = new LeastRequestPicker(input, NO_KEY_REASON);
    this.inFlight = input.inFlight;
  }

  abstract pick(view: PickView): PickerChoice | undefined;

  acquire(index: number): void {
    this.maglev.acquire(index);
  }

  release(index: number): void {
    this.maglev.release(index);
  }

  free(): void {
    this.maglev.free();
  }

  slotOwners(build: boolean): string[] | undefined {
    return this.maglev.slotOwners(build);
  }

  tableSize(): number | undefined {
    return this.maglev.built()?.table.size;
  }
}
