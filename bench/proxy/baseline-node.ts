// The Node baseline: a minimal hand-written proxy, node:http + undici Pool.stream() into the raw
// response, to one backend. What vipr on Node is compared against, and, run by Deno, vipr on Deno
// too (the same stack there; the other Deno baseline is baseline-deno.ts).
// Usage: node bench/proxy/baseline-node.ts PORT BACKEND_PORT
//        deno run -A bench/proxy/baseline-node.ts PORT BACKEND_PORT
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { Pool } from "undici";

const backend = Number(process.argv[3]);
const pool = new Pool(`http://127.0.0.1:${backend}`, { connections: 128, pipelining: 1 });
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
// Exits on SIGINT through process.exit(), so that `node --cpu-prof` writes its profile.
process.once("SIGINT", () => process.exit(0));
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
