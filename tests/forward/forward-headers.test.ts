import { describe, expect, it } from "vitest";
import { createHeaderForwarder } from "../../router/forward/forward-headers.ts";
import type { DownstreamFacts } from "../../router/forward/forward-headers.ts";
import { clientAddressForHeaders, forwardedElement, forwardedNode } from "../../router/forward/forwarded-element.ts";
import { headerListFromHeaders, headerListFromRecord, headerListGet, headersFromHeaderList } from "../../router/forward/header-list.ts";

const client: DownstreamFacts = { clientAddress: "192.0.2.60", proto: "http" };

/** The values of every field named `name` in a list, in order. */
function all(list: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) values.push(list[i + 1]!);
  return values;
}

describe("forwardRequestHeaders: hop-by-hop fields (RFC 9110 section 7.6.1)", () => {
  const forwarder = createHeaderForwarder();
  const cases: { name: string; incoming: string[]; dropped: string[]; kept: string[] }[] = [
    {
      name: "the fixed hop-by-hop set, in any case",
      incoming: ["Connection", "keep-alive", "Keep-Alive", "timeout=5", "Proxy-Connection", "keep-alive", "Proxy-Authorization", "Basic eA==", "Proxy-Authenticate", "Basic", "TE", "trailers", "Trailer", "Expires", "Transfer-Encoding", "chunked", "Upgrade", "websocket", "Accept", "*/*"],
      dropped: ["connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade"],
      kept: ["accept"],
    },
    {
      name: "fields named in Connection",
      incoming: ["Connection", "close, X-Hop, x-other", "X-Hop", "1", "X-Other", "2", "X-End", "3"],
      dropped: ["connection", "x-hop", "x-other"],
      kept: ["x-end"],
    },
    {
      name: "fields named across two Connection lines",
      incoming: ["connection", "x-a", "connection", " X-B ", "x-a", "1", "x-b", "2", "x-c", "3"],
      dropped: ["x-a", "x-b"],
      kept: ["x-c"],
    },
    {
      name: "Host survives being named in Connection",
      incoming: ["Host", "web.shop", "Connection", "host"],
      dropped: ["connection"],
      kept: ["host"],
    },
    {
      name: "Expect (the runtime server answers 100 Continue itself)",
      incoming: ["Expect", "100-continue", "Content-Length", "5"],
      dropped: ["expect"],
      kept: ["content-length"],
    },
    {
      name: "traceparent and tracestate pass through",
      incoming: ["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate", "vendor=1"],
      dropped: [],
      kept: ["traceparent", "tracestate"],
    },
  ];
  for (const { name, incoming, dropped, kept } of cases) {
    it(name, () => {
      const out = forwarder.request(incoming, client);
      for (const field of dropped) expect(all(out, field), field).toEqual([]);
      for (const field of kept) expect(all(out, field).length, field).toBeGreaterThan(0);
    });
  }

  it("keeps values and order of end-to-end fields, lowercases names, keeps repeated fields", () => {
    const out = forwarder.request(["Host", "Web.Shop:8080", "Cookie", "a=1", "X-Tag", "one", "x-tag", "two"], client);
    expect(out.slice(0, 8)).toEqual(["host", "Web.Shop:8080", "cookie", "a=1", "x-tag", "one", "x-tag", "two"]);
  });
});

