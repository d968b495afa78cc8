// backendRef filters (HTTPBackendRef.filters: "executed if and only if the request is being
// forwarded to the backend defined here"): two weighted backends, each with its own request and
// response header modifiers and a path rewrite, behind a rule that has its own modifier too. Each
// answer must carry what its backend's filters did and nothing of the other's. The upstream suite
// has no test for these (they are implementation-specific); this is our own case.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { INFRA, seededRandom, startGatewayHarness, type GatewayHarness } from "./gateway-harness.ts";

let gw: GatewayHarness;
beforeAll(async () => {
  gw = await startGatewayHarness({ random: seededRandom(1731) });
  gw.apply(`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: backend-filters, namespace: ${INFRA} }
spec:
  parentRefs: [{ name: same-namespace }]
  hostnames: [backend-filters.example]
  rules:
  - matches: [{ path: { type: PathPrefix, value: /split } }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: { set: [{ name: x-tier, value: rule }, { name: x-rule, value: "yes" }] }
    backendRefs:
    - name: infra-backend-v1
      port: 8080
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: { add: [{ name: x-backend, value: v1 }] }
      - type: ResponseHeaderModifier
        responseHeaderModifier: { add: [{ name: x-answered-by, value: v1 }] }
    - name: infra-backend-v2
      port: 8080
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: { add: [{ name: x-backend, value: v2 }], set: [{ name: x-tier, value: v2 }] }
      - type: ResponseHeaderModifier
        responseHeaderModifier: { add: [{ name: x-answered-by, value: v2 }] }
      - type: URLRewrite
        urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /v2 } }
  - matches: [{ path: { type: PathPrefix, value: /backend-redirect } }]
    backendRefs:
    - name: infra-backend-v1
      port: 8080
      filters: [{ type: RequestRedirect, requestRedirect: { hostname: elsewhere.example, statusCode: 301 } }]
  - matches: [{ path: { type: PathPrefix, value: /backend-cors } }]
    backendRefs:
    - name: infra-backend-v1
      port: 8080
      filters: [{ type: CORS, cors: { allowOrigins: ["https://app.example"] } }]
`);
});
afterAll(async () => {
  await gw?.close();
});

describe("backendRef filters", () => {
  test("two weighted backends: each request carries only its chosen backend's filters, after the rule's", async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const answer = await gw.request("backend-filters.example", `/split/item-${i}`);
      const service = answer.echo?.service ?? `status ${answer.status}`;
      seen.set(service, (seen.get(service) ?? 0) + 1);
      const v = service === "infra-backend-v1" ? "v1" : "v2";
      // What the backend received, and what the client got back, per chosen backend.
      expect([service, answer.echo?.headers["x-backend"], answer.echo?.headers["x-tier"], answer.echo?.headers["x-rule"], answer.headers["x-answered-by"], answer.echo?.path]).toEqual([
        service,
        [v],
        [v === "v1" ? "rule" : "v2"],
        ["yes"],
        v,
        v === "v1" ? `/split/item-${i}` : `/v2/item-${i}`,
      ]);
    }
    // Both backends were chosen (weights 1:1 over 40 requests with a fixed random source).
    expect([...seen.keys()].sort()).toEqual(["infra-backend-v1", "infra-backend-v2"]);
  });

  test("a RequestRedirect on the chosen backendRef answers the redirect", async () => {
    const answer = await gw.request("backend-filters.example", "/backend-redirect/x");
    expect([answer.status, answer.headers.location]).toEqual([301, "http://elsewhere.example/backend-redirect/x"]);
    expect(gw.backends.get("infra-backend-v1")!.received().some((r) => r.path === "/backend-redirect/x")).toBe(false);
  });

  test("a filter vipr cannot apply on a backendRef (CORS) is never skipped: 500 naming it", async () => {
    const answer = await gw.request("backend-filters.example", "/backend-cors", { headers: { origin: "https://app.example" } });
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body).error.message).toContain("a CORS filter on a backendRef is not supported by vipr");
  });
});
