// Each policy's picker and what it does not promise of the conformance suite (picker.conformance.ts),
// shared by the suite's runs on the policy's picker alone (least-request-picker.test.ts, ...) and
// on the layered combinations (session-affinity-layer.test.ts, ...).
import { BoundedLoadPicker } from "../../router/balancing/bounded-load-picker.ts";
import { LeastRequestPicker } from "../../router/balancing/least-request-picker.ts";
import { MaglevPicker } from "../../router/balancing/maglev-picker.ts";
import type { Picker, PickerInput } from "../../router/balancing/picker.ts";
import type { PolicyName } from "../../router/balancing/policy-name.ts";
import { RoundRobinPicker } from "../../router/balancing/round-robin-picker.ts";
import type { PickerSuiteOptions } from "./picker.conformance.ts";

const keyless = (policy: string, why: string): PickerSuiteOptions["skip"] => {
  const reason = `keys play no part in ${policy}: ${why}`;
  return [
    { case: "a key keeps its endpoint", reason },
    { case: "a key's endpoint does not depend on the order of the endpoints", reason },
    { case: "an endpoint leaving or joining moves few keys", reason },
    { case: "ejection moves only the ejected endpoint's keys", reason },
  ];
};

const TABLE_WEIGHTS = "the table places keys by the endpoints' own weights; slow start does not shape hashing policies (slow-start-config.ts)";

export const policyPickers: Record<PolicyName, Required<Pick<PickerSuiteOptions, "newPicker" | "skip">>> = {
  "least-request": {
    newPicker: (input: PickerInput): Picker => new LeastRequestPicker(input),
    skip: [
      ...keyless("least-request", "it picks by load and randomness")!,
      { case: "a pick without commit changes nothing and matches the next pick", reason: "each pick draws its own two random choices, a pick without commit too" },
    ],
  },
  "round-robin": {
    newPicker: (input: PickerInput): Picker => new RoundRobinPicker(input),
    skip: keyless("round robin", "each request takes the next turn")!,
  },
  maglev: {
    newPicker: (input: PickerInput): Picker => new MaglevPicker(input),
    skip: [
      { case: "shares follow the weights the view carries (slow start)", reason: TABLE_WEIGHTS },
      { case: "keeps in-flight load within c times the average under one hot key", reason: "a key stays on its endpoint whatever the load; bounded load is the policy that caps it" },
    ],
  },
  "bounded-load": {
    newPicker: (input: PickerInput): Picker => new BoundedLoadPicker(input),
    skip: [{ case: "shares follow the weights the view carries (slow start)", reason: TABLE_WEIGHTS }],
  },
};

/** With weights (slow start's ramp), least-request samples its two choices by weight and they may
 * coincide (router/balancing/least-request.ts), so loads stay close, not within bounded load's cap. */
export const WEIGHTED_TWO_CHOICES = {
  case: "keeps in-flight load within c times the average under one hot key",
  reason: "slow start's weights put least-request on its weighted two choices, which may coincide",
} as const;
