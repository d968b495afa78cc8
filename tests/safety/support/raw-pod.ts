// A loopback pod on a raw TCP server that records each request exactly as it arrived: the head's
// bytes (field names in their case and order, no parser in between) and how the body was framed.
// A node:http pod would normalise what the parity tests need to see, and on Deno it would be
// Deno's own node:http, the very parser under test.
import net from "node:net";
import type { AddressInfo } from "node:net";

export interface RawPodRequest {
  /** The request line, e.g. "GET /info HTTP/1.1". */
  readonly requestLine: string;
  /** [name, value] as sent, in order. */
  readonly fields: readonly (readonly [string, string])[];
  readonly framing: "none" | "content-length" | "chunked";
  /** The body, decoded from its framing (chunk sizes removed). */
  readonly body: Buffer;
}

export interface RawPod {
  readonly port: number;
  /** Complete requests, in order. */
  readonly requests: RawPodRequest[];
  /** Requests whose head arrived but whose body never completed (the connection closed first). */
  readonly incomplete: string[];
  close(): Promise<void>;
}

/** Every answer of the pod: a status, fields (without framing) and a body. */
export type RawPodAnswer = (request: RawPodRequest) => { readonly status: number; readonly fields?: readonly (readonly [string, string])[]; readonly body: Buffer };

const defaultAnswer: RawPodAnswer = (request) => ({ status: 200, fields: [["content-type", "application/json"], ["x-pod", "raw-pod"]], body: Buffer.from(JSON.stringify({ pod: "raw-pod", requestLine: request.requestLine })) });

/** The value of the first field called `name` (any case). */
export function fieldOf(request: RawPodRequest, name: string): string | undefined {
  return request.fields.find(([n]) => n.toLowerCase() === name)?.[1];
}

/** Parses one request from `data`; undefined until it is all there. Just enough HTTP/1.1 for
 * what undici sends: Content-Length or chunked (without trailers) bodies. */
function parseRequest(data: Buffer): { request: RawPodRequest; used: number } | { head: string } | undefined {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd === -1) return undefined;
  const [requestLine = "", ...lines] = data.subarray(0, headEnd).toString("latin1").split("\r\n");
  const fields = lines.map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon), line.slice(colon + 1).trim()] as const;
  });
  const partial = { head: requestLine };
  const length = fields.find(([n]) => n.toLowerCase() === "content-length")?.[1];
  const chunked = fields.some(([n, v]) => n.toLowerCase() === "transfer-encoding" && /chunked$/i.test(v));
  let at = headEnd + 4;
  if (chunked) {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = data.indexOf("\r\n", at);
      if (eol === -1) return partial;
      const size = parseInt(data.subarray(at, eol).toString("latin1"), 16);
      if (data.length < eol + 2 + size + 2) return partial;
      if (size === 0) return { request: { requestLine, fields, framing: "chunked", body: Buffer.concat(parts) }, used: eol + 4 };
      parts.push(data.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
  if (length !== undefined) {
    const size = Number(length);
    if (data.length < at + size) return partial;
    return { request: { requestLine, fields, framing: "content-length", body: Buffer.from(data.subarray(at, at + size)) }, used: at + size };
  }
  return { request: { requestLine, fields, framing: "none", body: Buffer.alloc(0) }, used: at };
}

/** Starts a raw pod on a free port of 127.0.0.1. */
export function startRawPod(answer: RawPodAnswer = defaultAnswer): Promise<RawPod> {
  const requests: RawPodRequest[] = [];
  const incomplete: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let data = Buffer.alloc(0);
    let pendingHead: string | undefined;
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      for (;;) {
        const parsed = parseRequest(data);
        if (parsed === undefined) return;
        if ("head" in parsed) return void (pendingHead = parsed.head);
        pendingHead = undefined;
        data = data.subarray(parsed.used);
        requests.push(parsed.request);
        const { status, fields = [], body } = answer(parsed.request);
        const head = [`HTTP/1.1 ${status} X`, ...fields.map(([n, v]) => `${n}: ${v}`), `content-length: ${body.length}`];
        socket.write(Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "latin1"), body]));
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      sockets.delete(socket);
      if (pendingHead !== undefined) incomplete.push(pendingHead);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        requests,
        incomplete,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      }),
    ),
  );
}
