// Lookup in a compiled Gateway API route table (compile-gateway-routes.ts): the first entry, in
// precedence order, whose host, path, method, headers and query parameters all match a request
// (HTTPRouteMatch: "a request matches if all conditions are satisfied"). Host buckets are tried
// most specific first: the exact name, then wildcards from the longest, then routes for any host.
import type { GatewayRouteTable, RouteEntry } from "./compile-gateway-routes.ts";
import { hostnameMatches } from "./gateway-hostnames.ts";
import type { HTTPRouteMatch, PathMatch, ValueMatch } from "./gateway-api-objects.ts";

/** What matching reads of a request. */
export interface GatewayRequest {
  /** Lowercase, without port. */
  readonly hostname: string;
  /** Path and query, as received. */
  readonly pathAndQuery: string;
  readonly method: string;
  /** A header's value by lowercase name (the first field of that name), or undefined. */
  readonly header: (name: string) => string | undefined;
  /** "https" when the request arrived over TLS: only then do routes of HTTPS listeners match. */
  readonly scheme?: string;
}

// RegularExpression matches are implementation-specific (HTTPPathMatch, HTTPHeaderMatch): vipr
// uses ECMAScript syntax, anchored at both ends (a full match, as RE2-based implementations do).
const compiled = new WeakMap<object, RegExp>();
function regexpOf(match: PathMatch | ValueMatch): RegExp {
  let re = compiled.get(match);
  if (re === undefined) compiled.set(match, (re = new RegExp(`^(?:${match.value})$`)));
  return re;
}

function pathMatches(match: PathMatch, path: string): boolean {
  if (match.type === "Exact") return path === match.value;
  if (match.type === "RegularExpression") return regexpOf(match).test(path);
  // PathPrefix: element-wise ("/foo" matches "/foo" and "/foo/bar", not "/foobar"); a trailing
  // slash in the value is ignored (HTTPPathMatch: "/abc/" matches "/abc" too).
  const prefix = match.value.length > 1 && match.value.endsWith("/") ? match.value.slice(0, -1) : match.value;
  if (prefix === "/") return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47); /* / */
}

function valueMatches(match: ValueMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  return match.type === "Exact" ? value === match.value : regexpOf(match).test(value);
}

/** The first value of each query parameter (HTTPQueryParamMatch: "only the first value MUST be
 * considered" when a name repeats), decoded as application/x-www-form-urlencoded. */
function queryOf(query: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(query)) if (!out.has(name)) out.set(name, value);
  return out;
}

function requestMatches(match: HTTPRouteMatch, request: GatewayRequest, path: string, query: () => Map<string, string>): boolean {
  if (match.method !== undefined && match.method !== request.method) return false;
  if (!pathMatches(match.path, path)) return false;
  for (const h of match.headers) if (!valueMatches(h, request.header(h.name))) return false;
  if (match.queryParams.length > 0) {
    const params = query();
    for (const q of match.queryParams) if (!valueMatches(q, params.get(q.name))) return false;
  }
  return true;
}

/** The entry a request hits, or undefined when no route matches it. */
export function matchGatewayRoute(table: GatewayRouteTable, request: GatewayRequest): RouteEntry | undefined {
  if (table.size === 0) return undefined;
  const q = request.pathAndQuery.indexOf("?");
  const path = q === -1 ? request.pathAndQuery : request.pathAndQuery.slice(0, q);
  let params: Map<string, string> | undefined;
  // A route attached to an HTTPS listener is never served in cleartext (its listener exists only
  // over TLS); routes of HTTP listeners answer on either, as they did behind --tls-cert.
  const secure = request.scheme === "https";
  const query = (): Map<string, string> => (params ??= queryOf(q === -1 ? "" : request.pathAndQuery.slice(q + 1)));
  const first = (entries: readonly RouteEntry[] | undefined): RouteEntry | undefined => entries?.find((e) => (e.secure !== true || secure) && requestMatches(e.match, request, path, query));
  const exact = first(table.exact.get(request.hostname));
  if (exact !== undefined) return exact;
  for (const { pattern, entries } of table.wildcards) {
    if (!hostnameMatches(pattern, request.hostname)) continue;
    const hit = first(entries);
    if (hit !== undefined) return hit;
  }
  return first(table.anyHost);
}
