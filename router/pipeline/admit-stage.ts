// Admit: whether a resolved request may go on, and every in-flight count it holds while it does.
// A protocol upgrade is refused unless it is a WebSocket handshake that came through the server's
// upgrade path (ServiceRouter.routeUpgrade, relayed by a tunnel), then the concurrency limits
// (concurrency-limits.ts) give it a slot or a 503. The slot, and the count of the current try on
// its endpoint (the balancer's, which least-request and bounded load read), are taken and given
// back here only, each exactly once, whichever way the request ends.
import { headerListGet } from "../forward/header-list.ts";
import type { ConcurrencyLimits } from "../concurrency-limits.ts";
import type { Exchange } from "./exchange.ts";
import type { ReportStage } from "./report-stage.ts";

/** An Upgrade that offers only h2c (HTTP/2 over cleartext, RFC 7540 section 3.2): a server may
 * ignore it and answer in HTTP/1.1 (RFC 9110 section 7.8), which is what happens when it is
 * dropped with the other hop-by-hop fields, so it needs no refusal. */
function onlyH2c(upgrade: string): boolean {
  return upgrade.split(",").every((token) => token.trim().toLowerCase() === "h2c");
}

/** An Upgrade that offers exactly WebSocket (RFC 6455 section 4.1: the value "websocket", in any
 * case). A list that also offers something else is not relayed: the pod could pick the other. */
function onlyWebSocket(upgrade: string): boolean {
  return upgrade.trim().toLowerCase() === "websocket";
}

/** Whether a Connection field value lists the "upgrade" option. RFC 9110 section 7.8: a server
 * that sends Upgrade must list it in Connection, and a recipient ignores an Upgrade a proxy did not
 * strip (section 7.6.1): without it there is no upgrade request, only a field to drop. */
function connectionListsUpgrade(connection: string | undefined): boolean {
  if (connection === undefined) return false;
  return connection.split(",").some((token) => token.trim().toLowerCase() === "upgrade");
}

export class AdmitStage {
  readonly #limits: ConcurrencyLimits;
  readonly #report: ReportStage;

  constructor(limits: ConcurrencyLimits, report: ReportStage) {
    this.#limits = limits;
    this.#report = report;
  }

  /** Requests in flight now, router-wide (admitted and not yet ended). */
  get inFlight(): number {
    return this.#limits.inFlight;
  }

  /** Takes a slot for the exchange's service, or answers the request. */
  admit(exchange: Exchange): Response | undefined {
    const service = exchange.service!;
    const upgrade = headerListGet(exchange.headers, "upgrade");
    // Upgrade without "upgrade" in Connection is not an upgrade request (RFC 9110 section 7.8): it
    // is proxied as a plain request, and the forwarder drops the Upgrade field, which RFC 9110
    // section 7.6.1 tells intermediaries to remove whether or not Connection names it (the pod
    // would otherwise see an upgrade offer the client never made to it).
    const offered = upgrade !== undefined && connectionListsUpgrade(headerListGet(exchange.headers, "connection"));
    // A tunnel carries a WebSocket handshake or nothing; the request path, anything but one.
    const refused = exchange.tunnelled ? !(offered && onlyWebSocket(upgrade)) : offered && !onlyH2c(upgrade);
    if (refused) {
      // Outside a tunnel the forwarder drops Upgrade as a hop-by-hop field, so a handshake would
      // reach the pod as a plain GET and the client would fail on a 200 it cannot read. Only
      // WebSocket gets a tunnel (the node:http server's upgrade event); any other protocol is
      // refused plainly, as Envoy refuses upgrade types it is not configured for.
      const shown = (upgrade ?? "").slice(0, 64);
      const message = `vipr does not proxy protocol upgrades (Upgrade: ${shown}); the request was not sent to ${service.key}`;
      return this.#report.fail(exchange, "upgrade_not_supported", message, { service: service.key, upgrade: shown });
    }
    const overload = this.#limits.admit(service);
    if (overload !== undefined) {
      return this.#report.fail(exchange, "overloaded", overload.message, { service: service.key, scope: overload.scope, limit: overload.limit });
    }
    exchange.admitted = true;
    return undefined;
  }

  /** Gives the slot back (once). The response's end does it when a response was handed over; the
   * pipeline's return, when not. */
  release(exchange: Exchange): void {
    if (!exchange.admitted) return;
    exchange.admitted = false;
    this.#limits.release(exchange.service!.key);
  }

  /** Counts the current try in flight on its endpoint. */
  acquirePick(exchange: Exchange): void {
    const { balancer, pick } = exchange;
    if (balancer === undefined || pick === undefined) return; // ExternalName: dialled by name
    balancer.acquire(pick);
    exchange.holdsPick = true;
  }

  /** Counts the current try out again: its response ended, or it failed. */
  releasePick(exchange: Exchange): void {
    if (!exchange.holdsPick) return;
    exchange.holdsPick = false;
    exchange.balancer!.release(exchange.pick!);
  }
}
