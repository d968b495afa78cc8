// GRPCRoute filters, backends and attachment through a served vipr, with real @grpc/grpc-js
// clients over h2c and grpc-js pods: our own cases for what the conformance tests
// GRPCRouteRequestHeaderModifier and GRPCRouteListenerHostnameMatching check, ResponseHeaderModifier,
// RequestMirror (an HTTP/2 copy of the call with its message to the mirror's pod); backendRefs that do not resolve (no backends, a missing Service,
// another namespace without a ReferenceGrant from GRPCRoute) answer UNAVAILABLE
// (GRPCRouteRule.BackendRefs) with ResolvedRefs False and the spec's reason; attachment by
// allowedRoutes kinds, sectionName and hostname intersection, with the status conditions; an
// HTTPRoute and a GRPCRoute side by side: gRPC calls take the GRPCRoute, other requests do not.
import * as grpc from "@grpc/grpc-js";
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { GatewayApiStatus } from "../../router/gateway-api/gateway-conditions.ts";
import { GRPC_ECHO } from "../support/grpc-echo-backend.ts";
import { INFRA, WEB } from "./gateway-harness.ts";
import { gatewayYaml } from "./gateway-yaml.ts";
import { startGrpcGatewayHarness, type GrpcGatewayHarness } from "./grpc-gateway-harness.ts";

let gw: GrpcGatewayHarness;

beforeAll(async () => {
  gw = await startGrpcGatewayHarness();
}, 30_000);

afterAll(async () => {
  await gw?.close();
});

const ECHO = `/${GRPC_ECHO}/Echo`;

function grpcRoute(name: string, spec: string, parentRefs = "[{ name: same-namespace }]"): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: ${name}, namespace: ${INFRA} }
spec:
  parentRefs: ${parentRefs}
${spec}`;
}

/** "type=status/reason" of each condition of a GRPCRoute's first parent. */
function conditions(status: GatewayApiStatus, name: string): string[] {
  const report = status.grpcRoutes?.find((r) => r.name === name);
  return (report?.parents[0]?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
}

describe("GRPCRouteRequestHeaderModifier", () => {
  test("set overwrites, add appends, remove drops the metadata the pod receives; several of each in one filter", async () => {
    gw.apply(
      grpcRoute(
        "request-headers",
        `  rules:
  - matches: [{ method: { service: ${GRPC_ECHO}, method: Echo } }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{ name: X-Set, value: set-value }]
        add: [{ name: x-add, value: added }]
        remove: [x-remove]
    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]
  - matches: [{ method: { service: ${GRPC_ECHO}, method: EchoTwo } }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{ name: x-set-1, value: one }, { name: x-set-2, value: two }]
        add: [{ name: x-add-1, value: one }, { name: x-add-2, value: two }]
        remove: [x-remove-1, X-Remove-2]
    backendRefs: [{ name: grpc-infra-backend-v2, port: 8080 }]
`,
      ),
    );
    const result = await gw.call("grpc.example.com", ECHO, { "x-set": "client", "x-add": "client", "x-remove": "gone", "x-keep": "kept" });
    expect(result.code).toBe(grpc.status.OK);
    expect(result.echo?.metadata["x-set"]).toEqual(["set-value"]);
    // Added after the client's value: the pod's grpc-js reads the one field vipr sends as one value.
    expect(result.echo?.metadata["x-add"]).toEqual(["client, added"]);
    expect(result.echo?.metadata["x-remove"]).toBeUndefined();
    expect(result.echo?.metadata["x-keep"]).toEqual(["kept"]);
    const two = await gw.call("grpc.example.com", `/${GRPC_ECHO}/EchoTwo`, { "x-set-1": "client", "x-add-2": "client", "x-remove-1": "gone", "x-remove-2": "gone" });
    expect(two.echo?.service).toBe("grpc-infra-backend-v2");
    const seen = two.echo!.metadata;
    expect([seen["x-set-1"], seen["x-set-2"], seen["x-add-1"], seen["x-add-2"], seen["x-remove-1"], seen["x-remove-2"]]).toEqual([["one"], ["two"], ["one"], ["client, two"], undefined, undefined]);
  });
});

describe("GRPCRoute ResponseHeaderModifier and RequestMirror", () => {
  test("ResponseHeaderModifier adds and removes response headers the client reads", async () => {
    gw.apply(
      grpcRoute(
        "response-headers",
        `  rules:
  - filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        add: [{ name: x-gateway, value: vipr }]
        remove: [x-pod]
    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]
