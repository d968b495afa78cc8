// The pure Gateway API model: validation with precise problems, hostname intersection, attachment
// and the status it gives (the spec's reasons), match precedence, weighted backend choice,
// redirect and rewrite arithmetic. No sockets: router/gateway-api/ is pure.
import { describe, expect, test } from "vitest";
import { compileGatewayRoutes } from "../../router/gateway-api/compile-gateway-routes.ts";
import { parseGatewayDuration } from "../../router/gateway-api/gateway-duration.ts";
import { intersectHostnames } from "../../router/gateway-api/gateway-hostnames.ts";
import { redirectLocation, rewritePath } from "../../router/gateway-api/http-route-filters.ts";
import { matchGatewayRoute } from "../../router/gateway-api/match-gateway-route.ts";
import { chooseBackend } from "../../router/gateway-api/weighted-backend.ts";
import { BASE_GATEWAY, gatewayObjects, gatewayProblems } from "./gateway-yaml.ts";

const NS = "gateway-conformance-infra";

function route(name: string, spec: string, extra = ""): string {
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${NS}${extra} }
spec:
${spec}
`;
}

function lookup(yaml: string, host: string, path: string, method = "GET", headers: Record<string, string> = {}) {
  const { table } = compileGatewayRoutes(gatewayObjects(BASE_GATEWAY + yaml));
  const entry = matchGatewayRoute(table, { hostname: host, pathAndQuery: path, method, header: (n) => headers[n] });
  return entry === undefined ? undefined : `${entry.rule.backends[0]?.ref.name ?? "-"}`;
}

describe("validation", () => {
  test("each bad field is named by object, field path and reason; good objects are kept", () => {
    const problems = gatewayProblems(
      BASE_GATEWAY +
        route(
          "bad",
          `  parentRefs: [{ name: same-namespace }]
  hostnames: ["Bad Host!"]
  rules:
  - matches: [{ path: { type: Exact, value: "no-slash" } }, { headers: [{ name: "bad header", value: x }] }, { method: FETCH }]
    filters:
    - { type: RequestRedirect, requestRedirect: { statusCode: 304 } }
    - { type: URLRewrite, urlRewrite: { hostname: example.org } }
    backendRefs: [{ name: svc }]
    timeouts: { request: "10 seconds" }
  - matches: [{ path: { type: RegularExpression, value: "/(" } }]`,
        ),
    );
    expect(problems).toEqual([
      `HTTPRoute ${NS}/bad: spec.hostnames[0]: "Bad Host!" is not a host name or *.domain`,
      `HTTPRoute ${NS}/bad: spec.rules[0].matches[0].path.value: "no-slash" must start with "/"`,
      `HTTPRoute ${NS}/bad: spec.rules[0].matches[1].headers[0].name: "bad header" is not a header name`,
      `HTTPRoute ${NS}/bad: spec.rules[0].matches[2].method: "FETCH" is not one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH`,
      `HTTPRoute ${NS}/bad: spec.rules[0].filters[0].requestRedirect.statusCode: 304 is not one of 301, 302, 303, 307, 308`,
      `HTTPRoute ${NS}/bad: spec.rules[0].filters: RequestRedirect and URLRewrite cannot both be set`,
      `HTTPRoute ${NS}/bad: spec.rules[0].backendRefs[0].port: required`,
      `HTTPRoute ${NS}/bad: spec.rules[0].timeouts.request: "10 seconds" is not a Gateway API duration (such as "10s", "500ms", "1m30s")`,
      expect.stringMatching(/^HTTPRoute gateway-conformance-infra\/bad: spec.rules\[1\].matches\[0\].path.value: "\/\(" is not a regular expression: /),
    ]);
  });

  test("a wrong apiVersion and a Gateway without listeners are problems; the CRD's defaults fill the rest", () => {
    expect(gatewayProblems(`apiVersion: gateway.networking.k8s.io/v9\nkind: HTTPRoute\nmetadata: { name: r }\n`)).toEqual([
      'HTTPRoute default/r: apiVersion: "gateway.networking.k8s.io/v9" is not one of gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1beta1',
    ]);
    expect(gatewayProblems(`apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: g }\nspec: { gatewayClassName: vipr }\n`)).toEqual(["Gateway default/g: spec.listeners: at least one listener"]);
    const objects = gatewayObjects(`apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec: { parentRefs: [{ name: g }] }\n`);
    const [r] = objects.httpRoutes;
    expect(r!.parentRefs[0]).toEqual({ group: "gateway.networking.k8s.io", kind: "Gateway", namespace: "default", name: "g", sectionName: undefined, port: undefined });
    expect(r!.rules).toHaveLength(1);
    expect(r!.rules[0]!.matches).toEqual([{ path: { type: "PathPrefix", value: "/" }, headers: [], queryParams: [], method: undefined }]);
    expect(r!.rules[0]!.backendRefs).toEqual([]);
  });

  test("Gateway API durations (GEP-2257)", () => {
    expect([parseGatewayDuration("10s"), parseGatewayDuration("500ms"), parseGatewayDuration("1m30s"), parseGatewayDuration("1h"), parseGatewayDuration("0s")]).toEqual([10_000, 500, 90_000, 3_600_000, 0]);
    expect([parseGatewayDuration("1.5s"), parseGatewayDuration("-1s"), parseGatewayDuration("10"), parseGatewayDuration("123456s")]).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe("hostname intersection (listener hostname, route hostnames)", () => {
  test.each<[string | undefined, string[], (string | undefined)[]]>([
    [undefined, [], [undefined]],
    [undefined, ["a.example.com"], ["a.example.com"]],
    ["a.example.com", [], ["a.example.com"]],
    ["a.example.com", ["a.example.com", "b.example.com"], ["a.example.com"]],
    ["*.example.com", ["a.example.com", "x.a.example.com", "example.com", "a.example.net"], ["a.example.com", "x.a.example.com"]],
    ["a.example.com", ["*.example.com"], ["a.example.com"]],
    ["*.example.com", ["*.a.example.com"], ["*.a.example.com"]],
    ["*.a.example.com", ["*.example.com"], ["*.a.example.com"]],
    ["a.example.com", ["b.example.com"], []],
  ])("listener %s, route %j -> %j", (listener, route, expected) => {
    expect(intersectHostnames(listener, route)).toEqual(expected);
  });
});

describe("attachment and status", () => {
  const gateways = `
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: someone-else }
spec: { controllerName: example.com/other }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: theirs, namespace: ${NS} }
spec: { gatewayClassName: someone-else, listeners: [{ name: http, port: 80, protocol: HTTP }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: hosts, namespace: ${NS}, generation: 3 }
spec:
  gatewayClassName: vipr
  listeners:
  - { name: foo, port: 80, protocol: HTTP, hostname: foo.example.com }
  - { name: bar, port: 8080, protocol: HTTP, hostname: "*.bar.com" }
  - { name: secure, port: 443, protocol: HTTPS, hostname: foo.example.com }
  - { name: tcp-only, port: 81, protocol: HTTP, allowedRoutes: { kinds: [{ kind: TCPRoute }] } }
`;
  const status = (yaml: string, serviceExists?: (key: string) => boolean) => {
    const compiled = compileGatewayRoutes(gatewayObjects(BASE_GATEWAY + gateways + yaml), serviceExists === undefined ? {} : { serviceExists });
    return compiled.status;
  };
  const reasons = (yaml: string, serviceExists?: (key: string) => boolean) =>
    status(yaml, serviceExists).httpRoutes.flatMap((r) => r.parents.map((p) => `${r.name} -> ${p.parentRef.name}${p.parentRef.sectionName ? `/${p.parentRef.sectionName}` : ""}${p.parentRef.port ? `:${p.parentRef.port}` : ""}: ${p.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`).join(" ")}`));

  test("parentRefs: sectionName, port, hostnames, namespaces and kinds each give their reason", () => {
    expect(
      reasons(
        route("ok", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ name: infra-backend-v1, port: 8080 }] }]`) +
          route("no-section", `  parentRefs: [{ name: hosts, sectionName: nope }]`) +
          route("wrong-port", `  parentRefs: [{ name: hosts, port: 9999 }]`) +
          route("section-port-mismatch", `  parentRefs: [{ name: hosts, sectionName: foo, port: 8080 }]`) +
          route("no-hostname", `  parentRefs: [{ name: hosts, sectionName: foo }]\n  hostnames: [other.example.com]`) +
          route("by-port", `  parentRefs: [{ name: hosts, port: 8080 }]\n  hostnames: [x.bar.com]`) +
          route("kinds", `  parentRefs: [{ name: hosts, sectionName: tcp-only }]`) +
          route("https-later", `  parentRefs: [{ name: hosts, sectionName: secure }]`) +
          route("not-ours", `  parentRefs: [{ name: theirs }]`) +
          `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: other-ns, namespace: elsewhere }
