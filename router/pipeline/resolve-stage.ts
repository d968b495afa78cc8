// Resolve: which service and service port a request is for, by gateway route rule (route-rules.ts)
// or by service name (resolve-service-host.ts), or why it is for none. Requests that name no
// destination vipr may dial are answered here: CONNECT and TRACE, userinfo in the name, https://
// targets, names not in the table. The port a request reaches without naming one follows one rule
// (service-port.ts) on both ways in.
import { headerListGet } from "../forward/header-list.ts";
import { requestTarget, type RequestTarget } from "../request-target.ts";
import { resolveServiceHost, type ServiceHostResolution } from "../resolve-service-host.ts";
import { matchRoute, type RouteRule } from "../route-rules.ts";
import { connectNotSupported, traceNotAllowed, userinfoNotAllowed, type RouterErrorCode } from "../router-errors.ts";
import { servicePortFor } from "../service-port.ts";
import type { TrafficOrigin } from "../service-state.ts";
import { serviceKey, type RoutingTable, type ServiceEntry, type ServicePortEntry } from "../table/routing-table.ts";
import type { Exchange } from "./exchange.ts";
import type { ReportStage } from "./report-stage.ts";

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
}

export interface NotResolved {
  readonly ok: false;
  readonly code: RouterErrorCode;
  readonly message: string;
  /** How the host was parsed, for the 404 body. */
  readonly parsed?: unknown;
  /** The service a route named, when that service is not in the table. */
  readonly service?: string;
}

export interface ResolveSettings {
  /** Gateway rules, checked before service names (compileRouteRules). */
  readonly rules: readonly RouteRule[];
  /** The router's own namespace, where short names resolve. */
  readonly namespace: string;
  readonly clusterDomain: string;
  /** The listener terminates TLS (ServiceRouterOptions.proto "https"): an https URL is then the
   * client's own connection, not an absolute-form target asking vipr to speak TLS. */
  readonly tlsListener?: boolean;
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
    if (target.scheme === "https" && this.#settings.tlsListener !== true) {
      // An absolute-form https target (the only way one gets here: vipr listens in cleartext).
      // vipr dials pods in cleartext; forwarding would silently downgrade what the client asked to
      // be sent over TLS. 421: router-errors.ts says why.
      const message = `vipr cannot forward to an https:// target (it reaches pods over plain HTTP only); send http://${target.authority}${target.pathAndQuery} or use TLS to the service directly`;
      return report.fail(exchange, "https_not_supported", message, { host: target.authority });
    }
    if (table === undefined) return report.fail(exchange, "no_endpoints", "vipr has not loaded a routing table yet", { host: target.authority });
    const found = this.find(table, target);
    if (!found.ok) {
      exchange.serviceKey = found.service ?? "";
      return report.notFound(exchange, found.code, found.message, found.parsed === undefined ? { host: target.authority } : { host: target.authority, parsed: found.parsed });
    }
    exchange.serviceKey = found.service.key;
    exchange.service = found.service;
    exchange.port = found.port;
    exchange.path = found.path;
    exchange.routeSubset = found.subset;
    exchange.origin = found.origin;
    return undefined;
  }

  /** The service and port a request addressed so would reach (route rules first), or why none. */
  find(table: RoutingTable, to: AddressedTo): Resolved | NotResolved {
    const { rules } = this.#settings;
    if (rules.length > 0) {
      const route = matchRoute(rules, to.hostname, to.pathAndQuery);
      if (route !== undefined) {
        const { rule } = route;
        const key = serviceKey(rule.namespace, rule.service);
        const service = table.services.get(key);
        const where = `route for ${JSON.stringify(to.authority)}${rule.pathPrefix}`;
        if (service === undefined) return { ok: false, code: "unknown_service", message: `${where} names service ${key}, which is not in the table`, service: key };
        const port = servicePortFor(service, rule.port, "give the route a port");
        if (typeof port === "string") return { ok: false, code: "unknown_port", message: `${where}: ${port}`, service: key };
        // A route rule is how traffic from outside the cluster reaches a service through a gateway:
        // kube-proxy applies externalTrafficPolicy to such traffic (NodePort, LoadBalancer), and so
        // does vipr. A name lookup is in-cluster addressing (cluster DNS), as a ClusterIP is.
        return { ok: true, service, port, path: route.path, subset: rule.subset, origin: "external" };
      }
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
