// The pure parts behind HTTPRoute retry codes and backoff, request body copies, and backendRef
// filters: the backoff arithmetic (gateway-retry.ts), the copy's states (request-body-copy.ts),
// and how backendRef filters parse and compile (problems named by field, mirror references
// checked like the rule's). No sockets.
import { describe, expect, test } from "vitest";
import { RequestBodyCopy } from "../../router/forward/request-body-copy.ts";
import { compileGatewayRoutes } from "../../router/gateway-api/compile-gateway-routes.ts";
import type { GatewayForwarding } from "../../router/gateway-api/gateway-routing.ts";
import { retriesStatus, retryBackoffMs } from "../../router/gateway-api/gateway-retry.ts";
import { BASE_GATEWAY, gatewayObjects, gatewayProblems } from "./gateway-yaml.ts";

const NS = "gateway-conformance-infra";

function forwardingWith(retry: { codes: number[]; backoffMs: number | undefined } | undefined): GatewayForwarding {
  return { rule: { rule: { retry: retry === undefined ? undefined : { attempts: 2, ...retry } } } } as unknown as GatewayForwarding;
}

describe("retry codes and backoff (GEP-1731)", () => {
  test("only the listed codes are retried; no codes or no stanza: none", () => {
    expect([500, 502, 503].map((s) => retriesStatus(forwardingWith({ codes: [500, 503], backoffMs: undefined }), s))).toEqual([true, false, true]);
    expect(retriesStatus(forwardingWith({ codes: [], backoffMs: undefined }), 500)).toBe(false);
    expect(retriesStatus(forwardingWith(undefined), 500)).toBe(false);
  });

  test("backoff: at least the minimum, doubling per retry, capped at ten times; jitter only adds, up to half", () => {
    const f = forwardingWith({ codes: [500], backoffMs: 100 });
    const low = () => 0;
    const high = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 9].map((n) => retryBackoffMs(f, n, low))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 5].map((n) => Math.floor(retryBackoffMs(f, n, high)))).toEqual([149, 299, 1499]);
    expect(retryBackoffMs(forwardingWith({ codes: [500], backoffMs: undefined }), 1, high)).toBe(0);
  });
});

describe("RequestBodyCopy", () => {
  const chunk = (text: string) => new TextEncoder().encode(text);

  test("no body: replayable, settles as none when closed", async () => {
    const copy = new RequestBodyCopy(8);
    expect(copy.replayable).toBe(true);
    copy.close();
    expect(await copy.settled()).toEqual({ kind: "none" });
  });

  test("a body within the bound: whole, replayable, one recorder only", async () => {
    const copy = new RequestBodyCopy(8);
    copy.expectBody();
    expect([copy.startRecording(), copy.startRecording()]).toEqual([true, false]);
    copy.add(chunk("abc"));
    expect(copy.replayable).toBe(false); // not ended yet
    copy.add(chunk("def"));
    copy.end();
    copy.close(); // after the end: no change
    const result = await copy.settled();
    expect([result.kind, new TextDecoder().decode((result as { body: Uint8Array }).body), copy.replayable, copy.wholeChunks?.length]).toEqual(["whole", "abcdef", true, 2]);
  });

  test("a body past the bound: too_large, not replayable, chunks dropped", async () => {
    const copy = new RequestBodyCopy(4);
    copy.expectBody();
    copy.startRecording();
    copy.add(chunk("abc"));
    copy.add(chunk("de"));
    copy.end();
    expect([await copy.settled(), copy.replayable, copy.wholeChunks]).toEqual([{ kind: "too_large", bytes: 5 }, false, undefined]);
  });

  test("a body that broke off: incomplete", async () => {
    const copy = new RequestBodyCopy(8);
    copy.expectBody();
    copy.startRecording();
    copy.add(chunk("ab"));
    copy.close();
    expect([await copy.settled(), copy.replayable]).toEqual([{ kind: "incomplete" }, false]);
  });
});

describe("backendRef filters: parsing and compiling", () => {
  const route = (filters: string, backend = "infra-backend-v1") => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r, namespace: ${NS} }
spec:
  parentRefs: [{ name: same-namespace }]
  rules:
  - backendRefs:
    - name: ${backend}
      port: 8080
      filters: ${filters}
`;

  test("the filters compile onto the backend; the rule's stay the rule's", () => {
    const { table } = compileGatewayRoutes(gatewayObjects(BASE_GATEWAY + route(`[{ type: RequestHeaderModifier, requestHeaderModifier: { add: [{ name: X-One, value: "1" }] } }]`)));
    const rule = table.anyHost[0]!.rule;
    expect([rule.requestHeaders, rule.backends[0]!.filters?.requestHeaders]).toEqual([undefined, { set: [], add: [{ name: "x-one", value: "1" }], remove: [] }]);
  });

  test("the CRD's rules hold per backendRef, named by field path", () => {
    const twice = `[{ type: RequestHeaderModifier, requestHeaderModifier: { add: [{ name: a, value: "1" }] } }, { type: RequestHeaderModifier, requestHeaderModifier: { add: [{ name: b, value: "2" }] } }]`;
    expect(gatewayProblems(BASE_GATEWAY + route(twice))).toEqual([expect.stringContaining("spec.rules[0].backendRefs[0].filters: RequestHeaderModifier may appear at most once")]);
  });

  test("a backendRef's mirror is checked like the rule's: another namespace needs a ReferenceGrant", () => {
    const mirror = `[{ type: RequestMirror, requestMirror: { backendRef: { name: web-backend, namespace: gateway-conformance-web-backend, port: 8080 } } }]`;
    const { status } = compileGatewayRoutes(gatewayObjects(BASE_GATEWAY + route(mirror)));
    const resolved = status.httpRoutes[0]!.parents[0]!.conditions.find((c) => c.type === "ResolvedRefs")!;
    expect([resolved.status, resolved.reason]).toEqual(["False", "RefNotPermitted"]);
  });
});
