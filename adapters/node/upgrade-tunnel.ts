// WebSocket upgrades on the node:http server (Node, and Deno's node:http): the server's 'upgrade'
// event hands over the client's socket after the handshake request's head; the router picks the
// endpoint (ServiceRouter.routeUpgrade); this module dials it with node:net, writes the handshake,
// and relays bytes both ways with backpressure (`pipe`), the pod's answer as it is: its 101 and
// what follows (RFC 6455 section 4.2.2), or its refusal (a 403, a 426: section 4.2.2 too). vipr
// never reads the frames, so subprotocols (Sec-WebSocket-Protocol, section 11.3.4), extensions and
// close codes (section 7.4) pass unchanged.
//
// Lifetime: the route holds the request's concurrency slot and its endpoint's in-flight count
// until both sockets have closed. An error on either socket destroys the other; a clean close of
// one ends the other once what was relayed to it is written. A pod that cannot be dialled, or
// closes before its first byte, gets vipr's JSON 502 (504 for the connect timeout) to the client
// and counts against the pod; nothing after the pod's answer does (either side may end a
// WebSocket, section 7).
import net, { type Socket } from "node:net";
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { UpgradeRoute } from "../../router/forward/upgrade-route.ts";
import { UpstreamError } from "../../router/forward/upstream-transport.ts";

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
 * head, already read by the server (the first frames, if any).
 */
export function tunnelUpgrade(client: Socket, head: Buffer, route: UpgradeRoute | Response): void {
  client.pause(); // nothing read until the pod's socket can take it
  if (route instanceof Response) return void endWithResponse(client, route);
  const { upstream } = route;
  const pod = net.connect({ host: upstream.address, port: upstream.port, family: upstream.addressType === "IPv6" ? 6 : 4, noDelay: true });
  let connected = false;
  let answered = false; // the pod's first byte arrived
  let failed = false; // vipr answered the client itself
  let podError: Error | undefined;
  let clientError = false;
  let podClosed = false;
  let clientClosed = false;
  let status = 0;
  let bytesOut = 0;

  const connectTimer =
    route.connectTimeoutMs > 0
      ? setTimeout(() => {
          podError = new UpstreamError("timeout", upstream, false, `connect timeout after ${route.connectTimeoutMs} ms`);
          pod.destroy();
        }, route.connectTimeoutMs)
      : undefined;

  const settle = (): void => {
    if (podClosed && clientClosed && !failed) route.ended({ status, bytesOut });
  };

  pod.on("error", (error) => (podError = error));
  client.on("error", () => (clientError = true));
  pod.once("connect", () => {
    connected = true;
    clearTimeout(connectTimer);
    pod.write(handshakeOf(route));
    if (head.length > 0) pod.write(head);
    // The pod's end is handled below: before its first byte, the client gets vipr's 502.
    pod.pipe(client, { end: false });
    client.pipe(pod);
    if (route.idleTimeoutMs > 0) {
      // A byte either way touches both sockets (read on one, written on the other), so each
      // socket's own idle timer measures the tunnel's silence.
      const idle = (): void => void (pod.destroy(), client.destroy());
      pod.setTimeout(route.idleTimeoutMs, idle);
      client.setTimeout(route.idleTimeoutMs, idle);
    }
  });
  pod.on("data", (chunk: Buffer) => {
    if (!answered) {
      answered = true;
      // The status line: "HTTP/1.1 101 Switching Protocols" (RFC 9112 section 4).
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString("latin1", 0, 16));
      status = match === null ? 0 : Number(match[1]);
    }
    bytesOut += chunk.length;
  });
  pod.once("close", () => {
    podClosed = true;
    clearTimeout(connectTimer);
    if (!answered && !clientClosed) {
      failed = true;
      client.unpipe(pod);
      const error =
        podError instanceof UpstreamError
          ? podError
          : connected
            ? new UpstreamError("reset", upstream, true, podError === undefined ? "closed the connection before answering the handshake" : podError.message, { cause: podError })
            : new UpstreamError("connect", upstream, false, podError?.message ?? "connection closed while connecting", { cause: podError });
      return void endWithResponse(client, route.failed(error));
    }
    if (podError !== undefined) client.destroy();
    else endThenDestroy(client);
    settle();
  });
  client.once("close", () => {
    clientClosed = true;
    if (clientError || !answered) pod.destroy();
    else endThenDestroy(pod);
    settle();
  });
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
