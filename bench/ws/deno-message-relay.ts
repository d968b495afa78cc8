// A baseline of bench:ws, on Deno only: the other way Deno offers to proxy a WebSocket, ending it
// with Deno.upgradeWebSocket (under Deno.serve) and relaying each message to a WebSocket of its own
// to the pod. The subprotocol the pod picks is answered to the client, binary stays binary, and
// close codes are passed on where the WebSocket API lets a script send them. What such a relay
// cannot keep, and vipr's byte relay does: close() takes only 1000 and 3000-4999 (WHATWG WebSockets
// standard, the close() method), so a peer's 1001, 1008, 1011 ... reach the other side as no code
// (1005); extensions end at the relay (permessage-deflate is negotiated twice, or not at all); and
// the API has no backpressure (a fast sender fills the relay's memory; only bufferedAmount can be
// polled).
// Prints "ready PORT" once it listens.
// Usage: deno run -A bench/ws/deno-message-relay.ts POD_PORT
interface DenoWebSockets {
  serve(options: { port: number; hostname: string; onListen(addr: { port: number }): void }, handler: (request: Request) => Promise<Response>): unknown;
  upgradeWebSocket(request: Request, options?: { protocol?: string }): { socket: WebSocket; response: Response };
  args: string[];
}
const deno = (globalThis as unknown as { Deno: DenoWebSockets }).Deno;
const pod = `ws://127.0.0.1:${deno.args[0]}`;

/** A close code close() accepts; others (1001, 1005, 1006, 1011, Deno's 0 for a connection that
 * ended without a Close frame) close without one. */
const sendable = (code: number): number | undefined => (code === 1000 || (code >= 3000 && code <= 4999) ? code : undefined);

deno.serve({ port: 0, hostname: "127.0.0.1", onListen: ({ port }) => console.log(`ready ${port}`) }, async (request) => {
  const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
  const url = new URL(request.url);
  const upstream = new WebSocket(pod + url.pathname + url.search, offered);
  upstream.binaryType = "arraybuffer";
  const opened = await new Promise<boolean>((resolve) => {
    upstream.onopen = () => resolve(true);
    upstream.onerror = () => resolve(false);
  });
  if (!opened) return new Response("the pod refused the WebSocket\n", { status: 502 });
  const { socket, response } = deno.upgradeWebSocket(request, upstream.protocol === "" ? {} : { protocol: upstream.protocol });
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => upstream.send(event.data);
  upstream.onmessage = (event) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(event.data);
  };
  socket.onclose = (event) => upstream.close(sendable(event.code), event.reason);
  upstream.onclose = (event) => {
    if (socket.readyState === WebSocket.OPEN) socket.close(sendable(event.code), event.reason);
  };
  return response;
});
