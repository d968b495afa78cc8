// Issue 14: gRPC over TLS on vipr's listener. The real grpc-js client with TLS credentials (the
// test's self-signed certificate as its CA, h2 by ALPN) makes unary calls through vipr to h2c
// grpc-js pods; every call is routed on its own, so one channel's calls spread over the pods.
import * as grpc from "@grpc/grpc-js";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeClientAddress, nodeRequestHeaders, serveNode, type NodeServer } from "../../adapters/node/serve-node.ts";
import { nodeRequestProtocol } from "../../adapters/node/protocol-of.ts";
import { CertificateStore } from "../../adapters/node/tls-certificates.ts";
import { createUndiciTransport } from "../../adapters/node/undici-transport.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeService } from "../../router/table/kubernetes-objects.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { seedService, slicesFor } from "../support/seed-backends.ts";
import { echoClient, startGrpcPod, unaryCall, type EchoClient, type GrpcPod, type UnaryAnswer } from "../support/grpc-pods.ts";
import { makeCertificate } from "./tls-test-certs.ts";

const runtimeName = "Deno" in globalThis ? "deno" : "node";
const PORT = { name: "api", appProtocol: "grpc" };

let temp: string;
let store: CertificateStore;
let router: ServiceRouter;
let server: NodeServer;
let client: EchoClient;
const pods: GrpcPod[] = [];

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "vipr-grpc-tls-"));
  await makeCertificate(join(temp, "tls.crt"), join(temp, "tls.key"), ["vipr.test"]);
  store = new CertificateStore({ certFile: join(temp, "tls.crt"), keyFile: join(temp, "tls.key") });
  for (let i = 0; i < 3; i++) pods.push(await startGrpcPod(`tls-grpc-${i}`));
  router = new ServiceRouter({ core: createWasmCore(), transport: createUndiciTransport(), clientAddress: nodeClientAddress, requestHeaders: nodeRequestHeaders, requestProtocol: nodeRequestProtocol, proto: "https" });
  const service: KubeService = { ...seedService({}, { ports: [{ ...PORT, port: 80, targetPort: 50051, protocol: "TCP" }] }), metadata: { name: "echo", namespace: "default", resourceVersion: "1", annotations: { "vipr.io/lb-policy": "round-robin" } } };
  router.setTable(
    buildRoutingTable({
      services: [service],
      // One slice per pod (each listens on its own loopback port), with the service port's name.
      endpointSlices: pods.flatMap((pod) => slicesFor("echo", [{ pod: pod.name, port: pod.port }]).map((slice) => ({ ...slice, metadata: { ...slice.metadata, name: `echo-${pod.name}` }, ports: [{ ...PORT, port: pod.port, protocol: "TCP" }] }))),
    }),
  );
  server = await serveNode(router.app, { tls: store, http2: {}, closeGraceMs: 200 });
  const ca = await readFile(join(temp, "tls.crt"));
  // The certificate names vipr.test: the TLS name checked (and sent as SNI) is vipr.test, while
  // :authority names the service vipr routes to.
  client = echoClient(server.port, "echo", grpc.credentials.createSsl(ca), { "grpc.ssl_target_name_override": "vipr.test" });
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.close();
  await router?.close();
  for (const pod of pods) await pod.close();
  store?.close();
  if (temp !== undefined) await rm(temp, { recursive: true, force: true });
});

describe(`gRPC over TLS through vipr on ${runtimeName}`, () => {
  test("90 unary calls on one TLS channel reach 3 h2c pods evenly, each answered OK with the pod's trailers", async () => {
    const answered: Record<string, number> = {};
    for (let i = 0; i < 90; i++) {
      const { response, status } = await unaryCall(client, Buffer.from(`call ${i}`));
      expect(status.code).toBe(grpc.status.OK);
      const pod = (JSON.parse(response.toString("utf8")) as UnaryAnswer).pod;
      expect(status.metadata.get("x-trailer-pod")).toEqual([pod]);
      answered[pod] = (answered[pod] ?? 0) + 1;
    }
    console.log(`[${runtimeName}] 90 unary calls on one TLS channel through vipr, per pod: ${JSON.stringify(answered)}`);
    // Round robin per call: each pod answers 30.
    expect(answered).toEqual(Object.fromEntries(pods.map((pod) => [pod.name, 30])));
  }, 60_000);

  test("a client that does not trust the certificate fails UNAVAILABLE and no pod sees the call", async () => {
    const before = pods.reduce((sum, pod) => sum + pod.calls, 0);
    const stranger = echoClient(server.port, "echo", grpc.credentials.createSsl(), { "grpc.ssl_target_name_override": "vipr.test" });
    try {
      const error = await new Promise<grpc.ServiceError>((resolve, reject) => stranger.unary(Buffer.from("x"), new grpc.Metadata(), { deadline: Date.now() + 20_000 }, (failure) => (failure === null ? reject(new Error("the call succeeded")) : resolve(failure))));
      expect(error.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      stranger.close();
    }
    expect(pods.reduce((sum, pod) => sum + pod.calls, 0)).toBe(before);
  }, 60_000);
});
