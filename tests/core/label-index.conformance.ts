// The label index contract, run by every implementation (tests/core/label-index.test.ts): each
// case is checked against an oracle that evaluates a Selector on a label map directly, as
// k8s.io/apimachinery/pkg/labels/selector.go Requirement.Matches does, with no interning.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import type { LabelIndex, Labels } from "../../wasm/label-interning.ts";
import { parseSelector, type Requirement, type Selector } from "../../wasm/label-selector.ts";

/** The oracle: one requirement on one label map, by the Kubernetes rules. */
function requirementMatches(requirement: Requirement, labels: Labels): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.operator) {
    case "In":
      return present && requirement.values.some((v) => v === value);
    case "NotIn":
      return !present || !requirement.values.some((v) => v === value);
    case "Exists":
      return present;
    case "DoesNotExist":
      return !present;
  }
}

/** The oracle for a whole selector: every requirement holds (vacuously true when empty). */
export function oracleMatches(selector: Selector, labels: Labels): boolean {
  return selector.every((r) => requirementMatches(r, labels));
}

function oracle(selector: Selector, endpoints: readonly Labels[]): number[] {
  return endpoints.map((labels) => (oracleMatches(selector, labels) ? 1 : 0));
}

export type BuildLabelIndex = (labels: readonly Labels[]) => LabelIndex;

/** Builds an index, runs `body`, and frees the index whatever happens. */
function withIndex<T>(build: BuildLabelIndex, labels: readonly Labels[], body: (index: LabelIndex) => T): T {
  const index = build(labels);
  try {
    return body(index);
  } finally {
    index.free();
  }
}

/** Matches with both entry points and checks them against each other and the oracle. */
function check(index: LabelIndex, selector: Selector, endpoints: readonly Labels[]): void {
  const expected = oracle(selector, endpoints);
  expect([...index.match(selector)]).toEqual(expected);
  const out = new Uint8Array(endpoints.length + 3).fill(7);
  const matched = index.matchInto(index.compile(selector), out);
  expect([...out.subarray(0, endpoints.length)]).toEqual(expected);
  expect([...out.subarray(endpoints.length)]).toEqual([7, 7, 7]); // nothing past size is written
  expect(matched).toBe(expected.reduce((a, b) => a + b, 0));
}

const pods: readonly Labels[] = [
  { app: "web", tier: "front", env: "prod" },
  { app: "web", tier: "front", env: "staging", canary: "" },
  { app: "db", tier: "back", env: "prod" },
  { app: "db", env: "dev", legacy: "true" },
  {},
  { "example.com/team": "a", app: "web" },
];

// [selector text, expected match per pod above]; the oracle is asserted to agree first, so a
// wrong row here fails loudly rather than testing the wrong thing.
const table: ReadonlyArray<readonly [string, readonly number[]]> = [
  ["", [1, 1, 1, 1, 1, 1]],
  ["app=web", [1, 1, 0, 0, 0, 1]],
  ["app==db", [0, 0, 1, 1, 0, 0]],
  ["app!=web", [0, 0, 1, 1, 1, 0]], // absent key: != holds
  ["tier in (front,back)", [1, 1, 1, 0, 0, 0]],
  ["tier notin (front)", [0, 0, 1, 1, 1, 1]], // absent key: notin holds
  ["canary", [0, 1, 0, 0, 0, 0]],
  ["!canary", [1, 0, 1, 1, 1, 1]],
  ["canary=", [0, 1, 0, 0, 0, 0]], // the empty value is a value
  ["tier", [1, 1, 1, 0, 0, 0]],
  ["!tier", [0, 0, 0, 1, 1, 1]],
  ["example.com/team=a", [0, 0, 0, 0, 0, 1]],
  ["app=web,env=prod", [1, 0, 0, 0, 0, 0]],
  ["app=web,tier!=front", [0, 0, 0, 0, 0, 1]],
  ["app in (web,db),!legacy,env notin (staging)", [1, 0, 1, 0, 0, 1]],
  ["app=web,app=db", [0, 0, 0, 0, 0, 0]],
  // Values and keys no pod carries get no bit: = and in match none, != and notin match all.
  ["app=unknown", [0, 0, 0, 0, 0, 0]],
  ["app in (unknown,nope)", [0, 0, 0, 0, 0, 0]],
  ["app in (unknown,web)", [1, 1, 0, 0, 0, 1]],
  ["app!=unknown", [1, 1, 1, 1, 1, 1]],
  ["app notin (unknown)", [1, 1, 1, 1, 1, 1]],
  ["nokey=x", [0, 0, 0, 0, 0, 0]],
  ["nokey!=x", [1, 1, 1, 1, 1, 1]],
  ["nokey", [0, 0, 0, 0, 0, 0]],
  ["!nokey", [1, 1, 1, 1, 1, 1]],
  ["!nokey,app=db", [0, 0, 1, 1, 0, 0]],
  ["app=db,nokey", [0, 0, 0, 0, 0, 0]],
];

