// An HTTPRoute and a GRPCRoute with intersecting host names on one listener (GRPCRouteSpec.Hostnames:
// "the implementation MUST accept exactly one of these two routes": the oldest by creation
// timestamp, then the first by "namespace/name"; the other gets Accepted False in its
// RouteParentStatus, reason HostnameConflict in vipr). Through a served vipr with real
// @grpc/grpc-js clients over h2c: the rejected route is reported and routes nothing, the kept one
// routes both gRPC and other requests for the host; routes on different listeners, or with host
// names that do not intersect, are both accepted.
import * as grpc from "@grpc/grpc-js";
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { GatewayApiStatus, HTTPRouteStatusReport } from "../../router/gateway-api/gateway-conditions.ts";
import { GRPC_ECHO } from "../support/grpc-echo-backend.ts";
import { INFRA } from "./gateway-harness.ts";
import { startGrpcGatewayHarness, type GrpcGatewayHarness } from "./grpc-gateway-harness.ts";

let gw: GrpcGatewayHarness;

beforeAll(async () => {
  gw = await startGrpcGatewayHarness();
}, 30_000);

afterAll(async () => {
  await gw?.close();
});

const ECHO = `/${GRPC_ECHO}/Echo`;
const OLD = "2024-01-01T00:00:00Z";
const NEW = "2024-02-01T00:00:00Z";

function route(kind: "HTTPRoute" | "GRPCRoute", name: string, created: string, hostnames: string, backend: string, parent = "same-namespace"): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: ${kind}
metadata: { name: ${name}, namespace: ${INFRA}, creationTimestamp: "${created}" }
spec:
  parentRefs: [{ name: ${parent} }]
  hostnames: ${hostnames}
  rules: [{ backendRefs: [{ name: ${backend}, port: 8080 }] }]
`;
}

/** "Accepted=status/reason" of a route's first parent. */
function accepted(reports: readonly HTTPRouteStatusReport[] | undefined, name: string): string {
  const c = reports?.find((r) => r.name === name)?.parents[0]?.conditions.find((x) => x.type === "Accepted");
  return c === undefined ? "absent" : `${c.status}/${c.reason}`;
}

function message(reports: readonly HTTPRouteStatusReport[] | undefined, name: string): string {
  return reports?.find((r) => r.name === name)?.parents[0]?.conditions.find((x) => x.type === "Accepted")?.message ?? "";
}

function attached(status: GatewayApiStatus, gateway = "same-namespace"): number | undefined {
  return status.gateways.find((g) => g.name === gateway)?.listeners[0]?.attachedRoutes;
}

/** The backend that answered a gRPC call, or the gRPC status name. */
async function grpcWho(host: string): Promise<string> {
  const result = await gw.call(host, ECHO);
  return result.echo?.service ?? grpc.status[result.code];
}

/** The HTTP status of a plain (not gRPC) HTTP/2 POST to `host`. */
async function plainStatus(host: string): Promise<number> {
  const session = http2.connect(`http://127.0.0.1:${gw.port}`);
  try {
    return await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":authority": host, ":path": "/plain", "content-type": "application/json" });
      stream.on("response", (headers) => resolve(Number(headers[":status"])));
      stream.on("error", reject);
      stream.resume();
      stream.end("{}");
    });
  } finally {
    session.close();
  }
}

