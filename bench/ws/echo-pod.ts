// The pod of bench:ws: a `ws` echo server that sends every message back as it came. Compression
// off (permessage-deflate): a relay passes bytes, so compressing would cost the same with and
// without one in the path. Prints "ready PORT" once it listens.
// Usage: node bench/ws/echo-pod.ts
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
wss.on("connection", (socket) => socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary })));
wss.on("listening", () => console.log(`ready ${(wss.address() as AddressInfo).port}`));