// Random label sets over small alphabets, so that keys and values repeat and selectors match;
// 6 keys x 8 values is up to 54 ids, so rows often span two words. "z" and "9" never appear on
// an endpoint and stand for unknown keys and values.
const keys = ["a", "b", "c", "d", "e", "x.io/f"] as const;
const values = ["", "0", "1", "2", "3", "4", "5", "6"] as const;
const labelsArb = fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values), { maxKeys: 6 });
const selectorKey = fc.constantFrom(...keys, "z");
const selectorValue = fc.constantFrom(...values, "9");
const requirementArb: fc.Arbitrary<Requirement> = fc.oneof(
  fc.record({ key: selectorKey, operator: fc.constantFrom("In" as const, "NotIn" as const), values: fc.uniqueArray(selectorValue, { minLength: 1, maxLength: 4 }) }),
  fc.record({ key: selectorKey, operator: fc.constantFrom("Exists" as const, "DoesNotExist" as const), values: fc.constant([]) }),
);
const selectorArb = fc.array(requirementArb, { maxLength: 4 });

/** Runs the label index contract against `build`. */
export function runLabelIndexConformance(name: string, build: BuildLabelIndex): void {
  describe(`label index conformance: ${name}`, () => {
    test.each(table)("%j", (text, expected) => {
      const selector = parseSelector(text);
      expect(oracle(selector, pods)).toEqual(expected);
      withIndex(build, pods, (index) => {
        expect(index.size).toBe(pods.length);
        check(index, selector, pods);
      });
    });

    test("an index of no endpoints matches nothing and writes nothing", () => {
      withIndex(build, [], (index) => {
        expect(index.size).toBe(0);
        expect(index.match(parseSelector("a=b"))).toEqual(new Uint8Array(0));
        expect(index.matchInto(index.compile([]), new Uint8Array(0))).toBe(0);
      });
    });

    test("endpoints with no labels at all: only negative requirements match", () => {
      withIndex(build, [{}, {}], (index) => {
        check(index, [], [{}, {}]);
        check(index, parseSelector("a!=b,!c,d notin (e)"), [{}, {}]);
        check(index, parseSelector("a"), [{}, {}]);
      });
    });

    test("more than 32 distinct pairs: ids spill into several words per row", () => {
      // 40 endpoints with a unique id, a shard of 7 and a zone of 3: 40 + 7 + 3 pairs, 3 keys.
      const endpoints = Array.from({ length: 40 }, (_, i): Labels => ({ id: `p${i}`, shard: `s${i % 7}`, zone: `z${i % 3}` }));
      withIndex(build, endpoints, (index) => {
        check(index, parseSelector("id=p0"), endpoints);
        check(index, parseSelector("id=p39"), endpoints);
        check(index, parseSelector("id in (p1,p31,p32,p33,p39)"), endpoints);
        check(index, parseSelector("id notin (p1,p31,p32,p33,p39),shard=s6"), endpoints);
        check(index, parseSelector("zone=z2,shard in (s0,s1),id!=p28"), endpoints);
        expect(index.matchInto(index.compile(parseSelector("zone=z1")), new Uint8Array(40))).toBe(13);
      });
    });

    test("a compiled selector is reusable and calls do not disturb each other", () => {
      withIndex(build, pods, (index) => {
        const web = index.compile(parseSelector("app=web"));
        const db = index.compile(parseSelector("app=db"));
        const out = new Uint8Array(pods.length);
        expect(index.matchInto(web, out)).toBe(3);
        expect(index.matchInto(db, out)).toBe(2);
        expect(index.matchInto(web, out)).toBe(3);
        expect([...out]).toEqual(oracle(parseSelector("app=web"), pods));
      });
    });

    test("rejects a selector compiled by another index and a short output", () => {
      withIndex(build, pods, (index) => {
        withIndex(build, pods, (other) => {
          expect(() => index.matchInto(other.compile([]), new Uint8Array(pods.length))).toThrow("label index: selector was compiled by another label index");
        });
        expect(() => index.matchInto(index.compile([]), new Uint8Array(5))).toThrow("label index: output holds 5 bytes, need 6 (one per endpoint)");
      });
    });

    test("agrees with the oracle on random label sets and selectors", () => {
      fc.assert(
        fc.property(fc.array(labelsArb, { maxLength: 24 }), fc.array(selectorArb, { minLength: 1, maxLength: 4 }), (endpoints, selectors) => {
          withIndex(build, endpoints, (index) => {
            for (const selector of selectors) check(index, selector, endpoints);
          });
        }),
        { numRuns: 200 },
      );
    });

    test("agrees with the oracle when every endpoint is unique (many words)", () => {
      // Unique `id` values push the id count past 32 and often past 64.
      const endpointsArb = fc.array(labelsArb, { minLength: 20, maxLength: 40 }).map((list) => list.map((labels, i): Labels => ({ ...labels, id: `${i}` })));
      const idRequirement = fc.record({
        key: fc.constant("id"),
        operator: fc.constantFrom("In" as const, "NotIn" as const),
        values: fc.uniqueArray(fc.integer({ min: 0, max: 45 }).map(String), { minLength: 1, maxLength: 6 }),
      });
      const selector = fc.array(fc.oneof(requirementArb, idRequirement), { maxLength: 4 });
      fc.assert(
        fc.property(endpointsArb, selector, (endpoints, s) => {
          withIndex(build, endpoints, (index) => check(index, s, endpoints));
        }),
        { numRuns: 100 },
      );
    });
  });
}
