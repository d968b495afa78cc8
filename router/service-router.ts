// vipr's request path: a Hono app that takes a request addressed to a service name (or matched by
// a gateway route rule) and forwards it to one endpoint of that service, streaming both ways. It is
// assembled here as a pipeline of stages over one per-request value, the exchange
// (pipeline/exchange.ts), each stage in its own module:
//
//   resolve  (pipeline/resolve-stage.ts)  which service and port, or a 4xx for a name vipr won't dial
//   admit    (pipeline/admit-stage.ts)    concurrency limits and upgrades; every in-flight count
//   pick     (pipeline/pick-stage.ts)     the endpoint, from the service's balancer
//   forward  (pipeline/forward-stage.ts)  the transport, with retries
//   report   (pipeline/report-stage.ts)   metrics, passive health and the access log, in one place
//
// Everything runtime-specific (sockets, pools, the client's address) comes in through the options,
// so this module runs unchanged on Node and Deno.
//
// vipr is never an open proxy: the only addresses it dials are endpoints of the current routing
// table (and ExternalName targets on the allow-list). A name that is not in the table gets a 404.
import { Context, Hono } from "hono";
import type { CoreEngine } from "../wasm/core-engine.ts";
import type { RandomSource } from "./balancing/least-request.ts";
import type { PickExplanation } from "./balancing/pick.ts";
import type { EndpointHealthView, OutlierDetectionOptions } from "./balancing/outlier-detection.ts";
import { DEFAULT_POLICY_CONFIG, type PolicyConfig } from "./balancing/policy-config.ts";
import { createHeaderForwarder, type HeaderForwarder } from "./forward/forward-headers.ts";
import { webRequestHeaders, type ClientAddressOf, type RequestHeadersOf, type RequestProtocolOf, type UpstreamTransport } from "./forward/upstream-transport.ts";
import type { UpgradeRoute } from "./forward/upgrade-route.ts";
import type { AccessLog } from "./observability/access-log.ts";
import { NoopMetrics, type MetricsRecorder } from "./observability/router-metrics.ts";
import { hostnameOf } from "./request-target.ts";
import { compileRouteRules, routeRulesAsGatewayObjects, type RouteRuleConfig } from "./route-rules.ts";
import { GatewayRouteState } from "./gateway-api/gateway-route-state.ts";
import type { GatewayApiObjects } from "./gateway-api/gateway-api-objects.ts";
import type { GatewayApiStatus } from "./gateway-api/gateway-conditions.ts";
import type { CompileOptions, ListenerTlsEntry } from "./gateway-api/compile-gateway-routes.ts";
import { DEFAULT_RETRY_OPTIONS, RetryBudget, type RetryOptions } from "./retry-policy.ts";
import { ServiceStates } from "./service-state.ts";
import { upstreamProtocolOf } from "./service-port.ts";
import { DEFAULT_ROUTER_TIMEOUTS, type RouterTimeouts } from "./timeout-config.ts";
import { DialableTargets } from "./dialable-targets.ts";
import { ConcurrencyLimits, DEFAULT_MAX_REQUESTS } from "./concurrency-limits.ts";
import { performanceNow, type MonotonicNow } from "./monotonic-clock.ts";
import { isBuiltFrom } from "./table/build-routing-table.ts";
import type { RoutingTable } from "./table/routing-table.ts";
import { AdmitStage } from "./pipeline/admit-stage.ts";
import { Exchange, peerOf, type ClientOf } from "./pipeline/exchange.ts";
import { ForwardStage } from "./pipeline/forward-stage.ts";
import { PickStage, type ExplainQuery } from "./pipeline/pick-stage.ts";
import { ReportStage } from "./pipeline/report-stage.ts";
import { ResolveStage } from "./pipeline/resolve-stage.ts";

export type { RouterTimeouts } from "./timeout-config.ts";
export type { ExplainQuery } from "./pipeline/pick-stage.ts";

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
  /** The protocol each request came over, for the access log (the serve adapter's). */
  readonly requestProtocol?: RequestProtocolOf;
  /** Whether a request's connection is TLS (the runtime adapter's answer): routes of HTTPS
   * listeners match only then, and X-Forwarded-Proto says https. */
  readonly requestIsTls?: (c: Context) => boolean;
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
  /** Wall time in milliseconds (retry budget, session affinity, slow start, passive health).
   * Default Date.now. */
  readonly now?: () => number;
  /** Milliseconds on a monotonic clock (monotonic-clock.ts), for every timing of a request:
   * durations in the metrics and the access log, the overall request timeout and the time left
   * of it each try gets. Default performance.now(). */
  readonly monotonicNow?: MonotonicNow;
  readonly random?: RandomSource;
}

export type ExplainAnswer =
  | ({ found: true; host: string; resolvedAs: unknown } & PickExplanation)
  | { found: false; host: string; error: string; message: string; parsed?: unknown };

/**
 * The router's Hono app: one route, every request to the pipeline. A serve adapter that already
 * holds the request in a Context of its own may call the pipeline through `direct` and skip Hono's
 * dispatch (serve-node.ts does for GET); `direct` is
 * undefined once anything else was added to the app (middleware, routes), whose requests must
 * then go through fetch.
 */
