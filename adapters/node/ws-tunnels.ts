// The open WebSocket tunnels of one server (serve-node.ts), by their client socket: when the
// server closes, the HTTP server no longer owns these sockets (they left it at the 'upgrade'
// event), so it is told which sockets are tunnels, which it leaves to them, and at the end of the
// grace period it has every tunnel go away with a Close frame (upgrade-tunnel.ts).
import type { Socket } from "node:net";
import type { TunnelEndReason } from "../../router/forward/upgrade-route.ts";

/** What the set needs of a tunnel. */
export interface Terminable {
  /** Ends the tunnel on vipr's side (a Close frame 1001 to each side where it can). */
  terminate(reason: TunnelEndReason): void;
}

export class OpenTunnels {
  readonly #byClient = new Map<Socket, Terminable>();

  add(client: Socket, tunnel: Terminable): void {
    this.#byClient.set(client, tunnel);
  }

  delete(client: Socket): void {
    this.#byClient.delete(client);
  }

  /** Whether this client socket is a tunnel's (the server leaves it to the tunnel). */
  has(client: Socket): boolean {
    return this.#byClient.has(client);
  }

  get size(): number {
    return this.#byClient.size;
  }

  /** The server is going away: every open tunnel is ended (terminate("shutdown")). */
  goAway(): void {
    for (const tunnel of [...this.#byClient.values()]) tunnel.terminate("shutdown");
  }
}
