// Resolve: which service and service port a request is for, by a Gateway API route (HTTPRoutes and
// vipr's own route list: gateway-api/gateway-routing.ts) or by service name (resolve-service-host.ts), or why it is for none. Requests that name no
// destination vipr may dial are answered here: CONNECT and TRACE, userinfo in the name, https://
// targets, names not in the table. The port a request reaches without naming one follows one rule
// (service-port.ts) on both ways in.
import { headerListGet } from "../forward/header-list.ts";
import { requestTarget, type RequestTarget } from "../request-target.ts";
import { resolveServiceHost, type ServiceHostResolution } from "../resolve-service-host.ts";
import type { GatewayRouteState } from "../gateway-api/gateway-route-state.ts";
import { routeThroughGateway, type GatewayForwarding } from "../gateway-api/gateway-routing.ts";
import { isGrpcRequest } from "../forward/grpc-status.ts";
import { connectNotSupported, traceNotAllowed, userinfoNotAllowed, type RouterErrorCode } from "../router-errors.ts";
import type { TrafficOrigin } from "../service-state.ts";
import { type RoutingTable, type ServiceEntry, type ServicePortEntry } from "../table/routing-table.ts";
import type { Exchange } from "./exchange.ts";
import type { ReportStage } from "./report-stage.ts";
import { upstreamProtocolOf } from "../service-port.ts";

/** Where a request is addressed, as resolution reads it (a RequestTarget, or an explain query). */
export type AddressedTo = Pick<RequestTarget, "authority" | "hostname" | "pathAndQuery">;

export interface Resolved {
  readonly ok: true;
  readonly service: ServiceEntry;
  readonly port: ServicePortEntry;
  /** Path and query to send upstream (a route rule may rewrite it). */
  readonly path: string;
  readonly subset: string | undefined;
  readonly origin: TrafficOrigin;
  /** Set when an HTTPRoute rule routed it. */
  readonly gateway?: GatewayForwarding;
}

export interface NotResolved {
  readonly ok: false;
  readonly code: RouterErrorCode;
  readonly message: string;
  /** How the host was parsed, for the 404 body. */
  readonly parsed?: unknown;
  /** The service a route named, when that service is not in the table. */
  readonly service?: string;
  /** vipr's own answer without a body: an HTTPRoute redirect or CORS preflight. */
  readonly answer?: { readonly status: number; readonly headers: Readonly<Record<string, string>> };
}

export interface ResolveSettings {
  /** Gateway API routes (and the route list as HTTPRoutes), checked before service names. */
  readonly gateway: GatewayRouteState;
  /** In [0, 1): backendRefs weights and mirror fractions. */
  readonly random: () => number;
  /** The router's own namespace, where short names resolve. */
  readonly namespace: string;
  readonly clusterDomain: string;
  /** The listener terminates TLS (ServiceRouterOptions.proto "https"): an https URL is then the
   * client's own connection, not an absolute-form target asking vipr to speak TLS. */
  readonly tlsListener?: boolean;
  /** Whether this request's connection is TLS (the runtime's answer), for a router that serves a
   * cleartext listener and a TLS one (`vipr serve --listen-https`). */
  readonly requestIsTls?: (c: Exchange["c"]) => boolean;
}

/** Resolutions are cached per snapshot, up to this many hosts (then the cache starts over). */
const RESOLUTION_CACHE_LIMIT = 10_000;

export class ResolveStage {
  readonly #settings: ResolveSettings;
  readonly #report: ReportStage;
  #resolutions = new Map<string, ServiceHostResolution>();

  constructor(settings: ResolveSettings, report: ReportStage) {
    this.#settings = settings;
    this.#report = report;
  }

  /** A new snapshot: cached name resolutions were of the old one. */
  tableChanged(): void {
    this.#resolutions = new Map();
  }