spec: { parentRefs: [{ name: same-namespace, namespace: ${NS} }, { name: all-namespaces, namespace: ${NS} }] }
`,
      ).sort(),
    ).toEqual([
      "ok -> same-namespace: Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs",
      "no-section -> hosts/nope: Accepted=False/NoMatchingParent ResolvedRefs=True/ResolvedRefs",
      "wrong-port -> hosts:9999: Accepted=False/NoMatchingParent ResolvedRefs=True/ResolvedRefs",
      "section-port-mismatch -> hosts/foo:8080: Accepted=False/NoMatchingParent ResolvedRefs=True/ResolvedRefs",
      "no-hostname -> hosts/foo: Accepted=False/NoMatchingListenerHostname ResolvedRefs=True/ResolvedRefs",
      "by-port -> hosts:8080: Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs",
      "kinds -> hosts/tcp-only: Accepted=False/NotAllowedByListeners ResolvedRefs=True/ResolvedRefs",
      "https-later -> hosts/secure: Accepted=False/NotAllowedByListeners ResolvedRefs=True/ResolvedRefs",
      "other-ns -> same-namespace: Accepted=False/NotAllowedByListeners ResolvedRefs=True/ResolvedRefs",
      "other-ns -> all-namespaces: Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs",
    ].sort());
  });

  test("backendRefs: another namespace needs a ReferenceGrant there; only Services; missing Services when known", () => {
    const grant = (ns: string, name?: string) => `---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: grant, namespace: ${ns} }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ${NS} }]
  to: [{ group: "", kind: Service${name === undefined ? "" : `, name: ${name}`} }]