`,
      ),
    );
    const result = await gw.call("grpc.example.com", ECHO);
    expect(result.echo?.service).toBe("grpc-infra-backend-v1");
    expect(result.headers["x-gateway"]).toEqual(["vipr"]);
    expect(result.headers["x-pod"]).toBeUndefined();
  });

  test("RequestMirror sends the pod of the mirror backend an HTTP/2 copy of the call with its message and metadata, fire and forget; the client gets the backend's answer", async () => {
    const status = gw.apply(
      grpcRoute(
        "mirrored",
        `  rules:
  - filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: grpc-infra-backend-v3, port: 8080 } } }]
    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]
`,
      ),
    );
    expect(conditions(status, "mirrored")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"]);
    const mirror = gw.backends.get("grpc-infra-backend-v3")!;
    const id = crypto.randomUUID();
    const result = await gw.call("grpc.example.com", ECHO, { "x-mirror-id": id }, `message ${id}`);
    expect([grpc.status[result.code], result.echo?.service, result.echo?.message]).toEqual(["OK", "grpc-infra-backend-v1", `message ${id}`]);
    // grpc-js runs a unary handler only once the whole message arrived: the copy carried the body.
    await expect.poll(() => mirror.received().find((r) => r.metadata["x-mirror-id"]?.[0] === id), { timeout: 10_000 }).toBeDefined();
    const copy = mirror.received().find((r) => r.metadata["x-mirror-id"]?.[0] === id)!;
    expect([copy.path, copy.message]).toEqual([ECHO, `message ${id}`]);
    expect(gw.backends.get("grpc-infra-backend-v1")!.received().filter((r) => r.metadata["x-mirror-id"]?.[0] === id).length).toBe(1);
  });

  test("a RequestMirror to a backend whose port is not HTTP/2 (appProtocol http) is ResolvedRefs False UnsupportedProtocol and gets no copy; the call is served", async () => {
    const status = gw.apply(
      grpcRoute(
        "mirrored-http",
        `  rules:
  - filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: grpc-http-backend, port: 8080 } } }]
    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]
`,
      ),
    );
    expect(conditions(status, "mirrored-http")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=False/UnsupportedProtocol"]);
    const result = await gw.call("grpc.example.com", ECHO);
    expect(result.echo?.service).toBe("grpc-infra-backend-v1");
    await new Promise((r) => setTimeout(r, 200));
    expect(gw.backends.get("grpc-http-backend")!.received()).toEqual([]);
  });
});

describe("GRPCRoute backends", () => {
  test("no backendRefs, a missing Service, another namespace without a ReferenceGrant: UNAVAILABLE, and ResolvedRefs False with the reason", async () => {
    const status = gw.apply(
      grpcRoute("none", `  rules:\n  - matches: [{ method: { service: ${GRPC_ECHO}, method: Echo } }]\n`) +
        grpcRoute("missing", `  rules:\n  - matches: [{ method: { service: ${GRPC_ECHO}, method: EchoTwo } }]\n    backendRefs: [{ name: no-such-backend, port: 8080 }]\n`) +
        grpcRoute("elsewhere", `  rules:\n  - matches: [{ method: { service: ${GRPC_ECHO}, method: EchoThree } }]\n    backendRefs: [{ name: grpc-web-backend, namespace: ${WEB}, port: 8080 }]\n`),
    );
    expect(conditions(status, "none")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"]);
    expect(conditions(status, "missing")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound"]);
    expect(conditions(status, "elsewhere")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=False/RefNotPermitted"]);
    expect(status.grpcRoutes?.find((r) => r.name === "elsewhere")?.parents[0]?.conditions[1]?.message).toBe(
      `backendRef ${WEB}/grpc-web-backend is in another namespace and no ReferenceGrant in ${WEB} allows GRPCRoutes of ${INFRA} to refer to it`,
    );
    for (const method of ["Echo", "EchoTwo", "EchoThree"]) {
      const result = await gw.call("grpc.example.com", `/${GRPC_ECHO}/${method}`);
      expect([method, result.code, result.viprError]).toEqual([method, grpc.status.UNAVAILABLE, "invalid_backend"]);
    }
  });

  test("a backend port without appProtocol is reached with HTTP/2 (inferred from the route kind); one whose appProtocol is another protocol is ResolvedRefs False UnsupportedProtocol and answers UNAVAILABLE", async () => {
    const status = gw.apply(
      grpcRoute("inferred", `  rules:\n  - matches: [{ method: { service: ${GRPC_ECHO}, method: Echo } }]\n    backendRefs: [{ name: grpc-infra-backend-v3, port: 8080 }]\n`) +
        grpcRoute("http-backend", `  rules:\n  - matches: [{ method: { service: ${GRPC_ECHO}, method: EchoTwo } }]\n    backendRefs: [{ name: grpc-http-backend, port: 8080 }]\n`),
    );
    expect(conditions(status, "inferred")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"]);
    expect(conditions(status, "http-backend")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=False/UnsupportedProtocol"]);
    expect(status.grpcRoutes?.find((r) => r.name === "http-backend")?.parents[0]?.conditions[1]?.message).toBe(
      `backendRef ${INFRA}/grpc-http-backend: port 8080 has appProtocol "http"; a GRPCRoute's backend must speak HTTP/2 (appProtocol kubernetes.io/h2c or grpc, or none)`,
    );
    expect((await gw.call("grpc.example.com", ECHO)).echo?.service).toBe("grpc-infra-backend-v3");
    const refused = await gw.call("grpc.example.com", `/${GRPC_ECHO}/EchoTwo`);
    expect([refused.code, refused.viprError, refused.details]).toEqual([
      grpc.status.UNAVAILABLE,
      "invalid_backend",
      `GRPCRoute ${INFRA}/http-backend rule 0: backendRef ${INFRA}/grpc-http-backend: port 8080 has appProtocol "http"; a GRPCRoute's backend must speak HTTP/2 (appProtocol kubernetes.io/h2c or grpc, or none)`,
    ]);
    expect(gw.backends.get("grpc-http-backend")!.received()).toEqual([]);
  });

  test("a ReferenceGrant from GRPCRoute opens the other namespace; one from HTTPRoute only does not", async () => {
    const grant = (kind: string) => `
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: from-infra, namespace: ${WEB} }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: ${kind}, namespace: ${INFRA} }]
  to: [{ group: "", kind: Service }]
`;
    const route = grpcRoute("elsewhere", `  rules:\n  - backendRefs: [{ name: grpc-web-backend, namespace: ${WEB}, port: 8080 }]\n`);
    expect(conditions(gw.apply(route + grant("HTTPRoute")), "elsewhere")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=False/RefNotPermitted"]);
    expect((await gw.call("grpc.example.com", ECHO)).code).toBe(grpc.status.UNAVAILABLE);
    expect(conditions(gw.apply(route + grant("GRPCRoute")), "elsewhere")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"]);
    expect((await gw.call("grpc.example.com", ECHO)).echo?.service).toBe("grpc-web-backend");
  });
});

