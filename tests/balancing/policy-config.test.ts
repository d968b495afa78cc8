// Hash key sources and per-service policy annotations, with the exact diagnostic of each bad value.
import { describe, expect, test } from "vitest";
import {
  DEFAULT_POLICY_CONFIG,
  formatHashKeySource,
  HashKeySourceError,
  parseHashKeySource,
  policyFromAnnotations,
  type HashKeySource,
  type PolicyConfig,
} from "../../router/balancing/policy-config.ts";

describe("parseHashKeySource", () => {
  test.each<[string, HashKeySource]>([
    ["header:x-user", { from: "header", name: "x-user" }],
    ["header:X-User", { from: "header", name: "x-user" }],
    ["cookie:session", { from: "cookie", name: "session" }],
    ["cookie:Session_ID", { from: "cookie", name: "Session_ID" }],
    ["query:id", { from: "query", name: "id" }],
    ["query:user id", { from: "query", name: "user id" }],
    ["client-ip", { from: "client-ip" }],
    ["path", { from: "path" }],
  ])("%s", (text, source) => {
    expect(parseHashKeySource(text)).toEqual(source);
    expect(parseHashKeySource(formatHashKeySource(source))).toEqual(source);
  });

  test.each([
    ["ip", 'hash key "ip" is not a hash key source; expected header:<name>, cookie:<name>, query:<name>, client-ip or path'],
    ["", 'hash key "" is not a hash key source; expected header:<name>, cookie:<name>, query:<name>, client-ip or path'],
    ["Header:x", 'hash key "Header:x" is not a hash key source; expected header:<name>, cookie:<name>, query:<name>, client-ip or path'],
    ["header", 'hash key "header" has no name; expected header:<name>'],
    ["cookie:", 'hash key "cookie:" has no name; expected cookie:<name>'],
    ["header:x user", 'hash key "header:x user": "x user" is not a header name (an RFC 9110 token)'],
    ["cookie:a;b", 'hash key "cookie:a;b": "a;b" is not a cookie name (an RFC 6265 token)'],
    ["client-ip:v4", 'hash key "client-ip:v4" takes no name; expected client-ip'],
    ["path:/", 'hash key "path:/" takes no name; expected path'],
  ])("%j is refused", (text, message) => {
    expect(() => parseHashKeySource(text)).toThrow(HashKeySourceError);
    expect(() => parseHashKeySource(text)).toThrow(message);
  });
});