`;
    const cross = route("cross", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ name: web-backend, namespace: gateway-conformance-web-backend, port: 8080 }] }]`);
    expect(reasons(cross)).toEqual(["cross -> same-namespace: Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted"]);
    expect(reasons(cross + grant("gateway-conformance-web-backend"))).toEqual(["cross -> same-namespace: Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs"]);
    expect(reasons(cross + grant("gateway-conformance-web-backend", "web-backend"))).toEqual(["cross -> same-namespace: Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs"]);
    // A grant for another Service, or in the wrong namespace (InvalidReferenceGrant), grants nothing.
    expect(reasons(cross + grant("gateway-conformance-web-backend", "other"))).toEqual(["cross -> same-namespace: Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted"]);
    expect(reasons(cross + grant(NS))).toEqual(["cross -> same-namespace: Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted"]);
    const kind = route("kind", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ group: unknownkind.example.com, kind: NonExistent, name: x, port: 8080 }] }]`);
    expect(reasons(kind)).toEqual(["kind -> same-namespace: Accepted=True/Accepted ResolvedRefs=False/InvalidKind"]);
    const missing = route("missing", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ name: nonexistent, port: 8080 }] }]`);
    expect(reasons(missing, (key) => key !== `${NS}/nonexistent`)).toEqual(["missing -> same-namespace: Accepted=True/Accepted ResolvedRefs=False/BackendNotFound"]);
  });

  test("Gateway and listener status: only vipr's class; attached routes counted; an HTTPS listener without certificateRefs is not programmed; observedGeneration", () => {
    const s = status(route("a", `  parentRefs: [{ name: hosts }]\n  hostnames: [foo.example.com, y.bar.com]`));
    expect(s.gatewayClasses.map((c) => c.name)).toEqual(["vipr"]);
    expect(s.gateways.map((g) => g.name)).toEqual(["same-namespace", "all-namespaces", "hosts"]);
    const hosts = s.gateways[2]!;
    expect(hosts.conditions.map((c) => `${c.type}=${c.status}/${c.reason}@${c.observedGeneration}`)).toEqual(["Accepted=True/Accepted@3", "Programmed=True/Programmed@3"]);
    expect(hosts.listeners.map((l) => `${l.name}: ${l.attachedRoutes} ${l.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`).join(" ")} kinds=${l.supportedKinds.map((k) => k.kind).join(",")}`)).toEqual([
      "foo: 1 Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs Programmed=True/Programmed Conflicted=False/NoConflicts kinds=HTTPRoute,GRPCRoute",
      "bar: 1 Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs Programmed=True/Programmed Conflicted=False/NoConflicts kinds=HTTPRoute,GRPCRoute",
      "secure: 0 Accepted=True/Accepted ResolvedRefs=False/InvalidCertificateRef Programmed=False/Invalid Conflicted=False/NoConflicts kinds=HTTPRoute,GRPCRoute",
      "tcp-only: 0 Accepted=True/Accepted ResolvedRefs=False/InvalidRouteKinds Programmed=False/Invalid Conflicted=False/NoConflicts kinds=",
    ]);
  });
});

describe("match precedence", () => {
  const order = route(
    "path-matching-order",
    `  parentRefs: [{ name: same-namespace }]
  rules:
  - { matches: [{ path: { type: Exact, value: /match } }], backendRefs: [{ name: exact-match, port: 8080 }] }
  - { matches: [{ path: { type: Exact, value: /match/exact } }], backendRefs: [{ name: exact-match-exact, port: 8080 }] }
  - { matches: [{ path: { type: PathPrefix, value: /match/ } }], backendRefs: [{ name: prefix-match, port: 8080 }] }
  - { matches: [{ path: { type: PathPrefix, value: /match/prefix/ } }], backendRefs: [{ name: prefix-match-prefix, port: 8080 }] }
  - { matches: [{ path: { type: PathPrefix, value: /match/prefix/one } }], backendRefs: [{ name: prefix-one, port: 8080 }] }
  - matches: [{ path: { type: PathPrefix, value: /match/ }, method: POST }]
    backendRefs: [{ name: prefix-post, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /match/ }, headers: [{ name: version, value: one }] }]
    backendRefs: [{ name: prefix-one-header, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /match/ }, headers: [{ name: version, value: one }, { name: color, value: red }] }]
    backendRefs: [{ name: prefix-two-headers, port: 8080 }]`,
  );
  test.each<[string, string, Record<string, string>, string | undefined]>([
    ["/match", "GET", {}, "exact-match"],
    ["/match/exact", "GET", {}, "exact-match-exact"],
    ["/match/exact/one", "GET", {}, "prefix-match"],
    ["/match/prefix/one", "GET", {}, "prefix-one"],
    ["/match/prefix/one/more", "GET", {}, "prefix-one"],
    ["/match/prefix/two", "GET", {}, "prefix-match-prefix"],
    ["/match/x", "POST", { version: "one" }, "prefix-post"], // method before headers
    ["/match/x", "GET", { version: "one", color: "red" }, "prefix-two-headers"], // most headers
    ["/match/x", "GET", { version: "one" }, "prefix-one-header"],
    ["/matchx", "GET", {}, undefined],
  ])("%s %s %j -> %s", (path, method, headers, expected) => {
    expect(lookup(order, "any.example.com", path, method, headers)).toBe(expected);
  });

  test("across routes: more query params first, then the oldest route, then namespace/name", () => {
    const yaml =
      route("b-newer", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ name: newer, port: 8080 }] }]`, ", creationTimestamp: 2026-01-02T00:00:00Z") +
      route("c-older", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ name: older, port: 8080 }] }]`, ", creationTimestamp: 2026-01-01T00:00:00Z") +
      route("a-older", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ name: older-a, port: 8080 }] }]`, ", creationTimestamp: 2026-01-01T00:00:00Z") +
      route("query", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ matches: [{ queryParams: [{ name: animal, value: whale }] }], backendRefs: [{ name: query, port: 8080 }] }]`, ", creationTimestamp: 2026-01-03T00:00:00Z");
    expect(lookup(yaml, "x", "/?animal=whale")).toBe("query");
    expect(lookup(yaml, "x", "/?animal=dolphin")).toBe("older-a");
  });

  test("hosts: an exact name before a wildcard, a longer wildcard before a shorter, any host last", () => {
    const yaml =
      route("any", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ name: any, port: 8080 }] }]`) +
      route("wild", `  parentRefs: [{ name: same-namespace }]\n  hostnames: ["*.example.com"]\n  rules: [{ backendRefs: [{ name: wild, port: 8080 }] }]`) +
      route("wilder", `  parentRefs: [{ name: same-namespace }]\n  hostnames: ["*.foo.example.com"]\n  rules: [{ backendRefs: [{ name: wilder, port: 8080 }] }]`) +
      route("exact", `  parentRefs: [{ name: same-namespace }]\n  hostnames: [a.foo.example.com]\n  rules: [{ matches: [{ path: { type: PathPrefix, value: /a } }], backendRefs: [{ name: exact, port: 8080 }] }]`);
    expect(lookup(yaml, "a.foo.example.com", "/a/b")).toBe("exact");
    expect(lookup(yaml, "a.foo.example.com", "/b")).toBe("wilder"); // the exact host's rules did not match
    expect(lookup(yaml, "b.foo.example.com", "/")).toBe("wilder");
    expect(lookup(yaml, "b.example.com", "/")).toBe("wild");
    expect(lookup(yaml, "example.com", "/")).toBe("any");
  });

  test("RegularExpression path, header and query matches (implementation-specific: ECMAScript, anchored)", () => {
    const yaml = route(
      "re",
      `  parentRefs: [{ name: same-namespace }]
  rules:
  - matches: [{ path: { type: RegularExpression, value: "/v[0-9]+/items" }, headers: [{ type: RegularExpression, name: X-Tenant, value: "t-[a-z]+" }], queryParams: [{ type: RegularExpression, name: page, value: "[0-9]+" }] }]
    backendRefs: [{ name: re, port: 8080 }]`,
    );
    expect(lookup(yaml, "x", "/v2/items?page=3", "GET", { "x-tenant": "t-abc" })).toBe("re");
    expect(lookup(yaml, "x", "/v2/items/more?page=3", "GET", { "x-tenant": "t-abc" })).toBeUndefined();
    expect(lookup(yaml, "x", "/v2/items?page=3", "GET", { "x-tenant": "t-ABC" })).toBeUndefined();
    expect(lookup(yaml, "x", "/v2/items?page=three", "GET", { "x-tenant": "t-abc" })).toBeUndefined();
  });

  test("the same objects in another order compile to the same table", () => {
    const yaml = [
      route("r1", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ matches: [{ path: { value: /a } }], backendRefs: [{ name: one, port: 8080 }] }]`),
      route("r2", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ matches: [{ path: { value: /a } }], backendRefs: [{ name: two, port: 8080 }] }]`),
    ];
    const names = (text: string) => compileGatewayRoutes(gatewayObjects(BASE_GATEWAY + text)).table.anyHost.map((e) => e.rule.routeKey);
    expect(names(yaml[0]! + yaml[1]!)).toEqual(names(yaml[1]! + yaml[0]!));
  });
});

