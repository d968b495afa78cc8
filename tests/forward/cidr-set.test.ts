// CIDR ranges for --trusted-proxies (router/forward/cidr-set.ts), and the chain walk that picks a
// request's client behind trusted proxies (forward-headers.ts chainClient).
import { describe, expect, test } from "vitest";
import { CidrSet, parseCidr, parseIp } from "../../router/forward/cidr-set.ts";
import { chainClient, createHeaderForwarder } from "../../router/forward/forward-headers.ts";
import { forwardedForValues, nodeAddress } from "../../router/forward/forwarded-element.ts";

describe("parseIp", () => {
  test.each([
    ["192.0.2.7", "192.0.2.7"],
    ["::ffff:192.0.2.7", "192.0.2.7"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["::1", "::1"],
    ["::", "::"],
  ])("%s reads as %s", (text, canonical) => expect(parseIp(text)?.text).toBe(canonical));

  test.each(["", "unknown", "192.0.2", "192.0.2.256", "010.0.0.1", "1.2.3.4:80", "[::1]", "fe80::1%eth0", "2001:db8::g"])("%j is not an address", (text) => {
    expect(parseIp(text)).toBeUndefined();
  });
});

describe("CidrSet", () => {
  const set = new CidrSet(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "172.16.5.9/12", "::ffff:100.64.0.0/106"]);

  test.each([
    ["10.255.1.2", true],
    ["11.0.0.1", false],
    ["192.0.2.7", true],
    ["192.0.2.8", false],
    ["::ffff:10.1.2.3", true], // IPv4-mapped: the IPv4 rule applies
    ["2001:db8:ffff::1", true],
    ["2001:db9::1", false],
    ["172.31.255.255", true], // host bits of 172.16.5.9/12 are ignored: 172.16.0.0/12
    ["172.32.0.0", false],
    ["100.64.0.1", true], // ::ffff:100.64.0.0/106 is 100.64.0.0/10
    ["100.128.0.1", false],
    ["not-an-address", false],
  ])("has(%s) is %s", (address, inside) => expect(set.has(address)).toBe(inside));

  test("/0 holds every address of its family, and only of its family", () => {
    const all4 = new CidrSet(["0.0.0.0/0"]);
    expect(all4.has("203.0.113.9")).toBe(true);
    expect(all4.has("2001:db8::1")).toBe(false);
    expect(new CidrSet(["::/0"]).has("2001:db8::1")).toBe(true);
  });

  test.each([
    ["10.0.0.0/33", '"10.0.0.0/33": the prefix length must be a whole number from 0 to 32; expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32'],
    ["2001:db8::/129", '"2001:db8::/129": the prefix length must be a whole number from 0 to 128; expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32'],
    ["10.0.0.0/", '"10.0.0.0/": the prefix length must be a whole number from 0 to 32; expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32'],
    ["10.0.0.0/08", '"10.0.0.0/08": the prefix length must be a whole number from 0 to 32; expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32'],
    ["lb.example.com", '"lb.example.com" is not an IP address or CIDR range: expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32'],
    ["::ffff:10.0.0.0/64", '"::ffff:10.0.0.0/64": an IPv4-mapped range needs a prefix of at least 96 bits'],
  ])("parseCidr(%j) throws, naming the value", (text, message) => {
    expect(() => parseCidr(text)).toThrow(message);
  });
});

describe("the client behind trusted proxies (right-most untrusted, as nginx real_ip_recursive)", () => {
  const trusted = new CidrSet(["10.0.0.0/8", "2001:db8::/32"]);
  test.each([
    ["the right-most untrusted entry", "10.0.0.5", ["198.51.100.9", "203.0.113.7", "10.0.0.9"], "203.0.113.7"],
    ["every entry trusted: the left-most", "10.0.0.5", ["10.1.1.1", "10.2.2.2"], "10.1.1.1"],
    ["no chain: the peer", "10.0.0.5", [], "10.0.0.5"],
    ["a value that is not an address stops the walk at the last one read", "10.0.0.5", ["203.0.113.7", "unknown", "10.0.0.9"], "10.0.0.9"],
    ["ports and brackets are not part of the address", "10.0.0.5", ["203.0.113.7:4711", "[2001:db8::5]:80"], "203.0.113.7"],
    ["IPv6", "2001:db8::1", ["2001:DB8:0::2", "2001:db9::7"], "2001:db9::7"],
  ])("%s", (_name, peer, chain, client) => expect(chainClient(peer, chain, trusted)).toBe(client));

  test("forwarder.clientAddress: only a trusted peer's chain is read; XFF first, else Forwarded", () => {
    const forwarder = createHeaderForwarder({ trustedProxies: ["10.0.0.0/8"] });
    const xff = ["X-Forwarded-For", "192.0.2.1, 203.0.113.7", "x-forwarded-for", "10.3.3.3"];
    expect(forwarder.clientAddress("10.0.0.5", xff)).toBe("203.0.113.7");
    expect(forwarder.clientAddress("::ffff:10.0.0.5", xff)).toBe("203.0.113.7");
    expect(forwarder.clientAddress("198.51.100.2", xff)).toBe("198.51.100.2");
    expect(forwarder.clientAddress("::ffff:198.51.100.2", xff)).toBe("198.51.100.2");
    expect(forwarder.clientAddress("10.0.0.5", ["forwarded", 'for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"'])).toBe("2001:db8:cafe::17");
    expect(createHeaderForwarder().clientAddress("10.0.0.5", xff)).toBe("10.0.0.5");
  });

  test("a bad range is refused when the forwarder is built", () => {
    expect(() => createHeaderForwarder({ trustedProxies: ["10.0.0.0/40"] })).toThrow('"10.0.0.0/40": the prefix length');
  });
});

describe("chain values", () => {
  test.each([
    ["192.0.2.60", "192.0.2.60"],
    [" 192.0.2.60:4711 ", "192.0.2.60"],
    ["[2001:db8:cafe::17]:47011", "2001:db8:cafe::17"],
    ["2001:db8:cafe::17", "2001:db8:cafe::17"],
    ["unknown", "unknown"],
  ])("nodeAddress(%j) is %j", (entry, address) => expect(nodeAddress(entry)).toBe(address));

  test("forwardedForValues splits elements outside quotes and unquotes (RFC 7239 section 4)", () => {
    expect(forwardedForValues('for=192.0.2.43, For="[2001:db8:cafe::17]";proto=https, proto=http, for="a,b\\"c"')).toEqual(["192.0.2.43", "[2001:db8:cafe::17]", "", 'a,b"c']);
  });
});
