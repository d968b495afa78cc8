// Deno's upstream clients side by side (issue 11): the same minimal proxy as baseline-node.ts
// (node:http server, vipr's edge on Deno), forwarding with one of the other clients Deno offers,
// so that bench:proxy can set each against undici under Deno (baseline-node.ts run by Deno, what
// vipr's transport uses there):
//   fetch      fetch with its own connection pool (Deno.createHttpClient), the body streamed back
//   node-http  node:http's client with a keep-alive Agent, the body piped back
// Usage: deno run -A bench/proxy/baseline-deno-client.ts fetch|node-http PORT BACKEND_PORT
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";

interface DenoClients {
  createHttpClient(options: { poolMaxIdlePerHost?: number; http1?: boolean; http2?: boolean }): unknown;
}
const mode = process.argv[2];
const backendPort = Number(process.argv[4]);
const backend = `http://127.0.0.1:${backendPort}`;
const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"]);

function badGateway(response: http.ServerResponse): void {
  if (response.headersSent) return void response.destroy();
  response.writeHead(502);
  response.end();
}

function fetchProxy(): http.RequestListener {
  const deno = (globalThis as unknown as { Deno: DenoClients }).Deno;
  // HTTP/1.1 only, as undici and the backend speak; idle connections kept for 64 wrk connections.
  const client = deno.createHttpClient({ poolMaxIdlePerHost: 128, http1: true, http2: false });
  return (request, response) => {
    const headers = new Headers();
    const raw = request.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (!hopByHop.has(raw[i]!.toLowerCase())) headers.append(raw[i]!, raw[i + 1]!);
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const init = { method: request.method, headers, redirect: "manual", client, body: hasBody ? (Readable.toWeb(request) as ReadableStream) : null, ...(hasBody ? { duplex: "half" } : {}) };
    fetch(backend + (request.url ?? "/"), init as RequestInit).then(async (upstream) => {
      const out: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (!hopByHop.has(name)) out[name] = value;
      });
      response.writeHead(upstream.status, out);
      if (upstream.body !== null) for await (const chunk of upstream.body) response.write(chunk);
      response.end();
    }, () => badGateway(response));
  };
}

function nodeHttpProxy(): http.RequestListener {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  return (request, response) => {
    const upstreamRequest = http.request({ host: "127.0.0.1", port: backendPort, path: request.url, method: request.method, headers: request.headers, agent }, (upstream) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(upstream.headers)) if (value !== undefined && !hopByHop.has(name)) out[name] = value;
      response.writeHead(upstream.statusCode ?? 502, out);
      upstream.pipe(response);
    });
    upstreamRequest.on("error", () => badGateway(response));
    request.pipe(upstreamRequest);
  };
}

const listener = mode === "fetch" ? fetchProxy() : mode === "node-http" ? nodeHttpProxy() : undefined;
if (listener === undefined) throw new Error(`unknown client ${JSON.stringify(mode)}: fetch or node-http`);
const server = http.createServer(listener);
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[3] ?? 0), "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
