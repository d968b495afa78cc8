// A GRPCRouteMatch in the route table's own terms, and GRPCRoute precedence (pure). A gRPC call's
// service and method are its HTTP/2 :path, "/" Service-Name "/" Method-Name (grpc
// doc/PROTOCOL-HTTP2.md, "Path"), so a method match becomes a path match that lookup
// (match-gateway-route.ts) reads like any other, and the headers stay header matches.
import type { RouteEntry } from "./compile-gateway-routes.ts";
import type { GRPCMethodMatch, GRPCRouteMatch, HTTPRouteMatch, PathMatch } from "./gateway-api-objects.ts";

/** A table entry of a GRPCRoute rule: the GRPCRoute match kept for precedence. */
export interface GRPCRouteEntry extends RouteEntry {
  readonly grpc: GRPCRouteMatch;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A service name as it appears in a path: a leading dot (the CRD allows ".pkg.Service", the
 * fully-qualified protobuf spelling) is not part of it. */
const servicePart = (service: string): string => (service.startsWith(".") ? service.slice(1) : service);

/**
 * The path match for a method match. Exact service and method: the exact path "/pkg.Service/Method".
 * Anything else: a regular expression over the two path segments, each one the exact name
 * (escaped), the pattern given (RegularExpression: ECMAScript syntax, a full match of the segment,
 * as vipr's other regular expressions are) or any name. The lookahead holds the path to exactly
 * two segments, so a pattern such as ".*" cannot reach across the "/".
 * Example: { type: Exact, method: "Echo" } -> "(?=/[^/]+/[^/]+$)/(?:[^/]+)/(?:Echo)".
 */
export function grpcPathMatch(method: GRPCMethodMatch | undefined): PathMatch {
  if (method === undefined) return { type: "PathPrefix", value: "/" };
  const { type, service, method: name } = method;
  if (type === "Exact" && service !== undefined && name !== undefined) return { type: "Exact", value: `/${servicePart(service)}/${name}` };
  const segment = (value: string | undefined, exact: (v: string) => string): string => (value === undefined ? "[^/]+" : type === "Exact" ? exact(value) : value);
  const s = segment(service, (v) => escapeRegExp(servicePart(v)));
  const m = segment(name, escapeRegExp);
  return { type: "RegularExpression", value: `(?=/[^/]+/[^/]+$)/(?:${s})/(?:${m})` };
}

/** The match lookup reads. No method condition: gRPC is always POST, and only gRPC requests
 * (content-type application/grpc) are looked up among GRPCRoutes at all. */
export function grpcRouteMatch(match: GRPCRouteMatch): HTTPRouteMatch {
  return { path: grpcPathMatch(match.method), headers: match.headers, queryParams: [], method: undefined };
}

/** The match of a rule without matches: every gRPC request (GRPCRouteRule.Matches). */
export const MATCH_EVERY_CALL: GRPCRouteMatch = { method: undefined, headers: [] };

/** How specific one name of a method match is: an exact name by its characters, ranked above any
 * pattern (a RegularExpression is implementation-specific; vipr counts it below every exact name,
 * longer patterns first), ranked above no name at all. */
function nameRank(method: GRPCMethodMatch | undefined, name: "service" | "method"): [number, number] {
  const value = method?.[name];
  if (value === undefined) return [0, 0];
  return [method!.type === "Exact" ? 2 : 1, value.length];
}

/**
 * GRPCRoute precedence among entries of one host bucket (the buckets themselves go from the
 * longest non-wildcard host down: compile-gateway-routes.ts buildTable). GRPCRouteRule.Matches:
 * "Precedence MUST be given to the rule with the largest number of: characters in a matching
 * non-wildcard hostname; characters in a matching hostname; characters in a matching service;
 * characters in a matching method; header matches", then "the oldest Route", then
 * "{namespace}/{name}" alphabetically, then the first matching rule (and match) of the route.
 */
export function compareGRPCPrecedence(a: GRPCRouteEntry, b: GRPCRouteEntry): number {
  const [as, asLen] = nameRank(a.grpc.method, "service");
  const [bs, bsLen] = nameRank(b.grpc.method, "service");
  const [am, amLen] = nameRank(a.grpc.method, "method");
  const [bm, bmLen] = nameRank(b.grpc.method, "method");
  return (
    bs - as ||
    bsLen - asLen ||
    bm - am ||
    bmLen - amLen ||
    b.grpc.headers.length - a.grpc.headers.length ||
    a.created - b.created ||
    (a.rule.routeKey < b.rule.routeKey ? -1 : a.rule.routeKey > b.rule.routeKey ? 1 : 0) ||
    a.rule.ruleIndex - b.rule.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}
