// Request-time subsets: a label selector in the request narrows the pick to matching endpoints,
// under every policy, on both engines; an empty subset and a bad selector are failures with
// exact messages, never exceptions.
import { describe, expect, test } from "vitest";
import type { PolicyConfig } from "../../router/balancing/policy-config.ts";
import { MAX_SUBSET_LENGTH, SubsetMatcher } from "../../router/balancing/subset-matcher.ts";
import { buildReferenceLabelIndex } from "../../wasm/label-index-reference.ts";
import { balancer, engines, picked, seededRandom, tally, webService, type PodSpec } from "./balancer-fixtures.ts";

// Six pods: v1 on even numbers, v2 on odd; pod-5 is also a canary.
const labelled: Record<string, PodSpec> = {};
for (let i = 0; i < 6; i++) {
  labelled[`pod-${i}`] = { labels: { app: "web", version: i % 2 === 0 ? "v1" : "v2", ...(i === 5 ? { canary: "true" } : {}) } };
}
const v2 = ["pod-1", "pod-3", "pod-5"];
const byHeader = { from: "header", name: "x-user" } as const;

const policies: [string, Partial<PolicyConfig>, boolean][] = [
  ["least-request", { policy: "least-request" }, false],
  ["round-robin", { policy: "round-robin" }, false],
  ["maglev", { policy: "maglev", hashKey: byHeader }, true],
  ["bounded-load", { policy: "bounded-load", hashKey: byHeader, loadFactor: 1.25 }, true],
];

for (const [engine, core] of engines()) {
  describe(`subsets on the ${engine} engine`, () => {
    test.each(policies)("%s picks only matching endpoints, and spreads over them", (_, config, keyed) => {
      const lb = balancer(webService(labelled), config, core, { random: seededRandom(11) });
      const chosen: string[] = [];
      for (let i = 0; i < 600; i++) {
        const pick = picked(lb.pick({ hashKey: keyed ? `user-${i}` : undefined, clientIp: "", subset: "version=v2" }));
        chosen.push(pick.endpoint.identity);
      }
      const counts = tally(chosen);
      expect(Object.keys(counts).sort()).toEqual(v2);
      for (const id of v2) expect(counts[id]).toBeGreaterThan(150); // 200 each, ±25%
      const notCanary = Array.from({ length: 60 }, (_, i) => picked(lb.pick({ hashKey: keyed ? `u${i}` : undefined, clientIp: "", subset: "version=v2,!canary" })));
      expect(Object.keys(tally(notCanary.map((p) => p.endpoint.identity))).sort()).toEqual(["pod-1", "pod-3"]);
      lb.free();
    });

    test("maglev in a subset: a key whose endpoint matches keeps it; the others walk to a matching one", () => {
      const lb = balancer(webService(labelled), { policy: "maglev", hashKey: byHeader }, core);
      let kept = 0;
      for (let k = 0; k < 300; k++) {
        const key = `user-${k}`;
        const full = picked(lb.pick({ hashKey: key, clientIp: "" }));
        const inSubset = picked(lb.pick({ hashKey: key, clientIp: "", subset: "version=v2" }));
        expect(v2).toContain(inSubset.endpoint.identity);
        if (v2.includes(full.endpoint.identity)) {
          expect(inSubset.endpoint).toBe(full.endpoint);
          kept++;
        }
        // The same key in the same subset: always the same endpoint; retries: the other matching ones.
        expect(picked(lb.pick({ hashKey: key, clientIp: "", subset: "version=v2" })).endpoint).toBe(inSubset.endpoint);
        const retries = [1, 2].map((attempt) => picked(lb.pick({ hashKey: key, clientIp: "", subset: "version=v2", attempt })).endpoint.identity);
        expect(new Set([inSubset.endpoint.identity, ...retries])).toEqual(new Set(v2));
      }
      expect(kept).toBeGreaterThan(100);
      lb.free();
    });

    test("a subset no eligible endpoint matches is a failure naming the selector", () => {
      const lb = balancer(webService(labelled), { policy: "round-robin" }, core);
      expect(lb.pick({ hashKey: undefined, clientIp: "", subset: "version=v9" })).toEqual({
        ok: false,
        reason: "subset-empty",
        message: 'no eligible endpoint of default/web matches the subset "version=v9"',
      });
      // An endpoint that matches but is not eligible (not ready) does not count.
      const notReady = balancer(webService({ ...labelled, "pod-9": { labels: { version: "v9" }, ready: false } }), { policy: "round-robin" }, core);
      expect(notReady.pick({ hashKey: undefined, clientIp: "", subset: "version=v9" })).toMatchObject({ ok: false, reason: "subset-empty" });
    });

    test("a bad selector is a failure with the parser's message, and is not thrown", () => {
      const lb = balancer(webService(labelled), { policy: "maglev", hashKey: byHeader }, core);
      for (let i = 0; i < 2; i++) {
        expect(lb.pick({ hashKey: "alice", clientIp: "", subset: "version in (a" })).toEqual({
          ok: false,
          reason: "bad-subset",
          message: 'label selector: unexpected end of string at position 13 in "version in (a"; expected "," or ")"',
        });
      }
      expect(lb.pick({ hashKey: "alice", clientIp: "", subset: "x".repeat(MAX_SUBSET_LENGTH + 1) })).toEqual({
        ok: false,
        reason: "bad-subset",
        message: "subset selector is 1025 characters long; at most 1024 are accepted",
      });
      expect(lb.explain({ hashKey: "alice", clientIp: "", subset: "version=v2,," }).subset).toEqual({
        selector: "version=v2,,",
        error: 'label selector: unexpected "," at position 11 in "version=v2,,"; expected a label key or "!"',
      });
    });

    test("an empty selector text means no subset; endpoints without known labels match only label-free selectors", () => {
      const lb = balancer(webService({ a: {}, b: { labels: { tier: "gold" } } }), { policy: "round-robin" }, core, { random: () => 0 });
      expect([0, 1].map(() => picked(lb.pick({ hashKey: undefined, clientIp: "", subset: "" })).endpoint.identity)).toEqual(["a", "b"]);
      expect(picked(lb.pick({ hashKey: undefined, clientIp: "", subset: "tier=gold" })).endpoint.identity).toBe("b");
      expect(picked(lb.pick({ hashKey: undefined, clientIp: "", subset: "!tier" })).endpoint.identity).toBe("a");
      expect(lb.explain({ hashKey: undefined, clientIp: "", subset: "tier" }).subset).toEqual({ selector: "tier", matching: ["b"] });
    });
  });
}

describe("SubsetMatcher", () => {
  test("parses and matches each distinct text once, keeping the most recently used", () => {
    let builds = 0;
    const matcher = new SubsetMatcher([{ v: "1" }, { v: "2" }, { v: "1" }], 2, (labels) => (builds++, buildReferenceLabelIndex(labels)), 2);
    const first = matcher.match("v=1");
    expect(first).toMatchObject({ ok: true, eligible: [0] }); // endpoint 2 matches but is not eligible
    expect(first.ok && [...first.matches]).toEqual([1, 0, 1]);
    expect(matcher.match("v=1")).toBe(first);
    matcher.match("v=2");
    matcher.match("v=1"); // now the most recent
    matcher.match("v in (1,2)"); // evicts v=2
    expect(matcher.match("v=1")).toBe(first);
    expect(builds).toBe(1);
    matcher.free();
    expect(matcher.match("v=1")).toBe(first); // cached answers outlive the index
    matcher.match("!v");
    expect(builds).toBe(2);
  });
});