describe("GRPCRoute attachment", () => {
  const gateways = `
---
${gatewayYaml(INFRA, "http-only", "[{ name: http, port: 80, protocol: HTTP, allowedRoutes: { kinds: [{ kind: HTTPRoute }] } }]")}---
${gatewayYaml(INFRA, "grpc-hosts", '[{ name: grpc, port: 80, protocol: HTTP, hostname: "*.grpc.example", allowedRoutes: { kinds: [{ kind: GRPCRoute }] } }]')}`;

  test("allowedRoutes kinds, sectionName and hostname intersection decide attachment, with Accepted's reason; listeners list GRPCRoute among supportedKinds and count it", async () => {
    const status = gw.apply(
      gateways +
        grpcRoute("not-allowed", `  rules:\n  - backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]\n`, "[{ name: http-only }]") +
        grpcRoute("no-section", `  rules:\n  - backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]\n`, "[{ name: grpc-hosts, sectionName: https }]") +
        grpcRoute("other-domain", `  hostnames: [echo.other.example]\n  rules:\n  - backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]\n`, "[{ name: grpc-hosts }]") +
        grpcRoute("attached", `  hostnames: [echo.grpc.example, echo.other.example]\n  rules:\n  - backendRefs: [{ name: grpc-infra-backend-v2, port: 8080 }]\n`, "[{ name: grpc-hosts }]"),
    );
    expect(conditions(status, "not-allowed")).toEqual(["Accepted=False/NotAllowedByListeners", "ResolvedRefs=True/ResolvedRefs"]);
    expect(conditions(status, "no-section")).toEqual(["Accepted=False/NoMatchingParent", "ResolvedRefs=True/ResolvedRefs"]);
    expect(conditions(status, "other-domain")).toEqual(["Accepted=False/NoMatchingListenerHostname", "ResolvedRefs=True/ResolvedRefs"]);
    expect(conditions(status, "attached")).toEqual(["Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"]);
    const listener = (gateway: string) => status.gateways.find((g) => g.name === gateway)?.listeners[0];
    expect(listener("grpc-hosts")).toMatchObject({ attachedRoutes: 1, supportedKinds: [{ group: "gateway.networking.k8s.io", kind: "GRPCRoute" }] });
    expect(listener("same-namespace")?.supportedKinds.map((k) => k.kind)).toEqual(["HTTPRoute", "GRPCRoute"]);
    expect(listener("http-only")).toMatchObject({ attachedRoutes: 0, supportedKinds: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute" }] });
    // Only the intersecting hostname routes.
    expect((await gw.call("echo.grpc.example", ECHO)).echo?.service).toBe("grpc-infra-backend-v2");
    const other = await gw.call("echo.other.example", ECHO);
    expect([other.code, other.viprError]).toEqual([grpc.status.UNIMPLEMENTED, "unknown_host"]);
  });

  test("an HTTPRoute and a GRPCRoute on one listener: gRPC calls take the GRPCRoute; a plain HTTP/2 POST to the same path takes the HTTPRoute", async () => {
    gw.apply(
      grpcRoute("grpc-side", `  hostnames: [mixed.example.com]\n  rules:\n  - matches: [{ method: { service: ${GRPC_ECHO} } }]\n    backendRefs: [{ name: grpc-infra-backend-v1, port: 8080 }]\n`) +
        `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: http-side, namespace: ${INFRA} }
spec:
  parentRefs: [{ name: same-namespace }]
  hostnames: [plain.example.com]
  rules:
  - backendRefs: [{ name: grpc-infra-backend-v2, port: 8080 }]
`,
    );
    expect((await gw.call("mixed.example.com", ECHO)).echo?.service).toBe("grpc-infra-backend-v1");
    // A gRPC call the GRPCRoute does not match falls to HTTPRoutes, which route by host.
    expect((await gw.call("plain.example.com", ECHO)).echo?.service).toBe("grpc-infra-backend-v2");
    // Not gRPC (content-type application/json): GRPCRoutes are not looked at; no HTTPRoute has the host.
    const session = http2.connect(`http://127.0.0.1:${gw.port}`);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":authority": "mixed.example.com", ":path": ECHO, "content-type": "application/json" });
        stream.on("response", (headers) => resolve(Number(headers[":status"])));
        stream.on("error", reject);
        stream.resume();
        stream.end("{}");
      });
      expect(status).toBe(404);
    } finally {
      session.close();
    }
  });
});

