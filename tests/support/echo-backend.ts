// An echo backend like the Gateway API conformance suite's echo server (gateway-api
// conformance/echo-basic): every request is answered 200 with JSON naming what arrived (path with
// query, host, method, proto, headers) and who answered (namespace, pod, service), so a test can
// tell which backend a route chose and what the gateway changed on the way. A request header
// `x-echo-delay-ms` delays the answer (for timeout cases). Like the suite's echo server, query
// parameters simulate a failing backend for retry cases: `uuid`, `responseCode` and `succeedAfter`
// answer the first `succeedAfter` requests with the same uuid with `responseCode` (per pod), then
// echo. Each pod keeps what it received (body and arrival time too). Each pod listens on its own
// loopback port; `objects()` gives the Service and EndpointSlice that describe a backend's pods.
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

/** A request as a pod received it: its echo answer, when it arrived (performance.now()), and its
 * body (filled in as it arrives; `bodyEnded` once all of it did). */
export interface ReceivedRequest extends EchoAnswer {
  readonly receivedAt: number;
  body: string;
  bodyEnded: boolean;
}

/** A pod on loopback that records what it answered (`A`: a request or a call). */
export interface LoopbackPod<A> {
  readonly name: string;
  readonly port: number;
  /** Every request this pod received, in order. */
  readonly received: A[];
}

/** The pods of one Service, on loopback (echo-backend.ts, grpc-echo-backend.ts). */
export interface LoopbackBackend<A> {
  readonly namespace: string;
  readonly service: string;
  readonly pods: readonly LoopbackPod<A>[];
  /** The Service (port 8080 to the pods) and one EndpointSlice per pod (loopbackServiceObjects). */
  objects(): { services: KubeService[]; endpointSlices: KubeEndpointSlice[] };
  /** Requests received by all pods. */
  received(): A[];
  close(): Promise<void>;
}

export type EchoPod = LoopbackPod<ReceivedRequest>;
export type EchoBackend = LoopbackBackend<ReceivedRequest>;

/** Fields by lowercase name, from rawHeaders (the same on Node and Deno's node:http). */
function headersOf(raw: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < raw.length; i += 2) (out[raw[i]!.toLowerCase()] ??= []).push(raw[i + 1]!);
  return out;
}

/** The Service `namespace`/`service` (port 8080, named and with the appProtocol of `servicePort`, to
 * `targetPort`) and one EndpointSlice per pod on 127.0.0.1, ready: what a backend of pods on
 * loopback reports as its Kubernetes objects. */
export function loopbackServiceObjects(
  namespace: string,
  service: string,
  pods: readonly { readonly name: string; readonly port: number }[],
  servicePort: { readonly name: string; readonly appProtocol?: string },
  targetPort: number,
): { services: KubeService[]; endpointSlices: KubeEndpointSlice[] } {
  return {
    services: [
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: service, namespace, resourceVersion: "1" },
        spec: { selector: { app: service }, ports: [{ ...servicePort, port: 8080, targetPort, protocol: "TCP" }] },
      } as KubeService,
    ],
    endpointSlices: pods.map(
      (pod) =>
        ({
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          metadata: { name: pod.name, namespace, resourceVersion: "1", labels: { "kubernetes.io/service-name": service } },
          addressType: "IPv4",
          ports: [{ ...servicePort, port: pod.port, protocol: "TCP" }],
          endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: "Pod", namespace, name: pod.name } }],
        }) as KubeEndpointSlice,
    ),
  };
}

/** Starts `pods` echo pods of `service` in `namespace`. */
export async function startEchoBackend(namespace: string, service: string, pods = 1): Promise<EchoBackend> {
  const servers: http.Server[] = [];
  const started: EchoPod[] = [];
  for (let i = 0; i < pods; i++) {
    const name = `${service}-${i}`;
    const received: ReceivedRequest[] = [];
    const failures = new Map<string, number>(); // uuid -> failing answers given
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
      const record: ReceivedRequest = { ...answer, receivedAt: performance.now(), body: "", bodyEnded: false };
      received.push(record);
      request.setEncoding("utf8");
      request.on("data", (chunk: string) => (record.body += chunk));
      const delay = Number(request.headers["x-echo-delay-ms"] ?? "0");
      const query = new URL(answer.path, "http://echo").searchParams;
      const uuid = query.get("uuid");
      let status = 200;
      if (uuid !== null && query.has("responseCode")) {
        const failed = failures.get(uuid) ?? 0;
        if (failed < Number(query.get("succeedAfter") ?? "0")) {
          failures.set(uuid, failed + 1);
          status = Number(query.get("responseCode"));
        }
      }
      request.on("end", () => {
        record.bodyEnded = true;
        setTimeout(() => {
          if (response.destroyed) return;
          response.writeHead(status, { "content-type": "application/json" });
          response.end(JSON.stringify(answer));
        }, delay);
      });
    });
    servers.push(server);
    started.push({ name, port: await listenOnLoopback(server), received });
  }
  return {
    namespace,
    service,
    pods: started,
    objects: () => loopbackServiceObjects(namespace, service, started, { name: "http" }, 3000),
    received: () => started.flatMap((pod) => pod.received),
    close: async () => {
      await Promise.all(servers.map((server) => closeNow(server)));
    },
  };
}
