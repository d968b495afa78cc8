// Our cases for what the Gateway API conformance suite's HTTPRoute matching tests check
// (kubernetes-sigs/gateway-api conformance/tests/httproute-*.go; written anew, one describe per
// upstream ShortName): requests sent through a served vipr to echo backends, asserting which
// backend answered, with which path, or vipr's status.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { INFRA, seededRandom, startGatewayHarness, type GatewayHarness, type RequestOptions } from "./gateway-harness.ts";

let gw: GatewayHarness;
beforeAll(async () => {
  gw = await startGatewayHarness({ random: seededRandom(15) });
});
afterAll(async () => {
  await gw?.close();
});

function route(name: string, body: string, meta = ""): string {
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${INFRA}${meta} }
spec:
${body}
`;
}

/** Sends each case; expects the backend (service name) or the status. */
async function expectCases(cases: readonly [host: string, path: string, options: RequestOptions, expected: string | number][]): Promise<void> {
  const got = [];
  for (const [host, path, options] of cases) {
    const answer = await gw.request(host, path, options);
    got.push(answer.echo === undefined ? answer.status : answer.echo.service);
  }
  expect(got).toEqual(cases.map((c) => c[3]));
}

describe("HTTPRouteSimpleSameNamespace", () => {
  test("a route in the Gateway's namespace sends every request to its backend, which sees the path and host as sent", async () => {
    const status = gw.apply(route("gateway-conformance-infra-test", `  parentRefs: [{ name: same-namespace }]\n  rules: [{ backendRefs: [{ name: infra-backend-v1, port: 8080 }] }]`));
    const parent = status.httpRoutes.find((r) => r.name === "gateway-conformance-infra-test")!.parents[0]!;
    expect(parent.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(["Accepted=True", "ResolvedRefs=True"]);
    const answer = await gw.request("example.com", "/some/path?x=1");
    expect(answer.status).toBe(200);
    expect(answer.echo).toMatchObject({ service: "infra-backend-v1", namespace: INFRA, path: "/some/path?x=1", host: "example.com", method: "GET", proto: "HTTP/1.1" });
  });
});

describe("HTTPRouteExactPathMatching", () => {
  test("Exact matches the whole path only; a trailing slash or a longer path is another path", async () => {
    gw.apply(
      route(
        "exact-matching",
        `  parentRefs: [{ name: same-namespace }]
  rules:
  - { matches: [{ path: { type: Exact, value: /one } }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }
  - { matches: [{ path: { type: Exact, value: /two } }], backendRefs: [{ name: infra-backend-v2, port: 8080 }] }`,
      ),
    );
    await expectCases([
      ["exact.example.com", "/one", {}, "infra-backend-v1"],
      ["exact.example.com", "/two", {}, "infra-backend-v2"],
      ["exact.example.com", "/one?query=1", {}, "infra-backend-v1"],
      ["exact.example.com", "/", {}, 404],
      ["exact.example.com", "/one/", {}, 404],
      ["exact.example.com", "/one/example", {}, 404],
      ["exact.example.com", "/two/", {}, 404],
    ]);
  });
});

describe("HTTPRouteHeaderMatching", () => {
  test("headers match by name case-insensitively and value exactly; all of a match's headers must match", async () => {
    gw.apply(
      route(
        "header-matching",
        `  parentRefs: [{ name: same-namespace }]
  rules:
  - { matches: [{ headers: [{ name: version, value: one }] }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }
  - { matches: [{ headers: [{ name: version, value: two }] }], backendRefs: [{ name: infra-backend-v2, port: 8080 }] }
  - { matches: [{ headers: [{ name: version, value: two }, { name: color, value: orange }] }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }
  - { matches: [{ headers: [{ name: color, value: blue }] }, { headers: [{ name: color, value: green }] }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }
  - { matches: [{ headers: [{ name: color, value: red }] }, { headers: [{ name: color, value: yellow }] }], backendRefs: [{ name: infra-backend-v2, port: 8080 }] }`,
      ),
    );
    await expectCases([
      ["h.example.com", "/", { headers: { version: "one" } }, "infra-backend-v1"],
      ["h.example.com", "/", { headers: { Version: "one" } }, "infra-backend-v1"],
      ["h.example.com", "/", { headers: { version: "two" } }, "infra-backend-v2"],
      ["h.example.com", "/", { headers: { version: "two", color: "orange" } }, "infra-backend-v1"],
      ["h.example.com", "/", { headers: { version: "two", color: "blue" } }, "infra-backend-v2"],
      ["h.example.com", "/", { headers: { color: "blue" } }, "infra-backend-v1"],
      ["h.example.com", "/", { headers: { color: "green" } }, "infra-backend-v1"],
      ["h.example.com", "/", { headers: { color: "red" } }, "infra-backend-v2"],
      ["h.example.com", "/", { headers: { color: "yellow" } }, "infra-backend-v2"],
      ["h.example.com", "/", { headers: { version: "ONE" } }, 404],
      ["h.example.com", "/", { headers: { color: "purple" } }, 404],
      ["h.example.com", "/", {}, 404],
    ]);
  });
});

describe("HTTPRouteMatching", () => {
  test("path and header matches combine: a match needs both; matches of one rule are alternatives", async () => {
    gw.apply(
      route(
        "matching",
        `  parentRefs: [{ name: same-namespace }]
  rules:
  - matches: [{ path: { type: PathPrefix, value: / } }, { headers: [{ name: version, value: one }] }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /v2 } }, { headers: [{ name: version, value: two }] }]
    backendRefs: [{ name: infra-backend-v2, port: 8080 }]`,
      ),
    );
    await expectCases([
      ["m.example.com", "/", {}, "infra-backend-v1"],
      ["m.example.com", "/example", {}, "infra-backend-v1"],
      ["m.example.com", "/", { headers: { version: "one" } }, "infra-backend-v1"],
      ["m.example.com", "/v2", {}, "infra-backend-v2"],
      ["m.example.com", "/v2/example", {}, "infra-backend-v2"],
      ["m.example.com", "/", { headers: { version: "two" } }, "infra-backend-v2"],
      ["m.example.com", "/v2example", {}, "infra-backend-v1"],
      ["m.example.com", "/foo/v2/example", {}, "infra-backend-v1"],
    ]);
  });
});

describe("HTTPRoutePathMatchOrder", () => {
  test("an exact path before any prefix, the longest prefix first, then method, headers, query params", async () => {
    gw.apply(
      route(
        "path-matching-order",
        `  parentRefs: [{ name: same-namespace }]
  rules:
  - { matches: [{ path: { type: Exact, value: /match } }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }
  - { matches: [{ path: { type: Exact, value: /match/exact } }], backendRefs: [{ name: infra-backend-v2, port: 8080 }] }
  - { matches: [{ path: { type: Exact, value: /match/exact/one } }], backendRefs: [{ name: infra-backend-v3, port: 8080 }] }
  - { matches: [{ path: { type: PathPrefix, value: /match/ } }], backendRefs: [{ name: infra-backend-v3, port: 8080 }] }
  - { matches: [{ path: { type: PathPrefix, value: /match/prefix/ } }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }
  - { matches: [{ path: { type: PathPrefix, value: /match/prefix/one } }], backendRefs: [{ name: infra-backend-v2, port: 8080 }] }
  - matches: [{ path: { type: PathPrefix, value: /match/prefix/one }, method: POST }]
    backendRefs: [{ name: infra-backend-v3, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /match/prefix/one }, headers: [{ name: header, value: one }] }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /match/prefix/one }, queryParams: [{ name: query, value: one }] }]
    backendRefs: [{ name: web-backend, namespace: gateway-conformance-web-backend, port: 8080 }]`,
      ),
    );
    await expectCases([
      ["o.example.com", "/match", {}, "infra-backend-v1"],
      ["o.example.com", "/match/exact", {}, "infra-backend-v2"],
      ["o.example.com", "/match/exact/one", {}, "infra-backend-v3"],
      ["o.example.com", "/match/exact/two", {}, "infra-backend-v3"],
      ["o.example.com", "/match/prefix/two", {}, "infra-backend-v1"],
      ["o.example.com", "/match/prefix/one/x", {}, "infra-backend-v2"],
      ["o.example.com", "/match/prefix/one", { method: "POST", headers: { header: "one" } }, "infra-backend-v3"], // method before headers
      ["o.example.com", "/match/prefix/one?query=one", { headers: { header: "one" } }, "infra-backend-v1"], // headers before query params
      // Query params before a plain prefix; the cross-namespace backend has no ReferenceGrant: 500.
      ["o.example.com", "/match/prefix/one?query=one", {}, 500],
    ]);
  });
});

describe("HTTPRouteMethodMatching", () => {
  test("method matches, alone and with a path and header", async () => {
    gw.apply(
      route(
        "method-matching",
        `  parentRefs: [{ name: same-namespace }]
  rules:
  - { matches: [{ method: POST }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }
  - { matches: [{ method: GET }], backendRefs: [{ name: infra-backend-v2, port: 8080 }] }
  - { matches: [{ path: { type: PathPrefix, value: /path1 }, method: GET }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }
  - { matches: [{ headers: [{ name: version, value: one }], method: PUT }], backendRefs: [{ name: infra-backend-v2, port: 8080 }] }
  - { matches: [{ path: { type: PathPrefix, value: /path2 }, headers: [{ name: version, value: two }], method: POST }], backendRefs: [{ name: infra-backend-v3, port: 8080 }] }
  - { matches: [{ path: { type: PathPrefix, value: /path3 }, method: PATCH }, { path: { type: PathPrefix, value: /path4 }, method: DELETE }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }`,
      ),
    );
    await expectCases([
      ["x.example.com", "/", { method: "POST" }, "infra-backend-v1"],
      ["x.example.com", "/", { method: "GET" }, "infra-backend-v2"],
      ["x.example.com", "/path1", { method: "GET" }, "infra-backend-v1"],
      ["x.example.com", "/", { method: "PUT", headers: { version: "one" } }, "infra-backend-v2"],
      ["x.example.com", "/path2", { method: "POST", headers: { version: "two" } }, "infra-backend-v3"],
      ["x.example.com", "/path3", { method: "PATCH" }, "infra-backend-v1"],
      ["x.example.com", "/path4", { method: "DELETE" }, "infra-backend-v1"],
      ["x.example.com", "/", { method: "HEAD" }, 404],
      ["x.example.com", "/path4", { method: "PATCH" }, 404],
      ["x.example.com", "/", { method: "PUT" }, 404],
    ]);
  });
});

describe("HTTPRouteQueryParamMatching", () => {
  test("query parameters match by exact name and value; the first of repeated names counts", async () => {
    gw.apply(
      route(
        "query-param-matching",
        `  parentRefs: [{ name: same-namespace }]
  rules:
  - { matches: [{ queryParams: [{ name: animal, value: whale }] }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }
  - { matches: [{ queryParams: [{ name: animal, value: dolphin }] }], backendRefs: [{ name: infra-backend-v2, port: 8080 }] }
  - { matches: [{ queryParams: [{ name: animal, value: dolphin }, { name: color, value: blue }] }, { queryParams: [{ name: ANIMAL, value: Whale }] }], backendRefs: [{ name: infra-backend-v3, port: 8080 }] }`,
      ),
    );
    await expectCases([
      ["q.example.com", "/?animal=whale", {}, "infra-backend-v1"],
      ["q.example.com", "/?animal=dolphin", {}, "infra-backend-v2"],
      ["q.example.com", "/?animal=dolphin&color=blue", {}, "infra-backend-v3"],
      ["q.example.com", "/?ANIMAL=Whale", {}, "infra-backend-v3"],
      ["q.example.com", "/?animal=whale&animal=dolphin", {}, "infra-backend-v1"],
      ["q.example.com", "/?animal=dolphin&color=yellow", {}, "infra-backend-v2"],
      ["q.example.com", "/?color=blue", {}, 404],
      ["q.example.com", "/?animal=phant", {}, 404],
      ["q.example.com", "/?animal=Whale", {}, 404],
      ["q.example.com", "/", {}, 404],
    ]);
  });
});

describe("HTTPRouteMatchingAcrossRoutes", () => {
  test("rules of two routes for the same hosts are merged and ordered as one list", async () => {
    gw.apply(
      route(
        "matching-part1",
        `  parentRefs: [{ name: same-namespace }]
  hostnames: [example.com, example.net]
  rules:
  - matches: [{ path: { type: PathPrefix, value: / } }, { headers: [{ name: version, value: one }] }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]`,
        ", creationTimestamp: 2026-01-01T00:00:00Z",
      ) +
        route(
          "matching-part2",
          `  parentRefs: [{ name: same-namespace }]
  hostnames: [example.com]
  rules:
  - matches: [{ path: { type: PathPrefix, value: /v2 } }, { headers: [{ name: version, value: two }] }]
    backendRefs: [{ name: infra-backend-v2, port: 8080 }]`,
          ", creationTimestamp: 2026-01-02T00:00:00Z",
        ),
    );
    await expectCases([
      ["example.com", "/", {}, "infra-backend-v1"],
      ["example.net", "/example", {}, "infra-backend-v1"],
      ["example.com", "/", { headers: { version: "one" } }, "infra-backend-v1"],
      ["example.com", "/v2", {}, "infra-backend-v2"],
      ["example.com", "/v2/example", {}, "infra-backend-v2"],
      ["example.com", "/", { headers: { version: "two" } }, "infra-backend-v2"],
      ["example.net", "/v2", {}, "infra-backend-v1"],
      ["example.net", "/", { headers: { version: "two" } }, "infra-backend-v1"],
    ]);
  });
});

describe("HTTPRouteNoBackendRefs", () => {
  test("a rule with omitted or empty backendRefs answers 500; its neighbours still forward", async () => {
    gw.apply(
      route(
        "omitted-backendrefs",
        `  parentRefs: [{ name: same-namespace }]
  rules:
  - { matches: [{ path: { type: PathPrefix, value: /forward } }], backendRefs: [{ name: infra-backend-v1, port: 8080 }] }
  - { matches: [{ path: { type: PathPrefix, value: /omitted-no-forward } }] }
  - { matches: [{ path: { type: PathPrefix, value: /empty-no-forward } }], backendRefs: [] }`,
      ),
    );
    await expectCases([
      ["nb.example.com", "/forward", {}, "infra-backend-v1"],
      ["nb.example.com", "/omitted-no-forward", {}, 500],
      ["nb.example.com", "/empty-no-forward", {}, 500],
    ]);
    const answer = await gw.request("nb.example.com", "/empty-no-forward");
    expect(JSON.parse(answer.body).error).toMatchObject({ status: 500, code: "invalid_backend" });
  });
});

describe("HTTPRouteWeight", () => {
  test("backendRefs weights 70/30/0 split 500 requests within 5% of each share; weight 0 gets none", async () => {
    gw.apply(
      route(
        "weighted-backends",
        `  parentRefs: [{ name: same-namespace }]
  rules:
  - backendRefs:
    - { name: infra-backend-v1, port: 8080, weight: 70 }
    - { name: infra-backend-v2, port: 8080, weight: 30 }
    - { name: infra-backend-v3, port: 8080, weight: 0 }`,
      ),
    );
    const counts: Record<string, number> = { "infra-backend-v1": 0, "infra-backend-v2": 0, "infra-backend-v3": 0 };
    const total = 500;
    for (let i = 0; i < total; i += 10) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => gw.request("w.example.com", "/")));
      for (const a of answers) counts[a.echo!.service]! += 1;
    }
    expect(Math.abs(counts["infra-backend-v1"]! / total - 0.7)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(counts["infra-backend-v2"]! / total - 0.3)).toBeLessThanOrEqual(0.05);
    expect(counts["infra-backend-v3"]).toBe(0);
  });
});
