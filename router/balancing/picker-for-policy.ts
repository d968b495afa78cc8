// The picker of each policy (picker.ts): the one place a policy name becomes an implementation.
import { BoundedLoadPicker } from "./bounded-load-picker.ts";
import { LeastRequestPicker } from "./least-request-picker.ts";
import { MaglevPicker } from "./maglev-picker.ts";
import type { Picker, PickerInput } from "./picker.ts";
import type { PolicyName } from "./policy-name.ts";
import { RoundRobinPicker } from "./round-robin-picker.ts";

export function pickerFor(policy: PolicyName, input: PickerInput): Picker {
  switch (policy) {
    case "least-request":
      return new LeastRequestPicker(input);
    case "round-robin":
      return new RoundRobinPicker(input);
    case "maglev":
      return new MaglevPicker(input);
    case "bounded-load":
      return new BoundedLoadPicker(input);
  }
}
