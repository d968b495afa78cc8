// vipr's own gateway route list (`--routes`, ServiceRouterOptions.routes): traffic from outside the
// cluster carries public host names, not service names, so a gateway maps (host, path prefix) to a
// service. Each rule is an HTTPRoute under the hood (routeRulesAsGatewayObjects): a PathPrefix
// match, a URLRewrite ReplacePrefixMatch filter for `rewritePrefix`, one backendRef, attached to a
// built-in Gateway that takes routes from every namespace. So the list and Gateway API objects are
// one concept, matched with one precedence (router/gateway-api/compile-gateway-routes.ts): exact
// host before wildcard, longest prefix first, then the list's order.
import { compileGatewayRoutes, type GatewayRouteTable } from "./gateway-api/compile-gateway-routes.ts";
import { GATEWAY_API_GROUP, VIPR_CONTROLLER_NAME, type GatewayApiObjects, type HTTPRoute } from "./gateway-api/gateway-api-objects.ts";
import { matchGatewayRoute } from "./gateway-api/match-gateway-route.ts";
import { rewritePath } from "./gateway-api/http-route-filters.ts";

/** One rule as written in configuration. */
export interface RouteRuleConfig {
  /** Exact host ("shop.example.com"), a wildcard ("*.example.com": one or more labels in front, as
   * Gateway API hostnames), or absent for any host. */
  readonly host?: string;
  /** Path prefix matched on whole segments ("/api" matches "/api" and "/api/x", not "/apix"); default "/". */
  readonly pathPrefix?: string;
  /** "name" (in the router's namespace) or "namespace/name". */
  readonly service: string;
  /** Service port number or name; default: the service's default port. */
  readonly port?: number | string;
  /** Replaces the matched prefix ("/api" -> "/" turns "/api/items" into "/items"). */
  readonly rewritePrefix?: string;
  /** A label selector: requests on this route go only to the endpoints it matches. */
  readonly subset?: string;
}

/** A validated rule. */
export interface RouteRule {
  readonly host: string | undefined;
  readonly pathPrefix: string;
  readonly namespace: string;
  readonly service: string;
  readonly port: number | string | undefined;
  readonly rewritePrefix: string | undefined;
  readonly subset: string | undefined;
  /** The rule's place in the list. */
  readonly index: number;
}

export interface RouteMatch {
  readonly rule: RouteRule;
  /** The path (and query) to send upstream, after any rewrite. */
  readonly path: string;
}

const hostPattern = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelPattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The name of the built-in Gateway (and GatewayClass) the route list's HTTPRoutes attach to. */
export const ROUTE_LIST_GATEWAY = "vipr-route-list";