describe("GRPCRouteListenerHostnameMatching", () => {
  test("listeners on one port with different host names each take their own GRPCRoute (by sectionName); the most specific listener host wins", async () => {
    const listener = (name: string, hostname: string) => `  - { name: ${name}, port: 80, protocol: HTTP, hostname: "${hostname}", allowedRoutes: { namespaces: { from: Same } } }`;
    const attach = (name: string, backend: string, sections: string[]) =>
      grpcRoute(name, `  rules: [{ backendRefs: [{ name: ${backend}, port: 8080 }] }]\n`, `[${sections.map((s) => `{ name: by-host, sectionName: ${s} }`).join(", ")}]`);
    const status = gw.apply(
      `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: by-host, namespace: ${INFRA} }
spec:
  gatewayClassName: vipr
  listeners:
${listener("one", "echo.example")}
${listener("two", "sub.echo.example")}
${listener("three", "*.echo.example")}
${listener("four", "*.grpc.example")}
` +
        attach("host-v1", "grpc-infra-backend-v1", ["one"]) +
        attach("host-v2", "grpc-infra-backend-v2", ["two"]) +
        attach("host-v3", "grpc-infra-backend-v3", ["three", "four"]),
    );
    expect(status.gateways.find((g) => g.name === "by-host")?.listeners.map((l) => `${l.name} ${l.attachedRoutes}`)).toEqual(["one 1", "two 1", "three 1", "four 1"]);
    const who = async (host: string) => {
      const result = await gw.call(host, ECHO);
      return result.echo?.service ?? grpc.status[result.code];
    };
    expect(await who("echo.example")).toBe("grpc-infra-backend-v1");
    expect(await who("sub.echo.example")).toBe("grpc-infra-backend-v2");
    expect(await who("other.echo.example")).toBe("grpc-infra-backend-v3");
    expect(await who("deep.sub.echo.example")).toBe("grpc-infra-backend-v3");
    expect(await who("a.grpc.example")).toBe("grpc-infra-backend-v3");
    expect(await who("grpc.example")).toBe("UNIMPLEMENTED");
    expect(await who("echo.example.org")).toBe("UNIMPLEMENTED");
  });
});
