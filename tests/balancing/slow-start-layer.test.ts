// The picker conformance suite (picker.conformance.ts) run against the policies slow start shapes
// (least-request and round robin) inside the slow start layer (router/balancing/slow-start-layer.ts).
import { runPickerConformance } from "./picker.conformance.ts";
import { policyPickers, WEIGHTED_TWO_CHOICES } from "./policy-pickers.ts";

runPickerConformance("least-request + slow start", {
  ...policyPickers["least-request"],
  layers: ["slow-start"],
  skip: [...policyPickers["least-request"].skip, WEIGHTED_TWO_CHOICES],
});
runPickerConformance("round-robin + slow start", { ...policyPickers["round-robin"], layers: ["slow-start"] });
