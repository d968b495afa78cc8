// The rig of the resilience tests: a FakeKubeApi read in process by a KubernetesSource (through
// the fake's fetch, behind a switch that can take the API server away), a ServiceRouter served on
// a loopback port by the runtime's adapter, and loopback pods that count the request ids they
// receive. The router's transport is wrapped to count tries per request id, so a test can tell
// how many requests were retried.
import http from "node:http";
import type { Socket } from "node:net";
import { FakeKubeApi, fakeKubeConfig, fakeService } from "../../../adapters/kubernetes/fake-api/index.ts";
import { KubernetesSource } from "../../../adapters/kubernetes/kubernetes-source.ts";
import { loadRuntimeAdapter, type RunningServer } from "../../../adapters/runtime-adapter.ts";
import type { OutlierDetectionOptions } from "../../../router/balancing/outlier-detection.ts";
import type { UpstreamTransport } from "../../../router/forward/upstream-transport.ts";
import type { RetryOptions } from "../../../router/retry-policy.ts";
import type { RoutingTable } from "../../../router/table/routing-table.ts";
import { ServiceRouter } from "../../../router/service-router.ts";
import { createWasmCore } from "../../../wasm/core-engine.ts";
import { fastTiming } from "../../kubernetes/support/sync-harness.ts";
import { listenOnLoopback } from "../../support/seed-backends.ts";

export const SERVICE = "simpleservice";

export interface CountingPod {
  readonly name: string;
  readonly port: number;
  /** x-request-id of every request received, in arrival order. */
  readonly received: string[];
  /** Connections open to this pod now (the router's pooled ones, idle or busy). */
  readonly openConnections: number;
  /** Graceful exit: idle keep-alive connections closed, the rest once their response is sent. */
  close(): Promise<void>;
  /** Abrupt exit: every socket destroyed, listening stops. */
  kill(): Promise<void>;
}

export interface CountingPodOptions {
  /** The status of every answer (503: a broken deploy, for passive health); default 200. */
  readonly status?: number;
  /** Read the whole request (body included), then reset the connection without answering: a pod
   * that crashed while handling it, after the request reached it. */
  readonly resetAfterBody?: boolean;
}

/** A pod answering every request with 200 and `{"pod":name,"id":..}` once the body is read, after
 * `x-delay-ms` milliseconds when the request has that header. */
