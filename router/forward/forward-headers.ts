// The header fields a request carries to the backend, and a response back to the client.
//
// Both directions drop the hop-by-hop fields (RFC 9110 section 7.6.1: Connection, and the fields
// that only describe one connection: Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade,
// Trailer, and Proxy-Authenticate / Proxy-Authorization, which speak to the proxy, not the origin)
// and every field named in Connection; framing (Content-Length or chunked) is redone by the
// transport for each hop. Both directions append vipr to Via (RFC 9110 section 7.6.3).
//
// Requests also get, about the client:
// - Host: kept as the client sent it. A backend behind a Service sees the name it was addressed
//   by (`simpleservice`, `web.shop:8080`), as it does through kube-proxy, which never touches L7;
//   virtual hosting in the pod keeps working. Envoy does the same unless host rewriting is on.
//   Only the first Host line goes on, the one the runtimes report and the router routed on (a
//   second one makes the request invalid, RFC 9112 section 3.2). An absolute-form target
//   (`GET http://simpleservice/info`, a client using vipr as http_proxy) replaces the Host field
//   with its authority (RFC 9112 section 3.2.2): pass it as DownstreamFacts.authority.
// - X-Forwarded-For: the client address appended; X-Forwarded-Proto and X-Forwarded-Host set.
// - Forwarded: one element appended (RFC 7239 section 4: for=, proto=, host=).
// - Whether fields of that family that came with the request are believed: when the direct peer
//   is a trusted proxy (trustedProxies, CIDR ranges; trustForwarded: every peer). Untrusted (vipr
//   is the first hop that the backend should believe: a gateway at the edge, or a sidecar),
//   incoming Forwarded, X-Forwarded-For/-Proto/-Host/-Port are dropped and written afresh, so a
//   client cannot make a backend log or authorize a forged address (RFC 7239 section 8.1).
//   Trusted (vipr sits behind a load balancer that writes them), For and Forwarded are appended to
//   (the peer's address, as each proxy appends the address it received the request from) and
//   Proto and Host kept when present.
// - clientAddress(): who the request is from, for client-ip hashing, session affinity and the
//   access log: the peer, or behind trusted proxies the right-most untrusted address of the chain.
// - Expect is dropped: both runtimes' servers answer `100 Continue` themselves when the body is
//   read, and a second interim response from the backend could not be relayed (RFC 9110 section
//   10.1.1 asks a proxy only to forward the request, which it does).
// - traceparent and tracestate (W3C Trace Context) pass as any end-to-end field does.
//
// This runs on every request: one pass over the list, one lookup per field in a prototype-free
// table, no regular expressions, no Headers objects. Only with trusted proxies is more done: the
// peer's address is parsed, and for a trusted peer the chain is split and read from the right.

import type { HeaderList } from "./header-list.ts";
import { CidrSet, parseIp } from "./cidr-set.ts";
import { clientAddressForHeaders, forwardedElement, forwardedForValues, isToken, nodeAddress } from "./forwarded-element.ts";

export interface HeaderForwarderOptions {
  /** Believe Forwarded and X-Forwarded-* fields that come with a request, from any peer. Default false. */
  readonly trustForwarded?: boolean;
  /** The proxies in front of vipr (a cloud load balancer), as CIDR ranges or addresses
   * (`10.0.0.0/8`, `2001:db8::/32`): a request whose direct peer is in one has its forwarded
   * fields appended to, not replaced, and is attributed to the right-most untrusted address of its
   * X-Forwarded-For (clientAddress). Default none. A range that does not parse throws. */
  readonly trustedProxies?: readonly string[];
  /** The name vipr gives itself in Via (a token, RFC 9110 section 7.6.3). Default "vipr". */
  readonly viaPseudonym?: string;
}

/** What the router knows about the downstream side of one request. */
export interface DownstreamFacts {
  /** The peer address of the client connection; "" when not known. */
  readonly clientAddress: string;
  /** The scheme the client used to reach vipr: "http" or "https". */
  readonly proto: string;
  /** The authority of an absolute-form request target or of HTTP/2's `:authority`: it replaces
   * any Host field (RFC 9112 section 3.2.2). Leave it out for an origin-form request. */
  readonly authority?: string;
  /** The HTTP version the request came with, as Via writes it ("1.0", "1.1", "2"). Default "1.1". */
  readonly httpVersion?: string;
}

export interface HeaderForwarder {
  /** The fields to send upstream, from the fields the request came with (any name case). */
  request(incoming: readonly string[], downstream: DownstreamFacts): HeaderList;
  /** The fields to send downstream, from the fields of the upstream response. */
  response(upstream: readonly string[]): HeaderList;
  /** The address the request is from: `peer` (the connection's), or when the peer is trusted the
   * right-most untrusted address of the chain the proxies wrote (see chainClient). IPv4-mapped
   * addresses come back as IPv4. */
  clientAddress(peer: string, incoming: readonly string[]): string;
}

