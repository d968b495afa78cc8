// The pure rules of vipr's gRPC support: which ports are HTTP/2 to the pod, which requests are
// gRPC, grpc-timeout's grammar, grpc-message's encoding and the status mapping.
import { describe, expect, test } from "vitest";
import { encodeGrpcMessage, grpcErrorResponse, grpcStatusOf, isGrpcFailureStatus, isGrpcRequest } from "../../router/forward/grpc-status.ts";
import { parseGrpcTimeout } from "../../router/forward/grpc-timeout.ts";
import { upstreamProtocolOf } from "../../router/service-port.ts";

describe("gRPC rules", () => {
  test("a port is HTTP/2 to the pod by appProtocol (kubernetes.io/h2c, grpc) or by a grpc / grpc-* name", () => {
    expect(upstreamProtocolOf({ name: "", appProtocol: "kubernetes.io/h2c" })).toBe("h2c");
    expect(upstreamProtocolOf({ name: "http", appProtocol: "GRPC" })).toBe("h2c");
    expect(upstreamProtocolOf({ name: "grpc" })).toBe("h2c");
    expect(upstreamProtocolOf({ name: "grpc-api" })).toBe("h2c");
    // Istio reads grpc-web as gRPC-Web (HTTP/1.1-compatible); an explicit appProtocol wins over the name.
    expect(upstreamProtocolOf({ name: "grpc-web" })).toBeUndefined();
    expect(upstreamProtocolOf({ name: "grpc", appProtocol: "http" })).toBeUndefined();
    expect(upstreamProtocolOf({ name: "grpcish" })).toBeUndefined();
    expect(upstreamProtocolOf({ name: "http" })).toBeUndefined();
    expect(upstreamProtocolOf(undefined)).toBeUndefined();
  });

  test("a gRPC request is content-type application/grpc or application/grpc+format, not gRPC-Web", () => {
    expect(isGrpcRequest(["content-type", "application/grpc"])).toBe(true);
    expect(isGrpcRequest(["content-type", "application/grpc+proto"])).toBe(true);
    expect(isGrpcRequest(["Content-Type", "Application/GRPC+json"])).toBe(true);
    expect(isGrpcRequest(["content-type", "application/grpc-web+proto"])).toBe(false);
    expect(isGrpcRequest(["content-type", "application/json"])).toBe(false);
    expect(isGrpcRequest([])).toBe(false);
  });

  test("grpc-timeout: at most 8 digits and a unit H M S m u n, rounded up to whole milliseconds", () => {
    expect(parseGrpcTimeout("300m")).toBe(300);
    expect(parseGrpcTimeout("2S")).toBe(2000);
    expect(parseGrpcTimeout("1M")).toBe(60_000);
    expect(parseGrpcTimeout("1H")).toBe(3_600_000);
    expect(parseGrpcTimeout("1500u")).toBe(2);
    expect(parseGrpcTimeout("1n")).toBe(1);
    expect(parseGrpcTimeout("99999999S")).toBe(99_999_999_000);
    expect(parseGrpcTimeout("123456789S")).toBeUndefined(); // 9 digits
    expect(parseGrpcTimeout("10")).toBeUndefined();
    expect(parseGrpcTimeout("10s")).toBeUndefined(); // units are case-sensitive: "s" is not one
    expect(parseGrpcTimeout("-1S")).toBeUndefined();
    expect(parseGrpcTimeout("1.5S")).toBeUndefined();
  });

  test("grpc-message is percent-encoded UTF-8 outside 0x20..0x7E, and % itself", () => {
    expect(encodeGrpcMessage("no endpoints")).toBe("no endpoints");
    expect(encodeGrpcMessage("100% ü\n")).toBe("100%25 %C3%BC%0A");
  });

  test("vipr's errors map to gRPC statuses; the answer is Trailers-Only in shape", () => {
    expect(grpcStatusOf.unknown_service).toBe(12);
    expect(grpcStatusOf.no_endpoints).toBe(14);
    expect(grpcStatusOf.upstream_connect).toBe(14);
    expect(grpcStatusOf.overloaded).toBe(14);
    expect(grpcStatusOf.upstream_timeout).toBe(4);
    const response = grpcErrorResponse("no_endpoints", "service default/x has no ready endpoints");
    expect(response.status).toBe(200);
    expect(response.body).toBeNull();
    expect(Object.fromEntries(response.headers)).toMatchObject({ "content-type": "application/grpc", "grpc-status": "14", "x-vipr-error": "no_endpoints" });
  });

  test("passive health counts the pod-trouble statuses only", () => {
    expect([0, 1, 2, 3, 4, 5, 9, 12, 13, 14, 15, 16].filter(isGrpcFailureStatus)).toEqual([2, 4, 13, 14, 15]);
    expect(isGrpcFailureStatus(undefined)).toBe(false);
  });
});