export function startCountingPod(name: string, options: CountingPodOptions = {}): Promise<CountingPod> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((request, response) => {
    const id = String(request.headers["x-request-id"] ?? "");
    received.push(id);
    request.resume();
    const delayMs = Number(request.headers["x-delay-ms"] ?? 0);
    request.on("end", () => {
      if (options.resetAfterBody === true) return void request.socket.destroy();
      setTimeout(() => {
        response.statusCode = options.status ?? 200;
        response.setHeader("content-type", "application/json");
        response.end(JSON.stringify({ pod: name, id }));
      }, delayMs);
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  let closed: Promise<void> | undefined;
  const stop = (abrupt: boolean): Promise<void> =>
    (closed ??= new Promise<void>((done) => {
      server.close(() => done());
      if (abrupt) {
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      } else {
        server.closeIdleConnections();
      }
    }));
  return listenOnLoopback(server).then((port) => ({
    name,
    port,
    received,
    get openConnections() {
      return sockets.size;
    },
    close: () => stop(false),
    kill: () => stop(true),
  }));
}

export interface PublishedEndpoint {
  readonly pod: CountingPod;
  readonly terminating?: boolean;
}

export interface ResilienceCluster {
  readonly fake: FakeKubeApi;
  readonly source: KubernetesSource;
  readonly router: ServiceRouter;
  readonly port: number;
  /** Tries the router sent, by x-request-id. */
  readonly tries: Map<string, number>;
  /** While true every request to the API server fails as a network error would. */
  apiDown: boolean;
  /** Resolves once `count` requests in all have been refused while apiDown (counted from the start). */
  apiRefused(count: number): Promise<void>;
  /** Writes the service's EndpointSlices: terminating endpoints are ready false, serving true. */
  publish(endpoints: readonly PublishedEndpoint[]): void;
  /** Whether the router's current table routes to this pod (ready or not). */
  inTable(pod: CountingPod): boolean;
  /** Resolves once the router holds a table for which `check` is true: checked now, then on each
   * table the source publishes (an event, not a poll). Fails naming `what` after `timeoutMs`. */
  tableWhere(check: (table: RoutingTable) => boolean, what: string, timeoutMs?: number): Promise<RoutingTable>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  readonly annotations?: Readonly<Record<string, string>>;
  readonly outlierDetection?: Omit<OutlierDetectionOptions, "now">;
  /** The router's retry options (retry-policy.ts); default the router's. */
  readonly retries?: Partial<RetryOptions>;
  /** Watch Pods too, so the table knows each slice endpoint's Pod (labels, vipr.io/weight). */
  readonly watchPods?: boolean;
}

function countingTransport(inner: UpstreamTransport, tries: Map<string, number>): UpstreamTransport {
  return {
    forward(c, target, call) {
      const id = c.req.header("x-request-id") ?? "";
      tries.set(id, (tries.get(id) ?? 0) + 1);
      return inner.forward(c, target, call);
    },
    retain: (keys) => inner.retain(keys),
    close: () => inner.close(),
  };
}

export async function startResilienceCluster(options: ClusterOptions = {}): Promise<ResilienceCluster> {
  const runtime = await loadRuntimeAdapter();
  const fake = new FakeKubeApi({ bookmarkIntervalMs: 50 });
  fake.apply(fakeService(SERVICE, { ports: [{ port: 80, targetPort: 9876 }], selector: { app: "sise" }, ...(options.annotations === undefined ? {} : { annotations: options.annotations }) }));
  const tries = new Map<string, number>();
  const router = new ServiceRouter({
    core: createWasmCore(),
    transport: countingTransport(runtime.createTransport(), tries),
    clientAddress: runtime.clientAddress,
    requestHeaders: runtime.requestHeaders,
    timeouts: { connectMs: 1000, responseMs: 3000 },
    ...(options.outlierDetection === undefined ? {} : { outlierDetection: options.outlierDetection }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
  });
  const tableWaiters = new Set<(table: RoutingTable) => void>();
  let refused = 0;
  const refusalWaiters = new Set<() => void>();
  const cluster = {
    apiDown: false,
  } as { apiDown: boolean };
  const source = new KubernetesSource({
    kubeConfig: fakeKubeConfig(),
    fetch: (url, init) => {
      if (!cluster.apiDown) return fake.fetch(new Request(url, init));
      refused++;
      for (const waiter of [...refusalWaiters]) waiter();
      return Promise.reject(new TypeError("fetch failed: API server unreachable"));
    },
    onTable: (table) => {
      router.setTable(table);
      for (const waiter of tableWaiters) waiter(table);
    },
    timing: fastTiming,
    log: () => {},
    ...(options.watchPods === undefined ? {} : { watchPods: options.watchPods }),
  });
  source.start();
  const server: RunningServer = await runtime.serve(router.app);
  const key = `default/${SERVICE}`;
  return Object.assign(cluster, {
    fake,
    source,
    router,
    port: server.port,
    tries,
    publish(endpoints: readonly PublishedEndpoint[]) {
      fake.setEndpoints(
        SERVICE,
        endpoints.map(({ pod, terminating }) => ({ address: "127.0.0.1", port: pod.port, pod: pod.name, ready: terminating !== true, serving: true, terminating: terminating === true })),
      );
    },
    inTable(pod: CountingPod) {
      return router.table?.services.get(key)?.endpoints.some((e) => e.ports[0]?.port === pod.port) === true;
    },
    apiRefused(count: number) {
      return new Promise<void>((resolve) => {
        const waiter = (): void => {
          if (refused < count) return;
          refusalWaiters.delete(waiter);
          resolve();
        };
        refusalWaiters.add(waiter);
        waiter();
      });
    },
    tableWhere(check: (table: RoutingTable) => boolean, what: string, timeoutMs = 5000) {
      const current = router.table;
      if (current !== undefined && check(current)) return Promise.resolve(current);
      return new Promise<RoutingTable>((resolve, reject) => {
        const timer = setTimeout(() => {
          tableWaiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for a table where ${what}`));
        }, timeoutMs);
        const waiter = (table: RoutingTable): void => {
          if (!check(table)) return;
          clearTimeout(timer);
          tableWaiters.delete(waiter);
          resolve(table);
        };
        tableWaiters.add(waiter);
      });
    },
    async close() {
      cluster.apiDown = false;
      await source.stop();
      fake.close();
      await server.close();
      await router.close();
    },
  });
}

export interface LoadResult {
  readonly id: string;
  readonly method: string;
  readonly key: string | undefined;
  /** HTTP status, or 0 when the connection to the router failed. */
  readonly status: number;
  /** The answering pod, or undefined. */
  readonly pod: string | undefined;
  /** The router's error code (`{"error":..}`) on a failure with a JSON body. */
  readonly error: string | undefined;
}

export interface LoadOptions {
  readonly port: number;
  /** Concurrent loops, each one request at a time on a shared keep-alive agent. */
  readonly loops: number;
  /** What the i-th request is; its x-request-id is `${prefix}-${i}`. */
  readonly request: (i: number) => { method: "GET" | "POST"; key?: string };
  readonly prefix: string;
}

/** A steady stream of requests until stop() (or `maxRequests`), every outcome recorded. */
export function startLoad(options: LoadOptions & { readonly maxRequests?: number }): { readonly results: LoadResult[]; stop(): Promise<LoadResult[]> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.loops });
  const results: LoadResult[] = [];
  let next = 0;
  let running = true;
  const max = options.maxRequests ?? 20_000;
  const one = (i: number): Promise<LoadResult> => {
    const { method, key } = options.request(i);
    const id = `${options.prefix}-${i}`;
    const body = method === "POST" ? JSON.stringify({ order: i }) : undefined;
    return new Promise((resolve) => {
      const headers: Record<string, string> = { host: SERVICE, "x-request-id": id };
      if (key !== undefined) headers["x-key"] = key;
      if (body !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = String(Buffer.byteLength(body));
      }
      const request = http.request({ host: "127.0.0.1", port: options.port, method, path: `/orders?id=${id}`, headers, agent }, (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => {
          let parsed: { pod?: string; error?: string } = {};
          try {
            parsed = JSON.parse(text) as typeof parsed;
          } catch {
            // not JSON: neither pod nor error code
          }
          resolve({ id, method, key, status: response.statusCode ?? 0, pod: response.statusCode === 200 ? parsed.pod : undefined, error: parsed.error });
        });
        response.on("error", () => resolve({ id, method, key, status: 0, pod: undefined, error: undefined }));
      });
      request.on("error", () => resolve({ id, method, key, status: 0, pod: undefined, error: undefined }));
      request.end(body);
    });
  };
  const loops = Array.from({ length: options.loops }, async () => {
    while (running && next < max) results.push(await one(next++));
  });
  return {
    results,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return results;
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, or fails naming `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Waits until at least `count` more results have arrived than `from`. */
export function moreResults(results: readonly LoadResult[], from: number, count: number): Promise<void> {
  return until(() => results.length >= from + count, `${count} more responses`);
}