describe("backend weights, redirects and rewrites", () => {
  test("a weighted choice follows the weights exactly over an even spread of random numbers; weight 0 gets nothing", () => {
    const { table } = compileGatewayRoutes(
      gatewayObjects(BASE_GATEWAY + route("w", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ name: v1, port: 8080, weight: 70 }, { name: v2, port: 8080, weight: 30 }, { name: v3, port: 8080, weight: 0 }] }]`)),
    );
    const rule = table.anyHost[0]!.rule;
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const name = chooseBackend(rule, () => i / 1000)!.ref.name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ v1: 700, v2: 300 });
  });

  test("redirect Location: scheme, host, port (well-known ports left out), path", () => {
    const request = { scheme: "http", hostname: "example.com", pathAndQuery: "/path/to/x?q=1", listenerPort: 80 };
    const prefix = { type: "PathPrefix" as const, value: "/path" };
    const r = (redirect: Partial<Parameters<typeof redirectLocation>[0]>) => redirectLocation({ scheme: undefined, hostname: undefined, path: undefined, port: undefined, statusCode: 302, ...redirect }, request, prefix);
    expect(r({ hostname: "example.org" })).toBe("http://example.org/path/to/x?q=1");
    expect(r({ scheme: "https" })).toBe("https://example.com/path/to/x?q=1");
    expect(r({ scheme: "https", port: 8443 })).toBe("https://example.com:8443/path/to/x?q=1");
    expect(r({ port: 8083 })).toBe("http://example.com:8083/path/to/x?q=1");
    expect(r({ port: 80 })).toBe("http://example.com/path/to/x?q=1");
    expect(r({ scheme: "http", port: 443 })).toBe("http://example.com:443/path/to/x?q=1");
    expect(redirectLocation({ scheme: undefined, hostname: undefined, path: undefined, port: undefined, statusCode: 302 }, { ...request, listenerPort: 8080 }, prefix)).toBe("http://example.com:8080/path/to/x?q=1");
    expect(r({ path: { type: "ReplaceFullPath", value: "/full" } })).toBe("http://example.com/full?q=1");
    expect(r({ path: { type: "ReplacePrefixMatch", value: "/other" } })).toBe("http://example.com/other/to/x?q=1");
  });

  test.each<[string, string, string, string]>([
    ["/prefix", "/xyz", "/prefix/one", "/xyz/one"],
    ["/prefix", "/xyz", "/prefix", "/xyz"],
    ["/prefix/", "/xyz", "/prefix/one", "/xyz/one"],
    ["/prefix", "/xyz/", "/prefix/one", "/xyz/one"],
    ["/prefix", "/", "/prefix/one", "/one"],
    ["/prefix", "/", "/prefix", "/"],
    ["/", "/api", "/one?x=1", "/api/one?x=1"],
  ])("ReplacePrefixMatch %s -> %s: %s becomes %s", (prefix, replacement, path, expected) => {
    expect(rewritePath(path, { type: "ReplacePrefixMatch", value: replacement }, { type: "PathPrefix", value: prefix })).toBe(expected);
  });
});
