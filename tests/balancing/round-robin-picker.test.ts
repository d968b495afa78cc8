// The picker conformance suite (picker.conformance.ts) run against round robin.
import { RoundRobinPicker } from "../../router/balancing/round-robin-picker.ts";
import { runPickerConformance } from "./picker.conformance.ts";

const KEYLESS = "keys play no part in round robin: each request takes the next turn";

runPickerConformance("round-robin", {
  newPicker: (input) => new RoundRobinPicker(input),
  skip: [
    { case: "a key keeps its endpoint", reason: KEYLESS },
    { case: "a key's endpoint does not depend on the order of the endpoints", reason: KEYLESS },
    { case: "an endpoint leaving or joining moves few keys", reason: KEYLESS },
    { case: "ejection moves only the ejected endpoint's keys", reason: KEYLESS },
  ],
});
