// Our case for what the Gateway API conformance suite's HTTPRouteRetry checks (kubernetes-sigs/
// gateway-api conformance/tests/httproute-retry.go and .yaml, read and written anew): a backend
// that answers a given status for the first N requests of a uuid, then 200 (the suite's echo
// server does the same with `responseCode`, `succeedAfter` and `uuid`), behind rules that retry
// some codes a number of times. The backend counts the tries it really received. Added here:
// `backoff`, measured from the times the backend received each try (lower bounds only), and
// requests with a body, which are retried only when vipr holds the whole body.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { COPY_LIMIT_BYTES } from "../../router/forward/request-body-copy.ts";
import { INFRA, startGatewayHarness, type GatewayHarness } from "./gateway-harness.ts";

let gw: GatewayHarness;
beforeAll(async () => {
  gw = await startGatewayHarness();
  gw.apply(`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: retries, namespace: ${INFRA} }
spec:
  parentRefs: [{ name: same-namespace }]
  rules:
  - matches: [{ path: { type: PathPrefix, value: /retry/code-500-attempts-3 } }]
    retry: { codes: [500], attempts: 3 }
    backendRefs: [{ name: infra-backend-v3, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /retry/code-all-attempts-2 } }]
    retry: { codes: [500, 502, 503, 504], attempts: 2 }
    backendRefs: [{ name: infra-backend-v3, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /retry/no-codes } }]
    retry: { attempts: 3 }
    backendRefs: [{ name: infra-backend-v3, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /retry/backoff-200ms } }]
    retry: { codes: [503], attempts: 2, backoff: 200ms }
    backendRefs: [{ name: infra-backend-v3, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /retry/backoff-past-timeout } }]
    retry: { codes: [500], attempts: 3, backoff: 300ms }
    timeouts: { request: 500ms }
    backendRefs: [{ name: infra-backend-v3, port: 8080 }]
`);
});
afterAll(async () => {
  await gw?.close();
});

/** Sends one request that the backend fails `failures` times with `code`; returns the status the
 * client got and the tries the backend received for it (in order). */
async function simulate(path: string, code: number, failures: number, body?: string | Uint8Array): Promise<{ status: number; tries: { receivedAt: number; body: string }[] }> {
  const uuid = randomUUID();
  const answer = await gw.request("retry.example", `${path}?uuid=${uuid}&responseCode=${code}&succeedAfter=${failures}`, body === undefined ? {} : { method: "POST", body });
  const tries = gw.backends.get("infra-backend-v3")!.received().filter((r) => r.path.includes(uuid));
  return { status: answer.status, tries: tries.map((t) => ({ receivedAt: t.receivedAt, body: t.body })) };
}