export class RouterApp extends Hono {
  readonly #handle: (c: Context) => Promise<Response>;

  constructor(handle: (c: Context) => Promise<Response>) {
    super();
    this.#handle = handle;
    this.all("*", handle);
  }

  /** The pipeline, for a Context whose request is a GET: the same answer fetch would give, or a
   * rejection where fetch would answer with the app's error handler (answerError). */
  get direct(): ((c: Context) => Promise<Response>) | undefined {
    return this.routes.length === 1 ? this.#handle : undefined;
  }

  /** What fetch answers when the route throws: the app's error handler's answer (Hono's default:
   * 500 "Internal Server Error", logged). */
  answerError(error: unknown, c: Context): Response | Promise<Response> {
    if (!(error instanceof Error)) throw error;
    return (this as unknown as { errorHandler: (error: Error, c: Context) => Response | Promise<Response> }).errorHandler(error, c);
  }
}

export class ServiceRouter {
  /** The request path: mount it, or hand its fetch to a serve adapter. */
  readonly app: RouterApp;
  #table: RoutingTable | undefined;
  readonly #options: ServiceRouterOptions;
  readonly #requestHeaders: RequestHeadersOf;
  readonly #monotonicNow: MonotonicNow;
  readonly #states: ServiceStates;
  readonly #targets: DialableTargets;
  readonly #metrics: MetricsRecorder;
  readonly #resolve: ResolveStage;
  readonly #admit: AdmitStage;
  readonly #pick: PickStage;
  readonly #forward: ForwardStage;
  readonly #gateway: GatewayRouteState;

