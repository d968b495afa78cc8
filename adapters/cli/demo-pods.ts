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
