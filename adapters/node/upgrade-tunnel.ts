// WebSocket upgrades on the node:http server (Node, and Deno's node:http): the server's 'upgrade'
// event hands over the client's socket after the handshake request's head; the router picks the
// endpoint (ServiceRouter.routeUpgrade); this module dials it with node:net, writes the handshake,
// and relays bytes both ways with backpressure (ws-relay.ts), the pod's answer as it is: its 101
// and what follows (RFC 6455 section 4.2.2), or its refusal (a 403, a 426: section 4.2.2 too).
// vipr never reads the payloads, so subprotocols (Sec-WebSocket-Protocol, section 11.3.4),
// extensions (negotiated between the client and the pod) and close codes (section 7.4) pass
// unchanged; it reads frame headers only, to know where it may put a frame of its own.
//
// Lifetime: the route holds the request's concurrency slot and its endpoint's in-flight count
// until both sockets have closed. An error on either socket destroys the other; a clean close of
// one ends the other once what was relayed to it is written. A pod that refuses the connection
// (nothing sent) is retried on another endpoint when the router says so (UpgradeRoute.failed);
// otherwise a pod that cannot be dialled, or closes before its first byte, gets vipr's JSON 502
// (504 for the connect timeout) to the client and counts against the pod; nothing after the pod's
// answer does (either side may end a WebSocket, section 7).
//
// Where vipr itself ends a tunnel (the idle timeout, the server's drain) it says so as an endpoint
// going away would: at the next frame boundary of each direction it sends a Close frame with 1001
// (section 7.4.1), unmasked to the client and masked to the pod (section 5.3: vipr speaks as the
// client there), then FIN, and reads and drops what comes back (the peers' Close replies) for at
// most GOING_AWAY_MS before closing the sockets. A direction whose sender already sent its Close
// gets none from vipr (section 5.5.1: nothing follows a Close).
import { randomBytes } from "node:crypto";
import net, { type Socket } from "node:net";
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { TunnelEndReason, UpgradeRoute } from "../../router/forward/upgrade-route.ts";
import { UpstreamError } from "../../router/forward/upstream-transport.ts";
import { closeFrame, GOING_AWAY } from "../../router/forward/ws-frames.ts";
import { watchIdle } from "./idle-check.ts";
import { Relay } from "./ws-relay.ts";
import type { OpenTunnels } from "./ws-tunnels.ts";

/** How long a tunnel vipr ends waits for a frame boundary and the peers' Close replies before it
 * closes the sockets anyway. Short: the CLI's stop allows 500 ms past the grace period
 * (adapters/cli/serve-command.ts), and the Close frames are written at once in the usual case. */
export const GOING_AWAY_MS = 400;

/** The reason sent in vipr's Close frame, by why vipr ended the tunnel. */
const GOING_AWAY_REASONS: Partial<Record<TunnelEndReason, string>> = { shutdown: "vipr is shutting down", idle_timeout: "idle timeout" };
/** Whether node:http should emit 'upgrade' for this request (server option shouldUpgradeCallback):
 * only a WebSocket handshake (RFC 6455 section 4.1: Upgrade "websocket", Connection listing
 * "upgrade"). Anything else, h2c included, stays an ordinary request for the app, which ignores
 * an h2c offer and refuses other upgrades (router/pipeline/admit-stage.ts). */
export function isWebSocketUpgrade(request: IncomingMessage): boolean {
  const upgrade = request.headers.upgrade;
  const connection = request.headers.connection;
  return (
    upgrade !== undefined &&
    upgrade.trim().toLowerCase() === "websocket" &&
    connection !== undefined &&
    connection.split(",").some((token) => token.trim().toLowerCase() === "upgrade")
  );
}

/** The handshake request as node:http received it, for routeUpgrade (the router reads the fields
 * from `incoming.rawHeaders`, through the serve adapter's requestHeaders). */
export function upgradeRequestOf(incoming: IncomingMessage): Request {
  const target = incoming.url ?? "/";
  // An absolute-form target (RFC 9112 section 3.2.2) names the authority itself.
  const url = /^https?:\/\//i.test(target) ? target : `http://${incoming.headers.host ?? ""}${target}`;
  return new Request(url, { method: incoming.method ?? "GET" });
}

/**
 * Relays one upgrade: `route` is routeUpgrade's answer for it (a Response is written to the
 * client as it is, then the socket is closed). `head` is what the client sent after its request's
 * head, already read by the server (the first frames, if any). `tunnels`: the server's open
 * tunnels, which its close ends (ws-tunnels.ts).
 */
