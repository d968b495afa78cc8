// The one method bench:grpc calls: unary, Buffers in and out (serialization the identity).
import type * as grpc from "@grpc/grpc-js";

const identity = (value: Buffer): Buffer => value;
export const echoMethod: grpc.MethodDefinition<Buffer, Buffer> = {
  path: "/vipr.bench.Echo/Unary",
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
};
