// Least-request on its own (router/balancing/least-request.ts): the power of two choices, and its
// weighted form. The picker around it runs the conformance suite (least-request-picker.test.ts).
import { describe, expect, test } from "vitest";
import { leastRequestChoice } from "../../router/balancing/least-request.ts";
import { seededRandom } from "./balancer-fixtures.ts";

describe("leastRequestChoice", () => {
  test("of two distinct random candidates, takes the one with fewer requests in flight", () => {
    // random() = 0 picks position 0 first, then position 0 of the others (position 1).
    expect(leastRequestChoice([4, 7, 9], [0, 0, 0, 0, 3, 0, 0, 1, 0, 0], undefined, () => 0)).toBe(7);
    expect(leastRequestChoice([4, 7, 9], [0, 0, 0, 0, 1, 0, 0, 3, 0, 0], undefined, () => 0)).toBe(4);
    // A tie keeps the first choice.
    expect(leastRequestChoice([4, 7], [0, 0, 0, 0, 2, 0, 0, 2], undefined, () => 0)).toBe(4);
    expect(leastRequestChoice([4], [5, 5, 5, 5, 5], undefined, () => 0.99)).toBe(4);
  });

  test("with unequal weights: choices in proportion to weight, compared on in-flight / weight", () => {
    const random = seededRandom(42);
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) counts[leastRequestChoice([0, 1], [0, 0], [3, 1], random)]!++;
    // No load: every pair ties and the first choice, drawn by weight, wins: 3/4 to endpoint 0.
    expect(counts[0]! / 4000).toBeCloseTo(0.75, 1);
    // Random 0 then 0.9: the first choice is endpoint 0, the second endpoint 1 (0.9 x 4 > 3).
    const sequence = () => {
      const values = [0, 0.9];
      return () => values.shift()!;
    };
    // 3 in flight on weight 3 against 1 on weight 1: a tie, the first choice.
    expect(leastRequestChoice([0, 1], [3, 1], [3, 1], sequence())).toBe(0);
    // 4 on weight 3 is more per unit of weight than 1 on weight 1: the light endpoint wins.
    expect(leastRequestChoice([0, 1], [4, 1], [3, 1], sequence())).toBe(1);
  });

  test("with unequal weights under held load, in-flight counts follow the weights", () => {
    const random = seededRandom(8);
    const inFlight = [0, 0, 0];
    for (let i = 0; i < 600; i++) inFlight[leastRequestChoice([0, 1, 2], inFlight, [1, 2, 3], random)]!++;
    expect(inFlight[0]).toBeGreaterThan(80);
    expect(inFlight[0]).toBeLessThan(120);
    expect(inFlight[2]).toBeGreaterThan(270);
    expect(inFlight[2]).toBeLessThan(330);
  });
});