/** Validates rules; throws one error naming every bad rule by index and field. */
export function compileRouteRules(configs: readonly RouteRuleConfig[], namespace: string): RouteRule[] {
  const problems: string[] = [];
  const rules = configs.map((config, index): RouteRule => {
    const at = `routes[${index}]`;
    const host = config.host?.toLowerCase();
    if (host !== undefined && !hostPattern.test(host)) problems.push(`${at}.host: ${JSON.stringify(config.host)} is not a host name or *.domain`);
    const pathPrefix = config.pathPrefix ?? "/";
    if (!pathPrefix.startsWith("/")) problems.push(`${at}.pathPrefix: ${JSON.stringify(pathPrefix)} must start with "/"`);
    const parts = String(config.service ?? "").split("/");
    const [ns, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [namespace, parts[0]!];
    if (parts.length > 2 || !labelPattern.test(name) || !labelPattern.test(ns)) {
      problems.push(`${at}.service: ${JSON.stringify(config.service)} is not "name" or "namespace/name"`);
    }
    if (config.rewritePrefix !== undefined && !config.rewritePrefix.startsWith("/")) {
      problems.push(`${at}.rewritePrefix: ${JSON.stringify(config.rewritePrefix)} must start with "/"`);
    }
    return { host, pathPrefix, namespace: ns, service: name, port: config.port, rewritePrefix: config.rewritePrefix, subset: config.subset, index };
  });
  if (problems.length > 0) throw new Error(`invalid route rules: ${problems.join("; ")}`);
  return rules;
}

/** The route list as Gateway API objects: a built-in GatewayClass and Gateway (one HTTP listener,
 * routes from all namespaces) and one HTTPRoute per rule, named `vipr-route-list-<index>`, created
 * in list order so that the list's order breaks ties as the oldest route does. */
export function routeRulesAsGatewayObjects(rules: readonly RouteRule[], namespace: string): GatewayApiObjects {
  if (rules.length === 0) return { gatewayClasses: [], gateways: [], httpRoutes: [], referenceGrants: [] };
  const meta = (ns: string, name: string, created: number) => ({ namespace: ns, name, created, generation: 1, labels: {} });
  const httpRoutes = rules.map(
    (rule): HTTPRoute => ({
      meta: meta(namespace, `${ROUTE_LIST_GATEWAY}-${rule.index}`, rule.index),
      parentRefs: [{ group: GATEWAY_API_GROUP, kind: "Gateway", namespace, name: ROUTE_LIST_GATEWAY, sectionName: undefined, port: undefined }],
      hostnames: rule.host === undefined ? [] : [rule.host],
      rules: [
        {
          name: undefined,
          matches: [{ path: { type: "PathPrefix", value: rule.pathPrefix }, headers: [], queryParams: [], method: undefined }],
          filters: rule.rewritePrefix === undefined ? [] : [{ type: "URLRewrite", rewrite: { hostname: undefined, path: { type: "ReplacePrefixMatch", value: rule.rewritePrefix } } }],
          backendRefs: [{ group: "", kind: "Service", namespace: rule.namespace, name: rule.service, port: rule.port, weight: 1, subset: rule.subset }],
          timeouts: { requestMs: undefined, backendRequestMs: undefined },
          retry: undefined,
        },
      ],
    }),
  );
  return {
    gatewayClasses: [{ meta: meta("", ROUTE_LIST_GATEWAY, 0), controllerName: VIPR_CONTROLLER_NAME }],
    gateways: [
      {
        meta: meta(namespace, ROUTE_LIST_GATEWAY, 0),
        gatewayClassName: ROUTE_LIST_GATEWAY,
        listeners: [{ name: "http", port: 80, protocol: "HTTP", hostname: undefined, allowedRoutes: { from: "All", selector: undefined, kinds: [] } }],
      },
    ],
    httpRoutes,
    // The route list names services in any namespace: it is the operator's own configuration, not
    // a tenant's object, so it comes with a grant to every Service in each namespace it names.
    referenceGrants: [...new Set(rules.map((r) => r.namespace))].map((ns) => ({
      meta: meta(ns, ROUTE_LIST_GATEWAY, 0),
      from: [{ group: GATEWAY_API_GROUP, kind: "HTTPRoute", namespace }],
      to: [{ group: "", kind: "Service", name: undefined }],
    })),
  };
}

const tables = new WeakMap<readonly RouteRule[], GatewayRouteTable>();

/** The rule matching the host (without port, lowercase) and path (with query), or undefined; the
 * same lookup the request path makes (a library helper: the router matches its compiled table). */
export function matchRoute(rules: readonly RouteRule[], hostname: string, pathAndQuery: string): RouteMatch | undefined {
  let table = tables.get(rules);
  if (table === undefined) {
    const namespace = rules[0]?.namespace ?? "default";
    tables.set(rules, (table = compileGatewayRoutes(routeRulesAsGatewayObjects(rules, namespace)).table));
  }
  const entry = matchGatewayRoute(table, { hostname, pathAndQuery, method: "GET", header: () => undefined });
  if (entry === undefined) return undefined;
  // Each rule is its own HTTPRoute, named "vipr-route-list-<index>".
  const rule = rules[Number(entry.rule.routeKey.slice(entry.rule.routeKey.lastIndexOf("-") + 1))]!;
  const rewrite = entry.rule.rewrite?.path;
  return { rule, path: rewrite === undefined ? pathAndQuery : rewritePath(pathAndQuery, rewrite, entry.match.path) };
}
