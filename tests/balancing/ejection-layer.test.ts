// The picker conformance suite (picker.conformance.ts) run against the hashing policies inside
// the outlier ejection layer (router/balancing/ejection-layer.ts): ejection must move only the
// ejected endpoint's keys, and give them back when the ejection ends.
import { runPickerConformance } from "./picker.conformance.ts";
import { policyPickers } from "./policy-pickers.ts";

runPickerConformance("maglev + ejection", { ...policyPickers.maglev, layers: ["ejection"] });
runPickerConformance("bounded-load + ejection", { ...policyPickers["bounded-load"], layers: ["ejection"] });
