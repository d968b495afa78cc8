// Issue 14: gRPC balanced per call. Real @grpc/grpc-js servers as pods, the real grpc-js client
// through vipr (serveNode with HTTP/2, h2c prior knowledge on the plain port): every call on one
// client channel is routed on its own, where a plain TCP hop (what kube-proxy is) sends a channel's
// every call to one pod. Trailers (grpc-status, grpc-message, -bin metadata) pass through.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeClientAddress, nodeRequestHeaders, serveNode, type NodeServer } from "../../adapters/node/serve-node.ts";
import { createUndiciTransport } from "../../adapters/node/undici-transport.ts";
import { nodeRequestProtocol } from "../../adapters/node/protocol-of.ts";
import { createAccessLog, type AccessRecord } from "../../router/observability/access-log.ts";
import { ServiceRouter } from "../../router/service-router.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeEndpointSlice, KubeService } from "../../router/table/kubernetes-objects.ts";
import { createWasmCore } from "../../wasm/core-engine.ts";
import { seedService, slicesFor } from "../support/seed-backends.ts";
import { DETAIL_BYTES, echoClient, startGrpcPod, startTcpHop, unaryCall, unaryFailure, type EchoClient, type GrpcPod, type UnaryAnswer } from "../support/grpc-pods.ts";

const runtimeName = "Deno" in globalThis ? "deno" : "node";

function grpcService(name: string, port: { name: string; appProtocol?: string }, annotations: Record<string, string> = {}): KubeService {
  return { ...seedService(annotations, { ports: [{ ...port, port: 80, targetPort: 50051, protocol: "TCP" }] }), metadata: { name, namespace: "default", resourceVersion: "1", annotations } };
}

function grpcSlices(service: string, pods: readonly GrpcPod[], port: { name: string; appProtocol?: string }): KubeEndpointSlice[] {
  // One slice per pod (each listens on its own loopback port), with the service port's name.
  return pods.flatMap((pod) => slicesFor(service, [{ pod: pod.name, port: pod.port }]).map((slice) => ({ ...slice, metadata: { ...slice.metadata, name: `${service}-${pod.name}` }, ports: [{ ...port, port: pod.port, protocol: "TCP" }] })));
}

const records: AccessRecord[] = [];
const pods: GrpcPod[] = [];
let router: ServiceRouter;
let server: NodeServer;
let client: EchoClient;

beforeAll(async () => {
  for (let i = 0; i < 3; i++) pods.push(await startGrpcPod(`grpc-${i}`));
  router = new ServiceRouter({
    core: createWasmCore(),
    transport: createUndiciTransport(),
    clientAddress: nodeClientAddress,
    requestHeaders: nodeRequestHeaders,
    requestProtocol: nodeRequestProtocol,
    accessLog: createAccessLog({ sampleRate: 1, write: (line) => void records.push(JSON.parse(line) as AccessRecord) }),
  });
  const byAppProtocol = { name: "api", appProtocol: "grpc" };
  const byName = { name: "grpc-api" };
  router.setTable(
    buildRoutingTable({
      // Round robin: an even spread the test can bound tightly without being flaky.
      services: [grpcService("echo", byAppProtocol, { "vipr.io/lb-policy": "round-robin" }), grpcService("named", byName), grpcService("empty", byAppProtocol)],
      endpointSlices: [...grpcSlices("echo", pods, byAppProtocol), ...grpcSlices("named", pods.slice(0, 1), byName)],
    }),
  );
  server = await serveNode(router.app, { http2: {}, closeGraceMs: 200 });
  client = echoClient(server.port, "echo");
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await router?.close();
  for (const pod of pods) await pod.close();
});

function callsByPod(): number[] {
  return pods.map((pod) => pod.calls);
}

