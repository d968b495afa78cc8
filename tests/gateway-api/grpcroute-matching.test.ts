// GRPCRoute matching through a served vipr, with real @grpc/grpc-js clients over h2c and grpc-js
// pods: our own cases for what the Gateway API conformance tests GRPCExactMethodMatching,
// GRPCRouteNamedRule, GRPCRouteHeaderMatching and GRPCRouteWeight check (kubernetes-sigs/gateway-api
// conformance/tests/grpcroute-*.go), and for GRPCRoute precedence (GRPCRouteRule.Matches: host,
// then characters in the matching service, then method, then header matches, then the oldest
// route, then namespace/name, then rule order). A call no GRPCRoute matches is answered by vipr as
// gRPC UNIMPLEMENTED (its answer to a gRPC call it does not route), never reaching a pod.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GRPC_ECHO, GRPC_OTHER } from "../support/grpc-echo-backend.ts";
import { INFRA, seededRandom } from "./gateway-harness.ts";
import { startGrpcGatewayHarness, type GrpcGatewayHarness } from "./grpc-gateway-harness.ts";

let gw: GrpcGatewayHarness;

beforeAll(async () => {
  gw = await startGrpcGatewayHarness({ random: seededRandom(15) });
}, 30_000);

afterAll(async () => {
  await gw?.close();
});

const HOST = "grpc.example.com";
/** vipr's answer to a call no route matches: the host names no service either. */
const UNMATCHED = "UNIMPLEMENTED (unknown_host)";

/** The backend service that answered, or the gRPC status name with vipr's error code. */
async function who(path: string, metadata: Record<string, string> = {}, host = HOST): Promise<string> {
  const result = await gw.call(host, path, metadata);
  if (result.echo !== undefined) return result.echo.service;
  return `${grpc.status[result.code]}${result.viprError === undefined ? "" : ` (${result.viprError})`}`;
}

function grpcRoute(name: string, spec: string, created?: string): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: ${name}, namespace: ${INFRA}${created === undefined ? "" : `, creationTimestamp: "${created}"`} }
spec:
  parentRefs: [{ name: same-namespace }]
${spec}`;
}

/** "type=status/reason" of each condition of a GRPCRoute's first parent. */
function routeConditions(status: ReturnType<GrpcGatewayHarness["apply"]>, name: string): string[] {
  const report = status.grpcRoutes?.find((r) => r.name === name);
  return (report?.parents[0]?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
}

describe("GRPCExactMethodMatching", () => {
  test("service and method matched exactly pick each rule's backend; another method or service is UNIMPLEMENTED from vipr", async () => {
    const status = gw.apply(
      grpcRoute(
        "exact-methods",
        `  rules:
  - matches: [{ method: { service: ${GRPC_ECHO}, method: Echo } }]
    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]
  - matches: [{ method: { type: Exact, service: ${GRPC_ECHO}, method: EchoTwo } }]
    backendRefs: [{ name: grpc-infra-backend-v2, port: 8080 }]
`,
      ),
    );
    expect(routeConditions(status, "exact-methods")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"]);
    expect(status.gateways.find((g) => g.name === "same-namespace")?.listeners[0]?.attachedRoutes).toBe(1);
    const before = gw.backends.get("grpc-infra-backend-v1")!.received().length;
    expect(await who(`/${GRPC_ECHO}/Echo`)).toBe("grpc-infra-backend-v1");
    expect(gw.backends.get("grpc-infra-backend-v1")!.received().slice(before).map((r) => r.path)).toEqual([`/${GRPC_ECHO}/Echo`]);
    expect(await who(`/${GRPC_ECHO}/EchoTwo`)).toBe("grpc-infra-backend-v2");
    const reached = [...gw.backends.values()].reduce((sum, b) => sum + b.received().length, 0);
    expect(await who(`/${GRPC_ECHO}/EchoThree`)).toBe(UNMATCHED);
    // The same method name under another service, and the service name's prefix, match nothing.
    expect(await who(`/${GRPC_OTHER}/Echo`)).toBe(UNMATCHED);
    expect(await who(`/${GRPC_ECHO.slice(0, -4)}/Echo`)).toBe(UNMATCHED);
    expect([...gw.backends.values()].reduce((sum, b) => sum + b.received().length, 0)).toBe(reached);
  });
});

describe("GRPCRouteNamedRule", () => {
  test("a named rule and an unnamed one both route; the name is kept on the rule", async () => {
    const status = gw.apply(
      grpcRoute(
        "named-rules",
        `  rules:
  - name: echo-rule
    matches: [{ method: { service: ${GRPC_ECHO}, method: Echo } }]
    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]
  - matches: [{ method: { service: ${GRPC_ECHO}, method: EchoTwo } }]
    backendRefs: [{ name: grpc-infra-backend-v2, port: 8080 }]