// What a field is to the forwarder. 0 (absent) is an end-to-end field, copied as is.
const HOP = 1;
const HOST = 2;
const XFF = 3;
const FORWARDED = 4;
const XF_PROTO = 5;
const XF_HOST = 6;
const XF_PORT = 7;
const VIA = 8;
const EXPECT = 9;

const roles: Readonly<Record<string, number>> = Object.assign(Object.create(null) as Record<string, number>, {
  connection: HOP,
  "keep-alive": HOP,
  "proxy-connection": HOP,
  "proxy-authenticate": HOP,
  "proxy-authorization": HOP,
  te: HOP,
  trailer: HOP,
  "transfer-encoding": HOP,
  upgrade: HOP,
  host: HOST,
  "x-forwarded-for": XFF,
  forwarded: FORWARDED,
  "x-forwarded-proto": XF_PROTO,
  "x-forwarded-host": XF_HOST,
  "x-forwarded-port": XF_PORT,
  via: VIA,
  expect: EXPECT,
});

/** The field names listed in Connection (RFC 9110 section 7.6.1: `Connection: close, X-Foo`),
 * lowercase, without the ones that are dropped anyway. Undefined when there is nothing extra to
 * drop, which is the common case (`Connection: keep-alive`). Host is never dropped this way: the
 * backend needs it, and a client naming it is not asking for anything a proxy should honour. */
function namedInConnection(list: readonly string[]): string[] | undefined {
  let named: string[] | undefined;
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i]!;
    if (name.length !== 10 || name.toLowerCase() !== "connection") continue;
    const value = list[i + 1]!;
    // Nearly every Connection field is one of these two: no split needed.
    if (value === "keep-alive" || value === "close" || value === "Keep-Alive") continue;
    const tokens = value.split(",");
    for (let t = 0; t < tokens.length; t++) {
      const token = tokens[t]!.trim().toLowerCase();
      if (token === "" || token === "close" || token === "host" || roles[token] === HOP) continue;
      (named ??= []).push(token);
    }
  }
  return named;
}

/** Adds `value` to the field at `index` (a value slot), or appends the field. Repeated lines of a
 * list-valued field mean the same as one line joined by ", " (RFC 9110 section 5.3); one line is
 * kinder to backends that read only the first. */
function appendValue(out: HeaderList, index: number, name: string, value: string): void {
  if (index >= 0) out[index] = `${out[index]}, ${value}`;
  else out.push(name, value);
}

/** The hops the proxies recorded, first hop first: X-Forwarded-For (every line, in order), or when
 * the request has none, the `for=` nodes of Forwarded (RFC 7239 section 5.2). Cloud load balancers
 * (AWS ALB, Google Cloud, Azure) write X-Forwarded-For, so it wins when both are present. */
function forwardedChain(incoming: readonly string[]): string[] {
  let xff: string | undefined;
  let forwarded: string | undefined;
  for (let i = 0; i + 1 < incoming.length; i += 2) {
    const role = roles[incoming[i]!.toLowerCase()];
    if (role === XFF) xff = xff === undefined ? incoming[i + 1]! : `${xff},${incoming[i + 1]!}`;
    else if (role === FORWARDED) forwarded = forwarded === undefined ? incoming[i + 1]! : `${forwarded},${incoming[i + 1]!}`;
  }
  if (xff !== undefined) return xff.split(",");
  return forwarded === undefined ? [] : forwardedForValues(forwarded);
}

/**
 * Who a request from a trusted `peer` is from: the chain is read from the right (the hop nearest
 * to vipr) and each address in `trusted` is skipped; the first one that is not is the client. If
 * every address is trusted, the left-most one is (the request came from inside). A value that is
 * not an IP address (`unknown`, garbage a client put there) ends the walk at the last address read,
 * since nothing left of it can be vouched for.
 *
 * This is nginx's real_ip module with `real_ip_recursive on` ("the original client address is
 * replaced by the last non-trusted address sent in the request header field";
 * https://nginx.org/en/docs/http/ngx_http_realip_module.html), and Envoy's XFF original IP
 * detection with `xff_trusted_cidrs` (Envoy docs, HTTP header manipulation, x-forwarded-for: "If
 * the remote address is contained by an entry in xff_trusted_cidrs, and the last (rightmost) entry
 * is also contained by an entry in xff_trusted_cidrs, the trusted client address is second-last IP
 * address in XFF. If all entries in XFF are contained by an entry in xff_trusted_cidrs, the
 * trusted client address is the first (leftmost) IP address in XFF."). Envoy's other knob,
 * `xff_num_trusted_hops`, counts hops instead; ranges were chosen because a cloud load balancer's
 * addresses are known and its hop count can change (a CDN put in front of it).
 *
 * @example Peer 10.0.0.5 (the load balancer), trusted 10.0.0.0/8:
 * X-Forwarded-For: 198.51.100.9, 203.0.113.7, 10.0.0.9  ->  "203.0.113.7"
 * (10.0.0.9 is trusted and skipped; 198.51.100.9 was written by the client and is not believed)
 */