describe("policyFromAnnotations", () => {
  const user = { from: "header", name: "x-user" } as const;

  test.each<[string, Record<string, string>, PolicyConfig | undefined, PolicyConfig]>([
    ["no annotations: least-request", {}, undefined, { policy: "least-request", loadFactor: 1.25 }],
    ["a hash key alone means maglev", { "vipr.io/hash-key": "header:X-User" }, undefined, { policy: "maglev", hashKey: user, loadFactor: 1.25 }],
    [
      "bounded load with its factor",
      { "vipr.io/lb-policy": "bounded-load", "vipr.io/hash-key": "cookie:session", "vipr.io/bounded-load-factor": "1.5" },
      undefined,
      { policy: "bounded-load", hashKey: { from: "cookie", name: "session" }, loadFactor: 1.5 },
    ],
    ["round robin, key ignored but kept", { "vipr.io/lb-policy": "round-robin", "vipr.io/hash-key": "path" }, undefined, { policy: "round-robin", hashKey: { from: "path" }, loadFactor: 1.25 }],
    ["whitespace around values is trimmed", { "vipr.io/lb-policy": " maglev ", "vipr.io/hash-key": " client-ip " }, undefined, { policy: "maglev", hashKey: { from: "client-ip" }, loadFactor: 1.25 }],
    ["a subset header", { "vipr.io/subset-header": "X-Vipr-Subset" }, undefined, { policy: "least-request", loadFactor: 1.25, subsetHeader: "x-vipr-subset" }],
    [
      "configured defaults apply where no annotation overrides",
      { "vipr.io/lb-policy": "bounded-load" },
      { policy: "maglev", hashKey: user, loadFactor: 2, subsetHeader: "x-subset" },
      { policy: "bounded-load", hashKey: user, loadFactor: 2, subsetHeader: "x-subset" },
    ],
    [
      "a hash key annotation keeps a hashing default policy",
      { "vipr.io/hash-key": "query:id" },
      { policy: "bounded-load", loadFactor: 1.25 },
      { policy: "bounded-load", hashKey: { from: "query", name: "id" }, loadFactor: 1.25 },
    ],
  ])("%s", (_, annotations, defaults, config) => {
    const resolved = policyFromAnnotations(annotations, defaults);
    expect(resolved.diagnostics).toEqual([]);
    expect(resolved.config).toEqual(config);
  });

  test.each<[string, Record<string, string>, PolicyConfig | undefined, PolicyConfig, string[]]>([
    [
      "an unknown policy",
      { "vipr.io/lb-policy": "ring-hash" },
      undefined,
      DEFAULT_POLICY_CONFIG,
      ['vipr.io/lb-policy: "ring-hash" is not a load-balancing policy; expected least-request, round-robin, maglev or bounded-load; using least-request'],
    ],
    [
      "maglev without a hash key",
      { "vipr.io/lb-policy": "maglev" },
      undefined,
      DEFAULT_POLICY_CONFIG,
      ['vipr.io/lb-policy: "maglev" needs a hash key; set vipr.io/hash-key (header:<name>, cookie:<name>, query:<name>, client-ip or path); using least-request'],
    ],
    [
      "bounded-load with a bad hash key",
      { "vipr.io/lb-policy": "bounded-load", "vipr.io/hash-key": "header:" },
      undefined,
      DEFAULT_POLICY_CONFIG,
      [
        'vipr.io/hash-key: "header:" has no name; expected header:<name>; using no hash key',
        'vipr.io/lb-policy: "bounded-load" needs a hash key; set vipr.io/hash-key (header:<name>, cookie:<name>, query:<name>, client-ip or path); using least-request',
      ],
    ],
    [
      "a bad hash key keeps the configured one",
      { "vipr.io/hash-key": "ip" },
      { policy: "maglev", hashKey: { from: "client-ip" }, loadFactor: 1.25 },
      { policy: "maglev", hashKey: { from: "client-ip" }, loadFactor: 1.25 },
      ['vipr.io/hash-key: "ip" is not a hash key source; expected header:<name>, cookie:<name>, query:<name>, client-ip or path; using client-ip'],
    ],
    [
      "a configured hashing policy without a key",
      {},
      { policy: "maglev", loadFactor: 1.25 },
      DEFAULT_POLICY_CONFIG,
      ['configured policy "maglev" needs a hash key; set vipr.io/hash-key (header:<name>, cookie:<name>, query:<name>, client-ip or path); using least-request'],
    ],
    ...["0.5", "abc", "", "1e3", "-2", "Infinity"].map((factor): [string, Record<string, string>, PolicyConfig | undefined, PolicyConfig, string[]] => [
      `load factor ${JSON.stringify(factor)}`,
      { "vipr.io/lb-policy": "bounded-load", "vipr.io/hash-key": "path", "vipr.io/bounded-load-factor": factor },
      undefined,
      { policy: "bounded-load", hashKey: { from: "path" }, loadFactor: 1.25 },
      [
        `vipr.io/bounded-load-factor: ${JSON.stringify(factor)} is not a load factor; expected a decimal number of at least 1, such as 1.25; using 1.25`,
      ],
    ]),
    [
      "a load factor on another policy",
      { "vipr.io/hash-key": "path", "vipr.io/bounded-load-factor": "2" },
      undefined,
      { policy: "maglev", hashKey: { from: "path" }, loadFactor: 2 },
      ['vipr.io/bounded-load-factor: "2" has no effect with policy maglev; it applies to bounded-load'],
    ],
    [
      "a subset header that is not a header name",
      { "vipr.io/subset-header": "x subset" },
      undefined,
      DEFAULT_POLICY_CONFIG,
      ['vipr.io/subset-header: "x subset" is not a header name; expected an RFC 9110 token such as x-vipr-subset; using no subset header'],
    ],
  ])("%s: default kept, diagnostic given", (_, annotations, defaults, config, diagnostics) => {
    const resolved = policyFromAnnotations(annotations, defaults);
    expect(resolved.diagnostics).toEqual(diagnostics);
    expect(resolved.config).toEqual(config);
  });

  test("reads the null-prototype annotation records of the routing table, ignoring other annotations", () => {
    const annotations = Object.assign(Object.create(null) as Record<string, string>, { "vipr.io/lb-policy": "round-robin", "example.com/x": "y" });
    expect(policyFromAnnotations(annotations)).toEqual({ config: { policy: "round-robin", loadFactor: 1.25 }, diagnostics: [] });
  });
});
