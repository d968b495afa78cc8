// Gateway route rules: validation messages, matching order, prefix rewrites.
import { describe, expect, test } from "vitest";
import { compileRouteRules, matchRoute, type RouteRuleConfig } from "../../router/route-rules.ts";

const rules = compileRouteRules(
  [
    { host: "shop.example.com", pathPrefix: "/api", service: "shop/api", rewritePrefix: "/" },
    { host: "shop.example.com", pathPrefix: "/api/v2", service: "shop/api-v2", subset: "version=v2" },
    { host: "*.example.com", service: "web" },
    { pathPrefix: "/static", service: "assets", port: "http" },
  ],
  "default",
);

describe("route rules", () => {
  test.each<[string, string, string | undefined, string | undefined]>([
    ["shop.example.com", "/api/items?x=1", "shop/api", "/items?x=1"],
    ["shop.example.com", "/api", "shop/api", "/"],
    ["shop.example.com", "/api?x=1", "shop/api", "/?x=1"],
    ["shop.example.com", "/api/v2/items", "shop/api-v2", "/api/v2/items"], // the longer prefix wins
    ["shop.example.com", "/apix", "default/web", "/apix"], // whole segments only; the wildcard host matches
    ["a.example.com", "/", "default/web", "/"],
    ["a.b.example.com", "/", "default/web", "/"], // a wildcard matches one or more labels, as a Gateway API hostname
    ["example.com", "/", undefined, undefined],
    ["other.org", "/static/app.js", "default/assets", "/static/app.js"],
  ])("%s%s -> %s %s", (host, path, service, rewritten) => {
    const match = matchRoute(rules, host, path);
    expect(match === undefined ? undefined : `${match.rule.namespace}/${match.rule.service}`).toBe(service);
    expect(match?.path).toBe(rewritten);
  });

  test("a route's subset and port are kept", () => {
    expect(matchRoute(rules, "shop.example.com", "/api/v2")?.rule.subset).toBe("version=v2");
    expect(matchRoute(rules, "x.org", "/static")?.rule.port).toBe("http");
  });

  test("invalid rules are rejected with every problem named by index and field", () => {
    const bad: RouteRuleConfig[] = [
      { host: "Bad Host!", service: "web" },
      { pathPrefix: "api", service: "web" },
      { service: "a/b/c" },
      { service: "web", rewritePrefix: "x" },
    ];
    expect(() => compileRouteRules(bad, "default")).toThrow(
      'invalid route rules: routes[0].host: "Bad Host!" is not a host name or *.domain; routes[1].pathPrefix: "api" must start with "/"; routes[2].service: "a/b/c" is not "name" or "namespace/name"; routes[3].rewritePrefix: "x" must start with "/"',
    );
  });
});
