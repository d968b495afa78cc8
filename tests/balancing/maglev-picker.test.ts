// The picker conformance suite (picker.conformance.ts) run against Maglev.
import { runPickerConformance } from "./picker.conformance.ts";
import { policyPickers } from "./policy-pickers.ts";

runPickerConformance("maglev", policyPickers.maglev);
