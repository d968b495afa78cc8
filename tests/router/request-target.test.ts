// Reading the authority and path of a request from the URL the runtime's server built.
import { expect, test } from "vitest";
import { requestTarget } from "../../router/request-target.ts";

test.each<[string, string | null, string, string, string]>([
  ["http://simpleservice/info", "simpleservice", "simpleservice", "simpleservice", "/info"],
  ["http://simpleservice/info?x=1", "simpleservice", "simpleservice", "simpleservice", "/info?x=1"],
  ["http://simpleservice?x=1", null, "simpleservice", "simpleservice", "/?x=1"],
  ["http://simpleservice", null, "simpleservice", "simpleservice", "/"],
  // The URL parser dropped the default port; the Host header still has it.
  ["http://simpleservice.default/info", "SimpleService.Default:80", "simpleservice.default:80", "simpleservice.default", "/info"],
  ["http://web.shop:8080/x", "web.shop:8080", "web.shop:8080", "web.shop", "/x"],
  // Absolute-form: the request-target wins over a different Host (RFC 9112 section 3.2.2).
  ["http://simpleservice/info", "other:80", "simpleservice", "simpleservice", "/info"],
  ["http://[::1]:8080/info", "[::1]:8080", "[::1]:8080", "[::1]", "/info"],
])("%s (Host %s) -> %s, %s, %s", (url, host, authority, hostname, path) => {
  expect(requestTarget(url, host)).toEqual({ authority, hostname, pathAndQuery: path, scheme: "http", userinfo: undefined });
});

// RFC 9110 section 4.2.4: userinfo is reported (the router refuses it) and never part of the name.
test.each<[string, string | null, "target" | "host"]>([
  ["http://user:pw@simpleservice/info", null, "target"],
  ["http://a@simpleservice/", "simpleservice", "target"],
  ["http://simpleservice/", "a@simpleservice", "host"],
])("%s (Host %s): userinfo in the %s", (url, host, where) => {
  const target = requestTarget(url, host);
  expect(target.userinfo).toBe(where);
  expect(target.hostname).toBe("simpleservice");
});

test("the scheme of an absolute-form https target is kept, so the router can refuse it", () => {
  expect(requestTarget("https://simpleservice/info", "simpleservice")).toMatchObject({ scheme: "https", authority: "simpleservice", pathAndQuery: "/info" });
});
