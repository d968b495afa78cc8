// The pod of bench:grpc: a @grpc/grpc-js server on loopback (h2c) with one unary method,
// /vipr.bench.Echo/Unary, answering each request with its own bytes. Messages are raw Buffers (no
// proto files), so the bench measures the transport, not protobuf.
// Usage: node bench/grpc/grpc-pod.ts   (prints "ready PORT")
import * as grpc from "@grpc/grpc-js";
import { echoMethod } from "./echo-method.ts";

const server = new grpc.Server();
server.addService({ unary: echoMethod }, {
  unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request),
});
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error !== null) throw error;
  console.log(`ready ${port}`);
});
