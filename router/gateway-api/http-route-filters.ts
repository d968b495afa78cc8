// The HTTPRoute filters that change a request or answer it (gateway-api apis/v1/httproute_types.go
// HTTPRouteFilter): header modifiers on a flat header list, the path rewrite shared by URLRewrite
// and RequestRedirect, and a redirect's Location. Pure functions of their inputs.
import type { HeaderModifier, PathMatch, PathModifier, RequestRedirect } from "./gateway-api-objects.ts";

/**
 * Applies a modifier to a flat header list (name, value, ...; names lowercase) in place: set
 * replaces every field of the name, add appends one, remove drops every field of the name
 * (HTTPHeaderFilter). Returns the list.
 */
export function modifyHeaderList(list: string[], modifier: HeaderModifier): string[] {
  const drop = new Set([...modifier.remove, ...modifier.set.map((h) => h.name)]);
  if (drop.size > 0) {
    let w = 0;
    for (let r = 0; r < list.length; r += 2) {
      if (drop.has(list[r]!.toLowerCase())) continue;
      list[w++] = list[r]!;
      list[w++] = list[r + 1]!;
    }
    list.length = w;
  }
  for (const h of modifier.set) list.push(h.name, h.value);
  for (const h of modifier.add) list.push(h.name, h.value);
  return list;
}

/**
 * The path after a path modifier (HTTPPathModifier). ReplaceFullPath replaces the path;
 * ReplacePrefixMatch replaces the matched prefix element-wise ("/foo" -> "/xyz" turns "/foo/bar"
 * into "/xyz/bar", "/foo" -> "/" turns "/foo/bar" into "/bar"), and needs a PathPrefix match (the
 * CRD's CEL rule); with another match it leaves the path as it is. The query is kept.
 */
export function rewritePath(pathAndQuery: string, modifier: PathModifier, match: PathMatch): string {
  const q = pathAndQuery.indexOf("?");
  const path = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
  const query = q === -1 ? "" : pathAndQuery.slice(q);
  if (modifier.type === "ReplaceFullPath") return modifier.value + query;
  if (match.type !== "PathPrefix") return pathAndQuery;
  const prefix = match.value.length > 1 && match.value.endsWith("/") ? match.value.slice(0, -1) : match.value;
  const rest = prefix === "/" ? path : path.slice(prefix.length); // "" or "/..."
  const base = modifier.value.length > 1 && modifier.value.endsWith("/") ? modifier.value.slice(0, -1) : modifier.value;
  if (base === "/") return (rest === "" ? "/" : rest) + query;
  return base + rest + query;
}

/** The well-known port of a scheme (HTTPRequestRedirectFilter.Port). */
function wellKnownPort(scheme: string): number {
  return scheme === "https" ? 443 : 80;
}

/**
 * The Location of a redirect (HTTPRequestRedirectFilter): each part from the filter or else the
 * request. The port: the filter's; else the scheme's well-known port when the filter sets a scheme;
 * else the listener's. It is left out when it is the scheme's well-known one (80 for http, 443 for
 * https), as the spec says implementations SHOULD.
 */
export function redirectLocation(redirect: RequestRedirect, request: { scheme: string; hostname: string; pathAndQuery: string; listenerPort: number }, match: PathMatch): string {
  const scheme = redirect.scheme ?? request.scheme;
  const hostname = redirect.hostname ?? request.hostname;
  const port = redirect.port ?? (redirect.scheme !== undefined ? wellKnownPort(redirect.scheme) : request.listenerPort);
  const path = redirect.path === undefined ? request.pathAndQuery : rewritePath(request.pathAndQuery, redirect.path, match);
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return `${scheme}://${host}${port === wellKnownPort(scheme) ? "" : `:${port}`}${path}`;
}
