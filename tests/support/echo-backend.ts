// An echo backend like the Gateway API conformance suite's echo server (gateway-api
// conformance/echo-basic): every request is answered 200 with JSON naming what arrived (path with
// query, host, method, proto, headers) and who answered (namespace, pod, service), so a test can
// tell which backend a route chose and what the gateway changed on the way. A request header
// `x-echo-delay-ms` delays the answer (for timeout cases). Each pod listens on its own loopback
// port; `objects()` gives the Service and EndpointSlice that describe a backend's pods.
import http from "node:http";
import type { KubeEndpointSlice, KubeService } from "../../router/table/kubernetes-objects.ts";
import { closeNow, listenOnLoopback } from "./seed-backends.ts";

export interface EchoAnswer {
  readonly path: string;
  readonly host: string;
  readonly method: string;
  readonly proto: string;
  /** Lowercase names, each with its values in arrival order. */
  readonly headers: Record<string, string[]>;
  readonly namespace: string;
  readonly pod: string;
  readonly service: string;
}

export interface EchoPod {
  readonly name: string;
  readonly port: number;
  /** Every request this pod received, in order. */
  readonly received: EchoAnswer[];
}

export interface EchoBackend {
  readonly namespace: string;
  readonly service: string;
  readonly pods: readonly EchoPod[];
  /** The Service (port 8080 to the pods) and one EndpointSlice per pod. */
  objects(): { services: KubeService[]; endpointSlices: KubeEndpointSlice[] };
  /** Requests received by all pods. */
  received(): EchoAnswer[];
  close(): Promise<void>;
}

/** Fields by lowercase name, from rawHeaders (the same on Node and Deno's node:http). */
function headersOf(raw: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < raw.length; i += 2) (out[raw[i]!.toLowerCase()] ??= []).push(raw[i + 1]!);
  return out;
}

/** Starts `pods` echo pods of `service` in `namespace`. */
export async function startEchoBackend(namespace: string, service: string, pods = 1): Promise<EchoBackend> {
  const servers: http.Server[] = [];
  const started: EchoPod[] = [];
  for (let i = 0; i < pods; i++) {
    const name = `${service}-${i}`;
    const received: EchoAnswer[] = [];
    const server = http.createServer((request, response) => {
      const answer: EchoAnswer = {
        path: request.url ?? "/",
        host: request.headers.host ?? "",
        method: request.method ?? "",
        proto: `HTTP/${request.httpVersion}`,
        headers: headersOf(request.rawHeaders),
        namespace,
        pod: name,
        service,
      };
      received.push(answer);
      request.resume();
      const delay = Number(request.headers["x-echo-delay-ms"] ?? "0");
      request.on("end", () =>
        setTimeout(() => {
          if (response.destroyed) return;
          response.writeHead(200, { "content-type": "application/json" });
          response.end(JSON.stringify(answer));
        }, delay),
      );
    });
    servers.push(server);
    started.push({ name, port: await listenOnLoopback(server), received });
  }
  return {
    namespace,
    service,
    pods: started,
    objects: () => ({
      services: [
        {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: service, namespace, resourceVersion: "1" },
          spec: { selector: { app: service }, ports: [{ name: "http", port: 8080, targetPort: 3000, protocol: "TCP" }] },
        } as KubeService,
      ],
      endpointSlices: started.map(
        (pod) =>
          ({
            apiVersion: "discovery.k8s.io/v1",
            kind: "EndpointSlice",
            metadata: { name: pod.name, namespace, resourceVersion: "1", labels: { "kubernetes.io/service-name": service } },
            addressType: "IPv4",
            ports: [{ name: "http", port: pod.port, protocol: "TCP" }],
            endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: "Pod", namespace, name: pod.name } }],
          }) as KubeEndpointSlice,
      ),
    }),
    received: () => started.flatMap((pod) => pod.received),
    close: async () => {
      await Promise.all(servers.map((server) => closeNow(server)));
    },
  };
}
