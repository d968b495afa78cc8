// The picker conformance suite (picker.conformance.ts) run against Maglev.
import { MaglevPicker } from "../../router/balancing/maglev-picker.ts";
import { runPickerConformance } from "./picker.conformance.ts";

runPickerConformance("maglev", {
  newPicker: (input) => new MaglevPicker(input),
  skip: [
    {
      case: "shares follow the weights the view carries (slow start)",
      reason: "the table places keys by the endpoints' own weights; slow start does not shape hashing policies (slow-start-config.ts)",
    },
    {
      case: "keeps in-flight load within c times the average under one hot key",
      reason: "a key stays on its endpoint whatever the load; bounded load is the policy that caps it",
    },
  ],
});