describe("forwardRequestHeaders: X-Forwarded-*, Forwarded (RFC 7239) and Via (RFC 9110 section 7.6.3)", () => {
  const untrusted = createHeaderForwarder();
  const trusted = createHeaderForwarder({ trustForwarded: true });
  // --trusted-proxies: the peer decides (client.clientAddress is 192.0.2.60).
  const behindLb = createHeaderForwarder({ trustedProxies: ["192.0.2.0/24"] });
  const otherLb = createHeaderForwarder({ trustedProxies: ["10.0.0.0/8", "2001:db8::/32"] });
  const incoming = ["Host", "simpleservice", "X-Forwarded-For", "203.0.113.9", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "example.com", "X-Forwarded-Port", "443", "Forwarded", "for=203.0.113.9;proto=https", "Via", "1.0 edge"];
  const cases: { name: string; forwarder: typeof untrusted; incoming: string[]; facts: DownstreamFacts; expected: Record<string, string[]> }[] = [
    {
      name: "untrusted (default): the family is replaced",
      forwarder: untrusted,
      incoming,
      facts: client,
      expected: {
        "x-forwarded-for": ["192.0.2.60"],
        "x-forwarded-proto": ["http"],
        "x-forwarded-host": ["simpleservice"],
        "x-forwarded-port": [],
        forwarded: ["for=192.0.2.60;proto=http;host=simpleservice"],
        via: ["1.0 edge, 1.1 vipr"],
        host: ["simpleservice"],
      },
    },
    {
      name: "trusted: For and Forwarded appended to, Proto and Host kept",
      forwarder: trusted,
      incoming,
      facts: client,
      expected: {
        "x-forwarded-for": ["203.0.113.9, 192.0.2.60"],
        "x-forwarded-proto": ["https"],
        "x-forwarded-host": ["example.com"],
        "x-forwarded-port": ["443"],
        forwarded: ["for=203.0.113.9;proto=https, for=192.0.2.60;proto=http;host=simpleservice"],
      },
    },
    {
      name: "trusted proxies, peer in a trusted range: appended to and kept, as with trustForwarded",
      forwarder: behindLb,
      incoming,
      facts: client,
      expected: {
        "x-forwarded-for": ["203.0.113.9, 192.0.2.60"],
        "x-forwarded-proto": ["https"],
        "x-forwarded-host": ["example.com"],
        "x-forwarded-port": ["443"],
        forwarded: ["for=203.0.113.9;proto=https, for=192.0.2.60;proto=http;host=simpleservice"],
        via: ["1.0 edge, 1.1 vipr"],
        host: ["simpleservice"],
      },
    },
    {
      name: "trusted proxies, peer outside every range: replaced, as by default",
      forwarder: otherLb,
      incoming,
      facts: client,
      expected: {
        "x-forwarded-for": ["192.0.2.60"],
        "x-forwarded-proto": ["http"],
        "x-forwarded-host": ["simpleservice"],
        "x-forwarded-port": [],
        forwarded: ["for=192.0.2.60;proto=http;host=simpleservice"],
        via: ["1.0 edge, 1.1 vipr"],
        host: ["simpleservice"],
      },
    },
    {
      name: "trusted: repeated X-Forwarded-For lines become one list",
      forwarder: trusted,
      incoming: ["host", "svc", "x-forwarded-for", "198.51.100.1", "x-forwarded-for", "198.51.100.2"],
      facts: client,
      expected: { "x-forwarded-for": ["198.51.100.1, 198.51.100.2, 192.0.2.60"], "x-forwarded-proto": ["http"], "x-forwarded-host": ["svc"] },
    },
    {
      name: "IPv6 client: bare in X-Forwarded-For, bracketed and quoted in Forwarded (RFC 7239 section 6)",
      forwarder: untrusted,
      incoming: ["host", "web.shop:8080"],
      facts: { clientAddress: "2001:db8:cafe::17", proto: "http" },
      expected: { "x-forwarded-for": ["2001:db8:cafe::17"], forwarded: ['for="[2001:db8:cafe::17]";proto=http;host="web.shop:8080"'] },
    },
    {
      name: "IPv4-mapped IPv6 client from a dual-stack listener is written as IPv4",
      forwarder: untrusted,
      incoming: ["host", "svc"],
      facts: { clientAddress: "::ffff:10.1.2.3", proto: "http" },
      expected: { "x-forwarded-for": ["10.1.2.3"], forwarded: ["for=10.1.2.3;proto=http;host=svc"] },
    },
    {
      name: "unknown client: no X-Forwarded-For, for=unknown (RFC 7239 section 6.2)",
      forwarder: untrusted,
      incoming: ["host", "svc"],
      facts: { clientAddress: "", proto: "https" },
      expected: { "x-forwarded-for": [], forwarded: ["for=unknown;proto=https;host=svc"], "x-forwarded-proto": ["https"] },
    },
    {
      name: "no Host field (HTTP/1.0): the authority is used for Host, X-Forwarded-Host and host=",
      forwarder: untrusted,
      incoming: ["accept", "*/*"],
      facts: { clientAddress: "192.0.2.60", proto: "http", authority: "simpleservice", httpVersion: "1.0" },
      expected: { host: ["simpleservice"], "x-forwarded-host": ["simpleservice"], forwarded: ["for=192.0.2.60;proto=http;host=simpleservice"], via: ["1.0 vipr"] },
    },
    {
      name: "absolute-form target: its authority replaces the Host field (RFC 9112 section 3.2.2)",
      forwarder: untrusted,
      incoming: ["Host", "localhost:3128", "accept", "*/*"],
      facts: { clientAddress: "192.0.2.60", proto: "http", authority: "simpleservice" },
      expected: { host: ["simpleservice"], "x-forwarded-host": ["simpleservice"] },
    },
    {
      name: "two Host lines: only the first goes on",
      forwarder: untrusted,
      incoming: ["Host", "simpleservice", "Host", "evil.example"],
      facts: client,
      expected: { host: ["simpleservice"], "x-forwarded-host": ["simpleservice"] },
    },
    {
      name: "no Host and no authority: no host anywhere",
      forwarder: untrusted,
      incoming: [],
      facts: client,
      expected: { host: [], "x-forwarded-host": [], forwarded: ["for=192.0.2.60;proto=http"] },
    },
    {
      name: "a configured Via pseudonym",
      forwarder: createHeaderForwarder({ viaPseudonym: "gw-1" }),
      incoming: ["host", "svc"],
      facts: client,
      expected: { via: ["1.1 gw-1"] },
    },
  ];
  for (const { name, forwarder, incoming: fields, facts, expected } of cases) {
    it(name, () => {
      const out = forwarder.request(fields, facts);
      for (const [field, values] of Object.entries(expected)) expect(all(out, field), field).toEqual(values);
    });
  }

  it("refuses a Via pseudonym that is not a token, saying what was expected", () => {
    expect(() => createHeaderForwarder({ viaPseudonym: "vi pr" })).toThrow('viaPseudonym must be an HTTP token (RFC 9110 section 5.6.2), got "vi pr"');
  });
});

