// Our cases for what the Gateway API conformance suite's attachment, hostname and reference tests
// check (kubernetes-sigs/gateway-api conformance/tests/httproute-*.go; written anew, one describe
// per upstream ShortName): which listeners a route attaches to, which host names it then serves,
// which backends it may reach, and the status conditions vipr reports for each.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { GatewayApiStatus } from "../../router/gateway-api/gateway-conditions.ts";
import { APP, INFRA, WEB, startGatewayHarness, type GatewayHarness } from "./gateway-harness.ts";

let gw: GatewayHarness;
beforeAll(async () => {
  gw = await startGatewayHarness();
});
afterAll(async () => {
  await gw?.close();
});

function doc(kind: string, name: string, namespace: string, spec: string, apiVersion = "gateway.networking.k8s.io/v1"): string {
  return `---
apiVersion: ${apiVersion}
kind: ${kind}
metadata: { name: ${name}, namespace: ${namespace} }
spec:
${spec}
`;
}

/** "type=status/reason" of each condition of a route's status for one parent. */
function routeConditions(status: GatewayApiStatus, name: string, parent?: string): string[] {
  const route = status.httpRoutes.find((r) => r.name === name);
  const p = route?.parents.find((x) => parent === undefined || x.parentRef.name === parent);
  return p?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`) ?? [];
}

async function expectCases(cases: readonly [host: string, path: string, expected: string | number][]): Promise<void> {
  const got = [];
  for (const [host, path] of cases) {
    const answer = await gw.request(host, path);
    got.push(answer.echo === undefined ? answer.status : answer.echo.service);
  }
  expect(got).toEqual(cases.map((c) => c[2]));
}

const backendNamespaces = doc(
  "Gateway",
  "backend-namespaces",
  INFRA,
  `  gatewayClassName: vipr
  listeners:
  - { name: http, port: 80, protocol: HTTP, allowedRoutes: { namespaces: { from: Selector, selector: { matchLabels: { gateway-conformance: backend } } } } }`,
);
const backendLabels = { [WEB]: { "gateway-conformance": "backend" }, [APP]: { "gateway-conformance": "backend" } };

describe("HTTPRouteListenerHostnameMatching", () => {
  test("routes on listeners with exact and wildcard host names: the exact listener first, a wildcard for any depth", async () => {
    const status = gw.apply(
      doc(
        "Gateway",
        "httproute-listener-hostname-matching",
        INFRA,
        `  gatewayClassName: vipr
  listeners:
  - { name: listener-1, port: 80, protocol: HTTP, hostname: bar.com }
  - { name: listener-2, port: 80, protocol: HTTP, hostname: foo.bar.com }
  - { name: listener-3, port: 80, protocol: HTTP, hostname: "*.bar.com" }
  - { name: listener-4, port: 80, protocol: HTTP, hostname: "*.foo.com" }`,
      ) +
        doc("HTTPRoute", "backend-v1", INFRA, `  parentRefs: [{ name: httproute-listener-hostname-matching, sectionName: listener-1 }]\n  rules: [{ backendRefs: [{ name: infra-backend-v1, port: 8080 }] }]`) +
        doc("HTTPRoute", "backend-v2", INFRA, `  parentRefs: [{ name: httproute-listener-hostname-matching, sectionName: listener-2 }]\n  rules: [{ backendRefs: [{ name: infra-backend-v2, port: 8080 }] }]`) +
        doc(
          "HTTPRoute",
          "backend-v3",
          INFRA,
          `  parentRefs: [{ name: httproute-listener-hostname-matching, sectionName: listener-3 }, { name: httproute-listener-hostname-matching, sectionName: listener-4 }]\n  rules: [{ backendRefs: [{ name: infra-backend-v3, port: 8080 }] }]`,
        ),
    );
    expect(["backend-v1", "backend-v2", "backend-v3"].flatMap((name) => routeConditions(status, name))).toEqual(Array(3).fill(["Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"]).flat());
    await expectCases([
      ["bar.com", "/", "infra-backend-v1"],
      ["foo.bar.com", "/", "infra-backend-v2"],
      ["baz.bar.com", "/", "infra-backend-v3"],
      ["boo.bar.com", "/", "infra-backend-v3"],
      ["multiple.prefixes.bar.com", "/", "infra-backend-v3"],
      ["multiple.prefixes.foo.com", "/", "infra-backend-v3"],
      ["foo.com", "/", 404],
      ["no.matching.host", "/", 404],
    ]);
  });
});

describe("HTTPRouteHostnameIntersection", () => {
  test("a route serves only the host names both it and the listener allow; a route with none attaches nowhere", async () => {
    const status = gw.apply(
      doc(
        "Gateway",
        "httproute-hostname-intersection",
        INFRA,
        `  gatewayClassName: vipr
  listeners:
  - { name: listener-1, port: 80, protocol: HTTP, hostname: very.specific.com }
  - { name: listener-2, port: 80, protocol: HTTP, hostname: "*.wildcard.io" }
  - { name: listener-3, port: 80, protocol: HTTP, hostname: "*.anotherwildcard.io" }`,
      ) +
        doc(
          "HTTPRoute",
          "specific-host-matches-listener-specific-host",
          INFRA,
          `  parentRefs: [{ name: httproute-hostname-intersection }]
  hostnames: [non.matching.com, "*.nonmatchingwildcard.io", very.specific.com]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /s1 } }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }]`,
        ) +
        doc(
          "HTTPRoute",
          "specific-host-matches-listener-wildcard-host",
          INFRA,
          `  parentRefs: [{ name: httproute-hostname-intersection }]
  hostnames: [non.matching.com, wildcard.io, foo.wildcard.io, bar.wildcard.io, foo.bar.wildcard.io]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /s2 } }], backendRefs: [{ name: infra-backend-v2, port: 8080 }] }]`,
        ) +
        doc(
          "HTTPRoute",
          "wildcard-host-matches-listener-specific-host",
          INFRA,
          `  parentRefs: [{ name: httproute-hostname-intersection }]
  hostnames: [non.matching.com, "*.specific.com"]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /s3 } }], backendRefs: [{ name: infra-backend-v3, port: 8080 }] }]`,
        ) +
        doc(
          "HTTPRoute",
          "wildcard-host-matches-listener-wildcard-host",
          INFRA,
          `  parentRefs: [{ name: httproute-hostname-intersection }]
  hostnames: ["*.anotherwildcard.io"]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /s4 } }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }]`,
        ) +
        doc(
          "HTTPRoute",
          "no-intersecting-hosts",
          INFRA,
          `  parentRefs: [{ name: httproute-hostname-intersection }]
  hostnames: [specific.but.wrong.com, wildcard.io]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /s5 } }], backendRefs: [{ name: infra-backend-v2, port: 8080 }] }]`,
        ),
    );
    expect(routeConditions(status, "no-intersecting-hosts")).toEqual(["Accepted=False/NoMatchingListenerHostname", "ResolvedRefs=True/ResolvedRefs"]);
    const gateway = status.gateways.find((g) => g.name === "httproute-hostname-intersection")!;
    expect(gateway.listeners.map((l) => l.attachedRoutes)).toEqual([2, 1, 1]);
    await expectCases([
      ["very.specific.com", "/s1", "infra-backend-v1"],
      ["very.specific.com:1234", "/s1", "infra-backend-v1"], // the port in Host is not part of the name
      ["non.matching.com", "/s1", 404],
      ["foo.nonmatchingwildcard.io", "/s1", 404],
      ["foo.wildcard.io", "/s1", 404],
      ["very.specific.com", "/non-matching-prefix", 404],
      ["foo.wildcard.io", "/s2", "infra-backend-v2"],
      ["bar.wildcard.io", "/s2", "infra-backend-v2"],
      ["foo.bar.wildcard.io", "/s2", "infra-backend-v2"],
      ["non.matching.com", "/s2", 404],
      ["wildcard.io", "/s2", 404],
      ["very.specific.com", "/s2", 404],
      ["very.specific.com", "/s3", "infra-backend-v3"],
      ["foo.specific.com", "/s3", 404],
      ["foo.wildcard.io", "/s3", 404],
      ["foo.anotherwildcard.io", "/s4", "infra-backend-v1"],
      ["foo.bar.anotherwildcard.io", "/s4", "infra-backend-v1"],
      ["anotherwildcard.io", "/s4", 404],
      ["very.specific.com", "/s4", 404],
      ["specific.but.wrong.com", "/s5", 404],
      ["wildcard.io", "/s5", 404],
    ]);
  });
});

describe("HTTPRouteCrossNamespace", () => {
  test("a route in a namespace the listener's selector allows attaches, and reaches a Service in its own namespace", async () => {
    const status = gw.apply(backendNamespaces + doc("HTTPRoute", "cross-namespace", WEB, `  parentRefs: [{ name: backend-namespaces, namespace: ${INFRA} }]\n  rules: [{ backendRefs: [{ name: web-backend, port: 8080 }] }]`), backendLabels);
    expect(routeConditions(status, "cross-namespace")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"]);
    const answer = await gw.request("cross.example", "/");
    expect([answer.echo?.service, answer.echo?.namespace]).toEqual(["web-backend", WEB]);
    // Without the namespace's label the selector does not allow it.
    const refused = gw.apply(backendNamespaces + doc("HTTPRoute", "cross-namespace", WEB, `  parentRefs: [{ name: backend-namespaces, namespace: ${INFRA} }]\n  rules: [{ backendRefs: [{ name: web-backend, port: 8080 }] }]`));
    expect(routeConditions(refused, "cross-namespace")).toEqual(["Accepted=False/NotAllowedByListeners", "ResolvedRefs=True/ResolvedRefs"]);
    expect((await gw.request("cross.example", "/")).status).toBe(404);
  });
});

const grant = (namespace: string, name: string, to: string, fromNamespace = INFRA) =>
  doc("ReferenceGrant", name, namespace, `  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ${fromNamespace} }]\n  to: [{ group: "", kind: Service${to === "" ? "" : `, name: ${to}`} }]`, "gateway.networking.k8s.io/v1beta1");
const crossBackendRoute = doc("HTTPRoute", "reference-grant", INFRA, `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ name: web-backend, namespace: ${WEB}, port: 8080 }] }]`);

describe("HTTPRouteReferenceGrant", () => {
  test("a ReferenceGrant in the backend's namespace lets the route reach its Service there", async () => {
    const status = gw.apply(crossBackendRoute + grant(WEB, "reference-grant", "web-backend"));
    expect(routeConditions(status, "reference-grant")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"]);
    const answer = await gw.request("grant.example", "/");
    expect([answer.echo?.service, answer.echo?.namespace]).toEqual(["web-backend", WEB]);
  });
});

describe("HTTPRouteInvalidCrossNamespaceBackendRef", () => {
  test("without a ReferenceGrant: ResolvedRefs False RefNotPermitted, and requests get 500", async () => {
    const status = gw.apply(crossBackendRoute);
    expect(routeConditions(status, "reference-grant")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=False/RefNotPermitted"]);
    const before = gw.backends.get("web-backend")!.received().length;
    expect((await gw.request("grant.example", "/")).status).toBe(500);
    expect(gw.backends.get("web-backend")!.received().length).toBe(before); // never dialled
  });
});

describe("HTTPRouteInvalidReferenceGrant", () => {
  test("a ReferenceGrant in the wrong namespace, or for another Service, grants nothing", async () => {
    for (const wrong of [grant(INFRA, "wrong-namespace", "web-backend"), grant(WEB, "other-service", "not-web-backend"), grant(WEB, "other-from", "web-backend", APP)]) {
      const status = gw.apply(crossBackendRoute + wrong);
      expect(routeConditions(status, "reference-grant")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=False/RefNotPermitted"]);
      expect((await gw.request("grant.example", "/")).status).toBe(500);
    }
  });
});

describe("HTTPRoutePartiallyInvalidViaInvalidReferenceGrant", () => {
  test("a rule with a backend not granted answers 500 while the route's other rules forward", async () => {
    const status = gw.apply(
      backendNamespaces +
        doc(
          "HTTPRoute",
          "invalid-reference-grant",
          APP,
          `  parentRefs: [{ name: backend-namespaces, namespace: ${INFRA} }]
  rules:
  - { matches: [{ path: { type: PathPrefix, value: /v2 } }], backendRefs: [{ name: web-backend, namespace: ${WEB}, port: 8080 }] }
  - { backendRefs: [{ name: app-backend-v1, port: 8080 }] }`,
        ) +
        grant(WEB, "not-for-app", "web-backend", INFRA),
      backendLabels,
    );
    expect(routeConditions(status, "invalid-reference-grant")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=False/RefNotPermitted"]);
    await expectCases([
      ["partial.example", "/v2", 500],
      ["partial.example", "/", "app-backend-v1"],
    ]);
  });
});

describe("HTTPRouteInvalidNonExistentBackendRef", () => {
  test("a backendRef to a Service that does not exist: ResolvedRefs False BackendNotFound, and 500", async () => {
    const status = gw.apply(doc("HTTPRoute", "invalid-nonexistent-backend-ref", INFRA, `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ name: nonexistent, port: 8080 }] }]`));
    expect(routeConditions(status, "invalid-nonexistent-backend-ref")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound"]);
    expect((await gw.request("nonexistent.example", "/")).status).toBe(500);
  });
});

describe("HTTPRouteInvalidBackendRefUnknownKind", () => {
  test("a backendRef of a kind vipr does not know: ResolvedRefs False InvalidKind, and 500", async () => {
    const status = gw.apply(doc("HTTPRoute", "invalid-backend-ref-unknown-kind", INFRA, `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ group: unknownkind.example.com, kind: NonExistent, name: infra-backend-v1, port: 8080 }] }]`));
    expect(routeConditions(status, "invalid-backend-ref-unknown-kind")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=False/InvalidKind"]);
    expect((await gw.request("kind.example", "/")).status).toBe(500);
  });
});

describe("HTTPRouteInvalidCrossNamespaceParentRef", () => {
  test("a route in another namespace than a Same-namespace listener's: Accepted False NotAllowedByListeners, no traffic", async () => {
    const status = gw.apply(doc("HTTPRoute", "invalid-cross-namespace-parent-ref", WEB, `  parentRefs: [{ name: same-namespace, namespace: ${INFRA} }]\n  hostnames: [parent.example]\n  rules: [{ backendRefs: [{ name: web-backend, port: 8080 }] }]`));
    expect(routeConditions(status, "invalid-cross-namespace-parent-ref")).toEqual(["Accepted=False/NotAllowedByListeners", "ResolvedRefs=True/ResolvedRefs"]);
    expect(status.gateways.find((g) => g.name === "same-namespace")!.listeners[0]!.attachedRoutes).toBe(0);
    expect((await gw.request("parent.example", "/")).status).toBe(404);
  });
});

describe("HTTPRouteInvalidParentRefNotMatchingListenerPort", () => {
  test("a parentRef port no listener has: Accepted False NoMatchingParent, no traffic", async () => {
    const status = gw.apply(doc("HTTPRoute", "httproute-listener-not-matching-route-port", INFRA, `  parentRefs: [{ name: same-namespace, port: 81 }]\n  hostnames: [port.example]\n  rules: [{ backendRefs: [{ name: infra-backend-v1, port: 8080 }] }]`));
    expect(routeConditions(status, "httproute-listener-not-matching-route-port")).toEqual(["Accepted=False/NoMatchingParent", "ResolvedRefs=True/ResolvedRefs"]);
    expect((await gw.request("port.example", "/")).status).toBe(404);
  });
});

describe("HTTPRouteInvalidParentRefNotMatchingSectionName", () => {
  test("a parentRef sectionName no listener has: Accepted False NoMatchingParent, no traffic", async () => {
    const status = gw.apply(doc("HTTPRoute", "httproute-listener-not-matching-section-name", INFRA, `  parentRefs: [{ name: same-namespace, sectionName: unknown-section }]\n  hostnames: [section.example]\n  rules: [{ backendRefs: [{ name: infra-backend-v1, port: 8080 }] }]`));
    expect(routeConditions(status, "httproute-listener-not-matching-section-name")).toEqual(["Accepted=False/NoMatchingParent", "ResolvedRefs=True/ResolvedRefs"]);
    expect((await gw.request("section.example", "/")).status).toBe(404);
  });
});

describe("HTTPRouteInvalidParentRefSectionNameNotMatchingPort", () => {
  test("a sectionName and a port that name different listeners: Accepted False NoMatchingParent", async () => {
    const status = gw.apply(doc("HTTPRoute", "httproute-listener-section-name-not-matching-port", INFRA, `  parentRefs: [{ name: same-namespace, sectionName: http, port: 81 }]\n  hostnames: [both.example]\n  rules: [{ backendRefs: [{ name: infra-backend-v1, port: 8080 }] }]`));
    expect(routeConditions(status, "httproute-listener-section-name-not-matching-port")).toEqual(["Accepted=False/NoMatchingParent", "ResolvedRefs=True/ResolvedRefs"]);
    expect((await gw.request("both.example", "/")).status).toBe(404);
  });
});

describe("HTTPRouteDisallowedKind", () => {
  test("a listener that allows only other route kinds: the route is not accepted, the listener reports InvalidRouteKinds", async () => {
    const status = gw.apply(
      doc("Gateway", "tlsroutes-only", INFRA, `  gatewayClassName: vipr\n  listeners: [{ name: tls, port: 80, protocol: HTTP, allowedRoutes: { kinds: [{ kind: TLSRoute }] } }]`) +
        doc("HTTPRoute", "disallowed-kind", INFRA, `  parentRefs: [{ name: tlsroutes-only }]\n  hostnames: [kind-disallowed.example]\n  rules: [{ backendRefs: [{ name: infra-backend-v1, port: 8080 }] }]`),
    );
    expect(routeConditions(status, "disallowed-kind")).toEqual(["Accepted=False/NotAllowedByListeners", "ResolvedRefs=True/ResolvedRefs"]);
    const listener = status.gateways.find((g) => g.name === "tlsroutes-only")!.listeners[0]!;
    expect([listener.attachedRoutes, listener.conditions.find((c) => c.type === "ResolvedRefs")?.reason]).toEqual([0, "InvalidRouteKinds"]);
    expect((await gw.request("kind-disallowed.example", "/")).status).toBe(404);
  });
});
