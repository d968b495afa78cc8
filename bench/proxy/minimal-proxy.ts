// The minimal hand-written proxy the benchmarks compare vipr with: node:http + undici
// Pool.stream() straight into the raw response, to one backend, hop-by-hop headers dropped
// (RFC 9110 section 7.6.1). Used by baseline-node.ts (one process) and shared-listener.ts (N).
import http from "node:http";
import { Writable } from "node:stream";
import { Pool } from "undici";

export function createMinimalProxy(backendPort: number): http.Server {
  const pool = new Pool(`http://127.0.0.1:${backendPort}`, { connections: 128, pipelining: 1 });
  const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"]);
  const server = http.createServer((request, response) => {
    pool.stream(
      { path: request.url ?? "/", method: (request.method ?? "GET") as "GET", headers: request.headers as Record<string, string>, body: request.method === "GET" || request.method === "HEAD" ? null : request },
      ({ statusCode, headers }) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(headers)) if (value !== undefined && !hopByHop.has(name)) out[name] = value;
        response.writeHead(statusCode, out);
        return response as unknown as Writable;
      },
      (error) => {
        if (error !== null && !response.headersSent) {
          response.writeHead(502);
          response.end();
        }
      },
    );
  });
  server.keepAliveTimeout = 60_000;
  return server;
}
