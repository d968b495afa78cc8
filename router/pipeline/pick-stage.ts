// Pick: which upstream an admitted request goes to. For a proxied service, the balancer of its
// port (service-state.ts: the eligible endpoints for the request's traffic origin, then the
// service's policy) chooses an endpoint from the request's hash key, client and subset; a retry
// asks it again with the endpoints already tried. An ExternalName service is dialled by its
// external name, when that name is on the router's allow-list.
import { hashKeyOf } from "../balancing/hash-key.ts";
import type { Pick, PickExplanation, PickRequest } from "../balancing/pick.ts";
import type { ServiceBalancer } from "../balancing/service-balancer.ts";
import { parseIp } from "../forward/cidr-set.ts";
import { headerListGet } from "../forward/header-list.ts";
import type { UpstreamTarget } from "../forward/upstream-transport.ts";
import type { RouterErrorCode } from "../router-errors.ts";
import type { ServiceStates } from "../service-state.ts";
import type { ClientOf, Exchange } from "./exchange.ts";
import type { ReportStage } from "./report-stage.ts";
import type { Resolved } from "./resolve-stage.ts";

/** A request described for /debug/explain and `vipr explain`, never sent. */
export interface ExplainQuery {
  readonly host: string;
  readonly path?: string;
  readonly key?: string;
  readonly subset?: string;
  readonly clientIp?: string;
}

export interface PickSettings {
  /** The request header naming a subset when a service names none (lowercase; "" for off). */
  readonly subsetHeader: string;
  /** ExternalName targets that may be dialled (lowercase host names). */
  readonly allowedExternalNames: ReadonlySet<string>;
  readonly clientOf: ClientOf;
}

/** The UpstreamTarget of a pick: made on its endpoint's first pick and kept in the balancer's
 * slot for it (ServiceBalancer.dialTargets) as long as the balancer (which a new table entry
 * replaces), instead of one per request (issue 11's profile). */
function targetOf(balancer: ServiceBalancer, pick: Pick): UpstreamTarget {
  const targets = balancer.dialTargets as (UpstreamTarget | undefined)[];
  const cached = targets[pick.index];
  if (cached !== undefined) return cached;
  const target: UpstreamTarget = { address: pick.endpoint.address, port: pick.port, addressType: pick.endpoint.addressType, identity: pick.endpoint.identity };
  targets[pick.index] = target;
  return target;
}

export class PickStage {
  readonly #states: ServiceStates;
  readonly #settings: PickSettings;
  readonly #report: ReportStage;

  constructor(states: ServiceStates, settings: PickSettings, report: ReportStage) {
    this.#states = states;
    this.#settings = settings;
    this.#report = report;
  }

  /** Fills the exchange's timeouts, balancer, pick and upstream; or answers the request. */
  pick(exchange: Exchange): Response | undefined {
    const service = exchange.service!;
    const port = exchange.port!;
    const clientIp = this.#settings.clientOf(exchange);
    if (service.type === "ExternalName") return this.#externalName(exchange);
    const balancer = this.#states.balancer(service, port, exchange.origin);
    exchange.timeouts = this.#states.timeoutsOf(service);
    const policy = balancer.config;
    const target = exchange.target!;
    const hashKey = policy.hashKey === undefined ? undefined : hashKeyOf(policy.hashKey, exchange.headers, target.pathAndQuery, clientIp);
    const subsetHeader = policy.subsetHeader ?? this.#settings.subsetHeader;
    const subset = exchange.routeSubset ?? (subsetHeader === "" ? undefined : headerListGet(exchange.headers, subsetHeader));
    const request: PickRequest = { hashKey, clientIp, subset };
    const pick = balancer.pick(request);
    if (!pick.ok) {
      const code: RouterErrorCode = pick.reason === "bad-subset" ? "bad_subset" : "no_endpoints";
      return this.#report.fail(exchange, code, pick.message, { service: service.key, port: port.port });
    }
    exchange.balancer = balancer;
    exchange.pickRequest = request;
    exchange.pick = pick;
    exchange.upstream = targetOf(balancer, pick);
    return undefined;
  }

  /**
   * A retry's endpoint: the balancer picks again with the next attempt (Maglev: the key's next
   * endpoint on its preference walk; others: an endpoint not in `tried`). False when none is left.
   */
  next(exchange: Exchange, tried: readonly number[]): boolean {
    const next = exchange.balancer!.pick({ ...exchange.pickRequest!, attempt: exchange.tries, tried });
    if (!next.ok) return false;
    exchange.pick = next;
    exchange.upstream = targetOf(exchange.balancer!, next);
    return true;
  }

  /** What `pick` would choose for a request so described, without choosing (no affinity is made,
   * nothing is counted). */
  explain(resolved: Resolved, query: ExplainQuery): PickExplanation {
    const balancer = this.#states.balancer(resolved.service, resolved.port, resolved.origin);
    // Without a key, the key a request from this client to this path would have (client-ip, path).
    const clientIp = parseIp(query.clientIp ?? "")?.text ?? query.clientIp ?? ""; // as the runtimes spell it
    const source = balancer.config.hashKey;
    const hashKey = query.key !== undefined || source === undefined ? query.key : hashKeyOf(source, [], query.path ?? "/", clientIp);
    return balancer.explain({ hashKey: hashKey === "" ? undefined : hashKey, clientIp, subset: query.subset ?? resolved.subset });
  }

  #externalName(exchange: Exchange): Response | undefined {
    const service = exchange.service!;
    const name = (service.externalName ?? "").toLowerCase();
    if (!this.#settings.allowedExternalNames.has(name)) {
      const message = `service ${service.key} is an ExternalName alias of ${JSON.stringify(name)}, which is not on the router's allow-list`;
      return this.#report.fail(exchange, "external_name_not_allowed", message, { service: service.key });
    }
    exchange.timeouts = this.#states.timeoutsOf(service);
    // An allowed external name is dialled by name: the transport resolves it. addressType only
    // decides bracketing in the pool key, and a DNS name needs none.
    exchange.upstream = { address: name, port: exchange.port!.port, addressType: "IPv4", identity: name };
    return undefined;
  }
}
