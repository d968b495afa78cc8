// The HTTP/2 baseline: a minimal hand-written proxy, node:http2 (h2c with prior knowledge, or TLS
// with ALPN h2) + undici Pool.stream() into the compat response, to one HTTP/1.1 backend: what
// vipr's HTTP/2 listener is compared against (bench/h2.bench.ts), run by Node or by Deno.
// Usage: node bench/h2/baseline-h2.ts PORT BACKEND_PORT [CERT KEY]   (prints "ready PORT")
import http2 from "node:http2";
import { readFileSync } from "node:fs";
import type { AddressInfo, Server } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { Writable } from "node:stream";
import { Pool } from "undici";

const backend = Number(process.argv[3]);
const [certFile, keyFile] = [process.argv[4], process.argv[5]];
const pool = new Pool(`http://127.0.0.1:${backend}`, { connections: 128, pipelining: 1 });
const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"]);

const handler = (request: http2.Http2ServerRequest, response: http2.Http2ServerResponse): void => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) if (name[0] !== ":" && typeof value === "string") headers[name] = value;
  headers["host"] = request.authority;
  pool.stream(
    { path: request.url, method: request.method as "GET", headers, body: request.method === "GET" || request.method === "HEAD" ? null : request },
    ({ statusCode, headers: upstream }) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(upstream)) if (value !== undefined && !hopByHop.has(name)) out[name] = value;
      if (response.stream.destroyed) throw new Error("the client reset the stream");
      response.writeHead(statusCode, out);
      return response as unknown as Writable;
    },
    (error) => {
      // h2load cancels its streams in flight when a run ends: a reset stream takes no answer.
      if (error !== null && !response.headersSent && !response.stream.destroyed) {
        response.writeHead(502);
        response.end();
      }
    },
  );
};
const h2 = http2.createServer({ settings: { maxConcurrentStreams: 100 } }, handler);
let server: Server = h2;
if (certFile !== undefined) {
  const tlsOptions = { cert: readFileSync(certFile), key: readFileSync(keyFile!), ALPNProtocols: ["h2"] };
  // Node: http2.createSecureServer, the plain way. Deno 2.9's createSecureServer answered no h2load
  // request (measured: 0 req/s), so there the TLS server hands h2 connections to the h2c server,
  // as vipr does (adapters/node/listener-server.ts).
  server = "Deno" in globalThis ? createTlsServer(tlsOptions, (socket) => h2.emit("connection", socket)) : http2.createSecureServer({ ...tlsOptions, settings: { maxConcurrentStreams: 100 } }, handler);
}
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
