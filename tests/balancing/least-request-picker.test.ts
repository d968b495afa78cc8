// The picker conformance suite (picker.conformance.ts) run against least-request.
import { LeastRequestPicker } from "../../router/balancing/least-request-picker.ts";
import { runPickerConformance } from "./picker.conformance.ts";

const KEYLESS = "keys play no part in least-request: it picks by load and randomness";

runPickerConformance("least-request", {
  newPicker: (input) => new LeastRequestPicker(input),
  skip: [
    { case: "a key keeps its endpoint", reason: KEYLESS },
    { case: "a key's endpoint does not depend on the order of the endpoints", reason: KEYLESS },
    { case: "an endpoint leaving or joining moves few keys", reason: KEYLESS },
    { case: "ejection moves only the ejected endpoint's keys", reason: KEYLESS },
    { case: "a pick without commit changes nothing and matches the next pick", reason: "each pick draws its own two random choices, a pick without commit too" },
  ],
});
