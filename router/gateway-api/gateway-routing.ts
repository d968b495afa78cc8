// What a matched HTTPRoute rule does with one request (the resolve stage's Gateway API step): a
// redirect answer, a 500 (no backends, an invalid or missing backend, an unsupported filter, as
// HTTPRouteRule.BackendRefs and HTTPRouteFilter say), or the service and port to forward to, with
// what the forward stage applies on the way (gateway-forwarding.ts): header modifiers, the host
// rewrite, mirrors, the route's timeouts.
import { servicePortFor } from "../service-port.ts";
import { grpcBackendPort } from "./grpc-backend-protocol.ts";
import { serviceKey, type RoutingTable, type ServiceEntry, type ServicePortEntry } from "../table/routing-table.ts";
import type { BackendFilters } from "./compile-backend-filters.ts";
import type { CompiledRule, GatewayRouteTable } from "./compile-gateway-routes.ts";
import type { BackendObjectRef } from "./gateway-api-objects.ts";
import { redirectLocation, rewritePath } from "./http-route-filters.ts";
import { matchGatewayRoute, type GatewayRequest } from "./match-gateway-route.ts";
import { chooseBackend } from "./weighted-backend.ts";
import { corsResponseFields, preflightAnswer } from "./cors-filter.ts";

/** A mirror target resolved at match time: the service and port whose endpoint gets a copy. */
export interface MirrorTarget {
  readonly service: ServiceEntry;
  readonly port: ServicePortEntry;
}

/** What the forward stage applies for a matched rule. */
export interface GatewayForwarding {
  readonly rule: CompiledRule;
  /** URLRewrite hostname: the Host sent upstream. */
  readonly hostRewrite: string | undefined;
  /** CORS fields to add to the response (name, value, ...). */
  readonly corsFields: readonly string[];
  readonly mirrors: readonly MirrorTarget[];
  /** The chosen backendRef's own filters, applied after the rule's (compile-backend-filters.ts). */
  readonly backend?: BackendFilters | undefined;
}

export type GatewayOutcome =
  | {
      readonly kind: "forward";
      readonly service: ServiceEntry;
      readonly port: ServicePortEntry;
      readonly path: string;
      readonly subset: string | undefined;
      readonly forwarding: GatewayForwarding;
    }
  | { readonly kind: "redirect"; readonly status: number; readonly location: string; readonly routeKey: string }
  /** vipr's own answer without a body: a CORS preflight. */
  | { readonly kind: "answer"; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly routeKey: string }
  /** Answered 500; `service` names the backend when one was chosen. */
  | { readonly kind: "error"; readonly message: string; readonly routeKey: string; readonly service?: string };

export interface GatewayRequestContext extends GatewayRequest {
  /** "http" or "https": what the client used, for redirects that keep the scheme. */
  readonly scheme: string;
}

function resolveBackend(table: RoutingTable, ref: BackendObjectRef): { service: ServiceEntry; port: ServicePortEntry } | string {
  const key = serviceKey(ref.namespace, ref.name);
  const service = table.services.get(key);
  if (service === undefined) return `backend ${key} is not a Service in the table`;
  const port = servicePortFor(service, ref.port, "give the backendRef a port");
  if (typeof port === "string") return `backend ${key}: ${port}`;
  return { service, port };
}

/** The outcome for a request, or undefined when no HTTPRoute matches it. `random` is in [0, 1). */
export function routeThroughGateway(routes: GatewayRouteTable, services: RoutingTable, request: GatewayRequestContext, random: () => number): GatewayOutcome | undefined {
  const entry = matchGatewayRoute(routes, request);
  if (entry === undefined) return undefined;
  const rule = entry.rule;
  const routeKey = rule.routeKey;
  const where = `${rule.kind ?? "HTTPRoute"} ${routeKey} rule ${rule.ruleIndex}`;
  if (rule.unsupported !== undefined) return { kind: "error", message: `${where}: ${rule.unsupported}`, routeKey };
  const origin = rule.cors === undefined ? undefined : request.header("origin");
  if (origin !== undefined && request.method === "OPTIONS") {
    const requestMethod = request.header("access-control-request-method");
    if (requestMethod !== undefined) return { kind: "answer", ...preflightAnswer(rule.cors!, origin, requestMethod, request.header("access-control-request-headers")), routeKey };
  }
  if (rule.redirect !== undefined) {
    const location = redirectLocation(rule.redirect, { scheme: request.scheme, hostname: request.hostname, pathAndQuery: request.pathAndQuery, listenerPort: entry.listenerPort }, entry.match.path);
    return { kind: "redirect", status: rule.redirect.statusCode, location, routeKey };
  }
  const backend = chooseBackend(rule, random);
  if (backend === undefined) return { kind: "error", message: `${where} has no backendRefs with weight (the spec's answer is 500)`, routeKey };
  const key = serviceKey(backend.ref.namespace, backend.ref.name);
  if (backend.invalid !== undefined) return { kind: "error", message: `${where}: ${backend.invalid}`, routeKey, service: key };
  const resolved = resolveBackend(services, backend.ref);
  if (typeof resolved === "string") return { kind: "error", message: `${where}: ${resolved}`, routeKey, service: key };
  if (rule.kind === "GRPCRoute") {
    const port = grpcBackendPort(resolved.port);
    if (typeof port === "string") return { kind: "error", message: `${where}: backend ${key} ${port}`, routeKey, service: key };
    resolved.port = port;
  }
  // The chosen backend's own filters (HTTPBackendRef.filters) come after the rule's.
  const own = backend.filters;
  if (own?.unsupported !== undefined) return { kind: "error", message: `${where} backendRef ${key}: ${own.unsupported}`, routeKey, service: key };
  if (own?.redirect !== undefined) {
    const location = redirectLocation(own.redirect, { scheme: request.scheme, hostname: request.hostname, pathAndQuery: request.pathAndQuery, listenerPort: entry.listenerPort }, entry.match.path);
    return { kind: "redirect", status: own.redirect.statusCode, location, routeKey };
  }
  const mirrors: MirrorTarget[] = [];
  for (const { mirror, invalid } of own === undefined ? rule.mirrors : [...rule.mirrors, ...own.mirrors]) {
    if (invalid !== undefined || (mirror.fraction < 1 && random() >= mirror.fraction)) continue;
    const target = resolveBackend(services, mirror.backend);
    if (typeof target !== "string") mirrors.push(target);
  }
  // A backend's URLRewrite overrides the rule's, part by part (host, path).
  const rewrite = own?.rewrite === undefined ? rule.rewrite : { hostname: own.rewrite.hostname ?? rule.rewrite?.hostname, path: own.rewrite.path ?? rule.rewrite?.path };
  const path = rewrite?.path === undefined ? request.pathAndQuery : rewritePath(request.pathAndQuery, rewrite.path, entry.match.path);
  return {
    kind: "forward",
    service: resolved.service,
    port: resolved.port,
    path,
    subset: backend.ref.subset,
    forwarding: { rule, hostRewrite: rewrite?.hostname, mirrors, corsFields: origin === undefined ? [] : corsResponseFields(rule.cors!, origin), backend: own },
  };
}