`,
      ),
    );
    expect(routeConditions(status, "named-rules")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"]);
    expect(await who(`/${GRPC_ECHO}/Echo`)).toBe("grpc-infra-backend-v1");
    expect(await who(`/${GRPC_ECHO}/EchoTwo`)).toBe("grpc-infra-backend-v2");
  });
});

describe("GRPCRouteHeaderMatching", () => {
  test("header matches: all of a match's headers, any of a rule's matches, more headers first, then rule order; values exact and case-sensitive, names not", async () => {
    const status = gw.apply(
      grpcRoute(
        "by-headers",
        `  rules:
  - matches: [{ headers: [{ name: env, value: prod }] }]
    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]
  - matches: [{ headers: [{ name: Env, value: canary }] }]
    backendRefs: [{ name: grpc-infra-backend-v2, port: 8080 }]
  - matches: [{ headers: [{ name: env, value: canary }, { name: tier, value: gold }] }]
    backendRefs: [{ name: grpc-infra-backend-v3, port: 8080 }]
  - matches: [{ headers: [{ name: tier, value: silver }] }, { headers: [{ name: tier, value: bronze }] }]
    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]
  - matches: [{ headers: [{ type: RegularExpression, name: team, value: "pay[a-z]*" }] }]
    backendRefs: [{ name: grpc-infra-backend-v2, port: 8080 }]
`,
      ),
    );
    expect(routeConditions(status, "by-headers")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"]);
    const echo = `/${GRPC_ECHO}/Echo`;
    expect(await who(echo, { env: "prod" })).toBe("grpc-infra-backend-v1");
    expect(await who(echo, { env: "canary" })).toBe("grpc-infra-backend-v2");
    expect(await who(echo, { env: "canary", tier: "gold" })).toBe("grpc-infra-backend-v3");
    // One header each: the earlier rule wins.
    expect(await who(echo, { env: "canary", tier: "silver" })).toBe("grpc-infra-backend-v2");
    expect(await who(echo, { tier: "silver" })).toBe("grpc-infra-backend-v1");
    expect(await who(echo, { tier: "bronze" })).toBe("grpc-infra-backend-v1");
    expect(await who(echo, { tier: "gold" })).toBe(UNMATCHED);
    expect(await who(echo, { team: "payments" })).toBe("grpc-infra-backend-v2");
    expect(await who(echo, { team: "xpayments" })).toBe(UNMATCHED);
    expect(await who(echo, { env: "PROD" })).toBe(UNMATCHED);
    expect(await who(echo, { "some-other-header": "prod" })).toBe(UNMATCHED);
    expect(await who(`/${GRPC_OTHER}/Ping`, { env: "prod" })).toBe("grpc-infra-backend-v1");
  });
});

describe("GRPCRouteWeight", () => {
  test("backendRefs weights 70/30/0 split 500 calls within 5% of each share; weight 0 gets none", async () => {
    gw.apply(
      grpcRoute(
        "weighted",
        `  rules:
  - backendRefs:
    - { name: grpc-infra-backend-v1, port: 8080, weight: 70 }
    - { name: grpc-infra-backend-v2, port: 8080, weight: 30 }
    - { name: grpc-infra-backend-v3, port: 8080, weight: 0 }
`,
      ),
    );
    const counts = new Map<string, number>();
    for (let round = 0; round < 10; round++) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => who(`/${GRPC_ECHO}/Echo`)));
      for (const service of batch) counts.set(service, (counts.get(service) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(["grpc-infra-backend-v1", "grpc-infra-backend-v2"]);
    expect(Math.abs(counts.get("grpc-infra-backend-v1")! / 500 - 0.7)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(counts.get("grpc-infra-backend-v2")! / 500 - 0.3)).toBeLessThanOrEqual(0.05);
  });
});

describe("GRPCRoute precedence", () => {
  test("service and method over service only over method only; an exact service over a pattern; a longer service first", async () => {
    gw.apply(
      grpcRoute(
        "by-method",
        `  rules:
  - matches: [{ method: { method: Echo } }]
    backendRefs: [{ name: grpc-infra-backend-v3, port: 8080 }]
