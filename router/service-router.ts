// vipr's request path: a Hono app that takes a request addressed to a service name, finds the
// service port (resolve-service-host.ts, or a gateway route rule), picks one eligible endpoint
// (service-state.ts: kube-proxy's rules, then the service's balancing policy on the WASM core)
// and forwards to it through the runtime's transport, streaming both ways. Everything runtime-
// specific (sockets, pools, the client's address) comes in through the options, so this module
// runs unchanged on Node and Deno.
//
// vipr is never an open proxy: the only addresses it dials are endpoints of the current routing
// table (and ExternalName targets on the allow-list). A name that is not in the table gets a 404.
import { Hono, type Context } from "hono";
import type { CoreEngine } from "../wasm/core-engine.ts";
import { hashKeyOf } from "./balancing/hash-key.ts";
import type { RandomSource } from "./balancing/least-request.ts";
import type { Pick, PickExplanation, PickRequest } from "./balancing/pick.ts";
import { isFailureStatus, type EndpointHealthView, type OutlierDetectionOptions } from "./balancing/outlier-detection.ts";
import { DEFAULT_POLICY_CONFIG, type PolicyConfig } from "./balancing/policy-config.ts";
import type { ServiceBalancer } from "./balancing/service-balancer.ts";
import { createHeaderForwarder, type HeaderForwarder } from "./forward/forward-headers.ts";
import { parseIp } from "./forward/cidr-set.ts";
import { headerListGet } from "./forward/header-list.ts";
import {
  UpstreamError,
  webRequestHeaders,
  type ClientAddressOf,
  type RequestHeadersOf,
  type UpstreamTarget,
  type UpstreamTransport,
} from "./forward/upstream-transport.ts";
import type { AccessLog } from "./observability/access-log.ts";
import { NoopMetrics, type MetricsRecorder } from "./observability/router-metrics.ts";
import { requestTarget } from "./request-target.ts";
import { resolveServiceHost, type ServiceHostResolution } from "./resolve-service-host.ts";
import { compileRouteRules, matchRoute, type RouteRule, type RouteRuleConfig } from "./route-rules.ts";
import { connectNotSupported, errorResponse, traceNotAllowed, userinfoNotAllowed, type RouterErrorCode } from "./router-errors.ts";
import { BodyTooLargeError } from "./forward/body-limit.ts";
import { DEFAULT_RETRY_OPTIONS, RetryBudget, retryable, type RetryOptions } from "./retry-policy.ts";
import { ServiceStates } from "./service-state.ts";
import { DEFAULT_ROUTER_TIMEOUTS, type RouterTimeouts } from "./timeout-config.ts";
import { DialableTargets } from "./dialable-targets.ts";
import { ConcurrencyLimits, DEFAULT_MAX_REQUESTS } from "./concurrency-limits.ts";
import { isBuiltFrom } from "./table/build-routing-table.ts";
import { serviceKey, type RoutingTable, type ServiceEntry, type ServicePortEntry } from "./table/routing-table.ts";

export type { RouterTimeouts } from "./timeout-config.ts";

