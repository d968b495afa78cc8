// Issue 14: gRPC balanced per call. Real @grpc/grpc-js servers as pods, the real grpc-js client
// through vipr (serveNode with HTTP/2, h2c prior knowledge on the plain port): every call on one
// client channel is routed on its own, where a plain TCP hop (what kube-proxy is) sends a channel's
// every call to one pod. Trailers (grpc-status, grpc-message, -bin metadata) pass through.
import * as grpc from "@grpc/grpc-js";
import http2, { type Http2Server, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
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
/** The "flaky" service's pods: one answering every call UNAVAILABLE, one healthy. */
let failing: GrpcPod;
let healthy: GrpcPod;
/** Killed in the middle of its first server stream. */
let victim: GrpcPod;
/** A pod that takes every call and never answers (an h2c server that holds its streams). */
let silent: Http2Server;
const held = new Set<ServerHttp2Stream>();

beforeAll(async () => {
  for (let i = 0; i < 3; i++) pods.push(await startGrpcPod(`grpc-${i}`));
  failing = await startGrpcPod("failing-0", { failWith: grpc.status.UNAVAILABLE });
  healthy = await startGrpcPod("healthy-0");
  victim = await startGrpcPod("victim-0", { dieMidStream: true });
  silent = http2.createServer();
  silent.on("stream", (stream: ServerHttp2Stream) => {
    held.add(stream);
    stream.resume();
    stream.once("close", () => held.delete(stream));
  });
  await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
  const silentPort = (silent.address() as AddressInfo).port;
  // A port that was listening and is closed now: connections to it are refused.
  const closed = http2.createServer();
  await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
  const refusingPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((done) => closed.close(() => done()));
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
      services: [grpcService("echo", byAppProtocol, { "vipr.io/lb-policy": "round-robin" }), grpcService("named", byName), grpcService("empty", byAppProtocol),
        grpcService("silent", byAppProtocol),
        grpcService("hashed", byAppProtocol, { "vipr.io/lb-policy": "maglev", "vipr.io/hash-key": "header:x-user" }),
        grpcService("partly", byAppProtocol, { "vipr.io/lb-policy": "round-robin" }),
        grpcService("flaky", byAppProtocol, { "vipr.io/lb-policy": "round-robin" }),
        grpcService("killable", byAppProtocol, { "vipr.io/lb-policy": "round-robin" }),
      ],
      endpointSlices: [
        ...grpcSlices("echo", pods, byAppProtocol),
        ...grpcSlices("named", pods.slice(0, 1), byName),
        ...grpcSlices("silent", [{ name: "silent-0", port: silentPort } as GrpcPod], byAppProtocol),
        ...grpcSlices("hashed", pods, byAppProtocol),
        // A pod whose port refuses connections beside a live one.
        ...grpcSlices("partly", [pods[0]!, { name: "refusing-0", port: refusingPort } as GrpcPod], byAppProtocol),
        ...grpcSlices("flaky", [failing, healthy], byAppProtocol),
        ...grpcSlices("killable", [victim, healthy], byAppProtocol),
      ],
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
  await failing?.close();
  await healthy?.close();
  await victim?.close();
  for (const stream of held) stream.destroy();
  await new Promise<void>((done) => (silent === undefined ? done() : silent.close(() => done())));
});

/** One call by node:http2 with the fields given: the response's header block, whether it ended
 * the stream (a Trailers-Only response), and the trailers if any. */
function rawCall(authority: string, fields: Record<string, string>): Promise<{ headers: http2.IncomingHttpHeaders; endStream: boolean; trailers: http2.IncomingHttpHeaders | undefined }> {
  const session = http2.connect(`http://127.0.0.1:${server.port}`);
  return new Promise<{ headers: http2.IncomingHttpHeaders; endStream: boolean; trailers: http2.IncomingHttpHeaders | undefined }>((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":authority": authority, ":path": "/vipr.test.Echo/Unary", "content-type": "application/grpc", te: "trailers", ...fields });
    let head: { headers: http2.IncomingHttpHeaders; endStream: boolean } | undefined;
    let trailers: http2.IncomingHttpHeaders | undefined;
    stream.on("response", (headers, flags) => (head = { headers, endStream: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0 }));
    stream.on("trailers", (received) => (trailers = received));
    stream.on("error", reject);
    stream.on("close", () => (head === undefined ? reject(new Error(`no response (RST_STREAM ${stream.rstCode})`)) : resolve({ ...head, trailers })));
    stream.resume();
    stream.end(Buffer.from([0, 0, 0, 0, 1, 0x78]));
  }).finally(() => session.close());
}

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

  test("a hash key from metadata (vipr.io/hash-key header:x-user) keeps a user's calls on one pod", async () => {
    const hashed = echoClient(server.port, "hashed");
    try {
      const podOf = async (user: string): Promise<string> => {
        const metadata = new grpc.Metadata();
        metadata.set("x-user", user);
        return (JSON.parse((await unaryCall(hashed, Buffer.from("h"), metadata)).response.toString("utf8")) as UnaryAnswer).pod;
      };
      const alice = new Set<string>();
      for (let i = 0; i < 20; i++) alice.add(await podOf("alice"));
      expect(alice.size).toBe(1);
      const users = new Set<string>();
      for (let i = 0; i < 30; i++) users.add(await podOf(`user-${i}`));
      expect(users.size).toBeGreaterThan(1);
    } finally {
      hashed.close();
    }
  });

  test("calls to a pod that refuses connections are retried on another (nothing reached it): every call succeeds", async () => {
    const partly = echoClient(server.port, "partly");
    try {
      for (let i = 0; i < 10; i++) {
        const { response, status } = await unaryCall(partly, Buffer.from(`p${i}`));
        expect(status.code).toBe(grpc.status.OK);
        expect((JSON.parse(response.toString("utf8")) as UnaryAnswer).pod).toBe("grpc-0");
      }
    } finally {
      partly.close();
    }
  });

  test("passive health counts gRPC failures by grpc-status: a pod answering UNAVAILABLE is ejected after 5", async () => {
    const flaky = echoClient(server.port, "flaky");
    try {
      const codes: number[] = [];
      for (let i = 0; i < 20; i++) {
        const metadata = new grpc.Metadata();
        codes.push(await unaryCall(flaky, Buffer.from(`f${i}`), metadata).then((answer) => answer.status.code, (error: grpc.ServiceError) => error.code));
      }
      // Round robin alternates until the 5th consecutive UNAVAILABLE (outlier detection's
      // default) ejects the failing pod; every later call reaches the healthy one. Without
      // counting grpc-status, the failing pod would get 10 of the 20 (its answers are HTTP 200).
      expect(failing.calls).toBe(5);
      expect(healthy.calls).toBe(15);
      expect(codes.filter((code) => code === grpc.status.UNAVAILABLE), JSON.stringify(codes)).toHaveLength(5);
      expect(router.endpointHealth().get("default/flaky")?.find((e) => e.identity === "failing-0")).toMatchObject({ ejections: 1 });
    } finally {
      flaky.close();
    }
  });

  test("a pod killed mid-stream: the client gets UNAVAILABLE after the messages it sent; new calls go elsewhere", async () => {
    const killable = echoClient(server.port, "killable");
    try {
      const stream = (): Promise<{ messages: string[]; error: grpc.ServiceError | undefined }> =>
        new Promise((resolve) => {
          const messages: string[] = [];
          const call = killable.serverStream(Buffer.from("5"));
          call.on("data", (message: Buffer) => messages.push(message.toString("utf8")));
          call.on("error", (error: grpc.ServiceError) => resolve({ messages, error }));
          call.on("end", () => resolve({ messages, error: undefined }));
        });
      // Round robin: one of the first two streams is the victim's.
      let cut = await stream();
      if (cut.error === undefined) cut = await stream();
      expect(cut.messages).toEqual(["victim-0:0", "victim-0:1"]);
      expect(cut.error?.code, cut.error?.details).toBe(grpc.status.UNAVAILABLE);
      expect(cut.error?.details).toContain("vipr: the pod's response broke off");
      // The victim's port is closed now: calls are retried on (then routed to) the healthy pod.
      const before = healthy.calls;
      for (let i = 0; i < 6; i++) expect((await unaryCall(killable, Buffer.from(`k${i}`))).status.code).toBe(grpc.status.OK);
      expect(healthy.calls - before).toBe(6);
    } finally {
      killable.close();
    }
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

describe(`vipr's own failures as gRPC statuses on ${runtimeName}`, () => {
  test("an unknown service: UNIMPLEMENTED with vipr's message, as a Trailers-Only response", async () => {
    const unknown = echoClient(server.port, "nosuch");
    try {
      const error = await unaryFailure(unknown, Buffer.from("x"));
      expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
      expect(error.details).toContain("nosuch");
    } finally {
      unknown.close();
    }
    const raw = await rawCall("nosuch", {});
    expect(raw.headers[":status"]).toBe(200);
    expect(raw.headers["content-type"]).toBe("application/grpc");
    expect(raw.headers["grpc-status"]).toBe("12");
    expect(raw.headers["x-vipr-error"]).toBe("unknown_service");
    // Trailers-Only: the one header block ended the stream.
    expect(raw.endStream).toBe(true);
    expect(raw.trailers).toBeUndefined();
    // The metrics and the log count what the failure was, not the 200 it travelled in.
    expect(records.findLast((r) => r.host === "nosuch")).toMatchObject({ status: 404 });
    expect(records.findLast((r) => r.host === "nosuch")?.error).toMatch(/^grpc-status 12 \(unknown_service\)/);
  });

  test("a service with no endpoints: UNAVAILABLE with vipr's message", async () => {
    const empty = echoClient(server.port, "empty");
    try {
      const error = await unaryFailure(empty, Buffer.from("x"));
      expect(error.code).toBe(grpc.status.UNAVAILABLE);
      expect(error.details).toContain("default/empty");
      expect(error.metadata.get("x-vipr-error")).toEqual(["no_endpoints"]);
    } finally {
      empty.close();
    }
  });

  test("grpc-timeout is the call's deadline: a pod that never answers gets DEADLINE_EXCEEDED from vipr", async () => {
    // node:http2 without a deadline of its own: only vipr can end this call.
    const raw = await rawCall("silent", { "grpc-timeout": "300m" });
    expect(raw.headers["grpc-status"]).toBe("4");
    expect(raw.headers["x-vipr-error"]).toBe("upstream_timeout");
    expect(decodeURIComponent(String(raw.headers["grpc-message"]))).toContain("timeout");
    expect(records.findLast((r) => r.host === "silent")).toMatchObject({ status: 504, service: "default/silent" });

    // grpc-js with a 300 ms deadline: it may end the call itself at the same moment; vipr's log
    // says vipr timed the call out too.
    const before = records.filter((r) => r.host === "silent").length;
    const timed = echoClient(server.port, "silent");
    try {
      const error = await unaryFailure(timed, Buffer.from("x"), new grpc.Metadata(), { deadline: Date.now() + 300 });
      expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    } finally {
      timed.close();
    }
    await expect.poll(() => records.filter((r) => r.host === "silent").length, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(records.findLast((r) => r.host === "silent")?.error).toMatch(/grpc-status 4 \(upstream_timeout\)|client_aborted/);
  });
});
