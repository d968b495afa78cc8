/** vipr's Node edge: serve a Hono app with @hono/node-server, forward with undici pools. @module */
export { serveNode, nodeClientAddress, nodeRequestHeaders, type NodeServer, type ServeNodeOptions } from "./serve-node.ts";
export { createUndiciTransport, type UndiciTransportOptions } from "./undici-transport.ts";
