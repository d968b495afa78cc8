// The picker conformance suite (picker.conformance.ts) run against least-request.
import { runPickerConformance } from "./picker.conformance.ts";
import { policyPickers } from "./policy-pickers.ts";

runPickerConformance("least-request", policyPickers["least-request"]);
