// A router with a body limit and pods that count every request body byte they receive, including
// those of requests cut off half way, for tests/safety/body-limit.test.ts. Served on this runtime.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createAccessLog } from "../../../router/observability/access-log.ts";
import type { RunningServer } from "../../../adapters/runtime-adapter.ts";
import type { UpstreamTarget } from "../../../router/forward/upstream-transport.ts";
import { ServiceRouter } from "../../../router/service-router.ts";
import { buildRoutingTable } from "../../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../../wasm/core-engine.ts";
import { closeNow, listenOnLoopback, seedService, slicesFor } from "../../support/seed-backends.ts";
import { recordingTransport, runtime } from "./safety-router.ts";

/** One request as a pod saw it. */
export interface PodRequest {
  readonly path: string;
  /** Body bytes received so far. */
  bytes: number;
  /** Sum of the body bytes mod 65521, as the seed pods compute it. */
  sum: number;
  /** The body ended (last chunk received). */
  complete: boolean;
  /** The connection closed before the body ended. */
  aborted: boolean;
}

export interface CountingPod {
  readonly name: string;
  readonly port: number;
  readonly requests: PodRequest[];
  close(): Promise<void>;
}

/**
 * A pod that counts body bytes as they arrive. /upload answers once the body ended, with
 * {bodyBytes, bodySum}; /early sends its response head and a first chunk at once, then reads the
 * body and ends the response when the body ends.
 */
export function startCountingPod(name: string): Promise<CountingPod> {
  const requests: PodRequest[] = [];
  const server = http.createServer((request, response) => {
    const seen: PodRequest = { path: new URL(request.url ?? "/", "http://pod").pathname, bytes: 0, sum: 0, complete: false, aborted: false };
    requests.push(seen);
    if (seen.path === "/early") {
      response.writeHead(200, { "content-type": "text/plain" });
      response.write("early answer\n");
    }
    request.on("data", (chunk: Buffer) => {
      seen.bytes += chunk.length;
      for (const byte of chunk) seen.sum = (seen.sum + byte) % 65521;
    });
    request.on("end", () => {
      seen.complete = true;
      if (seen.path === "/early") return void response.end("done\n");
      response.setHeader("content-type", "application/json");
      response.setHeader("x-pod", name);
      response.end(JSON.stringify({ pod: name, bodyBytes: seen.bytes, bodySum: seen.sum }));
    });
    request.on("close", () => {
      if (!seen.complete) seen.aborted = true;
    });
  });
  return listenOnLoopback(server).then((port) => ({ name, port, requests, close: () => closeNow(server) }));
}

/** A loopback port nothing listens on: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface BodyLimitRouter {
  readonly server: RunningServer;
  readonly pods: readonly CountingPod[];
  /** Every target the router asked its transport to dial, in order. */
  readonly dialled: UpstreamTarget[];
  /** Access log lines, parsed. */
  readonly accessLog: Record<string, unknown>[];
  close(): Promise<void>;
}

/** simpleservice with `pods` counting pods (and an endpoint that refuses connections, with
 * `deadEndpoint`), round-robin, served with `maxBodyBytes`. */
export async function startBodyLimitRouter(options: { maxBodyBytes: number; pods: number; deadEndpoint?: boolean }): Promise<BodyLimitRouter> {
  const pods = await Promise.all(Array.from({ length: options.pods }, (_, i) => startCountingPod(`rcsise-${i}`)));
  const endpoints = pods.map((pod) => ({ pod: pod.name, port: pod.port }));
  if (options.deadEndpoint === true) endpoints.push({ pod: "rcsise-dead", port: await closedPort() });
  const dialled: UpstreamTarget[] = [];
  const accessLog: Record<string, unknown>[] = [];
  const router = new ServiceRouter({
    core: createWasmCore(),
    transport: recordingTransport(runtime.createTransport(), dialled),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    defaultPolicy: { policy: "round-robin", loadFactor: 1.25 },
    timeouts: { connectMs: 500, responseMs: 2000 },
    outlierDetection: false,
    accessLog: createAccessLog({ sampleRate: 1, write: (line) => accessLog.push(JSON.parse(line) as Record<string, unknown>) }),
  });
  router.setTable(buildRoutingTable({ services: [seedService()], endpointSlices: slicesFor("simpleservice", endpoints) }));
  const server = await runtime.serve(router.app, { closeGraceMs: 200, maxBodyBytes: options.maxBodyBytes });
  return {
    server,
    pods,
    dialled,
    accessLog,
    close: async () => {
      await server.close();
      await router.close();
      await Promise.all(pods.map((pod) => pod.close()));
    },
  };
}

/** `size` body bytes (latin1, one char per byte) that are not all alike, so a sum checks them. */
export function bodyBytes(size: number, seed = 0): string {
  let out = "";
  for (let i = 0; i < size; i++) out += String.fromCharCode((i * 31 + seed) % 256);
  return out;
}

/** What the counting pod computes for `body`. */
export function bodySum(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum = (sum + body.charCodeAt(i)) % 65521;
  return sum;
}

/** A chunked POST (RFC 9112 section 7.1) as separate writes: the head, one write per chunk of
 * `chunkBytes`, then the last chunk. */
export function chunkedPost(path: string, body: string, chunkBytes: number, fields = ""): string[] {
  const writes = [`POST ${path} HTTP/1.1\r\nhost: simpleservice\r\ntransfer-encoding: chunked\r\n${fields}\r\n`];
  for (let at = 0; at < body.length; at += chunkBytes) {
    const chunk = body.slice(at, at + chunkBytes);
    writes.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
  }
  writes.push("0\r\n\r\n");
  return writes;
}

/** Resolves once `check` holds, or after `ms` (then the caller's assertion says what is wrong). */
export async function eventually(check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
}
