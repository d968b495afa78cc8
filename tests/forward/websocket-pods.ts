// The pods of the WebSocket tests (tests/forward/websocket*.test.ts): real `ws` servers on
// loopback, a pod that refuses every upgrade, and a port nobody listens on.
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { WebSocketServer, type RawData } from "ws";
import { listenOnLoopback } from "../support/seed-backends.ts";

/** A WebSocket pod: echoes every message as it came (text or binary). "whoami" answers its name,
 * "headers" the handshake's fields, "close:<code>" closes with that code, "flood" sends 64 KiB
 * binary messages without end (as fast as the socket drains), so that a relay is mostly inside a
 * frame when it is stopped; the close code a client sent is kept in `closeCodes`. It picks the subprotocol "chat.v2" when offered and accepts
 * permessage-deflate (RFC 7692), which ws clients offer. */
export interface WsPod {
  readonly name: string;
  readonly server: http.Server;
  readonly wss: WebSocketServer;
  readonly port: number;
  readonly closeCodes: number[];
}

export async function startWsPod(name: string): Promise<WsPod> {
  const server = http.createServer((_request, response) => response.end(name));
  const wss = new WebSocketServer({ server, perMessageDeflate: true, handleProtocols: (offered) => (offered.has("chat.v2") ? "chat.v2" : false) });
  const closeCodes: number[] = [];
  wss.on("connection", (socket, request) => {
    socket.on("error", () => {});
    socket.on("close", (code) => closeCodes.push(code));
    socket.on("message", (data: RawData, isBinary) => {
      const text = isBinary ? "" : data.toString();
      if (text === "whoami") return socket.send(name);
      if (text === "headers") return socket.send(JSON.stringify(request.headers));
      if (text.startsWith("close:")) return socket.close(Number(text.slice(6)), "pod says bye");
      if (text === "flood") return flood(socket);
      socket.send(data, { binary: isBinary });
    });
  });
  const port = await listenOnLoopback(server);
  return { name, server, wss, port, closeCodes };
}

/** A pod that refuses every upgrade with 403 (RFC 6455 section 4.2.2: any status but 101). */
export async function startRefusingPod(): Promise<http.Server> {
  const server = http.createServer((_request, response) => response.end());
  server.on("upgrade", (_request, socket: net.Socket) => {
    socket.on("error", () => {});
    socket.end("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nnot for you\r\n");
  });
  await listenOnLoopback(server);
  return server;
}

/** A port nobody listens on: listened on, then closed. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}


/** Sends 64 KiB messages until the socket leaves OPEN, one more each time the last is written. */
function flood(socket: import("ws").WebSocket): void {
  const chunk = Buffer.alloc(65_536, 7);
  const next = (): void => {
    if (socket.readyState === socket.OPEN) socket.send(chunk, { binary: true, compress: false }, next);
  };
  next();
}