export interface ServiceRouterOptions {
  readonly core: CoreEngine;
  readonly transport: UpstreamTransport;
  /** The client's address, from the serve adapter. */
  readonly clientAddress: ClientAddressOf;
  /** The request's fields as a flat list, from the serve adapter (default: from the Web Request). */
  readonly requestHeaders?: RequestHeadersOf;
  /** The router's own namespace, where short names resolve. Default "default". */
  readonly namespace?: string;
  /** Default "cluster.local". */
  readonly clusterDomain?: string;
  /** Where this router runs, for topology-aware routing (node and zone hints). */
  readonly nodeName?: string;
  readonly zone?: string;
  /** Policy when a service has no annotation. Default least-request. */
  readonly defaultPolicy?: PolicyConfig;
  /** A request header whose value is a label selector naming a subset, unless a service names
   * its own in vipr.io/subset-header. Default "x-vipr-subset"; "" turns request subsets off. */
  readonly subsetHeader?: string;
  /** Gateway rules, checked before service names. */
  readonly routes?: readonly RouteRuleConfig[];
  /** ExternalName targets that may be dialled (exact host names). Default none. */
  readonly externalNameAllowList?: readonly string[];
  /** Router-wide timeouts (timeout-config.ts); a service overrides each by annotation
   * (vipr.io/connect-timeout, response-timeout, idle-timeout, request-timeout). Default connect
   * 2 s, response 30 s per try, idle 60 s, request (overall) 0: none. */
  readonly timeouts?: Partial<RouterTimeouts>;
  /** Requests in flight router-wide, until their response ends; beyond it 503 `overloaded`
   * (concurrency-limits.ts). Default 10000; 0: none. A service sets its own limit with the
   * annotation vipr.io/max-requests. */
  readonly maxRequests?: number;
  /** Retries of tries that failed safely (retry-policy.ts); default 2 retries, within a budget of
   * 20% of the requests over the last 10 s plus 10 per second. */
  readonly retries?: Partial<RetryOptions>;
  /** Passive health (outlier-detection.ts): consecutive failures eject an endpoint for a while;
   * default 5 failures, 30 s growing to 300 s, at most 50% of a service; false: off. */
  readonly outlierDetection?: Omit<OutlierDetectionOptions, "now"> | false;
  /** "http" or "https": what clients used to reach vipr, for X-Forwarded-Proto. Default "http". */
  readonly proto?: string;
  readonly trustForwarded?: boolean;
  /** Proxies in front of vipr, as CIDR ranges (forward-headers.ts): their forwarded fields are
   * appended to, and a request is attributed to the right-most untrusted address. Default none. */
  readonly trustedProxies?: readonly string[];
  readonly metrics?: MetricsRecorder;
  readonly accessLog?: AccessLog;
  /** Log lines (policy annotation problems). Default: nothing. */
  readonly log?: (line: string) => void;
  readonly now?: () => number;
  readonly random?: RandomSource;
}

export interface ExplainQuery {
  readonly host: string;
  readonly path?: string;
  readonly key?: string;
  readonly subset?: string;
  readonly clientIp?: string;
}

export type ExplainAnswer =
  | ({ found: true; host: string; resolvedAs: unknown } & PickExplanation)
  | { found: false; host: string; error: string; message: string; parsed?: unknown };

/** An Upgrade that offers only h2c (HTTP/2 over cleartext, RFC 7540 section 3.2): a server may
 * ignore it and answer in HTTP/1.1 (RFC 9110 section 7.8), which is what happens when it is
 * dropped with the other hop-by-hop fields, so it needs no refusal. */
function onlyH2c(upgrade: string): boolean {
  return upgrade.split(",").every((token) => token.trim().toLowerCase() === "h2c");
}

/** Whether a Connection field value lists the "upgrade" option. RFC 9110 section 7.8: a server
 * that sends Upgrade must list it in Connection, and a recipient ignores an Upgrade a proxy did not
 * strip (section 7.6.1): without it there is no upgrade request, only a field to drop. */
function connectionListsUpgrade(connection: string | undefined): boolean {
  if (connection === undefined) return false;
  return connection.split(",").some((token) => token.trim().toLowerCase() === "upgrade");
}

/** Why a failed try was not retried: the failure was not safe to repeat (retry-policy.ts), the
 * overall request timeout had passed, the retries allowed were used, no untried endpoint was left,
 * or the retry budget (a share of the requests in flight) was spent. */
type NotRetried = "not_safe_to_retry" | "request_timeout" | "max_retries" | "no_other_endpoint" | "retry_budget";

/** One admitted request's slot in the concurrency limits (concurrency-limits.ts). */
interface Admission {
  readonly service: string;
  /** A response was handed to the client: its end (onEnd) releases the slot. */
  handedOver: boolean;
  released: boolean;
}