describe("forwardResponseHeaders", () => {
  const forwarder = createHeaderForwarder();
  it("drops hop-by-hop and Connection-named fields, keeps repeated Set-Cookie, appends Via", () => {
    const out = forwarder.response(["Connection", "keep-alive, X-Backend-Hop", "Keep-Alive", "timeout=5", "Transfer-Encoding", "chunked", "X-Backend-Hop", "1", "Set-Cookie", "a=1", "Set-Cookie", "b=2", "Content-Type", "text/plain", "Proxy-Authenticate", "Basic"]);
    expect(out).toEqual(["set-cookie", "a=1", "set-cookie", "b=2", "content-type", "text/plain", "via", "1.1 vipr"]);
  });
  it("appends to an upstream Via", () => {
    expect(forwarder.response(["via", "1.1 sidecar"])).toEqual(["via", "1.1 sidecar, 1.1 vipr"]);
  });
});

describe("Forwarded element values (RFC 7239 sections 4 and 6)", () => {
  it.each([
    ["192.0.2.43", "192.0.2.43"],
    ["2001:db8:cafe::17", '"[2001:db8:cafe::17]"'],
    ["fe80::1%eth0", '"[fe80::1%eth0]"'],
    ["", "unknown"],
  ])("for node of %j is %s", (address, node) => {
    expect(forwardedNode(address)).toBe(node);
  });
  it("quotes and escapes a host that is not a token", () => {
    expect(forwardedElement("192.0.2.1", "http", 'we"ird\\host')).toBe('for=192.0.2.1;proto=http;host="we\\"ird\\\\host"');
  });
  it("un-maps only IPv4-mapped addresses", () => {
    expect(clientAddressForHeaders("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(clientAddressForHeaders("::1")).toBe("::1");
    expect(clientAddressForHeaders("::ffff:abcd")).toBe("::ffff:abcd");
  });
});

describe("header lists", () => {
  it("converts from Web Headers (Set-Cookie kept apart) and back", () => {
    const headers = new Headers([["X-A", "1"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
    const list = headerListFromHeaders(headers);
    expect(list).toEqual(["set-cookie", "a=1", "set-cookie", "b=2", "x-a", "1"]);
    expect([...headersFromHeaderList(list)]).toEqual([...headers]);
  });
  it("converts from a Node header record", () => {
    expect(headerListFromRecord({ "set-cookie": ["a=1", "b=2"], "content-length": "3", age: 5, skipped: undefined })).toEqual(["set-cookie", "a=1", "set-cookie", "b=2", "content-length", "3", "age", "5"]);
  });
  it("finds the first value of a field in any case", () => {
    expect(headerListGet(["Host", "a", "host", "b"], "host")).toBe("a");
    expect(headerListGet(["Host", "a"], "via")).toBeUndefined();
  });
});
