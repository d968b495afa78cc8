// Which listeners of vipr's Gateways a route attaches to, and the Accepted condition of each of its
// parentRefs (pure), for every route kind vipr programs: the HTTPRoute compile
// (compile-gateway-routes.ts), the GRPCRoute compile (compile-grpc-routes.ts) and the rule between
// the two kinds (route-kind-conflicts.ts) all read attachment here, so the kinds cannot drift apart.
// The rules (gateway-api apis/v1/shared_types.go ParentReference, gateway_types.go AllowedRoutes):
// a parentRef's sectionName and port pick the candidate listeners; of those, a listener vipr serves
// whose allowedRoutes take the route's kind and namespace allows it; the route then attaches where
// its hostnames intersect the listener's (gateway-hostnames.ts).
import { condition, type Condition, type RouteParentStatusReport } from "./gateway-conditions.ts";
import { GATEWAY_API_GROUP, VIPR_CONTROLLER_NAME, type Gateway, type GatewayApiObjects, type Listener, type ObjectMeta, type ParentRef } from "./gateway-api-objects.ts";
import { intersectHostnames } from "./gateway-hostnames.ts";
import { labelSelectorMatches } from "./label-selector-match.ts";

export type RouteKind = "HTTPRoute" | "GRPCRoute";

/** The route kinds vipr programs. An HTTP or HTTPS listener without allowedRoutes.kinds takes both
 * (AllowedRoutes.Kinds: "kinds are selected based on the protocol"; GRPCRoute is served on HTTP
 * and HTTPS listeners, as the GRPCRoute conformance tests' Gateways, which name no kinds, expect). */
export const ROUTE_KINDS: readonly string[] = ["HTTPRoute", "GRPCRoute"];

/** The reason of a parentRef rejected by the HTTPRoute/GRPCRoute rule (route-kind-conflicts.ts). */
export const ROUTE_KIND_CONFLICT_REASON = "HostnameConflict";

/** What attachment reads of a route, whatever its kind. */
export interface AttachableRoute {
  readonly meta: ObjectMeta;
  readonly parentRefs: readonly ParentRef[];
  readonly hostnames: readonly string[];
}

export function routeKindAllowed(listener: Listener, group: string, kind: string): boolean {
  const kinds = listener.allowedRoutes.kinds;
  if (kinds.length === 0) return ROUTE_KINDS.includes(kind) && group === GATEWAY_API_GROUP;
  return kinds.some((k) => k.kind === kind && k.group === group);
}

export function namespaceAllowed(listener: Listener, gateway: Gateway, routeNamespace: string, objects: GatewayApiObjects): boolean {
  const { from, selector } = listener.allowedRoutes;
  if (from === "All") return true;
  if (from === "Same") return routeNamespace === gateway.meta.namespace;
  return selector !== undefined && labelSelectorMatches(selector, objects.namespaceLabels?.get(routeNamespace) ?? {});
}

/** vipr's Gateways ("namespace/name"): those whose GatewayClass names the controller. */
export function viprGateways(objects: GatewayApiObjects, controllerName: string = VIPR_CONTROLLER_NAME): Map<string, Gateway> {
  const classNames = new Set(objects.gatewayClasses.filter((c) => c.controllerName === controllerName).map((c) => c.meta.name));
  const gateways = new Map<string, Gateway>();
  for (const gateway of objects.gateways) if (classNames.has(gateway.gatewayClassName)) gateways.set(`${gateway.meta.namespace}/${gateway.meta.name}`, gateway);
  return gateways;
}

/** Oldest first, then "namespace/name": one order for conflicts and status, whatever order the
 * objects came in. */
export function oldestFirst(a: { readonly meta: ObjectMeta }, b: { readonly meta: ObjectMeta }): number {
  return a.meta.created - b.meta.created || `${a.meta.namespace}/${a.meta.name}`.localeCompare(`${b.meta.namespace}/${b.meta.name}`);
}

/** The key of one route's parentRef in routeKindConflicts' answer. */
export function routeParentKey(kind: RouteKind, namespace: string, name: string, parentRef: ParentRef): string {
  return `${kind} ${namespace}/${name} ${parentRef.namespace}/${parentRef.name}/${parentRef.sectionName ?? ""}/${parentRef.port ?? ""}`;
}

/** One parentRef's listeners, narrowed step by step; each step empty gives its own reason. */
export interface ParentListeners {
  /** Listeners the parentRef's sectionName and port name. */
  readonly candidates: readonly Listener[];
  /** Of those, served and taking the route's kind and namespace. */
  readonly allowed: readonly Listener[];
  /** Of those, where the route's hostnames intersect the listener's, with the intersection. */
  readonly withHosts: readonly { readonly listener: Listener; readonly hosts: readonly (string | undefined)[] }[];
}

/** The listeners of `gateway` a route of `kind` attaches to through `parentRef`; `usable` says
 * whether a listener is served at all (its protocol, conflicts, certificates). */
