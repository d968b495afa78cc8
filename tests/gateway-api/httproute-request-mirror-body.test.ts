// RequestMirror with the request body (HTTPRequestMirrorFilter; our own case beside
// HTTPRouteRequestMirror in httproute-filters.test.ts): a POST's body reaches the mirror backend
// intact, while the client gets the real backend's answer; a body larger than vipr copies
// (request-body-copy.ts) is not mirrored, and the log says why. A mirror backend that is slow or
// down never holds back or fails the real request.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { COPY_LIMIT_BYTES } from "../../router/forward/request-body-copy.ts";
import { INFRA, startGatewayHarness, type GatewayHarness } from "./gateway-harness.ts";

let gw: GatewayHarness;
const logged: string[] = [];
beforeAll(async () => {
  gw = await startGatewayHarness({ log: (line) => logged.push(line) });
  gw.apply(`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mirror-body, namespace: ${INFRA} }
spec:
  parentRefs: [{ name: same-namespace }]
  hostnames: [mirror-body.example]
  rules:
  - matches: [{ path: { type: PathPrefix, value: /mirror } }]
    filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: infra-backend-v2, port: 8080 } } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /dead-mirror } }]
    filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: dead-backend, port: 8080 } } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
`);
});
afterAll(async () => {
  await gw?.close();
});

describe("HTTPRouteRequestMirror with the body", () => {
  test("a POST body reaches the mirror intact; the client gets the real backend's answer", async () => {
    // Multi-byte text and a size past one TCP segment, so chunking and encoding are exercised.
    const body = JSON.stringify({ note: "mirrored ✓", data: "z".repeat(100_000) });
    const answer = await gw.request("mirror-body.example", "/mirror/post?n=1", { method: "POST", body, headers: { "content-type": "application/json", "x-trace": "m1" } });
    expect([answer.status, answer.echo?.service, answer.echo?.method]).toEqual([200, "infra-backend-v1", "POST"]);
    expect(gw.backends.get("infra-backend-v1")!.received().find((r) => r.path === "/mirror/post?n=1")?.body).toBe(body);
    const mirror = gw.backends.get("infra-backend-v2")!;
    await expect.poll(() => mirror.received().find((r) => r.path === "/mirror/post?n=1" && r.bodyEnded), { timeout: 10_000 }).toBeDefined();
    const copy = mirror.received().find((r) => r.path === "/mirror/post?n=1")!;
    expect([copy.method, copy.body === body, copy.headers["content-length"], copy.headers["x-trace"], copy.headers["content-type"]]).toEqual([
      "POST",
      true,
      [String(new TextEncoder().encode(body).byteLength)],
      ["m1"],
      ["application/json"],
    ]);
  });

  test("a body larger than vipr copies is not mirrored (logged); the real request is unaffected", async () => {
    const body = "b".repeat(COPY_LIMIT_BYTES + 1);
    const answer = await gw.request("mirror-body.example", "/mirror/big", { method: "POST", body });
    expect([answer.status, answer.echo?.service]).toEqual([200, "infra-backend-v1"]);
    expect(gw.backends.get("infra-backend-v1")!.received().find((r) => r.path === "/mirror/big")?.body.length).toBe(COPY_LIMIT_BYTES + 1);
    await expect.poll(() => logged.find((line) => line.includes("POST /mirror/big")), { timeout: 10_000 }).toContain(`the request body is larger than the ${COPY_LIMIT_BYTES} bytes vipr copies; not mirrored`);
    // A later small request is mirrored, so mirrors are flowing: the big one never will be.
    await gw.request("mirror-body.example", "/mirror/after", { method: "POST", body: "small" });
    const mirror = gw.backends.get("infra-backend-v2")!;
    await expect.poll(() => mirror.received().find((r) => r.path === "/mirror/after" && r.bodyEnded)?.body, { timeout: 10_000 }).toBe("small");
    expect(mirror.received().filter((r) => r.path === "/mirror/big")).toEqual([]);
  });

  test("a mirror that cannot be reached does not fail the real request", async () => {
    const answer = await gw.request("mirror-body.example", "/dead-mirror", { method: "POST", body: "to nowhere" });
    expect([answer.status, answer.echo?.service]).toEqual([200, "infra-backend-v1"]);
    await expect.poll(() => logged.find((line) => line.startsWith(`RequestMirror to ${INFRA}/dead-backend`)), { timeout: 10_000 }).toBeDefined();
  });
});
