// Where a request is addressed: its authority (host[:port]) and its path with query, read from the
// absolute URL the runtime's server gives the Request. For origin-form requests ("GET /info",
// Host: simpleservice) both Node's and Deno's servers build that URL from the Host header; for
// absolute-form requests ("GET http://simpleservice/info", as an http_proxy client sends them) from
// the request-target, which RFC 9112 section 3.2.2 says wins over Host. Parsed by hand: a URL
// object per request costs more than the rest of name resolution.

export interface RequestTarget {
  /** host[:port] as addressed, lowercase. */
  readonly authority: string;
  /** The host without port, lowercase. */
  readonly hostname: string;
  /** Path and query, "/" at least. */
  readonly pathAndQuery: string;
  /** The URL's scheme, lowercase. vipr's listeners are cleartext only, so "https" can only come
   * from an absolute-form target (`GET https://svc/ HTTP/1.1`). */
  readonly scheme: string;
  /** The target or the Host field carried userinfo ("user@"), which RFC 9110 section 4.2.4
   * forbids in http(s) URIs: "target", "host", or undefined. The name is read without it. */
  readonly userinfo: "target" | "host" | undefined;
}

/**
 * Splits an absolute URL. The URL parser drops a scheme's default port ("svc:80" becomes "svc"),
 * but a service may have port 80 and another default, so when the Host header names the same host
 * with a port, that port is kept.
 */
export function requestTarget(url: string, hostHeader: string | null): RequestTarget {
  const start = url.indexOf("//") + 2;
  const scheme = url.slice(0, Math.max(0, start - 3)).toLowerCase();
  let end = url.indexOf("/", start);
  if (end === -1) end = url.length;
  const query = url.indexOf("?", start);
  if (query !== -1 && query < end) end = query;
  let authority = url.slice(start, end).toLowerCase();
  const at = authority.lastIndexOf("@");
  if (at !== -1) authority = authority.slice(at + 1); // userinfo is never part of the name
  // For an origin-form request the runtime built the URL from Host, so "a@svc" in Host shows up
  // in both; Host is named then, the target only when the userinfo came with it alone.
  const userinfo = hostHeader !== null && hostHeader.indexOf("@") !== -1 ? "host" : at !== -1 ? "target" : undefined;
  const pathAndQuery = end === url.length ? "/" : url.charCodeAt(end) === 63 /* ? */ ? `/${url.slice(end)}` : url.slice(end);
  if (hostHeader !== null && hostHeader.length > authority.length && authority.indexOf(":") === -1) {
    const host = hostHeader.toLowerCase();
    if (host.startsWith(authority) && host.charCodeAt(authority.length) === 58 /* : */) authority = host;
  }
  return { authority, hostname: hostnameOf(authority), pathAndQuery, scheme, userinfo };
}

/** The host of an authority without its port: "svc:8080" -> "svc", "[fd00::1]:80" -> "[fd00::1]".
 * The one place a host is split from its port on the request path (route rules match on it). */
export function hostnameOf(authority: string): string {
  const colon = authority.charCodeAt(0) === 91 /* [ */ ? authority.indexOf("]") + 1 : authority.lastIndexOf(":");
  return colon > 0 && authority.charCodeAt(colon) === 58 /* : */ ? authority.slice(0, colon) : authority;
}
