// A router with one loopback pod, served on this runtime with chosen limits, for the safety tests:
// its transport records every target it is asked to dial, and raw sockets talk to it byte by byte
// (fetch would normalise exactly what these tests need to send malformed).
import net from "node:net";
import { loadRuntimeAdapter, type RunningServer, type ServeOptions } from "../../../adapters/runtime-adapter.ts";
import type { UpstreamTarget, UpstreamTransport } from "../../../router/forward/upstream-transport.ts";
import { ServiceRouter } from "../../../router/service-router.ts";
import { buildRoutingTable } from "../../../router/table/build-routing-table.ts";
import { createWasmCore } from "../../../wasm/core-engine.ts";
import { seedService, slicesFor, startPod, type Pod } from "../../support/seed-backends.ts";

export const runtime = await loadRuntimeAdapter();

export interface SafetyRouter {
  readonly pod: Pod;
  readonly server: RunningServer;
  /** Every target the router asked its transport to dial, in order. */
  readonly dialled: UpstreamTarget[];
  close(): Promise<void>;
}

/** Records each target, then forwards through the runtime's own transport. */
export function recordingTransport(inner: UpstreamTransport, dialled: UpstreamTarget[]): UpstreamTransport {
  return {
    forward: (c, target, call) => {
      dialled.push(target);
      return inner.forward(c, target, call);
    },
    retain: (keys) => inner.retain(keys),
    close: () => inner.close(),
  };
}

/** simpleservice (port 80) with one ready pod, served on loopback. */
export async function startSafetyRouter(serveOptions: ServeOptions = {}): Promise<SafetyRouter> {
  const pod = await startPod("rcsise-a1b2c");
  const dialled: UpstreamTarget[] = [];
  const router = new ServiceRouter({
    core: createWasmCore(),
    transport: recordingTransport(runtime.createTransport(), dialled),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    timeouts: { connectMs: 500, responseMs: 1000 },
    outlierDetection: false,
  });
  router.setTable(buildRoutingTable({ services: [seedService()], endpointSlices: slicesFor("simpleservice", [{ pod: pod.name, port: pod.port }]) }));
  const server = await runtime.serve(router.app, { closeGraceMs: 200, ...serveOptions });
  return {
    pod,
    server,
    dialled,
    close: async () => {
      await server.close();
      await router.close();
      await pod.close();
    },
  };
}

export interface RawExchange {
  /** Every byte received, as latin1 (one char per byte). */
  readonly text: string;
  /** The server closed (or reset) the connection before waitMs. */
  readonly closed: boolean;
  readonly ms: number;
}

/** Writes `data` (latin1: one char per byte) and collects the answer until the server closes the
 * connection or `waitMs` passes. `chunks` are written one at a time, `gapMs` apart. */
export function rawExchange(port: number, data: string | readonly string[], options: { waitMs?: number; gapMs?: number } = {}): Promise<RawExchange> {
  const chunks = typeof data === "string" ? [data] : data;
  const waitMs = options.waitMs ?? 2000;
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, "127.0.0.1");
    let text = "";
    let timers: ReturnType<typeof setTimeout>[] = [];
    const finish = (closed: boolean): void => {
      for (const t of timers) clearTimeout(t);
      timers = [];
      socket.destroy();
      resolve({ text, closed, ms: Date.now() - started });
    };
    socket.setEncoding("latin1");
    socket.on("connect", () => {
      chunks.forEach((chunk, i) => {
        const write = (): void => void (socket.writable && socket.write(chunk, "latin1"));
        if (i === 0) write();
        else timers.push(setTimeout(write, i * (options.gapMs ?? 0)));
      });
    });
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("error", () => {}); // a reset after the answer counts as closed
    socket.on("close", () => finish(true));
    timers.push(setTimeout(() => finish(false), waitMs));
  });
}

export interface ParsedResponse {
  readonly status: number;
  /** Lowercase field names. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/**
 * Splits the bytes received into HTTP/1.1 responses (Content-Length or chunked bodies). Throws if
 * the bytes are not well-formed responses, so a garbled answer fails the test that reads it.
 * `head`: the request was HEAD, so final answers have no body.
 */
export function parseResponses(text: string, options: { head?: boolean } = {}): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf("\r\n\r\n");
    if (end === -1) throw new Error(`incomplete response head: ${JSON.stringify(rest.slice(0, 200))}`);
    const [statusLine = "", ...lines] = rest.slice(0, end).split("\r\n");
    const match = /^HTTP\/1\.[01] (\d{3}) [^\r\n]*$/.exec(statusLine);
    if (match === null) throw new Error(`malformed status line: ${JSON.stringify(statusLine.slice(0, 200))}`);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new Error(`malformed response field: ${JSON.stringify(line.slice(0, 200))}`);
      headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    rest = rest.slice(end + 4);
    const status = Number(match[1]);
    let body = "";
    const bodiless = (options.head === true && status >= 200) || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (bodiless) {
      // no body: a HEAD answer carries the GET's Content-Length without its bytes
    } else if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") {
      for (;;) {
        const eol = rest.indexOf("\r\n");
        const size = parseInt(rest.slice(0, eol), 16);
        if (eol === -1 || Number.isNaN(size)) throw new Error(`malformed chunk: ${JSON.stringify(rest.slice(0, 100))}`);
        rest = rest.slice(eol + 2);
        if (size === 0) {
          rest = rest.slice(rest.indexOf("\r\n") + 2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    } else {
      const length = Number(headers.get("content-length") ?? "0");
      if (rest.length < length) throw new Error(`body shorter than content-length ${length}`);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    }
    if (status >= 100 && status < 200) continue; // interim (100 Continue): the final answer follows
    out.push({ status, headers, body });
  }
  return out;
}

/** A plain GET /info for simpleservice: must answer 200 from the pod. */
export async function knownGoodStatus(port: number): Promise<number> {
  const exchange = await rawExchange(port, "GET /info HTTP/1.1\r\nhost: simpleservice\r\nconnection: close\r\n\r\n");
  const [response] = parseResponses(exchange.text);
  return response?.status ?? 0;
}
