// Our cases for what the Gateway API conformance suite's HTTPRoute filter and timeout tests check
// (kubernetes-sigs/gateway-api conformance/tests/httproute-*.go; written anew, one describe per
// upstream ShortName): redirects (Location and status), rewrites (what the backend received),
// header modifiers on both sides, mirrors, and the route's timeouts.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { INFRA, startGatewayHarness, type GatewayHarness } from "./gateway-harness.ts";

let gw: GatewayHarness;
beforeAll(async () => {
  gw = await startGatewayHarness();
});
afterAll(async () => {
  await gw?.close();
});

function route(name: string, body: string): string {
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${INFRA} }
spec:
  parentRefs: [{ name: same-namespace }]
${body}
`;
}

/** A field's values as the upstream echo server reports them: joined with ",". */
function field(headers: Record<string, string[]> | undefined, name: string): string | undefined {
  return headers?.[name]?.join(",");
}

async function redirects(cases: readonly [path: string, status: number, location: string][], host = "redirect.example"): Promise<void> {
  const got = [];
  for (const [path] of cases) {
    const answer = await gw.request(host, path);
    got.push([path, answer.status, answer.headers.location]);
  }
  expect(got).toEqual(cases);
}

describe("HTTPRouteRedirectHostAndStatus", () => {
  test("the hostname is replaced; the status is the filter's (302 by default), with the path and query kept", async () => {
    gw.apply(
      route(
        "redirect-host-and-status",
        `  rules:
  - matches: [{ path: { type: PathPrefix, value: /hostname-redirect } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org } }]
  - matches: [{ path: { type: PathPrefix, value: /host-and-status } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, statusCode: 301 } }]
  - matches: [{ path: { type: PathPrefix, value: /303 } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, statusCode: 303 } }]
  - matches: [{ path: { type: PathPrefix, value: /307 } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, statusCode: 307 } }]
  - matches: [{ path: { type: PathPrefix, value: /308 } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, statusCode: 308 } }]`,
      ),
    );
    await redirects([
      ["/hostname-redirect", 302, "http://example.org/hostname-redirect"],
      ["/hostname-redirect/x?q=1", 302, "http://example.org/hostname-redirect/x?q=1"],
      ["/host-and-status", 301, "http://example.org/host-and-status"],
      ["/303", 303, "http://example.org/303"],
      ["/307", 307, "http://example.org/307"],
      ["/308", 308, "http://example.org/308"],
    ]);
    // A redirect is vipr's own answer: no backend was asked.
    expect(gw.backends.get("infra-backend-v1")!.received().filter((r) => r.host === "redirect.example")).toEqual([]);
  });
});

describe("HTTPRouteRedirectPath", () => {
  test("ReplacePrefixMatch and ReplaceFullPath rewrite the Location's path, with or without a new hostname", async () => {
    gw.apply(
      route(
        "redirect-path",
        `  rules:
  - matches: [{ path: { type: PathPrefix, value: /original-prefix } }]
    filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix } } }]
  - matches: [{ path: { type: PathPrefix, value: /full } }]
    filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplaceFullPath, replaceFullPath: /full-path-replacement } } }]
  - matches: [{ path: { type: PathPrefix, value: /path-and-host } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, path: { type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix } } }]
  - matches: [{ path: { type: PathPrefix, value: /path-and-status } }]
    filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplaceFullPath, replaceFullPath: /replacement-full }, statusCode: 301 } }]
  - matches: [{ path: { type: PathPrefix, value: /full-path-and-host } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, path: { type: ReplaceFullPath, replaceFullPath: /replacement-full } } }]
  - matches: [{ path: { type: PathPrefix, value: /original-prefix-trailing } }]
    filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplacePrefixMatch, replacePrefixMatch: / } } }]`,
      ),
    );
    await redirects([
      ["/original-prefix/lemon", 302, "http://redirect.example/replacement-prefix/lemon"],
      ["/full/path/original", 302, "http://redirect.example/full-path-replacement"],
      ["/path-and-host", 302, "http://example.org/replacement-prefix"],
      ["/path-and-status", 301, "http://redirect.example/replacement-full"],
      ["/full-path-and-host", 302, "http://example.org/replacement-full"],
      ["/original-prefix-trailing/lemon?x=1", 302, "http://redirect.example/lemon?x=1"],
    ]);
  });
});

describe("HTTPRouteRedirectPort", () => {
  test("the port is the filter's, left out when it is the scheme's well-known one; without one, the listener's", async () => {
    gw.apply(
      route(
        "redirect-port",
        `  rules:
  - matches: [{ path: { type: PathPrefix, value: /port } }]
    filters: [{ type: RequestRedirect, requestRedirect: { port: 8083 } }]
  - matches: [{ path: { type: PathPrefix, value: /port-and-host } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, port: 8083 } }]
  - matches: [{ path: { type: PathPrefix, value: /port-and-status } }]
    filters: [{ type: RequestRedirect, requestRedirect: { port: 8083, statusCode: 301 } }]
  - matches: [{ path: { type: PathPrefix, value: /port-80 } }]
    filters: [{ type: RequestRedirect, requestRedirect: { port: 80 } }]
  - matches: [{ path: { type: PathPrefix, value: /no-port } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org } }]`,
      ),
    );
    await redirects([
      ["/port", 302, "http://redirect.example:8083/port"],
      ["/port-and-host", 302, "http://example.org:8083/port-and-host"],
      ["/port-and-status", 301, "http://redirect.example:8083/port-and-status"],
      ["/port-80", 302, "http://redirect.example/port-80"],
      // The listener is on port 80, the well-known port of http: left out.
      ["/no-port", 302, "http://example.org/no-port"],
    ]);
  });
});

describe("HTTPRouteRedirectScheme", () => {
  test("the scheme is replaced, with its well-known port unless the filter names another", async () => {
    gw.apply(
      route(
        "redirect-scheme",
        `  rules:
  - matches: [{ path: { type: PathPrefix, value: /scheme } }]
    filters: [{ type: RequestRedirect, requestRedirect: { scheme: https } }]
  - matches: [{ path: { type: PathPrefix, value: /scheme-and-host } }]
    filters: [{ type: RequestRedirect, requestRedirect: { scheme: https, hostname: example.org } }]
  - matches: [{ path: { type: PathPrefix, value: /scheme-and-status } }]
    filters: [{ type: RequestRedirect, requestRedirect: { scheme: https, statusCode: 301 } }]
  - matches: [{ path: { type: PathPrefix, value: /scheme-and-port } }]
    filters: [{ type: RequestRedirect, requestRedirect: { scheme: https, port: 8443 } }]
  - matches: [{ path: { type: PathPrefix, value: /scheme-and-port-443 } }]
    filters: [{ type: RequestRedirect, requestRedirect: { scheme: https, port: 443 } }]`,
      ),
    );
    await redirects([
      ["/scheme", 302, "https://redirect.example/scheme"],
      ["/scheme-and-host", 302, "https://example.org/scheme-and-host"],
      ["/scheme-and-status", 301, "https://redirect.example/scheme-and-status"],
      ["/scheme-and-port", 302, "https://redirect.example:8443/scheme-and-port"],
      ["/scheme-and-port-443", 302, "https://redirect.example/scheme-and-port-443"],
    ]);
  });
});

describe("HTTPRouteRewriteHost", () => {
  test("URLRewrite hostname: the backend receives the new Host", async () => {
    gw.apply(
      route(
        "rewrite-host",
        `  hostnames: [rewrite.example]
  rules:
  - matches: [{ path: { type: PathPrefix, value: /one } }]
    filters: [{ type: URLRewrite, urlRewrite: { hostname: one.example.org } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - filters: [{ type: URLRewrite, urlRewrite: { hostname: example.org } }]
    backendRefs: [{ name: infra-backend-v2, port: 8080 }]`,
      ),
    );
    const one = await gw.request("rewrite.example", "/one");
    expect([one.echo?.service, one.echo?.host, one.echo?.path]).toEqual(["infra-backend-v1", "one.example.org", "/one"]);
    const other = await gw.request("rewrite.example", "/");
    expect([other.echo?.service, other.echo?.host]).toEqual(["infra-backend-v2", "example.org"]);
  });
});

describe("HTTPRouteRewritePath", () => {
  test("URLRewrite path: the matched prefix replaced, or the full path; with header changes alongside", async () => {
    gw.apply(
      route(
        "rewrite-path",
        `  rules:
  - matches: [{ path: { type: PathPrefix, value: /prefix/one } }]
    filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /one } } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /strip-prefix } }]
    filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: / } } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /full/one } }]
    filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /one } } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /full/rewrite-path-and-modify-headers } }]
    filters:
    - { type: URLRewrite, urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /test } } }
    - { type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-Header-Set, value: set-overwrites-values }], add: [{ name: X-Header-Add, value: header-val-1 }], remove: [X-Header-Remove] } }
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]`,
      ),
    );
    const got = [];
    for (const path of ["/prefix/one/two", "/strip-prefix/three", "/strip-prefix", "/full/one/two", "/prefix/one?q=1"]) got.push((await gw.request("rw.example", path)).echo?.path);
    expect(got).toEqual(["/one/two", "/three", "/", "/one", "/one?q=1"]);
    const both = await gw.request("rw.example", "/full/rewrite-path-and-modify-headers/test", { headers: { "x-header-set": "old", "x-header-add": "add-val-1", "x-header-remove": "gone" } });
    expect([both.echo?.path, field(both.echo?.headers, "x-header-set"), field(both.echo?.headers, "x-header-add"), field(both.echo?.headers, "x-header-remove")]).toEqual([
      "/test",
      "set-overwrites-values",
      "add-val-1,header-val-1",
      undefined,
    ]);
  });
});

describe("HTTPRouteRequestHeaderModifier", () => {
  test("set replaces a field, add appends to it, remove drops it; other fields pass", async () => {
    gw.apply(
      route(
        "request-header-modifier",
        `  rules:
  - matches: [{ path: { type: PathPrefix, value: /set } }]
    filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-Header-Set, value: set-overwrites-values }] } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /add } }]
    filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { add: [{ name: X-Header-Add, value: add-appends-values }] } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /remove } }]
    filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { remove: [X-Header-Remove] } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /multiple } }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{ name: X-Header-Set-1, value: header-set-1 }, { name: X-Header-Set-2, value: header-set-2 }]
        add: [{ name: X-Header-Add-1, value: header-add-1 }, { name: X-Header-Add-2, value: header-add-2 }, { name: X-Header-Add-3, value: header-add-3 }]
        remove: [X-Header-Remove-1, X-Header-Remove-2]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /case-insensitivity } }]
    filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-Header-Set, value: header-set }], add: [{ name: X-Header-Add, value: header-add }], remove: [X-Header-Remove] } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]`,
      ),
    );
    const h = async (path: string, headers: Record<string, string>) => (await gw.request("rh.example", path, { headers })).echo?.headers;
    const set1 = await h("/set", { "some-other-header": "val" });
    expect([field(set1, "some-other-header"), field(set1, "x-header-set")]).toEqual(["val", "set-overwrites-values"]);
    expect(field(await h("/set", { "x-header-set": "some-other-value" }), "x-header-set")).toBe("set-overwrites-values");
    expect(field(await h("/add", {}), "x-header-add")).toBe("add-appends-values");
    expect(field(await h("/add", { "x-header-add": "some-other-value" }), "x-header-add")).toBe("some-other-value,add-appends-values");
    expect(field(await h("/remove", { "x-header-remove": "val" }), "x-header-remove")).toBeUndefined();
    const multiple = await h("/multiple", { "x-header-set-2": "set-val-2", "x-header-add-2": "add-val-2", "x-header-remove-2": "remove-val-2", "another-header": "another-header-val" });
    expect(["x-header-set-1", "x-header-set-2", "x-header-add-1", "x-header-add-2", "x-header-add-3", "another-header", "x-header-remove-1", "x-header-remove-2"].map((n) => field(multiple, n))).toEqual([
      "header-set-1",
      "header-set-2",
      "header-add-1",
      "add-val-2,header-add-2",
      "header-add-3",
      "another-header-val",
      undefined,
      undefined,
    ]);
    const mixed = await h("/case-insensitivity", { "X-HEADER-SET": "original", "x-header-ADD": "original", "X-Header-Remove": "x" });
    expect([field(mixed, "x-header-set"), field(mixed, "x-header-add"), field(mixed, "x-header-remove")]).toEqual(["header-set", "original,header-add", undefined]);
  });
});

describe("HTTPRouteResponseHeaderModifier", () => {
  test("set, add and remove apply to the backend's response fields", async () => {
    gw.apply(
      route(
        "response-header-modifier",
        `  rules:
  - filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{ name: X-Header-Set, value: set-overwrites-values }, { name: Content-Type, value: text/plain }]
        add: [{ name: X-Header-Add, value: add-appends-values }]
        remove: [X-Powered-By]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]`,
      ),
    );
    const answer = await gw.request("rsp.example", "/response");
    expect(answer.status).toBe(200);
    expect([answer.headers["x-header-set"], answer.headers["x-header-add"], answer.headers["content-type"]]).toEqual(["set-overwrites-values", "add-appends-values", "text/plain"]);
    expect(JSON.parse(answer.body).service).toBe("infra-backend-v1");
  });
});

describe("HTTPRouteRequestMirror", () => {
  test("a copy goes to the mirror backend; the client gets the real backend's answer", async () => {
    gw.apply(
      route(
        "request-mirror",
        `  rules:
  - matches: [{ path: { type: PathPrefix, value: /mirror } }]
    filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: infra-backend-v2, port: 8080 } } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /never } }]
    filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: infra-backend-v3, port: 8080 }, percent: 0 } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]`,
      ),
    );
    const answer = await gw.request("mirror.example", "/mirror/one?x=1", { headers: { "x-trace": "t1" } });
    expect(answer.echo?.service).toBe("infra-backend-v1");
    const mirror = gw.backends.get("infra-backend-v2")!;
    await expect.poll(() => mirror.received().find((r) => r.path === "/mirror/one?x=1")?.headers["x-trace"], { timeout: 10_000 }).toEqual(["t1"]);
    for (let i = 0; i < 5; i++) expect((await gw.request("mirror.example", "/never")).echo?.service).toBe("infra-backend-v1");
    // A mirror with percent 0 never fires; the last request to /mirror proves mirrors arrive by now.
    await gw.request("mirror.example", "/mirror/two");
    await expect.poll(() => mirror.received().some((r) => r.path === "/mirror/two"), { timeout: 10_000 }).toBe(true);
    expect(gw.backends.get("infra-backend-v3")!.received().filter((r) => r.path === "/never")).toEqual([]);
  });
});

describe("HTTPRouteTimeoutRequest", () => {
  test("timeouts.request: a backend slower than it gets 504; a fast one answers", async () => {
    gw.apply(
      route(
        "request-timeout",
        `  rules:
  - matches: [{ path: { type: PathPrefix, value: /request-timeout } }]
    timeouts: { request: 500ms }
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /disable-request-timeout } }]
    timeouts: { request: 0s }
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]`,
      ),
    );
    expect((await gw.request("t.example", "/request-timeout", { headers: { "x-echo-delay-ms": "3000" } })).status).toBe(504);
    expect((await gw.request("t.example", "/request-timeout")).status).toBe(200);
    expect((await gw.request("t.example", "/disable-request-timeout", { headers: { "x-echo-delay-ms": "1000" } })).status).toBe(200);
  });
});

describe("HTTPRouteTimeoutBackendRequest", () => {
  test("timeouts.backendRequest: one try slower than it gets 504", async () => {
    gw.apply(
      route(
        "backend-request-timeout",
        `  rules:
  - matches: [{ path: { type: PathPrefix, value: /backend-timeout } }]
    timeouts: { request: 10s, backendRequest: 500ms }
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]`,
      ),
    );
    const slow = await gw.request("t.example", "/backend-timeout", { headers: { "x-echo-delay-ms": "3000" } });
    expect([slow.status, JSON.parse(slow.body).error.code]).toEqual([504, "upstream_timeout"]);
    expect((await gw.request("t.example", "/backend-timeout")).status).toBe(200);
  });
});

describe("HTTPRouteRetry (attempts, on connection failures; codes and backoff: httproute-retry.test.ts)", () => {
  test("retry.attempts sets how many times a failure safe to repeat is retried, on vipr's retry machinery", async () => {
    gw.apply(
      route(
        "retry",
        `  rules:
  - matches: [{ path: { type: PathPrefix, value: /no-retries } }]
    retry: { attempts: 0 }
    backendRefs: [{ name: dead-backend, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /default-retries } }]
    backendRefs: [{ name: dead-backend, port: 8080 }]`,
      ),
    );
    // One endpoint, which refuses connections: with attempts 0 the first failure is the answer
    // (max_retries); with the router's default a retry was allowed, but no other endpoint is left.
    const none = await gw.request("retry.example", "/no-retries");
    expect([none.status, JSON.parse(none.body).error.notRetried, JSON.parse(none.body).error.tries]).toEqual([502, "max_retries", 1]);
    const fallback = await gw.request("retry.example", "/default-retries");
    expect([fallback.status, JSON.parse(fallback.body).error.notRetried]).toEqual([502, "no_other_endpoint"]);
  });
});

describe("HTTPRouteCORS", () => {
  test("preflights are answered for allowed origins (wildcard hosts too); actual requests get the CORS fields; others get none", async () => {
    gw.apply(
      route(
        "cors",
        `  rules:
  - matches: [{ path: { type: PathPrefix, value: /cors-1 } }]
    filters:
    - type: CORS
      cors:
        allowOrigins: ["https://www.foo.com", "https://*.bar.com"]
        allowMethods: [GET, OPTIONS]
        allowHeaders: [x-header-1, x-header-2]
        exposeHeaders: [x-header-3, x-header-4]
        allowCredentials: true
        maxAge: 3600
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /cors-2 } }]
    filters: [{ type: CORS, cors: { allowOrigins: ["https://www.foo.com"], allowMethods: ["*"] } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]
  - matches: [{ path: { type: PathPrefix, value: /cors-wildcard-origin } }]
    filters: [{ type: CORS, cors: { allowOrigins: ["*"], allowMethods: [PUT], allowCredentials: false } }]
    backendRefs: [{ name: infra-backend-v1, port: 8080 }]`,
      ),
    );
    const cors = (headers: Record<string, unknown>) => Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith("access-control-")));
    const preflight = (path: string, origin: string, method: string, requestHeaders?: string) =>
      gw.request("cors.example", path, { method: "OPTIONS", headers: { origin, "access-control-request-method": method, ...(requestHeaders === undefined ? {} : { "access-control-request-headers": requestHeaders }) } });
    const full = {
      "access-control-allow-methods": "GET, OPTIONS",
      "access-control-allow-headers": "x-header-1, x-header-2",
      "access-control-expose-headers": "x-header-3, x-header-4",
      "access-control-max-age": "3600",
      "access-control-allow-credentials": "true",
    };
    for (const origin of ["https://www.foo.com", "https://www.bar.com", "https://xpto.www.bar.com"]) {
      const answer = await preflight("/cors-1", origin, "GET", "x-header-1, x-header-2");
      expect([answer.status, cors(answer.headers)]).toEqual([204, { "access-control-allow-origin": origin, ...full }]);
    }
    const refused = await preflight("/cors-1", "https://foobar.com", "GET");
    expect([refused.status, cors(refused.headers)]).toEqual([204, {}]);
    const actual = await gw.request("cors.example", "/cors-1", { headers: { origin: "https://www.bar.com" } });
    expect([actual.echo?.service, cors(actual.headers)]).toEqual([
      "infra-backend-v1",
      { "access-control-allow-origin": "https://www.bar.com", "access-control-allow-credentials": "true", "access-control-expose-headers": "x-header-3, x-header-4" },
    ]);
    expect(cors((await gw.request("cors.example", "/cors-1", { headers: { origin: "https://foobar.com" } })).headers)).toEqual({});
    const anyMethod = await preflight("/cors-2", "https://www.foo.com", "POST");
    expect(cors(anyMethod.headers)).toEqual({ "access-control-allow-origin": "https://www.foo.com", "access-control-allow-methods": "POST", "access-control-max-age": "5" });
    const anyOrigin = await preflight("/cors-wildcard-origin", "https://foobar.com:12345", "PUT");
    expect(cors(anyOrigin.headers)).toEqual({ "access-control-allow-origin": "https://foobar.com:12345", "access-control-allow-methods": "PUT", "access-control-max-age": "5" });
    const put = await gw.request("cors.example", "/cors-wildcard-origin", { method: "PUT", headers: { origin: "https://foobar.com" } });
    expect([put.status, put.headers["access-control-allow-origin"]]).toEqual([200, "https://foobar.com"]);
  });
});