export function parentListeners(kind: RouteKind, route: AttachableRoute, parentRef: ParentRef, gateway: Gateway, usable: (listener: Listener) => boolean, objects: GatewayApiObjects): ParentListeners {
  const candidates = gateway.listeners.filter((l) => (parentRef.sectionName === undefined || l.name === parentRef.sectionName) && (parentRef.port === undefined || l.port === parentRef.port));
  const allowed = candidates.filter((l) => usable(l) && routeKindAllowed(l, GATEWAY_API_GROUP, kind) && namespaceAllowed(l, gateway, route.meta.namespace, objects));
  const withHosts = allowed.map((listener) => ({ listener, hosts: intersectHostnames(listener.hostname, route.hostnames) })).filter((x) => x.hosts.length > 0);
  return { candidates, allowed, withHosts };
}

/** One parentRef of a route that names one of vipr's Gateways. */
export interface ParentAttachment {
  readonly statusRef: RouteParentStatusReport["parentRef"];
  readonly gateway: Gateway;
  readonly accepted: Condition;
  /** The listeners attached to, with their host names; empty unless Accepted is True. */
  readonly attached: ParentListeners["withHosts"];
}

export interface AttachmentContext {
  /** viprGateways' answer. */
  readonly gateways: ReadonlyMap<string, Gateway>;
  readonly usable: (gateway: Gateway, listener: Listener) => boolean;
  /** routeKindConflicts' answer (route-kind-conflicts.ts). */
  readonly kindConflicts: ReadonlyMap<string, string>;
  readonly objects: GatewayApiObjects;
}

/** The parentRefs of `route` on vipr's Gateways, each once, with its Accepted condition and the
 * listeners it attaches to. A parentRef to another controller's Gateway is left out: its status
 * is that controller's to write. */
export function routeAttachments(kind: RouteKind, route: AttachableRoute, context: AttachmentContext): ParentAttachment[] {
  const generation = route.meta.generation;
  const result: ParentAttachment[] = [];
  const seen = new Set<string>();
  for (const parentRef of route.parentRefs) {
    if (parentRef.group !== GATEWAY_API_GROUP || parentRef.kind !== "Gateway") continue;
    const gateway = context.gateways.get(`${parentRef.namespace}/${parentRef.name}`);
    if (gateway === undefined) continue;
    const statusRef = {
      group: parentRef.group,
      kind: parentRef.kind,
      namespace: parentRef.namespace,
      name: parentRef.name,
      ...(parentRef.sectionName === undefined ? {} : { sectionName: parentRef.sectionName }),
      ...(parentRef.port === undefined ? {} : { port: parentRef.port }),
    };
    const key = `${parentRef.namespace}/${parentRef.name}/${parentRef.sectionName ?? ""}/${parentRef.port ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const where = `Gateway ${parentRef.namespace}/${parentRef.name}`;
    const { candidates, allowed, withHosts } = parentListeners(kind, route, parentRef, gateway, (l) => context.usable(gateway, l), context.objects);
    const kindConflict = context.kindConflicts.get(routeParentKey(kind, route.meta.namespace, route.meta.name, parentRef));
    let accepted: Condition;
    if (candidates.length === 0) {
      const named = [parentRef.sectionName === undefined ? "" : `sectionName ${JSON.stringify(parentRef.sectionName)}`, parentRef.port === undefined ? "" : `port ${parentRef.port}`].filter((s) => s !== "").join(" and ");
      accepted = condition("Accepted", false, "NoMatchingParent", `${where} has no listener with ${named}`, generation);
    } else if (kindConflict !== undefined) {
      accepted = condition("Accepted", false, ROUTE_KIND_CONFLICT_REASON, kindConflict, generation);
    } else if (allowed.length === 0) {
      accepted = condition("Accepted", false, "NotAllowedByListeners", `no listener of ${where} allows this ${kind} (its protocol, allowedRoutes.kinds or allowedRoutes.namespaces), or the listeners that would are not programmed (conflicted, or certificates not resolved)`, generation);
    } else if (withHosts.length === 0) {
      accepted = condition("Accepted", false, "NoMatchingListenerHostname", `no hostname of this route intersects a listener hostname of ${where}`, generation);
    } else {
      accepted = condition("Accepted", true, "Accepted", "attached", generation);
    }
    result.push({ statusRef, gateway, accepted, attached: accepted.status === "True" ? withHosts : [] });
  }
  return result;
}

/** Counts the route once on each listener `parent` attached it to ("gateway namespace/name/listener"
 * -> routes, for ListenerStatus.attachedRoutes) and calls `add` for each host name it serves there. */
export function eachAttachedHost(parent: ParentAttachment, attached: Map<string, number>, add: (listener: Listener, host: string | undefined) => void): void {
  for (const { listener, hosts } of parent.attached) {
    const key = `${parent.gateway.meta.namespace}/${parent.gateway.meta.name}/${listener.name}`;
    attached.set(key, (attached.get(key) ?? 0) + 1);
    for (const host of hosts) add(listener, host);
  }
}

/** A parentRef's ResolvedRefs: the first backend problem of the route's rules, if any. */
export function resolvedRefsCondition(first: { readonly reason: string | undefined; readonly invalid: string | undefined } | undefined, generation: number): Condition {
  return first === undefined ? condition("ResolvedRefs", true, "ResolvedRefs", "all references resolved", generation) : condition("ResolvedRefs", false, first.reason!, first.invalid!, generation);
}
