// Loopback "pods" for router tests: small node:http servers (Deno provides node:http too) that
// answer like the seed's simpleservice (/info with their pod name) and echo what they received,
// plus the Kubernetes objects that describe them: a Service and one EndpointSlice per pod (each
// pod listens on its own port of 127.0.0.1, and a slice's ports are shared by its endpoints).
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { KubeEndpointSlice, KubeService } from "../../router/table/kubernetes-objects.ts";

export interface Pod {
  readonly name: string;
  readonly port: number;
  /** Requests served, by path. */
  readonly hits: string[];
  /** TCP connections accepted. */
  connections(): number;
  close(): Promise<void>;
}

export interface PodOptions {
  /** The status of every echo answer (e.g. 503 for a bad deploy); default 200. */
  readonly status?: number;
}

/** Starts one pod answering /info, /health, /echo, /slow (never answers), /delay?ms=N (answers
 * after N ms) and /big?bytes=N. */
export function startPod(name: string, options: PodOptions = {}): Promise<Pod> {
  const hits: string[] = [];
  let connections = 0;
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://pod");
    hits.push(url.pathname);
    if (url.pathname === "/slow") return; // never answers: the router's timeout must fire
    if (url.pathname === "/big") {
      const bytes = Number(url.searchParams.get("bytes") ?? "0");
      response.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(bytes) });
      const chunk = new Uint8Array(65536).fill(120);
      let left = bytes;
      const pump = (): void => {
        while (left > 0) {
          const part = chunk.subarray(0, Math.min(left, chunk.length));
          left -= part.length;
          if (!response.write(part)) return void response.once("drain", pump);
        }
        response.end();
      };
      return pump();
    }
    const delayMs = url.pathname === "/delay" ? Number(url.searchParams.get("ms") ?? "0") : 0;
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => setTimeout(answer, delayMs));
    const answer = (): void => {
      const body = Buffer.concat(chunks);
      response.statusCode = options.status ?? 200;
      response.setHeader("content-type", "application/json");
      response.setHeader("x-pod", name);
      response.end(
        JSON.stringify({
          pod: name,
          path: request.url,
          method: request.method,
          headers: request.headers,
          bodyBytes: body.length,
          bodySum: body.reduce((sum, byte) => (sum + byte) % 65521, 0),
        }),
      );
    };
  });
  server.on("connection", () => connections++);
  return listenOnLoopback(server).then((port) => ({ name, port, hits, connections: () => connections, close: () => closeNow(server) }));
}

/** Starts `server` on a free port of 127.0.0.1; resolves with the port. */
export function listenOnLoopback(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

/** Closes `server` and every connection to it, idle or not. */
export function closeNow(server: http.Server): Promise<void> {
  return new Promise<void>((done) => {
    server.closeAllConnections();
    server.close(() => done());
  });
}

/** The seed's service: simpleservice, port 80 to 9876, selector app=sise. */
export function seedService(annotations: Record<string, string> = {}, extra: Record<string, unknown> = {}): KubeService {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "simpleservice", namespace: "default", resourceVersion: "1", annotations },
    spec: { selector: { app: "sise" }, ports: [{ port: 80, targetPort: 9876, protocol: "TCP" }], ...extra },
  } as KubeService;
}

export interface SliceEndpoint {
  readonly pod: string;
  readonly port: number;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
  readonly address?: string;
}

/** One EndpointSlice per endpoint, so each may have its own port. */
export function slicesFor(service: string, endpoints: readonly SliceEndpoint[], version = "1"): KubeEndpointSlice[] {
  return endpoints.map((e) => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${service}-${e.pod}`, namespace: "default", resourceVersion: version, labels: { "kubernetes.io/service-name": service } },
    addressType: "IPv4",
    ports: [{ port: e.port, protocol: "TCP" }],
    endpoints: [
      {
        addresses: [e.address ?? "127.0.0.1"],
        conditions: { ready: e.ready ?? true, serving: e.serving ?? true, terminating: e.terminating ?? false },
        targetRef: { kind: "Pod", namespace: "default", name: e.pod },
      },
    ],
  })) as KubeEndpointSlice[];
}
