// GRPCRoute's pure parts: validation with the CRD's rules and a message naming each refused field
// (router/gateway-api/parse-grpc-route.ts), a method match as a path match (grpc-route-match.ts,
// golden values), and the compiled table's order, which is GRPCRoute precedence whatever order the
// objects came in (compile-grpc-routes.ts); which of an HTTPRoute and a GRPCRoute meeting on one
// listener is accepted (route-kind-conflicts.ts), whatever order the objects came in.
import { describe, expect, test } from "vitest";
import { compileGatewayRoutes } from "../../router/gateway-api/compile-gateway-routes.ts";
import { compileGRPCRoutes, withGRPCRouteStatus } from "../../router/gateway-api/compile-grpc-routes.ts";
import type { GRPCRoute } from "../../router/gateway-api/gateway-api-objects.ts";
import { grpcPathMatch } from "../../router/gateway-api/grpc-route-match.ts";
import { matchGatewayRoute } from "../../router/gateway-api/match-gateway-route.ts";
import { INFRA } from "./gateway-harness.ts";
import { BASE_GATEWAY, gatewayObjects, gatewayProblems } from "./gateway-yaml.ts";

const route = (name: string, spec: string, extra = ""): string => `
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: ${name}, namespace: ${INFRA}${extra} }
spec:
  parentRefs: [{ name: same-namespace }]
${spec}`;

describe("GRPCRoute validation", () => {
  test("the CRD's rules refuse the route with a message naming each field", () => {
    const problems = gatewayProblems(
      route(
        "bad",
        `  rules:
  - matches:
    - method: { service: "not/a.service", method: Echo }
    - method: { type: Exact }
    - method: { method: "Echo-2" }
    - method: { type: RegularExpression, service: "(unclosed" }
    - method: { type: Prefix, service: svc }
    - headers: [{ name: "bad name", value: x }, { name: ok, value: "" }]
    filters:
    - { type: URLRewrite, urlRewrite: { hostname: x.example } }
    - { type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: a, value: b }] } }
    - { type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: a, value: c }] } }
    backendRefs:
    - { name: svc, weight: -1 }
`,
      ),
    );
    const where = `GRPCRoute ${INFRA}/bad: spec.rules[0]`;
    expect(problems).toEqual([
      `${where}.matches[0].method.service: "not/a.service" must match ^\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$ for an Exact match`,
      `${where}.matches[1].method: one or both of service and method must be given`,
      `${where}.matches[2].method.method: "Echo-2" must match ^[A-Za-z_][A-Za-z_0-9]*$ for an Exact match`,
      expect.stringMatching(new RegExp(`^${where.replace(/[[\]./]/g, "\\$&")}\\.matches\\[3\\]\\.method\\.service: "\\(unclosed" is not a regular expression: `)),
      `${where}.matches[4].method.type: "Prefix" is not one of Exact, RegularExpression`,
      `${where}.matches[5].headers[0].name: "bad name" is not a header name`,
      `${where}.matches[5].headers[1].value: must not be empty`,
      `${where}.filters[0].type: "URLRewrite" is not a GRPCRoute filter type (RequestHeaderModifier, ResponseHeaderModifier, RequestMirror, ExtensionRef)`,
      `${where}.filters: RequestHeaderModifier filter cannot be repeated`,
      `${where}.backendRefs[0].weight: -1 is not a whole number 0-1000000`,
      `${where}.backendRefs[0].port: required`,
    ]);
    // A refused route is left out whole; the others are kept.
    expect(() => gatewayObjects(route("bad", "  rules: [{ matches: [{ method: { type: Exact } }] }]\n"))).toThrow(/one or both of service and method/);
  });

  test("defaults: type Exact; of header matches with one name (any case) only the first; a rule without matches matches every call; only apiVersion v1", () => {
    const objects = gatewayObjects(
      route(
        "ok",
        `  rules:
  - matches: [{ method: { service: a.B }, headers: [{ name: Env, value: one }, { name: env, value: two }] }]
    backendRefs: [{ name: svc, port: 8080 }]
  - backendRefs: [{ name: svc, port: 8080 }]
`,
      ),
    );
    const parsed = objects.grpcRoutes![0]!;
    expect(parsed.rules[0]!.matches).toEqual([{ method: { type: "Exact", service: "a.B", method: undefined }, headers: [{ type: "Exact", name: "env", value: "one" }] }]);
    expect(parsed.rules[1]!.matches).toEqual([]);
    expect(gatewayProblems(route("old", "  rules: []\n").replace("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha2"))).toEqual([
      `GRPCRoute ${INFRA}/old: apiVersion: "gateway.networking.k8s.io/v1alpha2" is not one of gateway.networking.k8s.io/v1`,
    ]);
  });
});

