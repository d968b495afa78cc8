// Which failed tries may be sent again, and the retry budget.
import { describe, expect, test } from "vitest";
import { UpstreamError, type UpstreamErrorKind } from "../../router/forward/upstream-transport.ts";
import { RetryBudget, retryable } from "../../router/retry-policy.ts";

const target = { address: "10.0.0.7", port: 8080, addressType: "IPv4" as const, identity: "web-1" };
const error = (kind: UpstreamErrorKind, sent: boolean): UpstreamError => new UpstreamError(kind, target, sent, "test");

describe("retryable", () => {
  test.each<[UpstreamErrorKind, boolean, string, boolean, boolean]>([
    ["connect", false, "POST", true, true], // nothing reached the backend: any method
    ["connect", false, "GET", false, true],
    ["reset", true, "GET", false, true], // a reused keep-alive connection closed by the peer
    ["reset", true, "PUT", false, true],
    ["reset", true, "GET", true, false], // a body was sent: not repeatable here
    ["reset", true, "POST", false, false], // not idempotent
    ["timeout", false, "GET", false, false], // the backend may still be working on it
    ["timeout", true, "GET", false, false],
    ["protocol", true, "GET", false, false],
    ["aborted", false, "GET", false, false], // the client left
  ])("%s (sent %s) %s with body %s: %s", (kind, sent, method, hasBody, expected) => {
    expect(retryable(error(kind, sent), method, hasBody)).toBe(expected);
  });
});

describe("retry budget", () => {
  const options = { maxRetries: 2, retryRatio: 0.2, minRetriesPerSecond: 1, ttlMs: 10_000 };
  const take = (budget: RetryBudget, n: number): number => {
    let granted = 0;
    for (let i = 0; i < n; i++) if (budget.tryRetry()) granted++;
    return granted;
  };

  test("over the window: the reserve (minRetriesPerSecond x ttl) plus retryRatio of the requests", () => {
    const clock = { ms: 1_000_000 };
    const budget = new RetryBudget(options, () => clock.ms);
    // No traffic: the reserve alone, 1/s over 10 s.
    expect(take(budget, 15)).toBe(10);
    // 100 requests add 20 retries.
    for (let i = 0; i < 100; i++) budget.requestStarted();
    expect(take(budget, 30)).toBe(20);
  });

  test("a burst of retries is absorbed by the traffic before it, not by what is in flight at that instant", () => {
    const clock = { ms: 1_000_000 };
    const budget = new RetryBudget({ ...options, minRetriesPerSecond: 0 }, () => clock.ms);
    // 1000 requests over 5 s, then a pod dies and 40 tries fail at once.
    for (let i = 0; i < 1000; i++) {
      budget.requestStarted();
      clock.ms += 5;
    }
    expect(take(budget, 40)).toBe(40);
  });

  test("requests and retries leave the window as it slides", () => {
    const clock = { ms: 1_000_000 };
    const budget = new RetryBudget({ ...options, minRetriesPerSecond: 0 }, () => clock.ms);
    for (let i = 0; i < 50; i++) budget.requestStarted();
    expect(take(budget, 20)).toBe(10);
    clock.ms += 5_000;
    expect(take(budget, 1)).toBe(0); // still inside the window
    clock.ms += 5_000;
    // The 50 requests and their 10 retries are 10 s old: gone. New traffic earns new retries.
    expect(take(budget, 1)).toBe(0);
    for (let i = 0; i < 25; i++) budget.requestStarted();
    expect(take(budget, 10)).toBe(5);
  });

  test("bad options are refused with what was given", () => {
    expect(() => new RetryBudget({ ...options, ttlMs: 0 }, () => 0)).toThrow(/ttlMs > 0, got \{"maxRetries":2,"retryRatio":0.2,"minRetriesPerSecond":1,"ttlMs":0\}/);
    expect(() => new RetryBudget({ ...options, maxRetries: 1.5 }, () => 0)).toThrow("maxRetries a whole number");
  });
});