export function chainClient(peer: string, chain: readonly string[], trusted: CidrSet): string {
  let client = clientAddressForHeaders(peer);
  for (let i = chain.length - 1; i >= 0; i--) {
    const ip = parseIp(nodeAddress(chain[i]!));
    if (ip === undefined) break;
    client = ip.text;
    if (!trusted.hasIp(ip)) break;
  }
  return client;
}

/**
 * Builds the forwarder once (options checked and precomputed); its three functions are pure.
 *
 * @example
 * const forwarder = createHeaderForwarder({ viaPseudonym: "vipr" });
 * forwarder.request(["Host", "web", "Connection", "close"], { clientAddress: "10.1.2.3", proto: "http" });
 * // ["host", "web", "x-forwarded-for", "10.1.2.3", "x-forwarded-proto", "http",
 * //  "x-forwarded-host", "web", "forwarded", "for=10.1.2.3;proto=http;host=web", "via", "1.1 vipr"]
 */
export function createHeaderForwarder(options: HeaderForwarderOptions = {}): HeaderForwarder {
  const trustAll = options.trustForwarded ?? false;
  const trusted = new CidrSet(options.trustedProxies ?? []);
  const checkPeers = trusted.size > 0;
  /** Whether the fields that came from this peer are believed. */
  const trusts = (peer: string): boolean => trustAll || (checkPeers && trusted.has(peer));
  const pseudonym = options.viaPseudonym ?? "vipr";
  if (!isToken(pseudonym)) {
    throw new Error(`viaPseudonym must be an HTTP token (RFC 9110 section 5.6.2), got ${JSON.stringify(pseudonym)}`);
  }
  const via11 = `1.1 ${pseudonym}`;

  const request = (incoming: readonly string[], downstream: DownstreamFacts): HeaderList => {
    const named = namedInConnection(incoming);
    const out: HeaderList = [];
    const trust = trusts(downstream.clientAddress);
    const authority = downstream.authority;
    let host = authority === undefined || authority === "" ? undefined : authority;
    if (host !== undefined) out.push("host", host);
    let xffAt = -1;
    let forwardedAt = -1;
    let viaAt = -1;
    let hasProto = false;
    let hasXfHost = false;
    for (let i = 0; i + 1 < incoming.length; i += 2) {
      const name = incoming[i]!.toLowerCase();
      const value = incoming[i + 1]!;
      if (named !== undefined && named.includes(name)) continue;
      const role = roles[name];
      if (role === undefined) {
        out.push(name, value);
        continue;
      }
      switch (role) {
        case HOST:
          if (host === undefined) {
            host = value;
            out.push(name, value);
          }
          break;
        case XFF:
          if (!trust) break;
          if (xffAt >= 0) appendValue(out, xffAt, name, value);
          else xffAt = out.push(name, value) - 1;
          break;
        case FORWARDED:
          if (!trust) break;
          if (forwardedAt >= 0) appendValue(out, forwardedAt, name, value);
          else forwardedAt = out.push(name, value) - 1;
          break;
        case XF_PROTO:
        case XF_HOST:
        case XF_PORT:
          if (!trust) break;
          if (role === XF_PROTO) hasProto = true;
          else if (role === XF_HOST) hasXfHost = true;
          out.push(name, value);
          break;
        case VIA:
          if (viaAt >= 0) appendValue(out, viaAt, name, value);
          else viaAt = out.push(name, value) - 1;
          break;
        default:
          // HOP and EXPECT: not forwarded.
          break;
      }
    }
    const address = clientAddressForHeaders(downstream.clientAddress);
    if (address !== "") appendValue(out, xffAt, "x-forwarded-for", address);
    if (!hasProto) out.push("x-forwarded-proto", downstream.proto);
    if (!hasXfHost && host !== undefined) out.push("x-forwarded-host", host);
    appendValue(out, forwardedAt, "forwarded", forwardedElement(address, downstream.proto, host));
    const version = downstream.httpVersion;
    appendValue(out, viaAt, "via", version === undefined || version === "1.1" ? via11 : `${version} ${pseudonym}`);
    return out;
  };

  const response = (upstream: readonly string[]): HeaderList => {
    const named = namedInConnection(upstream);
    const out: HeaderList = [];
    let viaAt = -1;
    for (let i = 0; i + 1 < upstream.length; i += 2) {
      const name = upstream[i]!.toLowerCase();
      if (named !== undefined && named.includes(name)) continue;
      const role = roles[name];
      if (role === HOP) continue;
      if (role === VIA) {
        if (viaAt >= 0) appendValue(out, viaAt, name, upstream[i + 1]!);
        else viaAt = out.push(name, upstream[i + 1]!) - 1;
        continue;
      }
      out.push(name, upstream[i + 1]!);
    }
    // Both transports speak HTTP/1.1 to the backend.
    appendValue(out, viaAt, "via", via11);
    return out;
  };

  const clientAddress = (peer: string, incoming: readonly string[]): string =>
    trusts(peer) ? chainClient(peer, forwardedChain(incoming), trusted) : clientAddressForHeaders(peer);

  return { request, response, clientAddress };
}
