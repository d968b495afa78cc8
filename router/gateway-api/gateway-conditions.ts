// Status conditions vipr writes on the objects it programs (gateway-api apis/v1: the
// GatewayConditionType, ListenerConditionType and RouteConditionType constants and their reasons),
// as the pure compiler computes them; adapters/kubernetes/gateway-api-status.ts PATCHes them.

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  readonly type: "Accepted" | "ResolvedRefs" | "Programmed" | "Conflicted";
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number;
}

export interface ListenerStatusReport {
  readonly name: string;
  readonly attachedRoutes: number;
  readonly supportedKinds: readonly { readonly group: string; readonly kind: string }[];
  readonly conditions: readonly Condition[];
}

export interface GatewayStatusReport {
  readonly namespace: string;
  readonly name: string;
  readonly conditions: readonly Condition[];
  readonly listeners: readonly ListenerStatusReport[];
}

export interface RouteParentStatusReport {
  readonly parentRef: { readonly group: string; readonly kind: string; readonly namespace: string; readonly name: string; readonly sectionName?: string; readonly port?: number };
  readonly controllerName: string;
  readonly conditions: readonly Condition[];
}

export interface HTTPRouteStatusReport {
  readonly namespace: string;
  readonly name: string;
  readonly parents: readonly RouteParentStatusReport[];
}

export interface GatewayClassStatusReport {
  readonly name: string;
  readonly conditions: readonly Condition[];
}

/** The status of every object vipr programs, from one compile. */
export interface GatewayApiStatus {
  readonly gatewayClasses: readonly GatewayClassStatusReport[];
  readonly gateways: readonly GatewayStatusReport[];
  readonly httpRoutes: readonly HTTPRouteStatusReport[];
  /** GRPCRoutes' reports (the same shape: RouteStatus); absent before GRPCRoutes were compiled. */
  readonly grpcRoutes?: readonly HTTPRouteStatusReport[];
}

export function condition(type: Condition["type"], ok: boolean, reason: string, message: string, observedGeneration: number): Condition {
  return { type, status: ok ? "True" : "False", reason, message, observedGeneration };
}

/** One line for each False condition, for logs ("HTTPRoute ns/name on Gateway ns/gw: Accepted
 * False NoMatchingParent: ..."): what an operator without status in a cluster (the file source)
 * needs to see why a route does not route. */
export function statusProblems(status: GatewayApiStatus): string[] {
  const lines: string[] = [];
  const routes = [...status.httpRoutes.map((route) => ({ kind: "HTTPRoute", route })), ...(status.grpcRoutes ?? []).map((route) => ({ kind: "GRPCRoute", route }))];
  for (const { kind, route } of routes) {
    for (const parent of route.parents) {
      for (const c of parent.conditions) {
        if (c.status === "False") lines.push(`${kind} ${route.namespace}/${route.name} on Gateway ${parent.parentRef.namespace}/${parent.parentRef.name}: ${c.type} False ${c.reason}: ${c.message}`);
      }
    }
  }
  for (const gateway of status.gateways) {
    for (const listener of gateway.listeners) {
      for (const c of listener.conditions) {
        if (c.status === "False" && c.type !== "Conflicted") lines.push(`Gateway ${gateway.namespace}/${gateway.name} listener ${listener.name}: ${c.type} False ${c.reason}: ${c.message}`);
      }
    }
  }
  return lines;
}
