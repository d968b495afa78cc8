// Local stand-ins for the seed's simpleservice pods (quay.io/openshiftlabs/simpleservice:0.5.0):
// each answers /info with where it runs and who asked, and /health, on its pod address and the
// container port, as the real image does on 9876.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { RoutingTable, ServiceEntry } from "../../router/table/routing-table.ts";

export interface DemoPod {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts a pod on address:port; port 0 takes a free port (the pod's `port` is the one it got). */
export function startDemoPod(name: string, address: string, port: number): Promise<DemoPod> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    response.setHeader("content-type", "application/json");
    if (path === "/health") return void response.end(JSON.stringify({ healthy: true }));
    if (path === "/info") {
      const from = request.headers["x-forwarded-for"] ?? request.socket.remoteAddress ?? "";
      return void response.end(JSON.stringify({ host: `${address}:${(server.address() as AddressInfo).port}`, version: "0.5.0", from, pod: name }) + "\n");
    }
    response.statusCode = 404;
    response.end(JSON.stringify({ error: `no route for ${path}; try /info or /health` }) + "\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(`pod ${name} cannot listen on ${address}:${port}: ${error.code ?? error.message}${error.code === "EADDRINUSE" ? " (is another vipr demo running?)" : ""}`)),
    );
    server.listen(port, address, () =>
      resolve({
        name,
        address,
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });
}

/**
 * The table with each running demo pod's endpoint ports replaced by the port the pod listens on:
 * with `vipr demo --pod-port`, pods do not listen on the manifests' containerPort, as if the
 * kubelet had given each its own port. Services without such a pod are passed as they are.
 */
export function routeToDemoPods(table: RoutingTable, pods: ReadonlyMap<string, DemoPod>): RoutingTable {
  const services = new Map<string, ServiceEntry>();
  for (const [key, service] of table.services) {
    const moved = service.endpoints.some((e) => {
      const pod = e.targetRef === undefined ? undefined : pods.get(e.targetRef.name);
      return pod !== undefined && e.ports.some((p) => p.port !== pod.port);
    });
    if (!moved) {
      services.set(key, service);
      continue;
    }
    const endpoints = service.endpoints.map((e) => {
      const pod = e.targetRef === undefined ? undefined : pods.get(e.targetRef.name);
      return pod === undefined ? e : Object.freeze({ ...e, ports: Object.freeze(e.ports.map((p) => Object.freeze({ ...p, port: pod.port }))) });
    });
    services.set(key, Object.freeze({ ...service, endpoints: Object.freeze(endpoints) }));
  }
  // A new snapshot, not one built from the last: the router republishes it whole (a few services).
  return Object.freeze({ ...table, services, rebuilt: Object.freeze([...services.keys()]), removed: Object.freeze([]) });
}

/**
 * The demo's pods, kept in step with vipr's table: pods of a table that are not running yet start
 * before the table is published (a pod is only Ready once its server answers), and pods that left
 * the table stop after it is published. A pod that cannot start (its address taken) fails the
 * demo at the start (`startError`); later (after a scale-up) it is reported and vipr keeps
 * routing by the table it has.
 */
export class DemoPods {
  readonly running = new Map<string, DemoPod>();
  /** Resolves when every table given so far is published. */
  published: Promise<void> = Promise.resolve();
  startError: Error | undefined;
  /** Set once the demo is up: from then on a pod that cannot start is logged, not fatal. */
  loaded = false;
  readonly #setTable: (table: RoutingTable) => void;
  readonly #podPort: number | undefined;
  readonly #log: (line: string) => void;

  /** podPort: every pod's port (0: a free one each), or undefined for the table's own ports. */
  constructor(setTable: (table: RoutingTable) => void, podPort: number | undefined, log: (line: string) => void) {
    this.#setTable = setTable;
    this.#podPort = podPort;
    this.#log = log;
  }

  publish(table: RoutingTable): void {
    this.published = this.published.then(async () => {
      const wanted = new Map<string, { address: string; port: number }>();
      for (const service of table.services.values()) {
        for (const endpoint of service.endpoints) {
          const target = endpoint.ports[0];
          if (endpoint.targetRef !== undefined && target !== undefined) wanted.set(endpoint.targetRef.name, { address: endpoint.address, port: target.port });
        }
      }
      for (const [name, where] of wanted) {
        if (this.running.has(name)) continue;
        const pod = await startDemoPod(name, where.address, this.#podPort ?? where.port);
        this.running.set(name, pod);
        this.#log(`pod ${name} running on ${pod.address}:${pod.port} (labels app=sise)`);
      }
      this.#setTable(this.#podPort === undefined ? table : routeToDemoPods(table, this.running));
      for (const [name, pod] of this.running) {
        if (wanted.has(name)) continue;
        this.running.delete(name);
        await pod.close();
        this.#log(`pod ${name} stopped`);
      }
    }).catch((error: unknown) => {
      // Kept, not rethrown: nothing may await this chain yet, and a rejection nobody handles
      // would end the process with a stack trace.
      if (!this.loaded) this.startError ??= error as Error;
      else this.#log(`problem: ${(error as Error).message}; vipr keeps routing by the previous table`);
    });
  }

  async close(): Promise<void> {
    for (const pod of this.running.values()) await pod.close();
    this.running.clear();
  }
}
