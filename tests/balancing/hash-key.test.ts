// Reading a request's hash key: each source, cookie-string parsing (RFC 6265), and query values
// that always equal what URLSearchParams decodes.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { cookieValue, hashKeyOf } from "../../router/balancing/hash-key.ts";
import { parseHashKeySource } from "../../router/balancing/policy-config.ts";

function keyOf(source: string, url: string, headers: Record<string, string> = {}, clientIp = "10.1.2.3"): string | undefined {
  // Header names keep their case, as Node's rawHeaders do.
  const list = Object.entries(headers).flat();
  const parsed = new URL(url);
  return hashKeyOf(parseHashKeySource(source), list, parsed.pathname + parsed.search, clientIp);
}

describe("hashKeyOf", () => {
  test.each<[string, string, Record<string, string>, string | undefined]>([
    ["header:x-user", "http://web/", { "X-User": "alice" }, "alice"],
    ["header:x-user", "http://web/", {}, undefined],
    ["header:x-user", "http://web/", { "x-user": "" }, undefined],
    ["cookie:session", "http://web/", { cookie: "theme=dark; session=abc123" }, "abc123"],
    ["cookie:session", "http://web/", { cookie: "theme=dark" }, undefined],
    ["cookie:session", "http://web/", {}, undefined],
    ["query:id", "http://web/items?id=42&x=1", {}, "42"],
    ["query:id", "http://web/items?x=1", {}, undefined],
    ["query:id", "http://web/items?id=", {}, undefined],
    ["query:id", "http://web/items?id=a%20b", {}, "a b"],
    ["query:user id", "http://web/items?user+id=7", {}, "7"],
    ["client-ip", "http://web/", {}, "10.1.2.3"],
    ["path", "http://web/users/42?x=1", {}, "/users/42"],
  ])("%s of %s %j is %j", (source, url, headers, key) => {
    expect(keyOf(source, url, headers)).toBe(key);
  });

  test("repeated fields join as Headers.get joins them; repeated Cookie fields as one cookie-string", () => {
    const headers = ["X-User", "a", "cookie", "theme=dark", "x-user", "b", "Cookie", "session=s1"];
    expect(hashKeyOf({ from: "header", name: "x-user" }, headers, "/", "")).toBe("a, b");
    expect(hashKeyOf({ from: "cookie", name: "session" }, headers, "/", "")).toBe("s1");
  });

  test("an unknown client address is no key", () => {
    expect(keyOf("client-ip", "http://web/", {}, "")).toBeUndefined();
  });
});

describe("cookieValue", () => {
  test.each<[string, string, string | undefined]>([
    ["session=abc", "session", "abc"],
    ["a=1; session=abc; b=2", "session", "abc"],
    ["a=1;session=abc;b=2", "session", "abc"],
    ["  session =  abc  ; b=2", "session", "abc"],
    ['session="quoted value"', "session", "quoted value"],
    ['session="', "session", '"'],
    ["session=", "session", ""],
    ["session=a=b", "session", "a=b"],
    ["session=first; session=second", "session", "first"],
    ["mysession=x; session_id=y", "session", undefined],
    ["Session=x", "session", undefined],
    ["novalue; session=abc", "session", "abc"],
    ["a=1, session=abc", "session", "abc"], // two Cookie fields joined by Headers.get
    ["", "session", undefined],
    [";;; ", "session", undefined],
  ])("%j: %s is %j", (header, name, value) => {
    expect(cookieValue(header, name)).toBe(value);
  });
});

describe("query keys agree with URLSearchParams", () => {
  test("for any query string", () => {
    const piece = fc.constantFrom("id", "i", "d", "=", "&", "%", "%20", "%2", "+", "x", "%69d", "é", "");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const url = new URL(`http://web/?${pieces.join("")}`);
        const expected = url.searchParams.get("id");
        const key = hashKeyOf({ from: "query", name: "id" }, [], url.pathname + url.search, "");
        expect(key).toBe(expected === null || expected === "" ? undefined : expected);
      }),
      { numRuns: 500 },
    );
  });
});
