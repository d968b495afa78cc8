// The Gateway API objects to one immutable route table (pure): which Gateways are vipr's (their
// GatewayClass names VIPR_CONTROLLER_NAME), which HTTPRoutes attach to which of their listeners
// (route-attachment.ts: parentRefs with sectionName and port, allowedRoutes namespaces and kinds,
// hostname intersection), which backends a rule may reach (Service kind only; another namespace only with a
// ReferenceGrant), which listeners are served at all (conflicts: listener-conflicts.ts; HTTPS
// certificates: gateway-listener-tls.ts), and the status each object gets. Lookup is
// match-gateway-route.ts; this file never sees a request.
import { condition, type GatewayApiStatus, type GatewayStatusReport, type HTTPRouteStatusReport, type ListenerStatusReport, type RouteParentStatusReport } from "./gateway-conditions.ts";
import {
  GATEWAY_API_GROUP,
  VIPR_CONTROLLER_NAME,
  type BackendObjectRef,
  type CORSPolicy,
  type Gateway,
  type GatewayApiObjects,
  type HTTPBackendRef,
  type HTTPRoute,
  type HTTPRouteMatch,
  type HTTPRouteRule,
  type HeaderModifier,
  type Listener,
  type ReferenceGrant,
  type RequestMirror,
  type RequestRedirect,
  type URLRewrite,
} from "./gateway-api-objects.ts";
import { compileBackendFilters, type BackendFilters } from "./compile-backend-filters.ts";
import { hostnameSpecificity } from "./gateway-hostnames.ts";
import { resolveListenerTls, type CertificateCheck, type ListenerCertificate, type ListenerTlsResolution } from "./gateway-listener-tls.ts";
import { listenerConflicts, type ListenerConflict } from "./listener-conflicts.ts";
import type { ServiceEntry } from "../table/routing-table.ts";
import { routeKindConflicts } from "./route-kind-conflicts.ts";
import { eachAttachedHost, oldestFirst, resolvedRefsCondition, ROUTE_KINDS, routeAttachments, viprGateways } from "./route-attachment.ts";

/** A backend a rule may send to; `invalid` says why requests its weight draws get a 500. */
export interface CompiledBackend {
  readonly ref: HTTPBackendRef;
  readonly weight: number;
  readonly invalid: string | undefined;
  /** The backendRef's own filters, applied when it is chosen; undefined: none. */
  readonly filters?: BackendFilters | undefined;
}

export interface CompiledMirror {
  readonly mirror: RequestMirror;
  readonly invalid: string | undefined;
}

export interface CompiledRule {
  /** Absent: an HTTPRoute's rule (or vipr's own route list's). */
  readonly kind?: "GRPCRoute";
  /** "namespace/name" of the route, and the rule's index in it. */
  readonly routeKey: string;
  readonly ruleIndex: number;
  readonly rule: HTTPRouteRule;
  readonly backends: readonly CompiledBackend[];
  /** Sum of the backends' weights; 0 with no backends or all weights 0: every request gets 500. */
  readonly totalWeight: number;
  readonly requestHeaders: HeaderModifier | undefined;
  readonly responseHeaders: HeaderModifier | undefined;
  readonly redirect: RequestRedirect | undefined;
  readonly rewrite: URLRewrite | undefined;
  readonly mirrors: readonly CompiledMirror[];
  readonly cors: CORSPolicy | undefined;
  /** A filter vipr cannot apply: the spec says such requests get an error, never skip it. */
  readonly unsupported: string | undefined;
}

/** One (host, match) a request can hit, in precedence order within its host bucket. */
export interface RouteEntry {
  /** Lowercase; a "*." wildcard; undefined: any host. */
  readonly host: string | undefined;
  readonly match: HTTPRouteMatch;
  readonly rule: CompiledRule;
  /** The listener's port, for redirects that keep the port (RequestRedirect.port). */
  readonly listenerPort: number;
  /** From an HTTPS listener: matched only by requests that arrived over TLS. */
  readonly secure?: boolean;
  /** Tie-breakers after the match's own precedence: created, "namespace/name", rule, match. */
  readonly created: number;
  readonly matchIndex: number;
}

export interface GatewayRouteTable {
  readonly exact: ReadonlyMap<string, readonly RouteEntry[]>;
  /** Wildcard host buckets, most specific first. */
  readonly wildcards: readonly { readonly pattern: string; readonly entries: readonly RouteEntry[] }[];
  readonly anyHost: readonly RouteEntry[];
  readonly size: number;
}