describe("HTTPRoute and GRPCRoute with intersecting host names on one listener", () => {
  test("the older HTTPRoute is kept: the GRPCRoute is Accepted False HostnameConflict naming it, and gRPC calls for the host go by the HTTPRoute", async () => {
    const status = gw.apply(route("HTTPRoute", "http-old", OLD, "[both.example.com]", "grpc-infra-backend-v2") + route("GRPCRoute", "grpc-new", NEW, "[both.example.com]", "grpc-infra-backend-v1"));
    expect([accepted(status.httpRoutes, "http-old"), accepted(status.grpcRoutes, "grpc-new"), attached(status)]).toEqual(["True/Accepted", "False/HostnameConflict", 1]);
    expect(message(status.grpcRoutes, "grpc-new")).toContain(`HTTPRoute ${INFRA}/http-old`);
    // ResolvedRefs still says what it says of the backends (they resolve).
    expect(status.grpcRoutes?.[0]?.parents[0]?.conditions.find((c) => c.type === "ResolvedRefs")?.status).toBe("True");
    expect(await grpcWho("both.example.com")).toBe("grpc-infra-backend-v2");
  });

  test("the older GRPCRoute is kept: the HTTPRoute is rejected, and a request that is not gRPC finds no route for the host", async () => {
    const status = gw.apply(route("HTTPRoute", "http-new", NEW, "[both.example.com]", "grpc-infra-backend-v2") + route("GRPCRoute", "grpc-old", OLD, "[both.example.com]", "grpc-infra-backend-v1"));
    expect([accepted(status.grpcRoutes, "grpc-old"), accepted(status.httpRoutes, "http-new"), attached(status)]).toEqual(["True/Accepted", "False/HostnameConflict", 1]);
    expect(message(status.httpRoutes, "http-new")).toContain(`GRPCRoute ${INFRA}/grpc-old`);
    expect(await grpcWho("both.example.com")).toBe("grpc-infra-backend-v1");
    expect(await plainStatus("both.example.com")).toBe(404);
  });

  test("the same creation time: the first by namespace/name is kept", () => {
    const status = gw.apply(route("HTTPRoute", "b-http", OLD, "[both.example.com]", "grpc-infra-backend-v2") + route("GRPCRoute", "a-grpc", OLD, "[both.example.com]", "grpc-infra-backend-v1"));
    expect([accepted(status.grpcRoutes, "a-grpc"), accepted(status.httpRoutes, "b-http")]).toEqual(["True/Accepted", "False/HostnameConflict"]);
  });

  test("a wildcard intersects a name under it, and a route without host names intersects every name", () => {
    const wild = gw.apply(route("GRPCRoute", "grpc-wild", OLD, '["*.wild.example"]', "grpc-infra-backend-v1") + route("HTTPRoute", "http-one", NEW, "[a.wild.example]", "grpc-infra-backend-v2"));
    expect([accepted(wild.grpcRoutes, "grpc-wild"), accepted(wild.httpRoutes, "http-one")]).toEqual(["True/Accepted", "False/HostnameConflict"]);
    const any = gw.apply(route("HTTPRoute", "http-any", OLD, "[]", "grpc-infra-backend-v2") + route("GRPCRoute", "grpc-named", NEW, "[named.example.com]", "grpc-infra-backend-v1"));
    expect([accepted(any.httpRoutes, "http-any"), accepted(any.grpcRoutes, "grpc-named")]).toEqual(["True/Accepted", "False/HostnameConflict"]);
  });

  test("host names that do not intersect, or another listener: both are accepted and each routes its own", async () => {
    const apart = gw.apply(route("HTTPRoute", "http-apart", OLD, "[http.example.com]", "grpc-infra-backend-v2") + route("GRPCRoute", "grpc-apart", NEW, '["*.grpc.example.com"]', "grpc-infra-backend-v1"));
    expect([accepted(apart.httpRoutes, "http-apart"), accepted(apart.grpcRoutes, "grpc-apart"), attached(apart)]).toEqual(["True/Accepted", "True/Accepted", 2]);
    expect(await grpcWho("a.grpc.example.com")).toBe("grpc-infra-backend-v1");
    const other = gw.apply(route("HTTPRoute", "http-here", OLD, "[both.example.com]", "grpc-infra-backend-v2") + route("GRPCRoute", "grpc-there", NEW, "[both.example.com]", "grpc-infra-backend-v1", "all-namespaces"));
    expect([accepted(other.httpRoutes, "http-here"), accepted(other.grpcRoutes, "grpc-there"), attached(other), attached(other, "all-namespaces")]).toEqual(["True/Accepted", "True/Accepted", 1, 1]);
  });

  test("with the HTTPRoute gone, the GRPCRoute it kept out is accepted and routes the host", async () => {
    const status = gw.apply(route("GRPCRoute", "grpc-new", NEW, "[both.example.com]", "grpc-infra-backend-v1"));
    expect(accepted(status.grpcRoutes, "grpc-new")).toBe("True/Accepted");
    expect(await grpcWho("both.example.com")).toBe("grpc-infra-backend-v1");
  });
});