describe("GRPCRoute method match as a path match", () => {
  test("golden values", () => {
    expect(grpcPathMatch(undefined)).toEqual({ type: "PathPrefix", value: "/" });
    expect(grpcPathMatch({ type: "Exact", service: "pkg.Svc", method: "Get" })).toEqual({ type: "Exact", value: "/pkg.Svc/Get" });
    expect(grpcPathMatch({ type: "Exact", service: ".pkg.Svc", method: "Get" })).toEqual({ type: "Exact", value: "/pkg.Svc/Get" });
    expect(grpcPathMatch({ type: "Exact", service: "pkg.Svc", method: undefined })).toEqual({ type: "RegularExpression", value: "(?=/[^/]+/[^/]+$)/(?:pkg\\.Svc)/(?:[^/]+)" });
    expect(grpcPathMatch({ type: "Exact", service: undefined, method: "Get" })).toEqual({ type: "RegularExpression", value: "(?=/[^/]+/[^/]+$)/(?:[^/]+)/(?:Get)" });
    expect(grpcPathMatch({ type: "RegularExpression", service: "pkg\\..*", method: undefined })).toEqual({ type: "RegularExpression", value: "(?=/[^/]+/[^/]+$)/(?:pkg\\..*)/(?:[^/]+)" });
  });
});

describe("GRPCRoute precedence in the compiled table", () => {
  const yaml =
    BASE_GATEWAY +
    route("r-method", "  rules: [{ matches: [{ method: { method: Get } }], backendRefs: [{ name: m, port: 1 }] }]\n", ', creationTimestamp: "2021-01-01T00:00:00Z"') +
    route("r-pattern", '  rules: [{ matches: [{ method: { type: RegularExpression, service: "pkg\\\\.Svc.*" } }], backendRefs: [{ name: p, port: 1 }] }]\n') +
    route("r-service", "  rules: [{ matches: [{ method: { service: pkg.Svc } }, { method: { service: pkg.SvcLonger } }], backendRefs: [{ name: s, port: 1 }] }]\n") +
    route("r-exact", "  rules: [{ matches: [{ method: { service: pkg.Svc, method: Get } }], backendRefs: [{ name: e, port: 1 }] }]\n") +
    route("r-headers", "  rules: [{ matches: [{ method: { service: pkg.Svc, method: Get }, headers: [{ name: x, value: y }] }], backendRefs: [{ name: h, port: 1 }] }]\n") +
    route("r-old", "  rules: [{ matches: [{ method: { method: Get } }], backendRefs: [{ name: o, port: 1 }] }]\n", ', creationTimestamp: "2020-01-01T00:00:00Z"') +
    route("r-all", "  rules: [{ backendRefs: [{ name: a, port: 1 }] }]\n");
  const objects = gatewayObjects(yaml);
  const order = (routes: readonly GRPCRoute[]): string[] => compileGRPCRoutes({ ...objects, grpcRoutes: routes }).table.anyHost.map((e) => `${e.rule.routeKey.split("/")[1]}#${e.matchIndex}`);

  test("the longer exact service first (before any method or header), then a method, then headers; an exact service over a pattern; the oldest route among equals; every call last", () => {
    expect(order(objects.grpcRoutes!)).toEqual(["r-service#1", "r-headers#0", "r-exact#0", "r-service#0", "r-pattern#0", "r-old#0", "r-method#0", "r-all#0"]);
  });

  test("the order does not depend on the order the objects came in", () => {
    const routes = [...objects.grpcRoutes!];
    const want = order(routes);
    let seed = 7;
    for (let round = 0; round < 20; round++) {
      for (let i = routes.length - 1; i > 0; i--) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const j = seed % (i + 1);
        [routes[i], routes[j]] = [routes[j]!, routes[i]!];
      }
      expect(order(routes)).toEqual(want);
    }
  });

  test("lookup takes the first entry that matches a call's path and headers", () => {
    const table = compileGRPCRoutes(objects).table;
    const hit = (path: string, headers: Record<string, string> = {}) =>
      matchGatewayRoute(table, { hostname: "any.example", pathAndQuery: path, method: "POST", header: (name) => headers[name] })?.rule.backends[0]?.ref.name;
    expect(hit("/pkg.Svc/Get", { x: "y" })).toBe("h");
    expect(hit("/pkg.Svc/Get")).toBe("e");
    expect(hit("/pkg.SvcLonger/List")).toBe("s");
    expect(hit("/pkg.SvcX/List")).toBe("p");
    expect(hit("/other.Svc/Get")).toBe("o");
    expect(hit("/other.Svc/List")).toBe("a");
  });
});