/** An HTTPS listener vipr serves, with its certificates: what the TLS listener's certificate store
 * (adapters/node/gateway-certificates.ts) chooses from by SNI. */
export interface ListenerTlsEntry {
  /** "namespace/name/listener". */
  readonly listener: string;
  readonly port: number;
  /** Lowercase; a "*." wildcard; undefined: any host. */
  readonly hostname: string | undefined;
  readonly certificates: readonly ListenerCertificate[];
}

export interface CompiledGatewayRoutes {
  readonly table: GatewayRouteTable;
  readonly status: GatewayApiStatus;
  /** The HTTPS listeners served, oldest Gateway first (absent: none). */
  readonly listenerTls?: readonly ListenerTlsEntry[];
}

export interface CompileOptions {
  readonly controllerName?: string;
  /** Whether a Service exists ("namespace/name"): for ResolvedRefs BackendNotFound in status.
   * Without it, missing services are found per request (500) but not reported in status. */
  readonly serviceExists?: (key: string) => boolean;
  /** The Service ("namespace/name") in the routing table: for a GRPCRoute backend whose port's
   * appProtocol is not HTTP/2, ResolvedRefs UnsupportedProtocol in status. Without it, such
   * backends are found per call (UNAVAILABLE) but not reported in status. */
  readonly service?: (key: string) => ServiceEntry | undefined;
  /** Whether a Secret's PEM certificate and key go together (the adapter's crypto check); default a
   * PEM syntax check (gateway-listener-tls.ts). */
  readonly checkCertificate?: CertificateCheck;
  /** Whether vipr has a listener that serves HTTPS listeners (`vipr serve --listen-https`); false:
   * they are reported Accepted False UnsupportedProtocol, saying so. Default true. */
  readonly httpsListener?: boolean;
}

/** Listener protocols vipr serves: HTTP, and HTTPS with TLS terminated (tls.mode Terminate). */
export function servesProtocol(protocol: string, options: CompileOptions = {}): boolean {
  return protocol === "HTTP" || (protocol === "HTTPS" && options.httpsListener !== false);
}

/** What a listener's own checks say, before any route: conflicts and certificates. */
export interface ListenerState {
  readonly conflict: ListenerConflict | undefined;
  /** HTTPS listeners only. */
  readonly tls: ListenerTlsResolution | undefined;
  /** Routes attach and are served: a protocol vipr serves, no conflict, certificates resolved. */
  readonly usable: boolean;
}

export function listenerStates(gateway: Gateway, objects: GatewayApiObjects, options: CompileOptions): Map<string, ListenerState> {
  const conflicts = listenerConflicts(gateway.listeners);
  const states = new Map<string, ListenerState>();
  for (const l of gateway.listeners) {
    const conflict = conflicts.get(l.name);
    const tls = l.protocol === "HTTPS" ? resolveListenerTls(gateway, l, objects, options.checkCertificate) : undefined;
    states.set(l.name, { conflict, tls, usable: servesProtocol(l.protocol, options) && conflict === undefined && (tls === undefined || tls.ok) });
  }
  return states;
}

/** The route kinds a listener names that vipr supports (ListenerStatus.supportedKinds). */
function supportedKinds(listener: Listener): { group: string; kind: string }[] {
  const wanted = listener.allowedRoutes.kinds.length === 0 ? ROUTE_KINDS.map((kind) => ({ group: GATEWAY_API_GROUP, kind })) : listener.allowedRoutes.kinds;
  return wanted.filter((k) => k.group === GATEWAY_API_GROUP && ROUTE_KINDS.includes(k.kind)).map((k) => ({ group: k.group, kind: k.kind }));
}

/** ReferenceGrant (gateway-api apis/v1beta1/referencegrant_types.go): a grant in the target's
 * namespace lets HTTPRoutes of `fromNamespace` refer to Services there (all, or the one named). */
function granted(grants: readonly ReferenceGrant[], fromNamespace: string, to: BackendObjectRef, fromKind: string): boolean {
  return grants.some(
    (g) =>
      g.meta.namespace === to.namespace &&
      g.from.some((f) => f.group === GATEWAY_API_GROUP && f.kind === fromKind && f.namespace === fromNamespace) &&
      g.to.some((t) => t.group === to.group && t.kind === to.kind && (t.name === undefined || t.name === to.name)),
  );
}

