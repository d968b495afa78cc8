// gRPC pods and clients for the gRPC tests: real @grpc/grpc-js servers on loopback and grpc-js's
// generic client, over a service defined without proto files (its messages are raw Buffers, the
// serialize functions the identity), so what a test sends is exactly what the pod receives.
import * as grpc from "@grpc/grpc-js";
import net, { type AddressInfo, type Server as NetServer, type Socket } from "node:net";

const identity = (value: Buffer): Buffer => value;
function method(name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return { path: `/vipr.test.Echo/${name}`, requestStream, responseStream, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
}

/** vipr.test.Echo: the four call shapes. */
export const echoService = {
  unary: method("Unary", false, false),
  serverStream: method("ServerStream", false, true),
  clientStream: method("ClientStream", true, false),
  bidi: method("Bidi", true, true),
} satisfies grpc.ServiceDefinition;

export type EchoClient = grpc.Client & {
  unary(request: Buffer, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: Buffer) => void): grpc.ClientUnaryCall;
  serverStream(request: Buffer, metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<Buffer>;
  clientStream(metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: Buffer) => void): grpc.ClientWritableStream<Buffer>;
  bidi(metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<Buffer, Buffer>;
};

const EchoClientConstructor = grpc.makeGenericClientConstructor(echoService, "Echo") as unknown as new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => EchoClient;

/** A client on one channel to `port`, sending `authority` as :authority (the service name vipr
 * routes by); plain h2c unless other credentials are given. */
export function echoClient(port: number, authority: string, credentials = grpc.credentials.createInsecure(), options: grpc.ClientOptions = {}): EchoClient {
  return new EchoClientConstructor(`127.0.0.1:${port}`, credentials, { "grpc.default_authority": authority, "grpc.max_receive_message_length": 16 * 1024 * 1024, ...options });
}

/** What a unary call's answer says: the pod that answered and the metadata it received. */
export interface UnaryAnswer {
  readonly pod: string;
  readonly bytes: number;
  readonly metadata: Record<string, string>;
}

/**
 * Unary request bodies the pod reacts to:
 * - "fail": status FAILED_PRECONDITION, message "precondition not met: ünïcode", trailers
 *   x-detail-bin (bytes 0..255) and x-detail "text";
 * - "hang": never answered;
 * - anything else: UnaryAnswer as JSON (metadata as text, -bin values base64), with response
 *   metadata x-pod (headers) and x-trailer-pod (trailers).
 */
export interface GrpcPod {
  readonly name: string;
  readonly port: number;
  calls: number;
  readonly server: grpc.Server;
  close(): Promise<void>;
}

export const DETAIL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function metadataRecord(metadata: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) out[key] = Buffer.isBuffer(value) ? value.toString("base64") : String(value);
  return out;
}

/** failWith: every unary call is answered with this status (a pod in trouble). dieMidStream: a
 * server stream sends 2 messages, then the pod is killed (every connection destroyed, the port
 * closed). */
export async function startGrpcPod(name: string, options: { failWith?: grpc.status; dieMidStream?: boolean } = {}): Promise<GrpcPod> {
  const server = new grpc.Server({ "grpc.max_receive_message_length": 16 * 1024 * 1024 });
  const pod = { name, port: 0, calls: 0, server } as GrpcPod & { port: number };
  server.addService(echoService, {
    unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      pod.calls++;
      const text = call.request.length < 16 ? call.request.toString("utf8") : "";
      if (text === "hang") return;
      if (options.failWith !== undefined) return callback({ code: options.failWith, details: `${name} is failing` });
      const headers = new grpc.Metadata();
      headers.set("x-pod", name);
      call.sendMetadata(headers);
      if (text === "fail") {
        const trailers = new grpc.Metadata();
        trailers.set("x-detail-bin", DETAIL_BYTES);
        trailers.set("x-detail", "text");
        callback({ code: grpc.status.FAILED_PRECONDITION, details: "precondition not met: ünïcode", metadata: trailers });
        return;
      }
      const trailers = new grpc.Metadata();
      trailers.set("x-trailer-pod", name);
      const answer: UnaryAnswer = { pod: name, bytes: call.request.length, metadata: metadataRecord(call.metadata) };
      callback(null, Buffer.from(JSON.stringify(answer)), trailers);
    },
    serverStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      pod.calls++;
      if (options.dieMidStream === true) {
        call.write(Buffer.from(`${name}:0`));
        call.write(Buffer.from(`${name}:1`));
        setTimeout(() => server.forceShutdown(), 50);
        return;
      }
      const count = Number(call.request.toString("utf8"));
      for (let i = 0; i < count; i++) call.write(Buffer.from(`${name}:${i}`));
      call.end();
    },
    clientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      pod.calls++;
      let messages = 0;
      let bytes = 0;
      call.on("data", (message: Buffer) => {
        messages++;
        bytes += message.length;
      });
      call.on("end", () => callback(null, Buffer.from(JSON.stringify({ pod: name, messages, bytes }))));
    },
    bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      pod.calls++;
      call.on("data", (message: Buffer) => call.write(Buffer.concat([Buffer.from(`${name}:`), message])));
      call.on("end", () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  pod.port = port;
  pod.close = () =>
    new Promise<void>((done) => {
      server.forceShutdown();
      done();
    });
  return pod;
}

/** A unary call as a promise. */
export function unaryCall(client: EchoClient, request: Buffer, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<{ response: Buffer; headers: grpc.Metadata; status: grpc.StatusObject }> {
  return new Promise((resolve, reject) => {
    let headers = new grpc.Metadata();
    let response: Buffer | undefined;
    let settled = 0;
    let status: grpc.StatusObject | undefined;
    const done = (): void => {
      if (++settled === 2) resolve({ response: response!, headers, status: status! });
    };
    const call = client.unary(request, metadata, options, (error, answer) => {
      if (error !== null) return reject(error);
      response = answer;
      done();
    });
    call.on("metadata", (received: grpc.Metadata) => (headers = received));
    call.on("status", (received: grpc.StatusObject) => {
      status = received;
      done();
    });
  });
}

/** A unary call's failure (a grpc-js ServiceError), as a promise that resolves with it. */
export function unaryFailure(client: EchoClient, request: Buffer, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<grpc.ServiceError> {
  return new Promise((resolve, reject) => {
    client.unary(request, metadata, options, (error) => (error === null ? reject(new Error("the call succeeded")) : resolve(error)));
  });
}

/**
 * A plain TCP hop in front of several pods, as kube-proxy is: each connection goes to the next pod
 * (round robin), and its bytes are piped both ways untouched. One gRPC channel is one connection,
 * so every call on it reaches the pod its connection went to.
 */
export async function startTcpHop(ports: readonly number[]): Promise<{ port: number; close(): Promise<void> }> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server: NetServer = net.createServer((downstream) => {
    const upstream = net.connect(ports[next++ % ports.length]!, "127.0.0.1");
    for (const socket of [downstream, upstream]) {
      // Without it Nagle's algorithm holds small writes for the peer's delayed ACK: ~45 ms a call on Node.
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      socket.on("error", () => {});
    }
    downstream.pipe(upstream).pipe(downstream);
    downstream.once("close", () => upstream.destroy());
    upstream.once("close", () => downstream.destroy());
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}
