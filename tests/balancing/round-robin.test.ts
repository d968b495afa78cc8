// Round robin on its own (router/balancing/round-robin.ts): a counter, and nginx's smooth weighted
// round robin. The picker around it runs the conformance suite (round-robin-picker.test.ts).
import { describe, expect, test } from "vitest";
import { RoundRobin } from "../../router/balancing/round-robin.ts";

describe("RoundRobin", () => {
  test("equal weights: a counter from the start position", () => {
    const rr = new RoundRobin(4, undefined, 2);
    expect(Array.from({ length: 6 }, () => rr.next())).toEqual([2, 3, 0, 1, 2, 3]);
    expect(rr.peek()).toBe(0);
    expect(rr.next()).toBe(0);
    expect(new RoundRobin(3, [2, 2, 2], 1).next()).toBe(1);
  });

  test("weights [5, 1, 1]: nginx's smooth sequence a a b a c a a", () => {
    const rr = new RoundRobin(3, [5, 1, 1], 0);
    const seq = Array.from({ length: 14 }, () => "abc"[rr.next()]).join("");
    expect(seq).toBe("aabacaa" + "aabacaa");
  });

  test("a weighted start position rotates the sequence, and peek does not advance", () => {
    const rr = new RoundRobin(3, [5, 1, 1], 2);
    expect(rr.peek()).toBe(rr.peek());
    const first = rr.peek();
    expect(rr.next()).toBe(first);
    expect(Array.from({ length: 7 }, () => "abc"[rr.next()]).join("")).toBe("acaaaab");
  });
});