export interface RefCheck {
  readonly invalid: string | undefined;
  readonly reason: "InvalidKind" | "RefNotPermitted" | "BackendNotFound" | "UnsupportedProtocol" | undefined;
}

export function checkBackend(ref: BackendObjectRef, routeNamespace: string, objects: GatewayApiObjects, options: CompileOptions, fromKind = "HTTPRoute"): RefCheck {
  if (ref.group !== "" || ref.kind !== "Service") return { invalid: `backendRef ${ref.group === "" ? "" : `${ref.group}/`}${ref.kind} ${ref.name}: vipr sends only to Services`, reason: "InvalidKind" };
  const key = `${ref.namespace}/${ref.name}`;
  if (ref.namespace !== routeNamespace && !granted(objects.referenceGrants, routeNamespace, ref, fromKind)) {
    return { invalid: `backendRef ${key} is in another namespace and no ReferenceGrant in ${ref.namespace} allows ${fromKind}s of ${routeNamespace} to refer to it`, reason: "RefNotPermitted" };
  }
  if (options.serviceExists !== undefined && !options.serviceExists(key)) return { invalid: `backendRef ${key}: no such Service`, reason: "BackendNotFound" };
  return { invalid: undefined, reason: undefined };
}

function compileRule(route: HTTPRoute, ruleIndex: number, objects: GatewayApiObjects, options: CompileOptions, refProblems: RefCheck[]): CompiledRule {
  const rule = route.rules[ruleIndex]!;
  const ns = route.meta.namespace;
  const backends = rule.backendRefs.map((ref) => {
    const check = checkBackend(ref, ns, objects, options);
    if (check.reason !== undefined) refProblems.push(check);
    const filters = compileBackendFilters(ref.filters, (mirror) => {
      const mirrorCheck = checkBackend(mirror, ns, objects, options);
      if (mirrorCheck.reason !== undefined) refProblems.push(mirrorCheck);
      return mirrorCheck.invalid;
    });
    return { ref, weight: ref.weight, invalid: check.invalid, filters };
  });
  const mirrors = [];
  let requestHeaders: HeaderModifier | undefined;
  let responseHeaders: HeaderModifier | undefined;
  let redirect: RequestRedirect | undefined;
  let rewrite: URLRewrite | undefined;
  let unsupported: string | undefined;
  let cors: CORSPolicy | undefined;
  for (const filter of rule.filters) {
    if (filter.type === "RequestHeaderModifier") requestHeaders = filter.modifier;
    else if (filter.type === "ResponseHeaderModifier") responseHeaders = filter.modifier;
    else if (filter.type === "RequestRedirect") redirect = filter.redirect;
    else if (filter.type === "URLRewrite") rewrite = filter.rewrite;
    else if (filter.type === "RequestMirror") {
      const check = checkBackend(filter.mirror.backend, ns, objects, options);
      if (check.reason !== undefined) refProblems.push(check);
      mirrors.push({ mirror: filter.mirror, invalid: check.invalid });
    } else if (filter.type === "CORS") cors = filter.cors;
    else unsupported ??= filter.unsupported;
  }
  return {
    routeKey: `${ns}/${route.meta.name}`,
    ruleIndex,
    rule,
    backends,
    totalWeight: backends.reduce((sum, b) => sum + b.weight, 0),
    requestHeaders,
    responseHeaders,
    redirect,
    rewrite,
    mirrors,
    cors,
    unsupported,
  };
}

/** Precedence of two entries for the same host (HTTPRouteRule, "Proxy or Load Balancer routing
 * configuration generated from HTTPRoutes MUST prioritize matches based on the following
 * criteria, continuing on ties"): Exact path; longest prefix; method; most headers; most query
 * params; then the oldest route, then "namespace/name" alphabetically, then rule and match order.
 * RegularExpression paths (implementation-specific) rank after Exact and before any prefix,
 * longer patterns first. */