export function tunnelUpgrade(client: Socket, head: Buffer, route: UpgradeRoute | Response, tunnels?: OpenTunnels): void {
  client.pause(); // nothing read until the pod's socket can take it
  if (route instanceof Response) return void endWithResponse(client, route);
  new Tunnel(client, head, tunnels).dial(route);
}

class Tunnel {
  readonly #client: Socket;
  readonly #head: Buffer;
  readonly #tunnels: OpenTunnels | undefined;
  #route!: UpgradeRoute;
  #pod!: Socket;
  #toPod: Relay | undefined;
  #toClient: Relay | undefined;
  #connected = false;
  /** The pod's first byte arrived. */
  #answered = false;
  /** The status of the pod's answer, once its head has passed. */
  #status = 0;
  /** vipr answered the client itself (the route's failure): nothing to report as ended. */
  #failed = false;
  #podError: Error | undefined;
  #clientError = false;
  #podClosed = false;
  #clientClosed = false;
  /** Which side ended first, for the report: the first Close frame's sender, or the first socket
   * to close. */
  #firstEnd: TunnelEndReason | undefined;
  /** Set when vipr ends the tunnel itself. */
  #ending: TunnelEndReason | undefined;
  #settled = false;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #goingAwayTimer: ReturnType<typeof setTimeout> | undefined;
  /** Stops the idle timeout's check (idle-check.ts). */
  #stopIdle: (() => void) | undefined;

