// Host names in the Gateway API: a listener's hostname and a route's hostnames, each an exact name
// or a wildcard "*.example.com", which matches one or more labels in front of "example.com" (not
// "example.com" itself): gateway-api apis/v1/shared_types.go Hostname, and
// apis/v1/httproute_types.go HTTPRouteSpec.Hostnames. All names here are lowercase.

/** Whether `host` (a request's, lowercase, no port) is matched by the pattern `pattern`. */
export function hostnameMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith("*.")) return pattern === host;
  const suffix = pattern.slice(1); // ".example.com"
  return host.length > suffix.length && host.endsWith(suffix);
}

/**
 * The host names a route serves through a listener: the intersection of the listener's hostname
 * and the route's hostnames (HTTPRouteSpec.Hostnames: "If both the Listener and HTTPRoute have
 * specified hostnames, any HTTPRoute hostnames that do not match the Listener hostname MUST be
 * ignored"; a wildcard route name under an exact listener name serves the listener's name; of two
 * wildcards the narrower). Undefined in the result means "any host"; an empty list means the
 * route does not attach there (reason NoMatchingListenerHostname).
 */
export function intersectHostnames(listener: string | undefined, route: readonly string[]): (string | undefined)[] {
  if (route.length === 0) return [listener];
  if (listener === undefined) return [...route];
  const out = new Set<string>();
  for (const name of route) {
    if (hostnameMatches(listener, name) || name === listener) out.add(name);
    else if (hostnameMatches(name, listener)) out.add(listener);
  }
  return [...out];
}

/**
 * How specific a route host name is, larger first in precedence (HTTPRouteSpec.Hostnames: "precedence
 * must be given to rules from the HTTPRoute with the largest number of: characters in a matching
 * non-wildcard hostname; characters in a matching hostname"). Any host (undefined) is least.
 */
export function hostnameSpecificity(name: string | undefined): number {
  if (name === undefined) return 0;
  return name.startsWith("*.") ? name.length : 1_000 + name.length;
}

/** Whether two host names a route serves (intersectHostnames' results) share a host: equal, one
 * a wildcard matching the other (two wildcards when one's suffix ends the other), or either any
 * host. */
export function hostnamesIntersect(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === b || hostnameMatches(a, b) || hostnameMatches(b, a);
}
