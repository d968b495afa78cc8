// The picker conformance suite (picker.conformance.ts) run against bounded load.
import { runPickerConformance } from "./picker.conformance.ts";
import { policyPickers } from "./policy-pickers.ts";

runPickerConformance("bounded-load", policyPickers["bounded-load"]);