  /** Fills the exchange's target, service, port, path and origin; or answers the request. */
  resolve(exchange: Exchange, table: RoutingTable | undefined): Response | undefined {
    const report = this.#report;
    const method = exchange.method;
    if (method === "CONNECT") return report.counted(exchange, connectNotSupported());
    if (method === "TRACE" || method === "TRACK") return report.refused(exchange, traceNotAllowed(method));
    const target = requestTarget(exchange.c.req.raw.url, headerListGet(exchange.headers, "host") ?? null);
    exchange.target = target;
    if (target.userinfo !== undefined) return report.refused(exchange, userinfoNotAllowed(target.userinfo));
    const tls = this.#settings.tlsListener === true || this.#settings.requestIsTls?.(exchange.c) === true;
    exchange.tls = tls;
    if (target.scheme === "https" && !tls) {
      // An absolute-form https target (the only way one gets here: vipr listens in cleartext).
      // vipr dials pods in cleartext; forwarding would silently downgrade what the client asked to
      // be sent over TLS. 421: router-errors.ts says why.
      const message = `vipr cannot forward to an https:// target (it reaches pods over plain HTTP only); send http://${target.authority}${target.pathAndQuery} or use TLS to the service directly`;
      return report.fail(exchange, "https_not_supported", message, { host: target.authority });
    }
    if (table === undefined) return report.fail(exchange, "no_endpoints", "vipr has not loaded a routing table yet", { host: target.authority });
    const found = this.find(table, target, method, exchange.headers, tls ? "https" : "http");
    if (!found.ok) {
      exchange.serviceKey = found.service ?? "";
      if (found.answer !== undefined) return report.answered(exchange, new Response(null, found.answer), "");
      if (found.code === "invalid_backend") return report.fail(exchange, found.code, found.message, { host: target.authority });
      return report.notFound(exchange, found.code, found.message, found.parsed === undefined ? { host: target.authority } : { host: target.authority, parsed: found.parsed });
    }
    exchange.serviceKey = found.service.key;
    exchange.service = found.service;
    exchange.port = found.port;
    exchange.upstreamProtocol = upstreamProtocolOf(found.port);
    exchange.path = found.path;
    exchange.routeSubset = found.subset;
    exchange.origin = found.origin;
    exchange.gateway = found.gateway;
    return undefined;
  }

  /** The service and port a request addressed so would reach (route rules first), or why none. */
  find(table: RoutingTable, to: AddressedTo, method = "GET", headers?: readonly string[], scheme = "http"): Resolved | NotResolved {
    const routes = this.#settings.gateway.table;
    // A gRPC call is looked up among GRPCRoutes first, then HTTPRoutes (which may route gRPC too).
    const grpcRoutes = headers !== undefined && this.#settings.gateway.grpcTable.size > 0 && isGrpcRequest(headers) ? this.#settings.gateway.grpcTable : undefined;
    if (routes.size > 0 || grpcRoutes !== undefined) {
      const header = (name: string): string | undefined => (headers === undefined ? undefined : headerListGet(headers, name));
      const request = { hostname: to.hostname, pathAndQuery: to.pathAndQuery, method, header, scheme };
      const out = (grpcRoutes === undefined ? undefined : routeThroughGateway(grpcRoutes, table, request, this.#settings.random)) ?? routeThroughGateway(routes, table, request, this.#settings.random);
      if (out?.kind === "forward") {
        // A route is how traffic from outside the cluster reaches a service through a gateway:
        // kube-proxy applies externalTrafficPolicy to such traffic (NodePort, LoadBalancer), and so
        // does vipr. A name lookup is in-cluster addressing (cluster DNS), as a ClusterIP is.
        return { ok: true, service: out.service, port: out.port, path: out.path, subset: out.subset, origin: "external", gateway: out.forwarding };
      }
      if (out?.kind === "redirect") return { ok: false, code: "unknown_host", message: `redirected by HTTPRoute ${out.routeKey}`, answer: { status: out.status, headers: { location: out.location } } };
      if (out?.kind === "answer") return { ok: false, code: "unknown_host", message: `answered by HTTPRoute ${out.routeKey}`, answer: out };
      if (out?.kind === "error") return { ok: false, code: "invalid_backend", message: out.message, ...(out.service === undefined ? {} : { service: out.service }) };
    }
    const authority = to.authority;
    let resolution = this.#resolutions.get(authority);
    if (resolution === undefined) {
      const { namespace, clusterDomain } = this.#settings;
      resolution = resolveServiceHost(authority, table, { namespace, clusterDomain });
      if (this.#resolutions.size >= RESOLUTION_CACHE_LIMIT) this.#resolutions = new Map();
      this.#resolutions.set(authority, resolution);
    }
    if (!resolution.ok) {
      const code: RouterErrorCode = resolution.error === "malformed-host" ? "unknown_host" : resolution.error === "unknown-port" ? "unknown_port" : "unknown_service";
      return { ok: false, code, message: resolution.message, parsed: resolution.parsed };
    }
    return { ok: true, service: resolution.service, port: resolution.port, path: to.pathAndQuery, subset: undefined, origin: "internal" };
  }
}