  constructor(options: ServiceRouterOptions) {
    this.#options = options;
    this.#requestHeaders = options.requestHeaders ?? webRequestHeaders;
    this.#monotonicNow = options.monotonicNow ?? performanceNow;
    this.#metrics = options.metrics ?? new NoopMetrics();
    const namespace = options.namespace ?? "default";
    const forwarder = createHeaderForwarder({ trustForwarded: options.trustForwarded ?? false, trustedProxies: options.trustedProxies ?? [] });
    const allowedExternalNames = new Set((options.externalNameAllowList ?? []).map((name) => name.toLowerCase()));
    this.#targets = new DialableTargets(allowedExternalNames);
    const now = options.now ?? Date.now;
    this.#states = new ServiceStates({
      core: options.core,
      defaultPolicy: options.defaultPolicy ?? DEFAULT_POLICY_CONFIG,
      defaultTimeouts: Object.freeze({ ...DEFAULT_ROUTER_TIMEOUTS, ...options.timeouts }),
      eligibility: { ...(options.nodeName === undefined ? {} : { nodeName: options.nodeName }), ...(options.zone === undefined ? {} : { zone: options.zone }) },
      now,
      random: options.random ?? Math.random,
      log: options.log ?? (() => {}),
      ...(options.outlierDetection === undefined ? {} : { outlierDetection: options.outlierDetection }),
    });
    const limits = new ConcurrencyLimits(options.maxRequests ?? DEFAULT_MAX_REQUESTS, options.log);
    const clientOf = clientOfExchanges(forwarder, options.clientAddress);

    // The pipeline's stages, each given only what its concern needs.
    const report = new ReportStage(this.#metrics, options.accessLog, clientOf, options.requestProtocol);
    this.#gateway = new GatewayRouteState(routeRulesAsGatewayObjects(compileRouteRules(options.routes ?? [], namespace), namespace));
    const random = options.random ?? Math.random;
    this.#resolve = new ResolveStage({ gateway: this.#gateway, random, namespace, clusterDomain: options.clusterDomain ?? "cluster.local", tlsListener: options.proto === "https", ...(options.requestIsTls === undefined ? {} : { requestIsTls: options.requestIsTls }) }, report);
    this.#admit = new AdmitStage(limits, report);
    this.#pick = new PickStage(this.#states, { subsetHeader: (options.subsetHeader ?? "x-vipr-subset").toLowerCase(), allowedExternalNames, clientOf }, report);
    const budget = new RetryBudget({ ...DEFAULT_RETRY_OPTIONS, ...options.retries }, now);
    this.#forward = new ForwardStage(
      { transport: options.transport, forwarder, clientAddress: options.clientAddress, proto: options.proto ?? "http", budget, random, ...(options.log === undefined ? {} : { log: options.log }) },
      { admit: this.#admit, pick: this.#pick, report },
    );

    this.#metrics.ejectionsFrom(() => this.#states.ejectedCounts());
    this.#metrics.inFlightFrom(() => this.#admit.inFlight);
    this.app = new RouterApp((c) => this.#handle(c));
  }

  /**
   * One request through the pipeline: resolve, admit, pick, forward (with retries), each filling
   * in the exchange; a stage that ends the request early returns the answer it reported. The
   * report stage counts and logs every request once, however it ended.
   */
  async #handle(c: Context): Promise<Response> {
    const exchange = new Exchange(c, this.#monotonicNow, this.#requestHeaders(c));
    const unresolved = this.#resolve.resolve(exchange, this.#table);
    if (unresolved !== undefined) return unresolved;
    const refused = this.#admit.admit(exchange);
    if (refused !== undefined) return refused;
    try {
      const unpicked = this.#pick.pick(exchange);
      if (unpicked !== undefined) return unpicked;
      return await this.#forward.forward(exchange);
    } finally {
      // A response handed to the client keeps its slot until its body ends (forward-stage.ts).
      if (!exchange.handedOver) this.#admit.release(exchange);
    }
  }

  /**
   * A WebSocket handshake from the serve adapter's upgrade path (RFC 6455 section 4.1), through the
   * same resolve, admit and pick stages as any request (a hash key puts a user's socket on the
   * user's pod): where to dial and what to send, or vipr's answer. The route holds the request's
   * slot and its endpoint's count until the adapter reports the tunnel closed (UpgradeRoute.ended).
   * `env` is what the adapter would give the app's fetch (serve-node.ts: { incoming }).
   */
  routeUpgrade(request: Request, env: unknown): UpgradeRoute | Response {
    const c = new Context(request, { env });
    const exchange = new Exchange(c, this.#monotonicNow, this.#requestHeaders(c));
    exchange.tunnelled = true;
    const unresolved = this.#resolve.resolve(exchange, this.#table);
    if (unresolved !== undefined) return unresolved;
    const refused = this.#admit.admit(exchange);
    if (refused !== undefined) return refused;
    const unpicked = this.#pick.pick(exchange);
    if (unpicked !== undefined) {
      this.#admit.release(exchange);
      return unpicked;
    }
    return this.#forward.upgradeRoute(exchange);
  }

  /** The snapshot requests are routed by, undefined before the first. */
  get table(): RoutingTable | undefined {
    return this.#table;
  }

  /**
   * Publishes a new snapshot by one reference swap; requests in flight keep the one they started
   * with. When the snapshot was built from the current one (isBuiltFrom), its `rebuilt` and
   * `removed` name every service that differs, and the publish costs those services only.
   * `fromCurrent` vouches for the same where isBuiltFrom cannot know it: a worker's replica made
   * from the current snapshot and the supervisor's changes (adapters/workers/table-changes.ts).
   */
  setTable(table: RoutingTable, fromCurrent = false): void {
    const last = this.#table;
    this.#table = table;
    this.#resolve.tableChanged();
    this.#metrics.tableBuilt(table);
    const changed = last !== undefined && (fromCurrent || isBuiltFrom(table, last)) ? [...table.rebuilt, ...table.removed] : undefined;
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

  /** Gateway API objects from a table source (file or Kubernetes), served with the route list;
   * returns the status of the objects vipr programs, for the source to write back. */
  setGatewayObjects(objects: GatewayApiObjects, options: CompileOptions = {}): GatewayApiStatus {
    return this.#gateway.update(objects, options);
  }

  /** The HTTPS listeners of the Gateways served and their certificates (for the TLS listener). */
  get gatewayListenerTls(): readonly ListenerTlsEntry[] {
    return this.#gateway.listenerTls;
  }

  /** Requests in flight now, router-wide (admitted and not yet ended). */
  get inFlight(): number {
    return this.#admit.inFlight;
  }

  /** Passive health of every endpoint with a failure on record, by service key (/debug/table). */
  endpointHealth(): Map<string, EndpointHealthView[]> {
    return this.#states.outlierSnapshot();
  }

  /** Which endpoint a request would reach and why, without sending it or counting it. */
  explain(query: ExplainQuery): ExplainAnswer {
    const table = this.#table;
    if (table === undefined) return { found: false, host: query.host, error: "no_table", message: "no routing table has been loaded yet" };
    const authority = query.host.toLowerCase();
    const found = this.#resolve.find(table, { authority, hostname: hostnameOf(authority), pathAndQuery: query.path ?? "/" });
    if (!found.ok) return { found: false, host: query.host, error: found.code, message: found.message, ...(found.parsed === undefined ? {} : { parsed: found.parsed }) };
    if (found.service.type === "ExternalName") {
      return { found: false, host: query.host, error: "external_name", message: `service ${found.service.key} is an ExternalName alias of ${found.service.externalName ?? "?"}` };
    }
    return { found: true, host: query.host, resolvedAs: { service: found.service.key, port: found.port.port, path: found.path, upstreamProtocol: upstreamProtocolOf(found.port) ?? "http/1.1" }, ...this.#pick.explain(found, query) };
  }

  /** Frees WASM tables and closes the transport's pools. */
  async close(): Promise<void> {
    this.#states.close();
    await this.#options.transport.close();
  }
}

/** The client's address of an exchange: the connection's peer, or with trusted proxies the address
 * they forwarded (forward-headers.ts); read once per request, by whichever stage needs it first. */
function clientOfExchanges(forwarder: HeaderForwarder, clientAddress: ClientAddressOf): ClientOf {
  return (exchange) => exchange.client ?? (exchange.client = forwarder.clientAddress(peerOf(exchange, clientAddress), exchange.headers));
}