`,
      ) +
        grpcRoute(
          "by-pattern",
          `  rules:
  - matches: [{ method: { type: RegularExpression, service: ".*\\\\.grpcecho\\\\..*", method: "Echo.*" } }]
    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]
`,
        ) +
        grpcRoute(
          "by-service",
          `  rules:
  - matches: [{ method: { service: ${GRPC_ECHO} } }]
    backendRefs: [{ name: grpc-infra-backend-v2, port: 8080 }]
  - matches: [{ method: { service: ${GRPC_ECHO}, method: Echo } }]
    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]
`,
        ),
    );
    expect(await who(`/${GRPC_ECHO}/Echo`)).toBe("grpc-infra-backend-v1"); // exact service and method
    expect(await who(`/${GRPC_ECHO}/EchoThree`)).toBe("grpc-infra-backend-v2"); // exact service over the pattern
    expect(await who(`/${GRPC_OTHER}/Echo`)).toBe("grpc-infra-backend-v3"); // method only: the pattern's service does not match
    expect(await who(`/${GRPC_OTHER}/Ping`)).toBe(UNMATCHED);
  });

  test("a pattern matches whole path segments: \".*\" cannot reach across the \"/\"", async () => {
    gw.apply(
      grpcRoute(
        "pattern",
        `  rules:
  - matches: [{ method: { type: RegularExpression, service: "vipr\\\\..*", method: "P.*" } }]
    backendRefs: [{ name: grpc-infra-backend-v2, port: 8080 }]
`,
      ),
    );
    expect(await who(`/${GRPC_OTHER}/Ping`)).toBe("grpc-infra-backend-v2");
    expect(await who(`/${GRPC_OTHER}/Echo`)).toBe(UNMATCHED);
  });

  test("a service pattern over a method alone, however short the pattern (a service's characters count before the method's)", async () => {
    gw.apply(
      grpcRoute("ping", `  rules:\n  - matches: [{ method: { method: Ping } }]\n    backendRefs: [{ name: grpc-infra-backend-v3, port: 8080 }]\n`) +
        grpcRoute("v-services", `  rules:\n  - matches: [{ method: { type: RegularExpression, service: "v.*" } }]\n    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]\n`),
    );
    expect(await who(`/${GRPC_OTHER}/Ping`)).toBe("grpc-infra-backend-v1");
    expect(await who(`/${GRPC_ECHO}/Ping`)).toBe("grpc-infra-backend-v3");
  });

  test("an exact hostname over a wildcard whatever their matches; then the oldest route; then namespace/name", async () => {
    gw.apply(
      grpcRoute(
        "wildcard-host",
        `  hostnames: ["*.example.com"]
  rules:
  - matches: [{ method: { service: ${GRPC_ECHO}, method: Echo }, headers: [{ name: env, value: prod }] }]
    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]
`,
      ) +
        grpcRoute(
          "exact-host",
          `  hostnames: [${HOST}]
  rules:
  - backendRefs: [{ name: grpc-infra-backend-v2, port: 8080 }]
`,
        ),
    );
    expect(await who(`/${GRPC_ECHO}/Echo`, { env: "prod" })).toBe("grpc-infra-backend-v2");
    expect(await who(`/${GRPC_ECHO}/Echo`, { env: "prod" }, "other.example.com")).toBe("grpc-infra-backend-v1");

    const same = `  rules:
  - matches: [{ method: { service: ${GRPC_ECHO} } }]
    backendRefs: [{ name: BACKEND, port: 8080 }]
`;
    gw.apply(grpcRoute("a-newer", same.replace("BACKEND", "grpc-infra-backend-v1"), "2026-02-01T00:00:00Z") + grpcRoute("z-older", same.replace("BACKEND", "grpc-infra-backend-v3"), "2026-01-01T00:00:00Z"));
    expect(await who(`/${GRPC_ECHO}/Echo`)).toBe("grpc-infra-backend-v3");
    gw.apply(grpcRoute("b-same-age", same.replace("BACKEND", "grpc-infra-backend-v1"), "2026-01-01T00:00:00Z") + grpcRoute("a-same-age", same.replace("BACKEND", "grpc-infra-backend-v2"), "2026-01-01T00:00:00Z"));
    expect(await who(`/${GRPC_ECHO}/Echo`)).toBe("grpc-infra-backend-v2");
  });
});
