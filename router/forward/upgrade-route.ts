// The contract between the router and a serve adapter for protocol upgrades (WebSocket, RFC 6455).
// The router decides where a handshake goes and which fields it carries (ServiceRouter.routeUpgrade:
// the resolve, admit and pick stages, as for any request); the adapter owns the sockets: it dials
// the endpoint, writes the handshake, relays the pod's answer as it is and then the bytes both
// ways (adapters/node/upgrade-tunnel.ts).
import type { TunnelEndReason, TunnelTraffic } from "../observability/tunnel-metrics.ts";
import type { HeaderList } from "./header-list.ts";
import type { UpstreamError, UpstreamTarget } from "./upstream-transport.ts";

export type { TunnelEndReason, TunnelTraffic } from "../observability/tunnel-metrics.ts";

/** A handshake routed to one endpoint. Exactly one of `failed` and `ended` is called, once. */
export interface UpgradeRoute {
  readonly upstream: UpstreamTarget;
  readonly method: string;
  /** Path and query to send (a route rule may have rewritten it). */
  readonly path: string;
  /** The fields to send: the forwarded request's (forward-headers.ts) with Connection and Upgrade
   * put back, since RFC 9110 section 7.8 has the upgrade offered hop by hop, to the pod as well. */
  readonly headers: HeaderList;
  /** Time to open the connection to the pod. 0: no limit. */
  readonly connectTimeoutMs: number;
  /** Longest silence in both directions at once, after which the tunnel is closed. 0: no limit. */
  readonly idleTimeoutMs: number;
  /** The service's running byte counts (tunnel-metrics.ts): the relay adds to them as it goes. */
  readonly traffic: TunnelTraffic;
  /** No answer came from the pod (the dial failed, or it closed before its first byte): counted
   * against the pod; returns the route to try next (a refused connection, where nothing was sent,
   * is retried on another endpoint within the retry budget, as a request is) or vipr's answer for
   * the client (502 or 504, the router's JSON shape). */
  failed(error: UpstreamError): UpgradeRoute | Response;
  /** The pod switched protocols (its 101 arrived): the tunnel counts as open. */
  opened(): void;
  /** The tunnel closed on both sides: frees the slot and the endpoint's count, then reports. */
  ended(outcome: UpgradeOutcome): void;
}

export interface UpgradeOutcome {
  /** The status of the pod's answer (101 when it switched protocols), 0 when it did not parse. */
  readonly status: number;
  /** Bytes relayed from the pod to the client, the pod's answer included. */
  readonly bytesOut: number;
  /** Bytes relayed from the client to the pod after the handshake's head. */
  readonly bytesIn: number;
  readonly reason: TunnelEndReason;
}

/** What a serve adapter needs of the router for upgrades. `env` is the adapter's bindings, as the
 * app's fetch gets them (the client's address and fields are read from it). */
export interface UpgradeRouter {
  routeUpgrade(request: Request, env: unknown): UpgradeRoute | Response;
}
