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
  test("at least minRetryConcurrency retries at once, else budgetPercent of the requests in flight", () => {
    const budget = new RetryBudget({ maxRetries: 2, budgetPercent: 20, minRetryConcurrency: 3 });
    for (let i = 0; i < 10; i++) budget.requestStarted();
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, true, true, false]);
    for (let i = 0; i < 20; i++) budget.requestStarted(); // 30 in flight: 20% is 6
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, true, true, false]);
    budget.retryEnded();
    expect(budget.tryRetry()).toBe(true);
  });
});
