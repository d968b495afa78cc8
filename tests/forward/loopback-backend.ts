// A backend on loopback for the forwarding tests, with node:http (which Deno also provides), so
// both runtimes' transports are tested against the same server.

import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

const chunkSize = 64 * 1024;
let baseChunk: Uint8Array | undefined;

/** Chunk `index` of the deterministic test stream: 64 KiB of xorshift bytes, the first four
 * replaced by the index, so a lost, repeated or reordered chunk changes the checksum. */
export function chunkAt(index: number, size = chunkSize): Uint8Array {
  if (baseChunk === undefined) {
    baseChunk = new Uint8Array(chunkSize);
    let x = 2463534242;
    for (let i = 0; i < chunkSize; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      baseChunk[i] = x & 0xff;
    }
  }
  const chunk = baseChunk.slice(0, size);
  new DataView(chunk.buffer).setUint32(0, index);
  return chunk;
}

/** The chunks of a stream of `bytes` bytes, generated one at a time. */
export function* streamChunks(bytes: number): Generator<Uint8Array> {
  for (let index = 0, left = bytes; left > 0; index++, left -= chunkSize) yield chunkAt(index, Math.min(chunkSize, left));
}

export interface Backend {
  readonly port: number;
  /** TCP connections accepted so far. */
  readonly connections: () => number;
  /** Lets the response of /gated go on after its first chunk. */
  readonly openGate: () => void;
  /** Resolves when /gated-upload has received its first request body chunk. */
  readonly firstUploadChunk: Promise<void>;
  /** Resolves when a /trickle response's connection closed. */
  readonly trickleClosed: Promise<void>;
  close(): Promise<void>;
}

function readAll(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

export async function startBackend(): Promise<Backend> {
  let connections = 0;
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  let sawUploadChunk!: () => void;
  const firstUploadChunk = new Promise<void>((resolve) => (sawUploadChunk = resolve));
  let trickleClosed!: () => void;
  const trickleClosedOnce = new Promise<void>((resolve) => (trickleClosed = resolve));

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://backend");
    switch (url.pathname) {
      case "/echo": {
        const body = (await readAll(request)).toString("utf8");
        response.setHeader("set-cookie", ["a=1", "b=2"]);
        response.setHeader("x-backend-hop", "1");
        response.setHeader("connection", "keep-alive, x-backend-hop");
        response.setHeader("content-type", "application/json");
        response.end(JSON.stringify({ method: request.method, url: request.url, headers: request.rawHeaders, body }));
        return;
      }
      case "/upload": {
        const hash = createHash("sha256");
        let bytes = 0;
        request.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
        });
        request.on("end", () => {
          response.setHeader("content-type", "application/json");
          response.end(JSON.stringify({ bytes, sha256: hash.digest("hex") }));
        });
        return;
      }
      case "/download": {
        const bytes = Number(url.searchParams.get("bytes"));
        response.writeHead(200, { "content-type": "application/octet-stream" });
        for (const chunk of streamChunks(bytes)) {
          if (!response.write(chunk)) await new Promise((resolve) => response.once("drain", resolve));
        }
        response.end();
        return;
      }
      case "/gated": {
        response.writeHead(200, { "content-type": "text/plain" });
        response.write("first;");
        await gate;
        response.end("second");
        return;
      }
      case "/gated-upload": {
        let bytes = 0;
        request.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          sawUploadChunk();
        });
        request.on("end", () => response.end(JSON.stringify({ bytes })));
        return;
      }
      case "/stall":
        // A head and a first chunk, then silence.
        response.writeHead(200, { "content-type": "text/plain" });
        response.write("x");
        return;
      case "/trickle": {
        // A chunk every 20 ms for 3 s, unless the proxy goes away first.
        response.writeHead(200, { "content-type": "application/octet-stream" });
        const timer = setInterval(() => response.write(chunkAt(0, 1024)), 20);
        const stop = setTimeout(() => {
          clearInterval(timer);
          response.end();
        }, 3000);
        response.on("close", () => {
          clearInterval(timer);
          clearTimeout(stop);
          trickleClosed();
        });
        return;
      }
      case "/hang":
        // Never answers; the socket is destroyed by close().
        return;
      case "/reset": {
        response.writeHead(200, { "content-type": "application/octet-stream", "content-length": "1000000" });
        response.write(chunkAt(0));
        setTimeout(() => request.socket.destroy(), 50);
        return;
      }
      case "/redirect":
        response.writeHead(302, { location: "/elsewhere" });
        response.end();
        return;
      default:
        response.writeHead(404);
        response.end();
    }
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    connections: () => connections,
    openGate,
    firstUploadChunk,
    trickleClosed: trickleClosedOnce,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A loopback port with nothing listening: a server is opened and closed on it. */
export async function deadPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
