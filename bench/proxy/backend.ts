// The benchmark's backend: node:http answering every request with a small fixed body, keep-alive.
// Usage: node bench/proxy/backend.ts PORT   (prints "ready PORT" when listening)
import http from "node:http";
import type { AddressInfo } from "node:net";

const body = Buffer.from(JSON.stringify({ host: "127.0.0.1", version: "0.5.0", from: "bench" }) + "\n");
const server = http.createServer((request, response) => {
  request.resume();
  response.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
  response.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
