// listenerConflicts (router/gateway-api/listener-conflicts.ts), pure: which listeners of one Gateway
// are indistinct (gateway_types.go "Distinct Listeners") and why, whatever their order.
import { describe, expect, test } from "vitest";
import type { Listener } from "../../router/gateway-api/gateway-api-objects.ts";
import { listenerConflicts } from "../../router/gateway-api/listener-conflicts.ts";

const l = (name: string, port: number, protocol: string, hostname?: string): Listener => ({ name, port, protocol, hostname, allowedRoutes: { from: "Same", selector: undefined, kinds: [] } });
const reasons = (listeners: Listener[]): Record<string, string> => Object.fromEntries([...listenerConflicts(listeners)].map(([name, c]) => [name, c.reason]));

describe("listenerConflicts", () => {
  test.each<[string, Listener[], Record<string, string>]>([
    ["distinct by port", [l("a", 80, "HTTP"), l("b", 8080, "HTTP")], {}],
    ["distinct by hostname, exact and wildcard and none", [l("a", 443, "HTTPS", "a.example.com"), l("b", 443, "HTTPS", "*.example.com"), l("c", 443, "HTTPS")], {}],
    ["HTTPS and TLS share a port (both TLS, told apart by SNI)", [l("a", 443, "HTTPS", "a.example.com"), l("b", 443, "TLS", "b.example.com")], {}],
    ["UDP shares a port number with HTTPS (another transport)", [l("a", 443, "HTTPS"), l("b", 443, "UDP")], {}],
    ["HTTP and HTTPS on one port", [l("a", 80, "HTTP"), l("b", 80, "HTTPS"), l("c", 443, "HTTPS")], { a: "ProtocolConflict", b: "ProtocolConflict" }],
    ["HTTP and TCP on one port", [l("a", 80, "HTTP", "a.example.com"), l("b", 80, "TCP")], { a: "ProtocolConflict", b: "ProtocolConflict" }],
    ["the same hostname twice", [l("a", 80, "HTTP", "x.example.com"), l("b", 80, "HTTP", "x.example.com"), l("c", 80, "HTTP", "y.example.com")], { a: "HostnameConflict", b: "HostnameConflict" }],
    ["no hostname twice", [l("a", 80, "HTTP"), l("b", 80, "HTTP")], { a: "HostnameConflict", b: "HostnameConflict" }],
    ["TCP on one port twice: the port alone", [l("a", 9000, "TCP"), l("b", 9000, "TCP")], { a: "HostnameConflict", b: "HostnameConflict" }],
    ["a protocol conflict is not also counted as a hostname one", [l("a", 80, "HTTP"), l("b", 80, "HTTPS"), l("c", 80, "HTTPS")], { a: "ProtocolConflict", b: "ProtocolConflict", c: "ProtocolConflict" }],
  ])("%s", (_, listeners, expected) => {
    expect(reasons(listeners)).toEqual(expected);
    // The order listeners are given in changes nothing.
    expect(reasons([...listeners].reverse())).toEqual(expected);
  });

  test("the message names the listeners and the port", () => {
    expect(listenerConflicts([l("web", 80, "HTTP"), l("secure", 80, "HTTPS")]).get("web")?.message).toBe("port 80 is used by listeners of protocols that cannot share it: web (HTTP), secure (HTTPS)");
    expect(listenerConflicts([l("a", 443, "HTTPS", "x.example.com"), l("b", 443, "HTTPS", "x.example.com")]).get("b")?.message).toBe("listeners a, b on port 443 (HTTPS) have the same hostname x.example.com");
  });
});
