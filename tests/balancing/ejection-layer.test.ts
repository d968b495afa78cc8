// The outlier ejection layer (router/balancing/ejection-layer.ts): the picker conformance suite
// (picker.conformance.ts) run against the hashing policies inside it, where ejection must move only
// the ejected endpoint's keys and give them back when the ejection ends; and the same through a
// ServiceBalancer fed its tries' outcomes: keys whose endpoint is ejected go to the next endpoint
// on their Maglev preference walk, other keys stay put; bounded load skips the ejected endpoint
// too. Both engines.
import { describe, expect, test } from "vitest";
import { OutlierDetector } from "../../router/balancing/outlier-detection.ts";
import { balancer, engines, picked, pods, webService } from "./balancer-fixtures.ts";
import { runPickerConformance } from "./picker.conformance.ts";
import { policyPickers } from "./policy-pickers.ts";

runPickerConformance("maglev + ejection", { ...policyPickers.maglev, layers: ["ejection"] });
runPickerConformance("bounded-load + ejection", { ...policyPickers["bounded-load"], layers: ["ejection"] });

const keys = Array.from({ length: 300 }, (_, i) => `user-${i}`);

describe.each(engines())("ejected endpoints on hash policies (%s)", (_name, core) => {
  test.each(["maglev", "bounded-load"] as const)("%s: the ejected endpoint's keys move to their next endpoint, the rest stay", (policy) => {
    let now = 0;
    const outliers = new OutlierDetector({ consecutiveFailures: 2, now: () => now });
    const lb = balancer(webService(pods(4)), { policy, hashKey: { from: "header", name: "x-user" } }, core, { outliers });
    const pick = (key: string) => picked(lb.pick({ hashKey: key, clientIp: "" }));
    const before = new Map(keys.map((k) => [k, pick(k).endpoint.identity]));
    // Each key's preference walk before any ejection: attempts 0..3 over the 4 endpoints.
    const walks = new Map(keys.map((k) => [k, [0, 1, 2, 3].map((attempt) => picked(lb.pick({ hashKey: k, clientIp: "", attempt })).endpoint.identity)]));
    const victim = pick("user-1");
    lb.recordOutcome(victim, true);
    expect(lb.recordOutcome(victim, true)).toBe(true); // the second failure in a row ejects
    const after = new Map(keys.map((k) => [k, pick(k).endpoint.identity]));
    for (const key of keys) {
      if (before.get(key) === victim.endpoint.identity) {
        expect(after.get(key)).not.toBe(victim.endpoint.identity);
        if (policy === "maglev") expect(after.get(key)).toBe(walks.get(key)!.find((id) => id !== victim.endpoint.identity));
      } else {
        expect(after.get(key)).toBe(before.get(key));
      }
    }
    now += 30_001; // the first ejection lasts 30 s
    expect(pick("user-1").endpoint.identity).toBe(victim.endpoint.identity);
    lb.free();
  });
});
