// GRPCRoutes to their own immutable route table and status (pure), beside the HTTPRoute table
// (GRPCRouteRule.Matches: "Merging MUST not be done between GRPCRoutes and HTTPRoutes"). Attachment
// is the HTTPRoute's (route-attachment.ts, for the kind GRPCRoute): parentRefs with sectionName and
// port, a listener of a protocol vipr serves whose allowedRoutes take GRPCRoute from the route's
// namespace, hostname intersection; backends are Services, another namespace only with a
// ReferenceGrant from GRPCRoute. A rule compiles into the same CompiledRule and entries the
// HTTPRoute path reads (gateway-routing.ts), ordered by GRPCRoute precedence (grpc-route-match.ts).
import { buildTable, checkBackend, listenerStates, type CompileOptions, type ListenerState, type CompiledMirror, type CompiledRule, type GatewayRouteTable, type RefCheck } from "./compile-gateway-routes.ts";
import type { GatewayApiStatus, HTTPRouteStatusReport, RouteParentStatusReport } from "./gateway-conditions.ts";
import { VIPR_CONTROLLER_NAME, type Gateway, type GatewayApiObjects, type GRPCRoute, type HeaderModifier, type HTTPRouteRule, type Listener } from "./gateway-api-objects.ts";
import { routeKindConflicts } from "./route-kind-conflicts.ts";
import { eachAttachedHost, oldestFirst, resolvedRefsCondition, routeAttachments, viprGateways } from "./route-attachment.ts";
import { grpcBackendProtocolProblem } from "./grpc-backend-protocol.ts";
import { compareGRPCPrecedence, grpcRouteMatch, MATCH_EVERY_CALL, type GRPCRouteEntry } from "./grpc-route-match.ts";

export interface CompiledGRPCRoutes {
  readonly table: GatewayRouteTable;
  /** One report per GRPCRoute with a parent vipr programs. */
  readonly routes: readonly HTTPRouteStatusReport[];
  /** GRPCRoutes attached per listener, "gateway namespace/name/listener name". */
  readonly attached: ReadonlyMap<string, number>;
}

const KIND = "GRPCRoute";

function compileRule(route: GRPCRoute, ruleIndex: number, objects: GatewayApiObjects, options: CompileOptions, refProblems: RefCheck[]): CompiledRule {
  const grpcRule = route.rules[ruleIndex]!;
  const ns = route.meta.namespace;
  const check = (ref: Parameters<typeof checkBackend>[0]): RefCheck => {
    let result = checkBackend(ref, ns, objects, options, KIND);
    // GRPCBackendRef: a backend the route's protocol cannot reach "is considered invalid"; the
    // spec's reason for it is UnsupportedProtocol (apis/v1/shared_types.go RouteReasonUnsupportedProtocol).
    const service = result.reason === undefined ? options.service?.(`${ref.namespace}/${ref.name}`) : undefined;
    const problem = service === undefined ? undefined : grpcBackendProtocolProblem(service, ref.port);
    if (problem !== undefined) result = { invalid: problem, reason: "UnsupportedProtocol" };
    if (result.reason !== undefined) refProblems.push(result);
    return result;
  };
  const backends = grpcRule.backendRefs.map((ref) => ({ ref, weight: ref.weight, invalid: check(ref).invalid }));
  const mirrors: CompiledMirror[] = [];
  let requestHeaders: HeaderModifier | undefined;
  let responseHeaders: HeaderModifier | undefined;
  let unsupported: string | undefined;
  for (const filter of grpcRule.filters) {
    if (filter.type === "RequestHeaderModifier") requestHeaders = filter.modifier;
    else if (filter.type === "ResponseHeaderModifier") responseHeaders = filter.modifier;
    else if (filter.type === "RequestMirror") {
      // Sent as an HTTP/2 (h2c) copy of the call with its body, fire and forget
      // (gateway-forwarding.ts sendMirrors); a mirror backend whose port cannot take HTTP/2 is
      // invalid, as a backendRef's is (check), and gets no copies.
      mirrors.push({ mirror: filter.mirror, invalid: check(filter.mirror.backend).invalid });
    } else unsupported ??= filter.unsupported;
  }
  const matches = grpcRule.matches.length === 0 ? [MATCH_EVERY_CALL] : grpcRule.matches;
  // The HTTPRouteRule the forward path reads: no timeouts or retries of its own (GRPCRoute has
  // none; a call's grpc-timeout is its deadline, forward-stage.ts).
  const rule: HTTPRouteRule = { name: grpcRule.name, matches: matches.map(grpcRouteMatch), filters: grpcRule.filters, backendRefs: grpcRule.backendRefs, timeouts: { requestMs: undefined, backendRequestMs: undefined }, retry: undefined };
  return {
    kind: KIND,
    routeKey: `${ns}/${route.meta.name}`,
    ruleIndex,
    rule,
    backends,
    totalWeight: backends.reduce((sum, b) => sum + b.weight, 0),
    requestHeaders,
    responseHeaders,
    redirect: undefined,
    rewrite: undefined,
    mirrors,
    cors: undefined,
    unsupported,
  };
}