function targetOf(pick: Pick): UpstreamTarget {
  return { address: pick.endpoint.address, port: pick.port, addressType: pick.endpoint.addressType, identity: pick.endpoint.identity };
}

/**
 * A try's response timeout: the service's per-try timeout, cut to the time left of the overall
 * request timeout (counted from the request's arrival, `started` on performance.now()); at least
 * 1 ms, since 0 would mean no limit.
 */
function responseTimeoutMs(timeouts: RouterTimeouts, started: number): number {
  if (timeouts.requestMs <= 0) return timeouts.responseMs;
  const left = Math.max(1, Math.ceil(timeouts.requestMs - (performance.now() - started)));
  return timeouts.responseMs > 0 ? Math.min(timeouts.responseMs, left) : left;
}

/** Resolutions are cached per snapshot, up to this many hosts (then the cache starts over). */
const RESOLUTION_CACHE_LIMIT = 10_000;

export class ServiceRouter {
  /** The request path: mount it, or hand its fetch to a serve adapter. */
  readonly app: Hono;
  #table: RoutingTable | undefined;
  #resolutions = new Map<string, ServiceHostResolution>();
  readonly #states: ServiceStates;
  readonly #rules: readonly RouteRule[];
  readonly #options: ServiceRouterOptions;
  readonly #namespace: string;
  readonly #clusterDomain: string;
  readonly #forwarder: HeaderForwarder;
  readonly #metrics: MetricsRecorder;
  readonly #requestHeaders: RequestHeadersOf;
  readonly #subsetHeader: string;
  readonly #allowedExternalNames: ReadonlySet<string>;
  readonly #budget: RetryBudget;
  readonly #limits: ConcurrencyLimits;
  readonly #targets: DialableTargets;