function comparePrecedence(a: RouteEntry, b: RouteEntry): number {
  const pa = a.match.path;
  const pb = b.match.path;
  const rank = (type: string): number => (type === "Exact" ? 0 : type === "RegularExpression" ? 1 : 2);
  return (
    rank(pa.type) - rank(pb.type) ||
    pathLength(pb.value) - pathLength(pa.value) ||
    Number(b.match.method !== undefined) - Number(a.match.method !== undefined) ||
    b.match.headers.length - a.match.headers.length ||
    b.match.queryParams.length - a.match.queryParams.length ||
    a.created - b.created ||
    (a.rule.routeKey < b.rule.routeKey ? -1 : a.rule.routeKey > b.rule.routeKey ? 1 : 0) ||
    a.rule.ruleIndex - b.rule.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}

/** A prefix's length without a trailing slash: "/foo/" and "/foo" are the same prefix. */
function pathLength(value: string): number {
  return value.length > 1 && value.endsWith("/") ? value.length - 1 : value.length;
}

/** Compiles the objects; the same objects give an equal table and status. */
export function compileGatewayRoutes(objects: GatewayApiObjects, options: CompileOptions = {}): CompiledGatewayRoutes {
  const controllerName = options.controllerName ?? VIPR_CONTROLLER_NAME;
  const ourClasses = objects.gatewayClasses.filter((c) => c.controllerName === controllerName);
  const gateways = viprGateways(objects, controllerName);
  const states = new Map<string, Map<string, ListenerState>>();
  for (const [key, gateway] of gateways) states.set(key, listenerStates(gateway, objects, options));
  const usable = (gateway: Gateway, l: Listener): boolean => states.get(`${gateway.meta.namespace}/${gateway.meta.name}`)?.get(l.name)?.usable ?? false;
  const context = { gateways, usable, kindConflicts: routeKindConflicts(objects, options), objects };

  const attached = new Map<string, number>(); // "gateway key/listener name" -> routes attached
  const entries: RouteEntry[] = [];
  const routeStatus: HTTPRouteStatusReport[] = [];
  for (const route of [...objects.httpRoutes].sort(oldestFirst)) {
    const parents: RouteParentStatusReport[] = [];
    let compiled: CompiledRule[] | undefined;
    const refProblems: RefCheck[] = [];
    for (const parent of routeAttachments("HTTPRoute", route, context)) {
      compiled ??= route.rules.map((_, i) => compileRule(route, i, objects, options, refProblems));
      const rules = compiled;
      eachAttachedHost(parent, attached, (listener, host) => {
        for (const rule of rules) {
          rule.rule.matches.forEach((match, matchIndex) => entries.push({ host, match, rule, listenerPort: listener.port, ...(listener.protocol === "HTTPS" ? { secure: true } : {}), created: route.meta.created, matchIndex }));
        }
      });
      parents.push({ parentRef: parent.statusRef, controllerName, conditions: [parent.accepted, resolvedRefsCondition(refProblems[0], route.meta.generation)] });
    }
    if (parents.length > 0) routeStatus.push({ namespace: route.meta.namespace, name: route.meta.name, parents });
  }

  const gatewayStatus: GatewayStatusReport[] = [...gateways.values()].map((gateway) => {
    const g = gateway.meta.generation;
    const gatewayStates = states.get(`${gateway.meta.namespace}/${gateway.meta.name}`)!;
    const listeners: ListenerStatusReport[] = gateway.listeners.map((l) => {
      const serves = servesProtocol(l.protocol, options);
      const { conflict, tls } = gatewayStates.get(l.name)!;
      const kinds = supportedKinds(l);
      const kindsOk = l.allowedRoutes.kinds.length === 0 || kinds.length === l.allowedRoutes.kinds.length;
      const message = serves ? "" : l.protocol === "HTTPS" ? "vipr serves HTTPS listeners on its HTTPS listener: start it with --listen-https" : `protocol ${l.protocol} is not served by vipr (HTTP and HTTPS only)`;
      const refs = !kindsOk
        ? condition("ResolvedRefs", false, "InvalidRouteKinds", "vipr supports only HTTPRoute and GRPCRoute of gateway.networking.k8s.io", g)
        : tls !== undefined && !tls.ok
          ? condition("ResolvedRefs", false, tls.reason, tls.message, g)
          : condition("ResolvedRefs", true, "ResolvedRefs", tls === undefined ? "route kinds resolved" : "route kinds and certificates resolved", g);
      const programmed = serves && kindsOk && conflict === undefined && (tls === undefined || tls.ok);
      return {
        name: l.name,
        attachedRoutes: attached.get(`${gateway.meta.namespace}/${gateway.meta.name}/${l.name}`) ?? 0,
        supportedKinds: kinds,
        conditions: [
          !serves ? condition("Accepted", false, "UnsupportedProtocol", message, g) : conflict !== undefined ? condition("Accepted", false, conflict.reason, conflict.message, g) : condition("Accepted", true, "Accepted", "listener accepted", g),
          refs,
          // A conflicted listener's Programmed carries the conflict's reason, as the upstream ListenerSet
          // conflict tests expect (conformance/tests/listenerset-protocol-conflict.go).
          programmed ? condition("Programmed", true, "Programmed", "listener programmed", g) : condition("Programmed", false, conflict?.reason ?? "Invalid", message || conflict?.message || (refs.status === "False" ? refs.message : "listener has invalid route kinds"), g),
          conflict === undefined ? condition("Conflicted", false, "NoConflicts", "no conflicts", g) : condition("Conflicted", true, conflict.reason, conflict.message, g),
        ],
      };
    });
    // "The implementation MUST set a ListenersNotValid condition on the Gateway Status when the
    // Gateway contains Conflicted Listeners": Accepted True while some listener is distinct.
    const conflicted = gateway.listeners.filter((l) => gatewayStates.get(l.name)!.conflict !== undefined).map((l) => l.name);
    const accepted =
      conflicted.length === 0
        ? condition("Accepted", true, "Accepted", "accepted by vipr", g)
        : condition("Accepted", conflicted.length < gateway.listeners.length, "ListenersNotValid", `conflicted listeners, not served: ${conflicted.join(", ")}; accepted: ${gateway.listeners.filter((l) => !conflicted.includes(l.name)).map((l) => l.name).join(", ") || "none"}`, g);
    return {
      namespace: gateway.meta.namespace,
      name: gateway.meta.name,
      conditions: [
        accepted,
        accepted.status === "True" ? condition("Programmed", true, "Programmed", "programmed in vipr's route table", g) : condition("Programmed", false, "Invalid", "every listener is conflicted: nothing to serve", g),
      ],
      listeners,
    };
  });

  const listenerTls: ListenerTlsEntry[] = [];
  for (const gateway of [...gateways.values()].sort(oldestFirst)) {
    for (const l of gateway.listeners) {
      const state = states.get(`${gateway.meta.namespace}/${gateway.meta.name}`)!.get(l.name)!;
      if (state.usable && state.tls?.ok === true) listenerTls.push({ listener: `${gateway.meta.namespace}/${gateway.meta.name}/${l.name}`, port: l.port, hostname: l.hostname, certificates: state.tls.certificates });
    }
  }

  return {
    table: buildTable(entries),
    status: {
      gatewayClasses: ourClasses.map((c) => ({ name: c.meta.name, conditions: [condition("Accepted", true, "Accepted", `handled by ${controllerName}`, c.meta.generation)] })),
      gateways: gatewayStatus,
      httpRoutes: routeStatus,
    },
    listenerTls,
  };
}

/** Entries by host bucket, each bucket in `compare`'s order (GRPCRoute has its own precedence). */
export function buildTable<E extends RouteEntry>(entries: readonly E[], compare: (a: E, b: E) => number = comparePrecedence): GatewayRouteTable {
  const exact = new Map<string, E[]>();
  const wildcards = new Map<string, E[]>();
  const anyHost: E[] = [];
  for (const entry of entries) {
    if (entry.host === undefined) anyHost.push(entry);
    else {
      const bucket = entry.host.startsWith("*.") ? wildcards : exact;
      const list = bucket.get(entry.host);
      if (list === undefined) bucket.set(entry.host, [entry]);
      else list.push(entry);
    }
  }
  for (const list of exact.values()) list.sort(compare);
  for (const list of wildcards.values()) list.sort(compare);
  anyHost.sort(compare);
  const wildcardList = [...wildcards].map(([pattern, list]) => ({ pattern, entries: list })).sort((a, b) => hostnameSpecificity(b.pattern) - hostnameSpecificity(a.pattern));
  return { exact, wildcards: wildcardList, anyHost, size: entries.length };
}

export const EMPTY_GATEWAY_ROUTE_TABLE: GatewayRouteTable = { exact: new Map(), wildcards: [], anyHost: [], size: 0 };
