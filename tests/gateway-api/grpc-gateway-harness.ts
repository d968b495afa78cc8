// A served vipr (HTTP/2 on its plain port: h2c with prior knowledge, as GRPCRoute on an HTTP
// listener requires) with gRPC echo backends named as the Gateway API conformance suite's gRPC
// backends are (grpc-infra-backend-v1..v3 in gateway-conformance-infra; v3's Service port names
// no protocol, so reaching it relies on vipr inferring HTTP/2 from the route kind), plus
// grpc-http-backend (appProtocol http, which a GRPCRoute cannot use) and grpc-web-backend in
// gateway-conformance-web-backend for cross-namespace cases, the base GatewayClass and Gateways
// (gateway-yaml.ts), and real @grpc/grpc-js clients, one channel per :authority.
import type * as grpc from "@grpc/grpc-js";
import { loadRuntimeAdapter, type RunningServer } from "../../adapters/runtime-adapter.ts";
import type { GatewayApiStatus } from "../../router/gateway-api/gateway-conditions.ts";
import type { ServiceRouter, ServiceRouterOptions } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { callGrpcEcho, grpcEchoClient, startGrpcEchoBackend, type GrpcCallResult, type GrpcEchoBackend } from "../support/grpc-echo-backend.ts";
import { harnessRouter, INFRA, WEB } from "./gateway-harness.ts";
import { BASE_GATEWAY, gatewayObjects } from "./gateway-yaml.ts";

export interface GrpcGatewayHarness {
  readonly router: ServiceRouter;
  readonly port: number;
  readonly backends: ReadonlyMap<string, GrpcEchoBackend>;
  /** Replaces the Gateway API objects with the base ones plus `yaml`; returns their status. */
  apply(yaml: string): GatewayApiStatus;
  /** One unary call of `path` ("/service/Method") with :authority `authority`. */
  call(authority: string, path: string, metadata?: Record<string, string>, message?: string): Promise<GrpcCallResult>;
  close(): Promise<void>;
}

export async function startGrpcGatewayHarness(options: Partial<ServiceRouterOptions> = {}): Promise<GrpcGatewayHarness> {
  const runtime = await loadRuntimeAdapter();
  const list = await Promise.all([
    startGrpcEchoBackend(INFRA, "grpc-infra-backend-v1"),
    startGrpcEchoBackend(INFRA, "grpc-infra-backend-v2"),
    startGrpcEchoBackend(INFRA, "grpc-infra-backend-v3", 1, { name: "echo" }),
    startGrpcEchoBackend(INFRA, "grpc-http-backend", 1, { name: "echo", appProtocol: "http" }),
    startGrpcEchoBackend(WEB, "grpc-web-backend"),
  ]);
  const backends = new Map(list.map((b) => [b.service, b]));
  const router = harnessRouter(runtime, { requestProtocol: runtime.requestProtocol, ...options });
  const objects = list.map((b) => b.objects());
  const table = buildRoutingTable({ services: objects.flatMap((o) => o.services), endpointSlices: objects.flatMap((o) => o.endpointSlices), pods: [] });
  router.setTable(table);
  const server: RunningServer = await runtime.serve(router.app, { http2: {}, closeGraceMs: 200 });
  const clients = new Map<string, grpc.Client>();
  const clientFor = (authority: string): grpc.Client => {
    let client = clients.get(authority);
    if (client === undefined) clients.set(authority, (client = grpcEchoClient(server.port, authority)));
    return client;
  };
  return {
    router,
    port: server.port,
    backends,
    apply: (yaml) => router.setGatewayObjects(gatewayObjects(BASE_GATEWAY + yaml), { serviceExists: (key) => table.services.has(key), service: (key) => table.services.get(key) }),
    call: (authority, path, metadata = {}, message = "hello") => callGrpcEcho(clientFor(authority), path, metadata, message),
    close: async () => {
      for (const client of clients.values()) client.close();
      await server.close();
      await router.close();
      await Promise.all(list.map((b) => b.close()));
    },
  };
}
