// A gRPC echo backend like the Gateway API conformance suite's (gateway-api conformance/echo-basic,
// its grpcecho service): real @grpc/grpc-js servers as pods, answering every call with JSON naming
// the method path, the :authority and metadata that arrived, and who answered (namespace, pod,
// service). Messages are raw Buffers (no proto files), as in grpc-pods.ts. Two services: the
// conformance suite's GrpcEcho (Echo, EchoTwo, EchoThree; and Ping) and vipr.test.Other (Echo,
// Ping), so a route can tell services and methods apart. `objects()` describes the pods as a Service with
// port 8080 (by default named grpc, appProtocol kubernetes.io/h2c: HTTP/2 to the pods) and one
// EndpointSlice per pod.
import * as grpc from "@grpc/grpc-js";
import { loopbackServiceObjects, type LoopbackBackend, type LoopbackPod } from "./echo-backend.ts";

export const GRPC_ECHO = "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho";
export const GRPC_OTHER = "vipr.test.Other";

export interface GrpcEchoAnswer {
  /** "/service/Method" as the pod received it. */
  readonly path: string;
  /** Metadata by lowercase name (text values; -bin as base64), each with its values. */
  readonly metadata: Record<string, string[]>;
  /** The request message as text. */
  readonly message: string;
  readonly namespace: string;
  readonly pod: string;
  readonly service: string;
}

/** Every call a pod answered, in order. */
export type GrpcEchoPod = LoopbackPod<GrpcEchoAnswer>;
export type GrpcEchoBackend = LoopbackBackend<GrpcEchoAnswer>;

const identity = (value: Buffer): Buffer => value;
function definition(service: string, methods: readonly string[]): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const method of methods) {
    out[method] = { path: `/${service}/${method}`, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
  }
  return out;
}

function metadataOf(metadata: grpc.Metadata): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const key of Object.keys(metadata.getMap())) out[key] = metadata.get(key).map((v) => (Buffer.isBuffer(v) ? v.toString("base64") : String(v)));
  return out;
}

/** Starts `pods` gRPC echo pods of `service` in `namespace`. Each answer carries response metadata
 * x-pod (in the header block), for response header filters to sit beside. */
export async function startGrpcEchoBackend(namespace: string, service: string, pods = 1, servicePort: { name: string; appProtocol?: string } = { name: "grpc", appProtocol: "kubernetes.io/h2c" }): Promise<GrpcEchoBackend> {
  const servers: grpc.Server[] = [];
  const started: GrpcEchoPod[] = [];
  for (let i = 0; i < pods; i++) {
    const name = `${service}-${i}`;
    const received: GrpcEchoAnswer[] = [];
    const server = new grpc.Server();
    const answer = (path: string) => (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const echo: GrpcEchoAnswer = { path, metadata: metadataOf(call.metadata), message: call.request.toString("utf8"), namespace, pod: name, service };
      received.push(echo);
      const headers = new grpc.Metadata();
      headers.set("x-pod", name);
      call.sendMetadata(headers);
      callback(null, Buffer.from(JSON.stringify(echo)));
    };
    for (const [svc, methods] of [[GRPC_ECHO, ["Echo", "EchoTwo", "EchoThree", "Ping"]], [GRPC_OTHER, ["Echo", "Ping"]]] as const) {
      const handlers: grpc.UntypedServiceImplementation = {};
      for (const method of methods) handlers[method] = answer(`/${svc}/${method}`);
      server.addService(definition(svc, methods), handlers);
    }
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    servers.push(server);
    started.push({ name, port, received });
  }
  return {
    namespace,
    service,
    pods: started,
    objects: () => loopbackServiceObjects(namespace, service, started, servicePort, 50051),
    received: () => started.flatMap((pod) => pod.received),
    close: async () => {
      for (const server of servers) server.forceShutdown();
    },
  };
}

/** What one call got: the echo when the call succeeded, else its status; and the response
 * headers (initial metadata) when there were any. */
export interface GrpcCallResult {
  readonly code: grpc.status;
  readonly details: string;
  readonly echo: GrpcEchoAnswer | undefined;
  readonly headers: Record<string, string[]>;
  /** The x-vipr-error of a failure vipr answered itself (Trailers-Only), or undefined. */
  readonly viprError: string | undefined;
}

/** A unary call of `path` ("/service/Method") on `client` with metadata given as name -> value. */
export function callGrpcEcho(client: grpc.Client, path: string, metadata: Record<string, string> = {}, message = "hello"): Promise<GrpcCallResult> {
  const md = new grpc.Metadata();
  for (const [key, value] of Object.entries(metadata)) md.set(key, value);
  return new Promise((resolve) => {
    let headers: Record<string, string[]> = {};
    const call = client.makeUnaryRequest(path, identity, identity, Buffer.from(message), md, { deadline: Date.now() + 10_000 }, (error, response) => {
      if (error !== null) {
        const viprError = error.metadata.get("x-vipr-error")[0];
        resolve({ code: error.code, details: error.details, echo: undefined, headers, viprError: viprError === undefined ? undefined : String(viprError) });
      } else resolve({ code: grpc.status.OK, details: "", echo: JSON.parse(response!.toString("utf8")) as GrpcEchoAnswer, headers, viprError: undefined });
    });
    call.on("metadata", (received: grpc.Metadata) => (headers = metadataOf(received)));
  });
}

/** A client on one channel to 127.0.0.1:`port` with `authority` as :authority (the Host a
 * GRPCRoute's hostnames match), over h2c. */
export function grpcEchoClient(port: number, authority: string): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.default_authority": authority });
}
