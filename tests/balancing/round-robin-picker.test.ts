// The picker conformance suite (picker.conformance.ts) run against round robin.
import { runPickerConformance } from "./picker.conformance.ts";
import { policyPickers } from "./policy-pickers.ts";

runPickerConformance("round-robin", policyPickers["round-robin"]);
