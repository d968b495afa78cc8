// Metrics of upgraded connections (WebSocket tunnels, adapters/node/upgrade-tunnel.ts): how many
// are open per service, the bytes relayed each way, and how tunnels ended. A tunnel lives for
// minutes or hours, so its bytes are counted as they flow, not when it ends: the relay adds to a
// per-service cell (plain number fields, no prom-client call per chunk) that the counters read on
// scrape, as router-metrics.ts does for requests.
import { Counter, Gauge, type Registry } from "prom-client";

/** Why a tunnel ended: the client or the pod closed first (sent the first Close frame, RFC 6455
 * section 7.1.2, or without one closed its connection first) or reset its connection, vipr's idle
 * timeout, vipr's drain, or the pod answered the handshake without switching protocols (its
 * refusal was relayed). */
export type TunnelEndReason = "client_closed" | "pod_closed" | "client_reset" | "pod_reset" | "idle_timeout" | "shutdown" | "not_upgraded";

/** A service's running totals; the relay adds to the byte fields directly. */
export class TunnelTraffic {
  open = 0;
  bytesToPod = 0;
  bytesToClient = 0;
}

/** What the router calls; TunnelMetrics records, NOOP_TUNNELS does nothing. */
export interface TunnelRecorder {
  /** The cell a tunnel of `service` adds its bytes to. */
  traffic(service: string): TunnelTraffic;
  /** The pod switched protocols: one more open tunnel. */
  opened(traffic: TunnelTraffic): void;
  /** A tunnel ended; `wasOpen`: opened() was called for it. */
  ended(service: string, traffic: TunnelTraffic, wasOpen: boolean, reason: TunnelEndReason): void;
}

export class TunnelMetrics implements TunnelRecorder {
  readonly #cells = new Map<string, TunnelTraffic>();
  readonly #ends = new Map<string, number>();

  constructor(registry: Registry) {
    const registers = [registry];
    const cells = this.#cells;
    const ends = this.#ends;
    new Gauge<"service">({
      name: "vipr_tunnels_open",
      help: "Upgraded connections (WebSocket tunnels) open now, by service.",
      labelNames: ["service"],
      registers,
      collect() {
        for (const [service, cell] of cells) this.set({ service }, cell.open);
      },
    });
    new Counter<"service" | "direction">({
      name: "vipr_tunnel_bytes_total",
      help: "Bytes relayed through upgraded connections, by service and direction (to_pod, to_client).",
      labelNames: ["service", "direction"],
      registers,
      collect() {
        // The cells hold running totals: set the counter to them (reset, then add the total).
        this.reset();
        for (const [service, cell] of cells) {
          this.inc({ service, direction: "to_pod" }, cell.bytesToPod);
          this.inc({ service, direction: "to_client" }, cell.bytesToClient);
        }
      },
    });
    new Counter<"service" | "reason">({
      name: "vipr_tunnel_ends_total",
      help: "Upgraded connections ended, by service and reason (client_closed, pod_closed, client_reset, pod_reset, idle_timeout, shutdown, not_upgraded).",
      labelNames: ["service", "reason"],
      registers,
      collect() {
        this.reset();
        for (const [key, count] of ends) {
          const cut = key.lastIndexOf(" ");
          this.inc({ service: key.slice(0, cut), reason: key.slice(cut + 1) }, count);
        }
      },
    });
  }

  traffic(service: string): TunnelTraffic {
    let cell = this.#cells.get(service);
    if (cell === undefined) this.#cells.set(service, (cell = new TunnelTraffic()));
    return cell;
  }

  opened(traffic: TunnelTraffic): void {
    traffic.open++;
  }

  ended(service: string, traffic: TunnelTraffic, wasOpen: boolean, reason: TunnelEndReason): void {
    if (wasOpen) traffic.open--;
    const key = `${service} ${reason}`;
    this.#ends.set(key, (this.#ends.get(key) ?? 0) + 1);
  }
}

/** Metrics off: a throwaway cell, nothing counted. */
export const NOOP_TUNNELS: TunnelRecorder = Object.freeze({
  traffic: () => new TunnelTraffic(),
  opened: () => {},
  ended: () => {},
});
