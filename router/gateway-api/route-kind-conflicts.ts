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
// (ROUTE_KIND_CONFLICT_REASON, route-attachment.ts).
import { listenerStates, type CompileOptions, type ListenerState } from "./compile-gateway-routes.ts";
import { GATEWAY_API_GROUP, VIPR_CONTROLLER_NAME, type Gateway, type GatewayApiObjects } from "./gateway-api-objects.ts";
import { hostnamesIntersect } from "./gateway-hostnames.ts";
import { oldestFirst, parentListeners, routeParentKey, viprGateways, type RouteKind } from "./route-attachment.ts";

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
  const gateways = viprGateways(objects, controllerName);
  const states = new Map<Gateway, Map<string, ListenerState>>();
  const statesOf = (gateway: Gateway): Map<string, ListenerState> => {
    let s = states.get(gateway);
    if (s === undefined) states.set(gateway, (s = listenerStates(gateway, objects, options)));
    return s;
  };
  const routes = [...objects.httpRoutes.map((r) => ({ kind: "HTTPRoute" as const, r })), ...(objects.grpcRoutes ?? []).map((r) => ({ kind: "GRPCRoute" as const, r }))].sort((a, b) => oldestFirst(a.r, b.r));
  const claims = new Map<string, Claim[]>(); // "gateway namespace/name/listener" -> accepted hosts there
  for (const { kind, r } of routes) {
    const routeName = `${r.meta.namespace}/${r.meta.name}`;
    for (const parentRef of r.parentRefs) {
      if (parentRef.group !== GATEWAY_API_GROUP || parentRef.kind !== "Gateway") continue;
      const gateway = gateways.get(`${parentRef.namespace}/${parentRef.name}`);
      if (gateway === undefined) continue;
      const usable = statesOf(gateway);
      // The listeners the route's compile would attach it to (compile-gateway-routes.ts).
      const attach = parentListeners(kind, r, parentRef, gateway, (l) => usable.get(l.name)?.usable === true, objects).withHosts.map(({ listener, hosts }) => ({
        key: `${gateway.meta.namespace}/${gateway.meta.name}/${listener.name}`,
        name: listener.name,
        hosts,
      }));
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
