// The exchange: one request's journey through the pipeline (service-router.ts), as one value that
// each stage reads and adds to, so stages take the exchange instead of long parameter lists, as
// linkerd2-proxy's layers take one target that carries what the request has learned so far.
//
// resolve-stage.ts  fills target, service, port, path, routeSubset, origin
// admit-stage.ts    fills admitted, handedOver, holdsPick (every in-flight count is taken there)
// pick-stage.ts     fills client (via clientOf), timeouts, balancer, pickRequest, pick, upstream
// forward-stage.ts  fills tries, status
// report-stage.ts   reads it all, once, for metrics, passive health and the access log
//
// A class with every field set in its constructor: one object shape for every request, so the
// stages' property reads stay monomorphic on the hot path.
import type { Context } from "hono";
import type { Pick, PickRequest } from "../balancing/pick.ts";
import type { ServiceBalancer } from "../balancing/service-balancer.ts";
import type { ClientAddressOf, UpstreamTarget } from "../forward/upstream-transport.ts";
import type { GatewayForwarding } from "../gateway-api/gateway-routing.ts";
import type { MonotonicNow } from "../monotonic-clock.ts";
import type { RequestTarget } from "../request-target.ts";
import type { TrafficOrigin } from "../service-state.ts";
import type { ServiceEntry, ServicePortEntry } from "../table/routing-table.ts";
import type { RouterTimeouts } from "../timeout-config.ts";

export class Exchange {
  /** The request, as the serve adapter gave it to the app. */
  readonly c: Context;
  /** The router's monotonic clock (ServiceRouterOptions.monotonicNow): every timing of the
   * request reads it, through elapsedMs(). */
  readonly clock: MonotonicNow;
  /** Arrival, on `clock`: durations and the overall request timeout count from here. */
  readonly started: number;
  readonly method: string;
  /** The request's fields as a flat list (name, value, ...), from the serve adapter. */
  readonly headers: readonly string[];

  /** Where the request is addressed (resolve). */
  target: RequestTarget | undefined = undefined;
  /** The service key for metrics, errors and the log, "" until a name or route named one; set
   * even when the service is not in the table (a route to a missing service). */
  serviceKey = "";
  /** The service and service port it resolved to (resolve). */
  service: ServiceEntry | undefined = undefined;
  port: ServicePortEntry | undefined = undefined;
  /** Path and query to send upstream: the target's, or a route rule's rewrite (resolve). */
  path = "";
  /** The subset a matched route rule names, over the request's subset header (resolve). */
  routeSubset: string | undefined = undefined;
  /** "h2c" when the port's pods are spoken to in HTTP/2 (service-port.ts upstreamProtocolOf),
   * decided once, where the port is (resolve): the forward stage, the transport, the metrics and
   * the access log all read it. */
  upstreamProtocol: "h2c" | undefined = undefined;
  /** "external" when a gateway route rule matched: externalTrafficPolicy applies (resolve). */
  origin: TrafficOrigin = "internal";
  /** The Gateway API rule that routed it: filters and timeouts the forward stage applies (resolve). */
  gateway: GatewayForwarding | undefined = undefined;
  /** The request arrived over TLS (resolve): X-Forwarded-Proto https whatever the router's default. */
  tls = false;

  /** The connection's peer address, from the serve adapter; read once, when first needed (peerOf). */
  peer: string | undefined = undefined;
  /** The client's address after trusted proxies; read once, when first needed (clientOf). */
  client: string | undefined = undefined;

  /** Came through the server's upgrade path (ServiceRouter.routeUpgrade): a WebSocket handshake
   * to be relayed through a tunnel, which admit lets through. */
  tunnelled = false;

  /** Holds a slot in the concurrency limits (admit). */
  admitted = false;
  /** A response went to the client: its end releases the slot, not the pipeline's return. */
  handedOver = false;
  /** The current try is counted in flight on its endpoint (admit). */
  holdsPick = false;

  /** The service's timeouts (pick). */
  timeouts: RouterTimeouts | undefined = undefined;
  /** Undefined for an ExternalName service, which is dialled by name (pick). */
  balancer: ServiceBalancer | undefined = undefined;
  pickRequest: PickRequest | undefined = undefined;
  /** The current try's endpoint (pick; a retry picks again). */
  pick: Pick | undefined = undefined;
  upstream: UpstreamTarget | undefined = undefined;

  /** Tries sent so far (forward). */
  tries = 0;
  /** The status sent to the client: the upstream response's once its head arrived (forward), or
   * vipr's own answer's (report); 0 before. */
  status = 0;

  constructor(c: Context, clock: MonotonicNow, headers: readonly string[]) {
    this.c = c;
    this.clock = clock;
    this.started = clock();
    this.method = c.req.raw.method;
    this.headers = headers;
  }

  /** Milliseconds since the request arrived, on the router's monotonic clock. */
  elapsedMs(): number {
    return this.clock() - this.started;
  }
}

/** The client's address of an exchange (trusted proxies applied), computed once per request. */
export type ClientOf = (exchange: Exchange) => string;

/** The connection's peer address of an exchange, read from the serve adapter once per request
 * (the client's address, the forwarded-for hop and the access log all start from it). */
export function peerOf(exchange: Exchange, clientAddress: ClientAddressOf): string {
  return exchange.peer ?? (exchange.peer = clientAddress(exchange.c));
}