describe("HTTPRouteRetry", () => {
  test("codes [500], attempts 3: a 500 is retried until the backend recovers, at most 3 times; a 503 is not retried", async () => {
    const cases: [code: number, failures: number][] = [
      [500, 2],
      [500, 4],
      [503, 2],
    ];
    const got = [];
    for (const [code, failures] of cases) {
      const { status, tries } = await simulate("/retry/code-500-attempts-3", code, failures);
      got.push([code, failures, status, tries.length]);
    }
    // [code, failures before success, status the client got, tries the backend received]
    expect(got).toEqual([
      [500, 2, 200, 3],
      [500, 4, 500, 4],
      [503, 2, 503, 1],
    ]);
  });

  test("codes [500, 502, 503, 504], attempts 2: each code is retried; past the attempts its status is the answer", async () => {
    const got = [];
    for (const code of [500, 502, 503, 504]) {
      for (const failures of [1, 3]) {
        const { status, tries } = await simulate("/retry/code-all-attempts-2", code, failures);
        got.push([code, failures, status, tries.length]);
      }
    }
    expect(got).toEqual([
      [500, 1, 200, 2],
      [500, 3, 500, 3],
      [502, 1, 200, 2],
      [502, 3, 502, 3],
      [503, 1, 200, 2],
      [503, 3, 503, 3],
      [504, 1, 200, 2],
      [504, 3, 504, 3],
    ]);
  });

  test("HEAD (the transport's Web Response path) is retried on a listed code too", async () => {
    const uuid = randomUUID();
    const answer = await gw.request("retry.example", `/retry/code-500-attempts-3?uuid=${uuid}&responseCode=500&succeedAfter=2`, { method: "HEAD" });
    const tries = gw.backends.get("infra-backend-v3")!.received().filter((r) => r.path.includes(uuid));
    expect([answer.status, tries.map((t) => t.method)]).toEqual([200, ["HEAD", "HEAD", "HEAD"]]);
  });

  test("a retry stanza without codes retries no status", async () => {
    const { status, tries } = await simulate("/retry/no-codes", 500, 1);
    expect([status, tries.length]).toEqual([500, 1]);
  });

  test("backoff 200ms: each retry reaches the backend at least the backoff after the try before (the second at least twice it)", async () => {
    const { status, tries } = await simulate("/retry/backoff-200ms", 503, 2);
    expect([status, tries.length]).toEqual([200, 3]);
    const gaps = [tries[1]!.receivedAt - tries[0]!.receivedAt, tries[2]!.receivedAt - tries[1]!.receivedAt];
    // Lower bounds only (a loaded machine makes gaps longer, never shorter). 2 ms of slack for
    // timer granularity: setTimeout counts whole milliseconds of the event loop's clock.
    expect(gaps[0]).toBeGreaterThanOrEqual(198);
    expect(gaps[1]).toBeGreaterThanOrEqual(398);
  });

  test("a retry whose backoff would end past timeouts.request is not made: the last answer is relayed", async () => {
    // The first retry waits 300-450 ms (within 500 ms); the second would wait at least 600 ms.
    const { status, tries } = await simulate("/retry/backoff-past-timeout", 500, 5);
    expect([status, tries.length]).toEqual([500, 2]);
    expect(tries[1]!.receivedAt - tries[0]!.receivedAt).toBeGreaterThanOrEqual(298);
  });

  test("a POST whose body vipr holds whole is retried with the same body", async () => {
    const body = "a body to send again: " + "x".repeat(10_000);
    const { status, tries } = await simulate("/retry/code-500-attempts-3", 500, 2, body);
    expect([status, tries.length]).toEqual([200, 3]);
    expect(tries.map((t) => t.body === body)).toEqual([true, true, true]);
  });

  test("a POST whose body is larger than vipr keeps is not retried: the backend's status is the answer", async () => {
    const body = new Uint8Array(COPY_LIMIT_BYTES + 1).fill(0x61);
    const { status, tries } = await simulate("/retry/code-500-attempts-3", 500, 1, body);
    expect([status, tries.length, tries[0]!.body.length]).toEqual([500, 1, COPY_LIMIT_BYTES + 1]);
  });
});

describe("HTTPRouteRetryWithTimeouts (its timeouts.request cases)", () => {
  test("retries stop at timeouts.request: a recovering backend answers 200; a failing slow one ends in 504", async () => {
    gw.apply(`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: retries-with-timeouts, namespace: ${INFRA} }
spec:
  parentRefs: [{ name: same-namespace }]
  rules:
  - matches: [{ path: { type: PathPrefix, value: /retry/request-timeout-400ms } }]
    retry: { codes: [500], attempts: 5 }
    timeouts: { backendRequest: 300ms, request: 400ms }
    backendRefs: [{ name: infra-backend-v3, port: 8080 }]
`);
    const uuid = randomUUID();
    const recovers = await gw.request("retry.example", `/retry/request-timeout-400ms?uuid=${uuid}&responseCode=500&succeedAfter=1`);
    expect(recovers.status).toBe(200);
    // Every try answers 500 after 150 ms: retries go on until 400 ms have passed, during a try
    // (the third, on an idle machine), which is cut with 504. At most three tries fit in 400 ms.
    const slow = randomUUID();
    const answer = await gw.request("retry.example", `/retry/request-timeout-400ms?uuid=${slow}&responseCode=500&succeedAfter=9`, { headers: { "x-echo-delay-ms": "150" } });
    const tries = gw.backends.get("infra-backend-v3")!.received().filter((r) => r.path.includes(slow)).length;
    expect([answer.status, JSON.parse(answer.body).error.code]).toEqual([504, "upstream_timeout"]);
    expect(tries).toBeLessThanOrEqual(3);
  });
});
