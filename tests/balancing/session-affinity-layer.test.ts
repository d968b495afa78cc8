// The picker conformance suite (picker.conformance.ts) run against policies inside the session
// affinity layer (router/balancing/session-affinity-layer.ts), alone and with every layer the
// router may stack (router/balancing/picker-layers.ts).
import { runPickerConformance } from "./picker.conformance.ts";
import { policyPickers, WEIGHTED_TWO_CHOICES } from "./policy-pickers.ts";

runPickerConformance("round-robin + session affinity", { ...policyPickers["round-robin"], layers: ["session-affinity"] });
runPickerConformance("maglev + session affinity + ejection", { ...policyPickers.maglev, layers: ["session-affinity", "ejection"] });
runPickerConformance("least-request + session affinity + slow start + ejection", {
  ...policyPickers["least-request"],
  layers: ["session-affinity", "slow-start", "ejection"],
  skip: [...policyPickers["least-request"].skip, WEIGHTED_TWO_CHOICES],
});