describe("HTTPRoute against GRPCRoute on one listener (route-kind-conflicts.ts)", () => {
  const at = (day: number): string => `, creationTimestamp: "2024-01-0${day}T00:00:00Z"`;
  const httpRoute = (name: string, hostnames: string, extra: string): string => `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${INFRA}${extra} }
spec:
  parentRefs: [{ name: same-namespace }]
  hostnames: ${hostnames}
  rules: [{ backendRefs: [{ name: h, port: 1 }] }]
`;
  // a-http (oldest) holds a.example; b-grpc wants a.example and *.b.example: rejected; c-http
  // wants x.b.example, which only the rejected b-grpc would have held: accepted; d-grpc wants
  // d.example, which no HTTPRoute holds: accepted.
  const objects = gatewayObjects(
    BASE_GATEWAY +
      httpRoute("a-http", "[a.example]", at(1)) +
      route("b-grpc", '  hostnames: [a.example, "*.b.example"]\n  rules: [{ backendRefs: [{ name: g, port: 1 }] }]\n', at(2)) +
      httpRoute("c-http", "[x.b.example]", at(3)) +
      route("d-grpc", "  hostnames: [d.example]\n  rules: [{ backendRefs: [{ name: g, port: 1 }] }]\n", at(4)),
  );
  const verdicts = (o: typeof objects): string[] => {
    const status = withGRPCRouteStatus(compileGatewayRoutes(o).status, compileGRPCRoutes(o));
    return [...status.httpRoutes, ...(status.grpcRoutes ?? [])].map((r) => `${r.name} ${r.parents[0]!.conditions[0]!.status}/${r.parents[0]!.conditions[0]!.reason}`).sort();
  };

  test("routes are taken oldest first; a route rejected for a conflict holds no host names against later ones", () => {
    expect(verdicts(objects)).toEqual(["a-http True/Accepted", "b-grpc False/HostnameConflict", "c-http True/Accepted", "d-grpc True/Accepted"]);
  });

  test("the verdicts do not depend on the order the objects came in", () => {
    const want = verdicts(objects);
    const http = [...objects.httpRoutes];
    const grpc = [...objects.grpcRoutes!];
    expect(verdicts({ ...objects, httpRoutes: http.reverse(), grpcRoutes: grpc.reverse() })).toEqual(want);
  });
});