  constructor(options: ServiceRouterOptions) {
    this.#options = options;
    this.#namespace = options.namespace ?? "default";
    this.#clusterDomain = options.clusterDomain ?? "cluster.local";
    this.#rules = compileRouteRules(options.routes ?? [], this.#namespace);
    this.#forwarder = createHeaderForwarder({ trustForwarded: options.trustForwarded ?? false, trustedProxies: options.trustedProxies ?? [] });
    this.#metrics = options.metrics ?? new NoopMetrics();
    this.#requestHeaders = options.requestHeaders ?? webRequestHeaders;
    this.#subsetHeader = (options.subsetHeader ?? "x-vipr-subset").toLowerCase();
    this.#budget = new RetryBudget({ ...DEFAULT_RETRY_OPTIONS, ...options.retries });
    this.#limits = new ConcurrencyLimits(options.maxRequests ?? DEFAULT_MAX_REQUESTS, options.log);
    this.#allowedExternalNames = new Set((options.externalNameAllowList ?? []).map((name) => name.toLowerCase()));
    this.#targets = new DialableTargets(this.#allowedExternalNames);
    const eligibility = { ...(options.nodeName === undefined ? {} : { nodeName: options.nodeName }), ...(options.zone === undefined ? {} : { zone: options.zone }) };
    this.#states = new ServiceStates({
      core: options.core,
      defaultPolicy: options.defaultPolicy ?? DEFAULT_POLICY_CONFIG,
      defaultTimeouts: Object.freeze({ ...DEFAULT_ROUTER_TIMEOUTS, ...options.timeouts }),
      eligibility,
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
      log: options.log ?? (() => {}),
      ...(options.outlierDetection === undefined ? {} : { outlierDetection: options.outlierDetection }),
    });
    this.#metrics.ejectionsFrom(() => this.#states.ejectedCounts());
    this.#metrics.inFlightFrom(() => this.#limits.inFlight);
    this.app = new Hono();
    this.app.all("*", (c) => this.#handle(c));
  }

  /** The snapshot requests are routed by, undefined before the first. */
  get table(): RoutingTable | undefined {
    return this.#table;
  }

  /**
   * Publishes a new snapshot by one reference swap; requests in flight keep the one they started
   * with. When the snapshot was built from the current one (isBuiltFrom), its `rebuilt` and
   * `removed` name every service that differs, and the publish costs those services only.
   */
  setTable(table: RoutingTable): void {
    const last = this.#table;
    this.#table = table;
    this.#resolutions = new Map();
    this.#metrics.tableBuilt(table);
    const changed = last !== undefined && isBuiltFrom(table, last) ? [...table.rebuilt, ...table.removed] : undefined;
    for (const { service, moved } of this.#states.published(table, changed)) this.#metrics.keysMoved(service, moved);
    // Pools of endpoints that left the table close once their requests finish.
    const targets = this.#targets;
    if (changed === undefined) {
      targets.clear();
      for (const service of table.services.values()) targets.replace(undefined, service);
    } else {
      for (const key of changed) targets.replace(last!.services.get(key), table.services.get(key));
    }
    this.#options.transport.retain(targets.keys);
  }

  /** Passive health of every endpoint with a failure on record, by service key (/debug/table). */
  endpointHealth(): Map<string, EndpointHealthView[]> {
    return this.#states.outlierSnapshot();
  }

  /** Which endpoint a request would reach and why, without sending it or counting it. */
  explain(query: ExplainQuery): ExplainAnswer {
    const table = this.#table;
    if (table === undefined) return { found: false, host: query.host, error: "no_table", message: "no routing table has been loaded yet" };
    const found = this.#find(table, query.host.toLowerCase(), query.path ?? "/");
    if (!found.ok) return { found: false, host: query.host, error: found.code, message: found.message, ...(found.parsed === undefined ? {} : { parsed: found.parsed }) };
    if (found.service.type === "ExternalName") {
      return { found: false, host: query.host, error: "external_name", message: `service ${found.service.key} is an ExternalName alias of ${found.service.externalName ?? "?"}` };
    }
    const balancer = this.#states.balancer(found.service, found.port);
    // Without a key, the key a request from this client to this path would have (client-ip, path).
    const clientIp = parseIp(query.clientIp ?? "")?.text ?? query.clientIp ?? ""; // as the runtimes spell it
    const source = balancer.config.hashKey;
    const hashKey = query.key !== undefined || source === undefined ? query.key : hashKeyOf(source, [], query.path ?? "/", clientIp);
    const request: PickRequest = { hashKey: hashKey === "" ? undefined : hashKey, clientIp, subset: query.subset ?? found.subset };
    return { found: true, host: query.host, resolvedAs: { service: found.service.key, port: found.port.port, path: found.path }, ...balancer.explain(request) };
  }

  /** Frees WASM tables and closes the transport's pools. */
  async close(): Promise<void> {
    this.#states.close();
    await this.#options.transport.close();
  }

  #find(
    table: RoutingTable,
    authority: string,
    pathAndQuery: string,
  ):
    | { ok: true; service: ServiceEntry; port: ServicePortEntry; path: string; subset: string | undefined }
    | { ok: false; code: RouterErrorCode; message: string; parsed?: unknown; service?: string } {
    if (this.#rules.length > 0) {
      const colon = authority.lastIndexOf(":");
      const hostname = colon > 0 && authority.indexOf("]") < colon ? authority.slice(0, colon) : authority;
      const route = matchRoute(this.#rules, hostname, pathAndQuery);
      if (route !== undefined) {
        const { rule } = route;
        const key = serviceKey(rule.namespace, rule.service);
        const service = table.services.get(key);
        if (service === undefined) return { ok: false, code: "unknown_service", message: `route for ${JSON.stringify(authority)}${rule.pathPrefix} names service ${key}, which is not in the table`, service: key };
        const port = rule.port === undefined ? service.ports[0] : service.ports.find((p) => p.port === rule.port || p.name === rule.port);
        if (port === undefined) return { ok: false, code: "unknown_port", message: `route for ${JSON.stringify(authority)}${rule.pathPrefix}: service ${key} has no port ${String(rule.port ?? "")}`, service: key };
        return { ok: true, service, port, path: route.path, subset: rule.subset };
      }
    }
    let resolution = this.#resolutions.get(authority);
    if (resolution === undefined) {
      resolution = resolveServiceHost(authority, table, { namespace: this.#namespace, clusterDomain: this.#clusterDomain });
      if (this.#resolutions.size >= RESOLUTION_CACHE_LIMIT) this.#resolutions = new Map();
      this.#resolutions.set(authority, resolution);
    }
    if (!resolution.ok) {
      const code: RouterErrorCode = resolution.error === "malformed-host" ? "unknown_host" : resolution.error === "unknown-port" ? "unknown_port" : "unknown_service";
      return { ok: false, code, message: resolution.message, parsed: resolution.parsed };
    }
    return { ok: true, service: resolution.service, port: resolution.port, path: pathAndQuery, subset: undefined };
  }

  async #handle(c: Context): Promise<Response> {
    const started = performance.now();
    const raw = c.req.raw;
    const method = raw.method;
    if (method === "CONNECT") {
      const response = connectNotSupported();
      this.#metrics.requestDone("-", response.status, (performance.now() - started) / 1000);
      return response;
    }
    if (method === "TRACE" || method === "TRACK") return this.#refuse(c, started, traceNotAllowed(method));
    const table = this.#table;
    const headers = this.#requestHeaders(c);
    const target = requestTarget(raw.url, headerListGet(headers, "host") ?? null);
    if (target.userinfo !== undefined) return this.#refuse(c, started, userinfoNotAllowed(target.userinfo));
    if (target.scheme === "https") {
      // An absolute-form https target (the only way one gets here: vipr listens in cleartext).
      // vipr dials pods in cleartext; forwarding would silently downgrade what the client asked to
      // be sent over TLS. 421: router-errors.ts says why.
      return this.#fail(c, started, "", "https_not_supported", `vipr cannot forward to an https:// target (it reaches pods over plain HTTP only); send http://${target.authority}${target.pathAndQuery} or use TLS to the service directly`, { host: target.authority });
    }
    if (table === undefined) {
      return this.#fail(c, started, "", "no_endpoints", "vipr has not loaded a routing table yet", { host: target.authority });
    }
    const found = this.#find(table, target.authority, target.pathAndQuery);
    if (!found.ok) {
      this.#metrics.unknownHost();
      return this.#fail(c, started, found.service ?? "", found.code, found.message, { host: target.authority, ...(found.parsed === undefined ? {} : { parsed: found.parsed }) });
    }
    const { service, port } = found;
    const upgrade = headerListGet(headers, "upgrade");
    // Upgrade without "upgrade" in Connection is not an upgrade request (RFC 9110 section 7.8): it
    // is proxied as a plain request, and the forwarder drops the Upgrade field, which RFC 9110
    // section 7.6.1 tells intermediaries to remove whether or not Connection names it (the pod
    // would otherwise see an upgrade offer the client never made to it).
    if (upgrade !== undefined && !onlyH2c(upgrade) && connectionListsUpgrade(headerListGet(headers, "connection"))) {
      // The forwarder drops Upgrade as a hop-by-hop field, so a WebSocket handshake would reach the
      // pod as a plain GET and the client would fail on a 200 it cannot read. Refuse it plainly,
      // as Envoy refuses upgrade types it is not configured for.
      const shown = upgrade.slice(0, 64);
      return this.#fail(c, started, service.key, "upgrade_not_supported", `vipr does not proxy protocol upgrades (Upgrade: ${shown}); the request was not sent to ${service.key}`, { service: service.key, upgrade: shown });
    }
    const overload = this.#limits.admit(service);
    if (overload !== undefined) {
      return this.#fail(c, started, service.key, "overloaded", overload.message, { service: service.key, scope: overload.scope, limit: overload.limit });
    }
    // Released once: by the transport's onEnd when a response was handed over, else here.
    const admission: Admission = { service: service.key, handedOver: false, released: false };
    try {
      return await this.#route(c, started, service, port, headers, target, found.path, found.subset, admission);
    } finally {
      if (!admission.handedOver) this.#release(admission);
    }
  }

  #release(admission: Admission): void {
    if (admission.released) return;
    admission.released = true;
    this.#limits.release(admission.service);
  }

  /** Requests in flight now, router-wide (admitted and not yet ended). */
  get inFlight(): number {
    return this.#limits.inFlight;
  }

  async #route(
    c: Context,
    started: number,
    service: ServiceEntry,
    port: ServicePortEntry,
    headers: readonly string[],
    target: { authority: string; pathAndQuery: string },
    path: string,
    routeSubset: string | undefined,
    admission: Admission,
  ): Promise<Response> {
    const clientIp = this.#forwarder.clientAddress(this.#options.clientAddress(c), headers);
    if (service.type === "ExternalName") return this.#forwardExternalName(c, started, service, port, headers, target, path, clientIp, admission);

    const balancer = this.#states.balancer(service, port);
    const timeouts = this.#states.timeoutsOf(service);
    const policy = balancer.config;
    const hashKey = policy.hashKey === undefined ? undefined : hashKeyOf(policy.hashKey, headers, target.pathAndQuery, clientIp);
    const subsetHeader = policy.subsetHeader ?? this.#subsetHeader;
    const subset = routeSubset ?? (subsetHeader === "" ? undefined : headerListGet(headers, subsetHeader));
    const pick = balancer.pick({ hashKey, clientIp, subset });
    if (!pick.ok) {
      const code: RouterErrorCode = pick.reason === "bad-subset" ? "bad_subset" : "no_endpoints";
      return this.#fail(c, started, service.key, code, pick.message, { service: service.key, port: port.port });
    }
    this.#budget.requestStarted();
    return this.#forwardWithRetries(c, started, service.key, timeouts, balancer, pick, { hashKey, clientIp, subset }, headers, target, path, admission);
  }

  /**
   * Forwards to the picked endpoint; when a try fails in a way that is safe to repeat
   * (retry-policy.ts) and the retry budget allows, picks again with the next attempt (Maglev:
   * the key's next endpoint on its preference walk; others: an endpoint not tried yet) and
   * sends the request there. With an overall request timeout, no retry starts once it has passed,
   * and each try's response timeout is cut to the time left.
   */
  async #forwardWithRetries(
    c: Context,
    started: number,
    service: string,
    timeouts: RouterTimeouts,
    balancer: ServiceBalancer,
    first: Pick,
    request: PickRequest,
    headers: readonly string[],
    target: { authority: string; pathAndQuery: string },
    path: string,
    admission: Admission,
  ): Promise<Response> {
    const method = c.req.raw.method;
    const hasBody = headerListGet(headers, "transfer-encoding") !== undefined || (headerListGet(headers, "content-length") ?? "0") !== "0";
    const tried: number[] = [];
    let pick = first;
    for (let attempt = 0; ; attempt++) {
      let failure: UpstreamError;
      try {
        return await this.#forward(c, started, service, timeouts, balancer, pick, targetOf(pick), headers, target, path, request.clientIp, admission);
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error;
        failure = error;
      }
      // Why this failure is the answer, said in the error (`tries`, `notRetried`) so that a client
      // or an operator can tell a request that could not be retried from one that was not allowed to.
      const tries = attempt + 1;
      // The client left or its body broke off: its failure, so neither a retry nor a 502.
      if (failure.kind === "aborted") return this.#upstreamFailure(c, started, service, targetOf(pick), failure, tries);
      if (!retryable(failure, method, hasBody)) return this.#upstreamFailure(c, started, service, targetOf(pick), failure, tries, "not_safe_to_retry");
      if (timeouts.requestMs > 0 && performance.now() - started >= timeouts.requestMs) {
        // The overall timeout has passed: no further try, whatever the failure.
        return this.#upstreamFailure(c, started, service, targetOf(pick), failure, tries, "request_timeout");
      }
      if (attempt >= this.#budget.maxRetries) return this.#upstreamFailure(c, started, service, targetOf(pick), failure, tries, "max_retries");
      if (tried.length + 1 >= balancer.eligibleCount) return this.#upstreamFailure(c, started, service, targetOf(pick), failure, tries, "no_other_endpoint");
      if (!this.#budget.tryRetry()) return this.#upstreamFailure(c, started, service, targetOf(pick), failure, tries, "retry_budget");
      tried.push(pick.index);
      const next = balancer.pick({ ...request, attempt: attempt + 1, tried });
      if (!next.ok) {
        return this.#upstreamFailure(c, started, service, targetOf(pick), failure, tries, "no_other_endpoint");
      }
      pick = next;
    }
  }

  #upstreamFailure(c: Context, started: number, service: string, upstream: UpstreamTarget, error: UpstreamError, tries = 1, notRetried?: NotRetried): Response {
    // The client's chunked body passed the serve adapter's maxBodyBytes and the transport aborted
    // the try (kind "aborted": never retried): 413, as the adapter's Content-Length check answers.
    const tooLarge = error.cause;
    if (tooLarge instanceof BodyTooLargeError) return this.#fail(c, started, service, "body_too_large", tooLarge.message, { maxBodyBytes: tooLarge.maxBodyBytes });
    // The client left or its body broke off: nobody reads this answer, but the access log and the
    // 499 in vipr_requests_total say whose failure it was (the code leads the log's error, as in onEnd).
    if (error.kind === "aborted") return this.#fail(c, started, service, "client_aborted", `client_aborted: ${error.message}`, { service, endpoint: upstream.identity, sent: error.sentRequest });
    const code: RouterErrorCode =
      error.kind === "timeout" ? "upstream_timeout" : error.kind === "connect" ? "upstream_connect" : error.kind === "protocol" ? "upstream_protocol" : "upstream_reset";
    return this.#fail(c, started, service, code, error.message, { service, endpoint: upstream.identity, sent: error.sentRequest, tries, ...(notRetried === undefined ? {} : { notRetried }) });
  }

  async #forward(
    c: Context,
    started: number,
    service: string,
    timeouts: RouterTimeouts,
    balancer: ServiceBalancer | undefined,
    pick: Pick | undefined,
    upstream: UpstreamTarget,
    headers: readonly string[],
    target: { authority: string; pathAndQuery: string },
    path: string,
    clientIp: string,
    admission: Admission,
  ): Promise<Response> {
    const host = headerListGet(headers, "host");
    const outgoing = this.#forwarder.request(headers, {
      clientAddress: this.#options.clientAddress(c), // the peer: trusted or not, and the hop appended
      proto: this.#options.proto ?? "http",
      // Absolute-form requests carry the name in the request-target; it replaces Host.
      ...(host === undefined || host.toLowerCase() !== target.authority ? { authority: target.authority } : {}),
    });
    if (pick !== undefined) balancer?.acquire(pick);
    let status = 0;
    const metrics = this.#metrics;
    const accessLog = this.#options.accessLog;
    const method = c.req.raw.method;
    try {
      const response = await this.#options.transport.forward(c, upstream, {
        method,
        path,
        headers: outgoing,
        rewriteResponseHeaders: this.#forwarder.response,
        connectTimeoutMs: timeouts.connectMs,
        responseTimeoutMs: responseTimeoutMs(timeouts, started),
        idleTimeoutMs: timeouts.idleMs,
        deadline: timeouts.requestMs > 0 ? started + timeouts.requestMs : undefined,
        onResponse: (code) => {
          status = code;
        },
        onEnd: (outcome) => {
          this.#release(admission);
          if (pick !== undefined && balancer !== undefined) {
            balancer.release(pick);
            // A client that left or whose body broke off ("aborted") says nothing about the
            // endpoint: no outcome.
            const kind = outcome.error?.kind;
            if (kind !== "aborted") this.#tried(service, balancer, pick, kind !== undefined || isFailureStatus(status));
          }
          const seconds = (performance.now() - started) / 1000;
          const error = outcome.error;
          metrics.requestDone(service, status, seconds);
          // The client's failure is not an upstream error of the endpoint's.
          if (error !== undefined && error.kind !== "aborted") metrics.upstreamError(service, upstream.identity, error.kind);
          if (accessLog?.enabled === true && accessLog.sample()) {
            accessLog.write({
              time: new Date().toISOString(),
              method,
              host: target.authority,
              path: target.pathAndQuery,
              status,
              duration_ms: seconds * 1000,
              service,
              endpoint: upstream.identity,
              upstream_status: status,
              bytes: outcome.bytesOut,
              client: clientIp,
              ...(error === undefined ? {} : { error: error.kind === "aborted" ? `client_aborted: ${error.message}` : error.message }),
            });
          }
        },
      });
      admission.handedOver = true;
      return response;
    } catch (error) {
      if (pick !== undefined) balancer?.release(pick);
      if (error instanceof UpstreamError && error.kind !== "aborted") {
        metrics.upstreamError(service, upstream.identity, error.kind);
        if (pick !== undefined && balancer !== undefined) this.#tried(service, balancer, pick, true);
      }
      throw error;
    }
  }

  /** Passive health: one try's outcome, and the ejection metric when it ejected the endpoint. */
  #tried(service: string, balancer: ServiceBalancer, pick: Pick, failed: boolean): void {
    if (balancer.recordOutcome(pick, failed)) this.#metrics.endpointEjected(service, pick.endpoint.identity);
  }

  #forwardExternalName(
    c: Context,
    started: number,
    service: ServiceEntry,
    port: ServicePortEntry,
    headers: readonly string[],
    target: { authority: string; pathAndQuery: string },
    path: string,
    clientIp: string,
    admission: Admission,
  ): Promise<Response> {
    const name = (service.externalName ?? "").toLowerCase();
    if (!this.#allowedExternalNames.has(name)) {
      return Promise.resolve(
        this.#fail(c, started, service.key, "external_name_not_allowed", `service ${service.key} is an ExternalName alias of ${JSON.stringify(name)}, which is not on the router's allow-list`, { service: service.key }),
      );
    }
    // An allowed external name is dialled by name: the transport resolves it. addressType only
    // decides bracketing in the pool key, and a DNS name needs none.
    const upstream: UpstreamTarget = { address: name, port: port.port, addressType: "IPv4", identity: name };
    return this.#forward(c, started, service.key, this.#states.timeoutsOf(service), undefined, undefined, upstream, headers, target, path, clientIp, admission).catch((error: unknown) => {
      if (!(error instanceof UpstreamError)) throw error;
      return this.#upstreamFailure(c, started, service.key, upstream, error);
    });
  }

  /** A request refused before routing with a ready-made error response (TRACE, userinfo). */
  #refuse(c: Context, started: number, response: Response): Response {
    return this.#answered(c, started, "", response, response.headers.get("x-vipr-error") ?? "", "");
  }

  #fail(c: Context, started: number, service: string, code: RouterErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}): Response {
    return this.#answered(c, started, service, errorResponse(code, message, details), message, String(details["host"] ?? ""));
  }

  /** Counts and logs an answer vipr gave itself. */
  #answered(c: Context, started: number, service: string, response: Response, message: string, host: string): Response {
    this.#metrics.requestDone(service === "" ? "-" : service, response.status, (performance.now() - started) / 1000);
    const accessLog = this.#options.accessLog;
    if (accessLog?.enabled === true && accessLog.sample()) {
      const raw = c.req.raw;
      accessLog.write({
        time: new Date().toISOString(),
        method: raw.method,
        host,
        path: "",
        status: response.status,
        duration_ms: performance.now() - started,
        service: service === "" ? null : service,
        endpoint: null,
        upstream_status: null,
        bytes: 0,
        client: this.#forwarder.clientAddress(this.#options.clientAddress(c), this.#requestHeaders(c)),
        error: message,
      });
    }
    return response;
  }
}
