// `vipr serve --source file:DIR` takes GRPCRoute YAML beside the Services and EndpointSlices: a
// GatewayClass of vipr's controllerName, a Gateway and a GRPCRoute route real grpc-js calls (h2c
// on vipr's plain port) to grpc-js pods by service and method; an edit applies; a GRPCRoute with a
// field the CRD refuses is reported by file, document and field while its last good version keeps
// routing; one that does not attach is logged with its status reason, and one whose backend's
// port names another protocol than HTTP/2 (appProtocol http) with ResolvedRefs UnsupportedProtocol.
import * as grpc from "@grpc/grpc-js";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { killAll, type ViprProcess } from "../cli/vipr-process.ts";
import { callGrpcEcho, GRPC_ECHO, GRPC_OTHER, grpcEchoClient, startGrpcEchoBackend, type GrpcEchoBackend } from "../support/grpc-echo-backend.ts";
import { backendsYaml, viprGatewayYaml } from "./gateway-yaml.ts";
import { serveFromFiles, type FileServe } from "./serve-from-files.ts";

let serve: FileServe;
let dir: string;
let v1: GrpcEchoBackend;
let v2: GrpcEchoBackend;
let plain: GrpcEchoBackend;
let vipr: ViprProcess;
let client: grpc.Client;

const gateway = viprGatewayYaml("shop", "grpc", '[{ name: http, port: 80, protocol: HTTP, hostname: "*.example.com" }]');

function routeYaml(echoBackend: string, service = GRPC_ECHO): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: shop, namespace: shop }
spec:
  parentRefs: [{ name: grpc }]
  hostnames: [api.example.com]
  rules:
  - matches: [{ method: { service: ${JSON.stringify(service)}, method: Echo } }]
    backendRefs: [{ name: ${echoBackend}, port: 8080 }]
  - matches: [{ method: { service: ${GRPC_OTHER} } }]
    backendRefs: [{ name: grpc-v1, port: 8080 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: lost, namespace: shop }
spec:
  parentRefs: [{ name: grpc, sectionName: https }]
  rules: [{ backendRefs: [{ name: grpc-v1, port: 8080 }] }]
`;
}

/** The backend that answered a call of `path`, or the status code's name. */
async function who(path: string): Promise<string> {
  const result = await callGrpcEcho(client, path);
  return result.echo?.service ?? grpc.status[result.code];
}

/** Which backend answers, once it is the wanted one (an edit applies within a second). */
async function eventually(path: string, wanted: string): Promise<string> {
  let last = "";
  for (let i = 0; i < 200 && last !== wanted; i++) {
    last = await who(path);
    if (last !== wanted) await new Promise((r) => setTimeout(r, 50));
  }
  return last;
}

beforeAll(async () => {
  v1 = await startGrpcEchoBackend("shop", "grpc-v1");
  v2 = await startGrpcEchoBackend("shop", "grpc-v2");
  plain = await startGrpcEchoBackend("shop", "grpc-http", 1, { name: "web", appProtocol: "http" });
  serve = await serveFromFiles("vipr-grpcroute-", { "backends.yaml": `${backendsYaml(v1, v2, plain)}\n`, "gateway.yaml": gateway, "routes.yaml": routeYaml("grpc-v2") });
  ({ dir, vipr } = serve);
  await vipr.waitFor(/vipr: table 1 from/, "stderr", 60_000);
  client = grpcEchoClient(serve.port, "api.example.com");
}, 90_000);

afterAll(async () => {
  client?.close();
  await killAll();
  await Promise.all([v1?.close(), v2?.close(), plain?.close()]);
  await serve?.remove();
});

test("GRPCRoutes from files route gRPC calls by service and method; an unmatched call is UNIMPLEMENTED; a route that does not attach is logged with its reason", async () => {
  expect(await eventually(`/${GRPC_ECHO}/Echo`, "grpc-v2")).toBe("grpc-v2");
  expect(await who(`/${GRPC_OTHER}/Ping`)).toBe("grpc-v1");
  expect(await who(`/${GRPC_ECHO}/EchoTwo`)).toBe("UNIMPLEMENTED");
  await vipr.waitFor(/GRPCRoute shop\/lost on Gateway shop\/grpc: Accepted False NoMatchingParent: Gateway shop\/grpc has no listener with sectionName "https"/);
}, 60_000);

test("an edited GRPCRoute applies; a refused edit is reported by file, document and field and the last good version keeps routing", async () => {
  await serve.save("routes.yaml", routeYaml("grpc-v1"));
  expect(await eventually(`/${GRPC_ECHO}/Echo`, "grpc-v1")).toBe("grpc-v1");
  const from = vipr.stderr().length;
  await serve.save("routes.yaml", routeYaml("grpc-v2", "not a/service"));
  await vipr.waitFor(new RegExp(`[\\s\\S]{${from}}[\\s\\S]*keeping this document's last good version`));
  expect(vipr.stderr().slice(from)).toContain(`vipr: ${join(dir, "routes.yaml")}: document 1: spec.rules[0].matches[0].method.service: "not a/service" must match`);
  expect(await who(`/${GRPC_ECHO}/Echo`)).toBe("grpc-v1");
}, 60_000);

test("a GRPCRoute to a Service port whose appProtocol is http is logged ResolvedRefs False UnsupportedProtocol; its calls answer UNAVAILABLE", async () => {
  await serve.save(
    "routes.yaml",
    `${routeYaml("grpc-v1")}---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: plain, namespace: shop }
spec:
  parentRefs: [{ name: grpc }]
  hostnames: [api.example.com]
  rules:
  - matches: [{ method: { service: ${GRPC_ECHO}, method: EchoThree } }]
    backendRefs: [{ name: grpc-http, port: 8080 }]
`,
  );
  await vipr.waitFor(/GRPCRoute shop\/plain on Gateway shop\/grpc: ResolvedRefs False UnsupportedProtocol: backendRef shop\/grpc-http: port 8080 has appProtocol "http"; a GRPCRoute's backend must speak HTTP\/2/);
  expect(await eventually(`/${GRPC_ECHO}/EchoThree`, "UNAVAILABLE")).toBe("UNAVAILABLE");
  expect(plain.received()).toEqual([]);
}, 60_000);