describe(`gRPC through vipr on ${runtimeName}`, () => {
  test("300 unary calls on one client channel reach 3 pods evenly; through a plain TCP hop they all reach one pod", async () => {
    const before = callsByPod();
    const answered: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const { response } = await unaryCall(client, Buffer.from(`call ${i}`));
      const pod = (JSON.parse(response.toString("utf8")) as UnaryAnswer).pod;
      answered[pod] = (answered[pod] ?? 0) + 1;
    }
    const spread = callsByPod().map((n, i) => n - before[i]!);
    console.log(`[${runtimeName}] 300 unary calls on one channel through vipr, per pod: ${JSON.stringify(answered)}`);
    for (const n of spread) {
      expect(n).toBeGreaterThanOrEqual(70);
      expect(n).toBeLessThanOrEqual(130);
    }

    const hop = await startTcpHop(pods.map((pod) => pod.port));
    const direct = echoClient(hop.port, "echo");
    try {
      const beforeHop = callsByPod();
      const hopAnswered: Record<string, number> = {};
      for (let i = 0; i < 300; i++) {
        const { response } = await unaryCall(direct, Buffer.from(`call ${i}`));
        const pod = (JSON.parse(response.toString("utf8")) as UnaryAnswer).pod;
        hopAnswered[pod] = (hopAnswered[pod] ?? 0) + 1;
      }
      console.log(`[${runtimeName}] 300 unary calls on one channel through a TCP hop, per pod: ${JSON.stringify(hopAnswered)}`);
      expect(callsByPod().map((n, i) => n - beforeHop[i]!).sort((a, b) => b - a)).toEqual([300, 0, 0]);
    } finally {
      direct.close();
      await hop.close();
    }
  });

  test("metadata arrives at the pod; response headers and trailers arrive at the client; the access log names h2c both ways", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("x-user", "alice");
    metadata.set("x-token-bin", Buffer.from([0, 1, 2, 254, 255]));
    const { response, headers, status } = await unaryCall(client, Buffer.from("meta"), metadata);
    const answer = JSON.parse(response.toString("utf8")) as UnaryAnswer;
    expect(answer.metadata["x-user"]).toBe("alice");
    expect(answer.metadata["x-token-bin"]).toBe(Buffer.from([0, 1, 2, 254, 255]).toString("base64"));
    expect(headers.get("x-pod")).toEqual([answer.pod]);
    expect(status.code).toBe(grpc.status.OK);
    expect(status.metadata.get("x-trailer-pod")).toEqual([answer.pod]);
    expect(records.find((r) => r.path === "/vipr.test.Echo/Unary")).toMatchObject({ status: 200, service: "default/echo", protocol: "h2c", upstream_protocol: "h2c" });
  });

  test("a pod's non-OK status arrives with its message and binary trailer metadata intact", async () => {
    const error = await unaryFailure(client, Buffer.from("fail"));
    expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error.details).toBe("precondition not met: ünïcode");
    expect(error.metadata.get("x-detail-bin")).toEqual([DETAIL_BYTES]);
    expect(error.metadata.get("x-detail")).toEqual(["text"]);
  });

  test("a port named grpc-* is HTTP/2 to the pod too", async () => {
    const named = echoClient(server.port, "named");
    try {
      const { response } = await unaryCall(named, Buffer.from("named"));
      expect((JSON.parse(response.toString("utf8")) as UnaryAnswer).pod).toBe("grpc-0");
    } finally {
      named.close();
    }
    expect(router.explain({ host: "named" })).toMatchObject({ found: true, resolvedAs: { upstreamProtocol: "h2c" } });
  });

  test("server streaming: 50 messages in order from one pod", async () => {
    const messages = await new Promise<string[]>((resolve, reject) => {
      const got: string[] = [];
      const call = client.serverStream(Buffer.from("50"));
      call.on("data", (message: Buffer) => got.push(message.toString("utf8")));
      call.on("error", reject);
      call.on("end", () => resolve(got));
    });
    expect(messages).toHaveLength(50);
    const pod = messages[0]!.split(":")[0]!;
    expect(messages).toEqual(Array.from({ length: 50 }, (_, i) => `${pod}:${i}`));
  });

  test("client streaming: 40 messages of 64 KiB reach one pod", async () => {
    const answer = await new Promise<{ messages: number; bytes: number }>((resolve, reject) => {
      const call = client.clientStream(new grpc.Metadata(), {}, (error, response) => (error ? reject(error) : resolve(JSON.parse(response!.toString("utf8")) as { messages: number; bytes: number })));
      for (let i = 0; i < 40; i++) call.write(Buffer.alloc(64 * 1024, i));
      call.end();
    });
    expect(answer).toMatchObject({ messages: 40, bytes: 40 * 64 * 1024 });
  });

  test("bidirectional streaming: each message answered on the same call, in turn", async () => {
    const call = client.bidi();
    const replies: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on("end", () => resolve());
      call.on("error", reject);
    });
    for (let i = 0; i < 5; i++) {
      const reply = new Promise<string>((resolve) => call.once("data", (message: Buffer) => resolve(message.toString("utf8"))));
      call.write(Buffer.from(`ping ${i}`));
      replies.push(await reply);
    }
    call.end();
    await ended;
    const pod = replies[0]!.split(":")[0]!;
    expect(replies).toEqual(Array.from({ length: 5 }, (_, i) => `${pod}:ping ${i}`));
  });

  test("a 4 MB message goes up and its size comes back", async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 0x5a);
    const { response } = await unaryCall(client, big);
    expect((JSON.parse(response.toString("utf8")) as UnaryAnswer).bytes).toBe(big.length);
  });
});
