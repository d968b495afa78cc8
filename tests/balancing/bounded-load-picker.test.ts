// The picker conformance suite (picker.conformance.ts) run against bounded load.
import { BoundedLoadPicker } from "../../router/balancing/bounded-load-picker.ts";
import { runPickerConformance } from "./picker.conformance.ts";

runPickerConformance("bounded-load", {
  newPicker: (input) => new BoundedLoadPicker(input),
  skip: [
    {
      case: "shares follow the weights the view carries (slow start)",
      reason: "the table places keys by the endpoints' own weights; slow start does not shape hashing policies (slow-start-config.ts)",
    },
  ],
});
