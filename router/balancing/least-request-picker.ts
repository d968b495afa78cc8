// Least-request by the power of two choices (least-request.ts has the algorithm and its sources:
// Mitzenmacher 2001; Envoy's LEAST_REQUEST), as a picker (picker.ts). Retries and ejection narrow
// the two choices first: neither tried nor ejected; else not ejected (a retry may go back to a
// healthy endpoint rather than to an ejected one); else not tried; else every candidate. No
// candidate: no answer.
import { leastRequestChoice } from "./least-request.ts";
import type { Picker, PickerChoice, PickerInput, PickView } from "./picker.ts";

const REASON = "least-request: the less loaded of two random endpoints";

export class LeastRequestPicker implements Picker {
  readonly policy = "least-request";
  readonly #input: PickerInput;
  readonly #reason: string;

  /** `reason`: the line a choice carries (the hashing pickers say why they fell back to this). */
  constructor(input: PickerInput, reason: string = REASON) {
    this.#input = input;
    this.#reason = reason;
  }

  pick(view: PickView): PickerChoice | undefined {
    const { candidates, tried, ejected } = view;
    if (candidates.length === 0) return undefined;
    let choices = candidates;
    if (tried.length > 0 || ejected !== undefined) {
      let preferred = candidates.filter((i) => !tried.includes(i) && (ejected === undefined || ejected[i] !== 1));
      if (preferred.length === 0 && ejected !== undefined) preferred = candidates.filter((i) => ejected[i] !== 1);
      if (preferred.length === 0) preferred = candidates.filter((i) => !tried.includes(i));
      if (preferred.length > 0) choices = preferred;
    }
    const index = leastRequestChoice(choices, this.#input.inFlight, view.weights, this.#input.random);
    return { index, policy: "least-request", reason: this.#reason };
  }

  acquire(): void {}
  release(): void {}
  free(): void {}
  slotOwners(): undefined {
    return undefined;
  }
  tableSize(): undefined {
    return undefined;
  }
}
