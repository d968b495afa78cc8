// HTTPRoute against GRPCRoute on one listener (pure). GRPCRouteSpec.Hostnames (gateway-api
// apis/v1/grpcroute_types.go): "If a Route (A) of type HTTPRoute or GRPCRoute is attached to a
// Listener and that listener already has another Route (B) of the other type attached and the
// intersection of the hostnames of A and B is non-empty, then the implementation MUST accept
// exactly one of these two routes, determined by the following criteria, in order: The oldest
// Route based on creation timestamp. The Route appearing first in alphabetical order by
// '{namespace}/{name}'. The rejected Route MUST raise an 'Accepted' condition with a status of
// 'False' in the corresponding RouteParentStatus."
//
// So routes of both kinds are taken oldest first, and a route's parentRef is rejected when one of
// the listeners it would attach to already has a route of the other kind, accepted there, whose
// host names intersect its own there (after intersection with the listener's hostname). The whole
// parentRef is rejected (its one RouteParentStatus says so), not only the conflicting listener.
// The specification names no reason; vipr says HostnameConflict, as Traefik
// (traefik/traefik#13421) and Istio (istio/istio#59204) do for this rule.
import { listenerStates, namespaceAllowed, routeKindAllowed, type CompileOptions, type ListenerState } from "./compile-gateway-routes.ts";
import { GATEWAY_API_GROUP, VIPR_CONTROLLER_NAME, type Gateway, type GatewayApiObjects, type ParentRef } from "./gateway-api-objects.ts";
import { hostnamesIntersect, intersectHostnames } from "./gateway-hostnames.ts";

export type RouteKind = "HTTPRoute" | "GRPCRoute";

export const ROUTE_KIND_CONFLICT_REASON = "HostnameConflict";

/** The key of one route's parentRef in routeKindConflicts' answer. */
export function routeParentKey(kind: RouteKind, namespace: string, name: string, parentRef: ParentRef): string {
  return `${kind} ${namespace}/${name} ${parentRef.namespace}/${parentRef.name}/${parentRef.sectionName ?? ""}/${parentRef.port ?? ""}`;
}

interface Claim {
  readonly kind: RouteKind;
  readonly route: string;
  readonly host: string | undefined;
}

/** The parentRefs rejected by the rule (routeParentKey -> the message naming the route kept);
 * empty when there are no GRPCRoutes. */
export function routeKindConflicts(objects: GatewayApiObjects, options: CompileOptions = {}): ReadonlyMap<string, string> {
  const rejected = new Map<string, string>();
  if ((objects.grpcRoutes ?? []).length === 0 || objects.httpRoutes.length === 0) return rejected;
  const controllerName = options.controllerName ?? VIPR_CONTROLLER_NAME;
  const classNames = new Set(objects.gatewayClasses.filter((c) => c.controllerName === controllerName).map((c) => c.meta.name));
  const gateways = new Map<string, Gateway>();
  for (const gateway of objects.gateways) if (classNames.has(gateway.gatewayClassName)) gateways.set(`${gateway.meta.namespace}/${gateway.meta.name}`, gateway);
  const states = new Map<Gateway, Map<string, ListenerState>>();
  const statesOf = (gateway: Gateway): Map<string, ListenerState> => {
    let s = states.get(gateway);
    if (s === undefined) states.set(gateway, (s = listenerStates(gateway, objects, options)));
    return s;
  };
  const routes = [...objects.httpRoutes.map((r) => ({ kind: "HTTPRoute" as const, r })), ...(objects.grpcRoutes ?? []).map((r) => ({ kind: "GRPCRoute" as const, r }))].sort(
    (a, b) => a.r.meta.created - b.r.meta.created || `${a.r.meta.namespace}/${a.r.meta.name}`.localeCompare(`${b.r.meta.namespace}/${b.r.meta.name}`),
  );
  const claims = new Map<string, Claim[]>(); // "gateway namespace/name/listener" -> accepted hosts there
  for (const { kind, r } of routes) {
    const routeName = `${r.meta.namespace}/${r.meta.name}`;
    for (const parentRef of r.parentRefs) {
      if (parentRef.group !== GATEWAY_API_GROUP || parentRef.kind !== "Gateway") continue;
      const gateway = gateways.get(`${parentRef.namespace}/${parentRef.name}`);
      if (gateway === undefined) continue;
      const usable = statesOf(gateway);
      // The listeners the route's compile would attach it to (compile-gateway-routes.ts).
      const attach = gateway.listeners
        .filter((l) => (parentRef.sectionName === undefined || l.name === parentRef.sectionName) && (parentRef.port === undefined || l.port === parentRef.port))
        .filter((l) => usable.get(l.name)?.usable === true && routeKindAllowed(l, GATEWAY_API_GROUP, kind) && namespaceAllowed(l, gateway, r.meta.namespace, objects))
        .map((l) => ({ key: `${gateway.meta.namespace}/${gateway.meta.name}/${l.name}`, name: l.name, hosts: intersectHostnames(l.hostname, r.hostnames) }))
        .filter((x) => x.hosts.length > 0);
      let winner: { claim: Claim; listener: string } | undefined;
      for (const { key, name, hosts } of attach) {
        const claim = (claims.get(key) ?? []).find((c) => c.kind !== kind && hosts.some((h) => hostnamesIntersect(h, c.host)));
        if (claim !== undefined) {
          winner = { claim, listener: name };
          break;
        }
      }
      if (winner !== undefined) {
        const { claim, listener } = winner;
        rejected.set(routeParentKey(kind, r.meta.namespace, r.meta.name, parentRef), `listener ${listener} of Gateway ${parentRef.namespace}/${parentRef.name} already has ${claim.kind} ${claim.route} for host ${claim.host ?? "(any)"}, which is older or first by namespace/name: of an HTTPRoute and a GRPCRoute with intersecting host names on one listener only one is accepted (GRPCRouteSpec.Hostnames)`);
        continue;
      }
      for (const { key, hosts } of attach) {
        const list = claims.get(key) ?? [];
        for (const host of hosts) list.push({ kind, route: routeName, host });
        claims.set(key, list);
      }
    }
  }
  return rejected;
}