  constructor(client: Socket, head: Buffer, tunnels: OpenTunnels | undefined) {
    this.#client = client;
    this.#head = head;
    this.#tunnels = tunnels;
    tunnels?.add(client, this);
    client.on("error", () => (this.#clientError = true));
    client.once("close", () => this.#onClientClose());
  }

  /** Dials the route's endpoint (again, for a retry on another endpoint). */
  dial(route: UpgradeRoute): void {
    this.#route = route;
    const { upstream } = route;
    const pod = (this.#pod = net.connect({ host: upstream.address, port: upstream.port, family: upstream.addressType === "IPv6" ? 6 : 4, noDelay: true }));
    this.#connected = false;
    this.#podClosed = false;
    this.#podError = undefined;
    if (route.connectTimeoutMs > 0) {
      this.#connectTimer = setTimeout(() => {
        this.#podError = new UpstreamError("timeout", upstream, false, `connect timeout after ${route.connectTimeoutMs} ms`);
        pod.destroy();
      }, route.connectTimeoutMs);
    }
    pod.on("error", (error) => (this.#podError = error));
    pod.once("connect", () => this.#onConnect());
    pod.once("data", () => (this.#answered = true));
    pod.once("close", () => this.#onPodClose());
  }

  #onConnect(): void {
    const client = this.#client;
    const pod = this.#pod;
    const route = this.#route;
    this.#connected = true;
    clearTimeout(this.#connectTimer);
    if (this.#clientClosed) return void pod.destroy();
    pod.write(handshakeOf(route));
    const traffic = route.traffic;
    this.#toClient = new Relay(pod, client, (bytes) => (traffic.bytesToClient += bytes), (status) => this.#onAnswerHead(status));
    this.#toPod = new Relay(client, pod, (bytes) => (traffic.bytesToPod += bytes));
    // Who sent the first Close frame ended the tunnel, whichever side then closes TCP first (the
    // server does, RFC 6455 section 7.1.1).
    this.#toPod.frames.onClose = () => (this.#firstEnd ??= "client_closed");
    this.#toClient.frames.onClose = () => (this.#firstEnd ??= "pod_closed");
    if (this.#head.length > 0) this.#toPod.relay(this.#head);
    client.resume();
    this.#stopIdle?.();
    if (route.idleTimeoutMs > 0) {
      // The tunnel is silent while neither direction relays a byte (idle-check.ts: the byte
      // counts, read a few times per period, not a timer refreshed on every chunk).
      const toClient = this.#toClient;
      const toPod = this.#toPod;
      this.#stopIdle = watchIdle(route.idleTimeoutMs, () => toClient.bytes + toPod.bytes, () => this.terminate("idle_timeout"));
    }
  }

  #onAnswerHead(status: number): void {
    this.#status = status;
    if (status === 101) this.#route.opened();
  }

  #onPodClose(): void {
    const client = this.#client;
    this.#podClosed = true;
    clearTimeout(this.#connectTimer);
    if (!this.#answered && !this.#clientClosed && this.#ending === undefined) {
      const next = this.#route.failed(this.#dialError());
      if (!(next instanceof Response)) return this.dial(next); // another endpoint, nothing sent yet
      this.#failed = true;
      this.#stopIdle?.();
      this.#tunnels?.delete(client);
      if (this.#toPod !== undefined) this.#toPod.stopped = true; // the client's bytes go nowhere now
      return void endWithResponse(client, next);
    }
    this.#firstEnd ??= this.#podError === undefined ? "pod_closed" : "pod_reset";
    if (this.#ending === undefined) {
      if (this.#podError !== undefined) client.destroy();
      else endThenDestroy(client);
    }
    this.#settle();
  }

  /** Why the pod gave no answer, as the router's error kinds say it. */
  #dialError(): UpstreamError {
    const { upstream } = this.#route;
    const podError = this.#podError;
    if (podError instanceof UpstreamError) return podError;
    if (this.#connected) {
      return new UpstreamError("reset", upstream, true, podError === undefined ? "closed the connection before answering the handshake" : podError.message, { cause: podError });
    }
    return new UpstreamError("connect", upstream, false, podError?.message ?? "connection closed while connecting", { cause: podError });
  }

  #onClientClose(): void {
    this.#clientClosed = true;
    this.#firstEnd ??= this.#clientError ? "client_reset" : "client_closed";
    if (this.#ending === undefined) {
      if (this.#clientError || !this.#answered) this.#pod.destroy();
      else endThenDestroy(this.#pod);
    }
    this.#settle();
  }

  #settle(): void {
    if (!this.#podClosed || !this.#clientClosed || this.#failed || this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#goingAwayTimer);
    this.#stopIdle?.();
    this.#tunnels?.delete(this.#client);
    const reason = this.#ending ?? (this.#answered && this.#status !== 101 ? "not_upgraded" : this.#firstEnd!);
    this.#route.ended({ status: this.#status, bytesOut: this.#toClient?.bytes ?? 0, bytesIn: this.#toPod?.bytes ?? 0, reason });
  }

  /**
   * vipr ends the tunnel (its idle timeout, the server's drain): a Close frame 1001 to each side at
   * the next frame boundary of its direction, then FIN; the sockets close when the peers answer,
   * or after GOING_AWAY_MS. Before the pod switched protocols there are no frames: both sockets
   * are closed at once.
   */
  terminate(reason: TunnelEndReason): void {
    if (this.#ending !== undefined || this.#settled || this.#failed) return;
    this.#ending = reason;
    const client = this.#client;
    const pod = this.#pod;
    this.#stopIdle?.();
    const destroyBoth = (): void => void (pod.destroy(), client.destroy());
    const toClient = this.#toClient;
    const toPod = this.#toPod;
    if (this.#status !== 101 || toClient === undefined || toPod === undefined) return destroyBoth();
    this.#goingAwayTimer = setTimeout(destroyBoth, GOING_AWAY_MS);
    const why = GOING_AWAY_REASONS[reason] ?? "";
    toClient.stopAtBoundary(() => {
      if (!toClient.frames.closeSeen && !client.destroyed) client.write(closeFrame(GOING_AWAY, why));
      endOnly(client);
    });
    toPod.stopAtBoundary(() => {
      if (!toPod.frames.closeSeen && !pod.destroyed) pod.write(closeFrame(GOING_AWAY, why, randomBytes(4)));
      endOnly(pod);
    });
  }
}

/** Ends the socket's writing side (FIN after what is queued); it closes when its peer ends too. */
function endOnly(socket: Socket): void {
  if (!socket.destroyed && socket.writable) socket.end();
}

/** The handshake as the pod gets it: the request line and the route's fields (RFC 9112 section
 * 3; the values came through node:http's parser or from the forwarder, so hold no CR or LF). */
function handshakeOf(route: UpgradeRoute): string {
  let head = `${route.method} ${route.path} HTTP/1.1\r\n`;
  const fields = route.headers;
  for (let i = 0, n = fields.length; i + 1 < n; i += 2) head += `${fields[i]}: ${fields[i + 1]}\r\n`;
  return `${head}\r\n`;
}

/** Ends the socket's writing side once what is queued is written, then closes it. */
function endThenDestroy(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end(() => socket.destroy());
}

/**
 * Writes a small Response (vipr's own answer) on a socket the HTTP server has handed over, then
 * closes it: the upgrade and CONNECT paths, where no ServerResponse exists.
 */
export async function endWithResponse(socket: Socket, response: Response): Promise<void> {
  const body = await response.text();
  const head = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}`];
  response.headers.forEach((value, name) => {
    if (name !== "content-length" && name !== "connection") head.push(`${name}: ${value}`);
  });
  head.push(`content-length: ${Buffer.byteLength(body)}`, "connection: close");
  if (!socket.destroyed) socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}
