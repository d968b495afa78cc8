// Parsing of label selectors: the string form (cases follow the behaviour of
// k8s.io/apimachinery/pkg/labels/selector.go, TestSelectorParse and TestLexer there) and the
// metav1.LabelSelector JSON form.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import {
  LabelSelectorError,
  SelectorParseError,
  parseSelector,
  selectorFromLabelSelector,
  type LabelSelector,
  type Requirement,
  type Selector,
} from "../../wasm/label-selector.ts";

const In = (key: string, ...values: string[]): Requirement => ({ key, operator: "In", values });
const NotIn = (key: string, ...values: string[]): Requirement => ({ key, operator: "NotIn", values });
const Exists = (key: string): Requirement => ({ key, operator: "Exists", values: [] });
const DoesNotExist = (key: string): Requirement => ({ key, operator: "DoesNotExist", values: [] });

describe("parseSelector", () => {
  const valid: ReadonlyArray<readonly [string, Selector]> = [
    ["", []],
    ["   \t\r\n ", []],
    ["app=web", [In("app", "web")]],
    ["app==web", [In("app", "web")]],
    ["app!=web", [NotIn("app", "web")]],
    ["env in (a,b)", [In("env", "a", "b")]],
    ["env notin (c)", [NotIn("env", "c")]],
    ["canary", [Exists("canary")]],
    ["!legacy", [DoesNotExist("legacy")]],
    [
      "app=web,tier!=db,env in (a,b),env notin (c),canary,!legacy",
      [In("app", "web"), NotIn("tier", "db"), In("env", "a", "b"), NotIn("env", "c"), Exists("canary"), DoesNotExist("legacy")],
    ],
    [" app = web ,\ttier != db , env in ( a , b ) , ! legacy ", [In("app", "web"), NotIn("tier", "db"), In("env", "a", "b"), DoesNotExist("legacy")]],
    ["env in(a),x notin(b)", [In("env", "a"), NotIn("x", "b")]],
    // Values are a sorted set, as sets.String.List() returns them.
    ["env in (b,a,b)", [In("env", "a", "b")]],
    // An empty value: after = or != with nothing before "," or the end, and empty list slots.
    ["app=", [In("app", "")]],
    ["app!=,x", [NotIn("app", ""), Exists("x")]],
    ["env in ()", [In("env", "")]],
    ["env in (,a)", [In("env", "", "a")]],
    ["env in (a,)", [In("env", "", "a")]],
    ["env in (a,,b)", [In("env", "", "a", "b")]],
    // `in` and `notin` are keywords only in operator position.
    ["in=notin", [In("in", "notin")]],
    ["notin in (in)", [In("notin", "in")]],
    // Qualified keys and the longest names and values allowed.
    ["example.com/app=Web_1.x-y", [In("example.com/app", "Web_1.x-y")]],
    [`${"k".repeat(63)}=${"v".repeat(63)}`, [In("k".repeat(63), "v".repeat(63))]],
  ];
  test.each(valid)("%j", (text, expected) => {
    expect(parseSelector(text)).toEqual(expected);
  });

  const invalid: ReadonlyArray<readonly [string, number, string]> = [
    ["app=(x", 4, 'unexpected "(" at position 4 in "app=(x"; expected a value'],
    ["app=web,", 8, 'unexpected end of string at position 8 in "app=web,"; expected a label key or "!"'],
    [",app", 0, 'unexpected "," at position 0 in ",app"; expected a label key or "!"'],
    ["a=b,,c", 4, 'unexpected "," at position 4 in "a=b,,c"; expected a label key or "!"'],
    ["a=b c", 4, 'unexpected "c" at position 4 in "a=b c"; expected "," or end of string'],
    ["a=b=c", 3, 'unexpected "=" at position 3 in "a=b=c"; expected "," or end of string'],
    ["a===b", 3, 'unexpected "=" at position 3 in "a===b"; expected a value'],
    ["!a=b", 2, 'unexpected "=" at position 2 in "!a=b"; expected "," or end of string'],
    ["!", 1, 'unexpected end of string at position 1 in "!"; expected a label key'],
    ["!!a", 1, 'unexpected "!" at position 1 in "!!a"; expected a label key'],
    ["a b", 2, 'unexpected "b" at position 2 in "a b"; expected one of =, ==, !=, in, notin'],
    ["a!", 1, 'unexpected "!" at position 1 in "a!"; expected one of =, ==, !=, in, notin'],
    ["env in a", 7, 'unexpected "a" at position 7 in "env in a"; expected "("'],
    ["env in (a", 9, 'unexpected end of string at position 9 in "env in (a"; expected "," or ")"'],
    ["env in (a b)", 10, 'unexpected "b" at position 10 in "env in (a b)"; expected "," or ")"'],
    ["env in (=)", 8, 'unexpected "=" at position 8 in "env in (=)"; expected a value, "," or ")"'],
    ["env in (a,=)", 10, 'unexpected "=" at position 10 in "env in (a,=)"; expected a value, "," or ")"'],
    ["cpu>4", 3, 'unsupported operator ">" at position 3 in "cpu>4"; expected one of =, ==, !=, in, notin (Gt and Lt are not supported)'],
    ["cpu < 4", 4, 'unsupported operator "<" at position 4 in "cpu < 4"; expected one of =, ==, !=, in, notin (Gt and Lt are not supported)'],
    ["a/b/c=x", 0, `invalid key "a/b/c" at position 0 in "a/b/c=x"; a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'`],
    ["/a", 0, 'invalid key "/a" at position 0 in "/a"; prefix part must be non-empty'],
    ["x,a/", 2, 'invalid key "a/" at position 2 in "x,a/"; name part must be non-empty'],
    [
      "Example.com/a",
      0,
      `invalid key "Example.com/a" at position 0 in "Example.com/a"; prefix part must be a lowercase RFC 1123 subdomain: lower case alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character`,
    ],
    [`${"k".repeat(64)}`, 0, `invalid key "${"k".repeat(64)}" at position 0 in "${"k".repeat(64)}"; name part must be no more than 63 characters`],
    ["-a=b", 0, `invalid key "-a" at position 0 in "-a=b"; name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`],
    ["a=b_", 2, `invalid value "b_" at position 2 in "a=b_"; must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`],
    ["a in (b, é)", 9, `invalid value "é" at position 9 in "a in (b, é)"; must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`],
    [`a=${"v".repeat(64)}`, 2, `invalid value "${"v".repeat(64)}" at position 2 in "a=${"v".repeat(64)}"; must be no more than 63 characters`],
  ];
  test.each(invalid)("%j fails at %i", (text, position, message) => {
    let caught: unknown;
    try {
      parseSelector(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SelectorParseError);
    expect((caught as SelectorParseError).message).toBe(`label selector: ${message}`);
    expect((caught as SelectorParseError).position).toBe(position);
    expect((caught as SelectorParseError).name).toBe("SelectorParseError");
  });

  test("formatting a selector and parsing it back gives the selector (values as a sorted set)", () => {
    const key = fc.constantFrom("a", "b.c", "x.io/d", "in", "notin");
    const value = fc.constantFrom("", "1", "v", "in", "A-b_c.d");
    const requirement = fc.oneof(
      fc.record({ key, operator: fc.constantFrom("In" as const, "NotIn" as const), values: fc.uniqueArray(value, { minLength: 1, maxLength: 3 }) }),
      fc.record({ key, operator: fc.constantFrom("Exists" as const, "DoesNotExist" as const), values: fc.constant([]) }),
    );
    const format = (r: Requirement): string => {
      switch (r.operator) {
        case "In":
          return r.values.length === 1 ? `${r.key} = ${r.values[0]}` : `${r.key} in (${r.values.join(", ")})`;
        case "NotIn":
          return r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values.join(",")})`;
        case "Exists":
          return r.key;
        case "DoesNotExist":
          return `!${r.key}`;
      }
    };
    fc.assert(
      fc.property(fc.array(requirement, { maxLength: 4 }), (selector) => {
        const expected = selector.map((r) => ({ ...r, values: [...r.values].sort() }));
        expect(parseSelector(selector.map(format).join(","))).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe("selectorFromLabelSelector", () => {
  test("an empty selector has no requirements (it matches everything)", () => {
    expect(selectorFromLabelSelector({})).toEqual([]);
    expect(selectorFromLabelSelector({ matchLabels: {}, matchExpressions: [] })).toEqual([]);
  });

  test("matchLabels are In with one value, then matchExpressions in order", () => {
    const selector = selectorFromLabelSelector({
      matchLabels: { app: "web", "example.com/tier": "" },
      matchExpressions: [
        { key: "env", operator: "In", values: ["b", "a", "b"] },
        { key: "env", operator: "NotIn", values: ["c"] },
        { key: "canary", operator: "Exists" },
        { key: "legacy", operator: "DoesNotExist", values: [] },
      ],
    });
    expect(selector).toEqual([
      In("app", "web"),
      In("example.com/tier", ""),
      In("env", "a", "b"),
      NotIn("env", "c"),
      Exists("canary"),
      DoesNotExist("legacy"),
    ]);
  });

  const invalid: ReadonlyArray<readonly [string, LabelSelector, string, string]> = [
    [
      "unknown operator",
      { matchExpressions: [{ key: "a", operator: "In", values: ["x"] }, { key: "cpu", operator: "Gt", values: ["4"] }] },
      "matchExpressions[1].operator",
      'matchExpressions[1].operator: unknown operator "Gt"; expected In, NotIn, Exists or DoesNotExist',
    ],
    ["In without values", { matchExpressions: [{ key: "a", operator: "In" }] }, "matchExpressions[0].values", "matchExpressions[0].values: must be non-empty when operator is In"],
    [
      "NotIn with empty values",
      { matchExpressions: [{ key: "a", operator: "Exists" }, { key: "b", operator: "NotIn", values: [] }] },
      "matchExpressions[1].values",
      "matchExpressions[1].values: must be non-empty when operator is NotIn",
    ],
    ["Exists with values", { matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] }, "matchExpressions[0].values", "matchExpressions[0].values: must be empty when operator is Exists"],
    [
      "DoesNotExist with values",
      { matchExpressions: [{ key: "a", operator: "DoesNotExist", values: [""] }] },
      "matchExpressions[0].values",
      "matchExpressions[0].values: must be empty when operator is DoesNotExist",
    ],
    ["invalid expression key", { matchExpressions: [{ key: "a/", operator: "Exists" }] }, "matchExpressions[0].key", 'matchExpressions[0].key: invalid key "a/": name part must be non-empty'],
    [
      "invalid expression value",
      { matchExpressions: [{ key: "a", operator: "In", values: ["ok", "-no"] }] },
      "matchExpressions[0].values[1]",
      `matchExpressions[0].values[1]: invalid value "-no": must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    ],
    ["invalid matchLabels key", { matchLabels: { "a b": "x" } }, 'matchLabels["a b"]', `matchLabels["a b"]: invalid key "a b": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`],
    ["invalid matchLabels value", { matchLabels: { a: "v".repeat(64) } }, 'matchLabels["a"]', `matchLabels["a"]: invalid value "${"v".repeat(64)}": must be no more than 63 characters`],
  ];
  test.each(invalid)("%s", (_name, selector, field, message) => {
    let caught: unknown;
    try {
      selectorFromLabelSelector(selector);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LabelSelectorError);
    expect((caught as LabelSelectorError).message).toBe(`label selector: ${message}`);
    expect((caught as LabelSelectorError).field).toBe(field);
  });
});