/** The GRPCRoutes of `objects` that attach to vipr's Gateways; the same objects give an equal result. */
export function compileGRPCRoutes(objects: GatewayApiObjects, options: CompileOptions = {}): CompiledGRPCRoutes {
  const controllerName = options.controllerName ?? VIPR_CONTROLLER_NAME;
  // The listeners' own checks (protocol, conflicts, certificates), made once per Gateway as the
  // HTTPRoute compile makes them: a route attaches only to a listener that is served.
  const states = new Map<Gateway, Map<string, ListenerState>>();
  const usable = (gateway: Gateway, listener: Listener): boolean => {
    let s = states.get(gateway);
    if (s === undefined) states.set(gateway, (s = listenerStates(gateway, objects, options)));
    return s.get(listener.name)?.usable === true;
  };
  const context = { gateways: viprGateways(objects, controllerName), usable, kindConflicts: routeKindConflicts(objects, options), objects };
  const attached = new Map<string, number>();
  const entries: GRPCRouteEntry[] = [];
  const reports: HTTPRouteStatusReport[] = [];
  for (const route of [...(objects.grpcRoutes ?? [])].sort(oldestFirst)) {
    const parents: RouteParentStatusReport[] = [];
    const refProblems: RefCheck[] = [];
    let compiled: CompiledRule[] | undefined;
    for (const parent of routeAttachments(KIND, route, context)) {
      compiled ??= route.rules.map((_, i) => compileRule(route, i, objects, options, refProblems));
      const rules = compiled;
      eachAttachedHost(parent, attached, (listener, host) => {
        for (const rule of rules) {
          const grpcMatches = route.rules[rule.ruleIndex]!.matches;
          rule.rule.matches.forEach((match, matchIndex) =>
            entries.push({ host, match, grpc: grpcMatches[matchIndex] ?? MATCH_EVERY_CALL, rule, listenerPort: listener.port, ...(listener.protocol === "HTTPS" ? { secure: true } : {}), created: route.meta.created, matchIndex }),
          );
        }
      });
      parents.push({ parentRef: parent.statusRef, controllerName, conditions: [parent.accepted, resolvedRefsCondition(refProblems[0], route.meta.generation)] });
    }
    if (parents.length > 0) reports.push({ namespace: route.meta.namespace, name: route.meta.name, parents });
  }
  return { table: buildTable(entries, compareGRPCPrecedence), routes: reports, attached };
}

/** The HTTPRoute compile's status with the GRPCRoutes': their reports, and listeners' attachedRoutes
 * counting them (ListenerStatus.AttachedRoutes: routes of every kind). */
export function withGRPCRouteStatus(status: GatewayApiStatus, grpc: CompiledGRPCRoutes): GatewayApiStatus {
  if (grpc.routes.length === 0 && grpc.attached.size === 0) return { ...status, grpcRoutes: [] };
  return {
    ...status,
    gateways: status.gateways.map((g) => ({
      ...g,
      listeners: g.listeners.map((l) => ({ ...l, attachedRoutes: l.attachedRoutes + (grpc.attached.get(`${g.namespace}/${g.name}/${l.name}`) ?? 0) })),
    })),
    grpcRoutes: grpc.routes,
  };
}
