// `vipr serve --source file:DIR` takes GRPCRoute YAML beside the Services and EndpointSlices: a
// GatewayClass of vipr's controllerName, a Gateway and a GRPCRoute route real grpc-js calls (h2c
// on vipr's plain port) to grpc-js pods by service and method; an edit applies; a GRPCRoute with a
// field the CRD refuses is reported by file, document and field while its last good version keeps
// routing; one that does not attach is logged with its status reason, and one whose backend's
// port names another protocol than HTTP/2 (appProtocol http) with ResolvedRefs UnsupportedProtocol.
import * as grpc from "@grpc/grpc-js";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { killAll, startVipr, type ViprProcess } from "../cli/vipr-process.ts";
import { callGrpcEcho, GRPC_ECHO, GRPC_OTHER, grpcEchoClient, startGrpcEchoBackend, type GrpcEchoBackend } from "../support/grpc-echo-backend.ts";

let dir: string;
let v1: GrpcEchoBackend;
let v2: GrpcEchoBackend;
let plain: GrpcEchoBackend;
let vipr: ViprProcess;
let client: grpc.Client;

function backendYaml(b: GrpcEchoBackend): string {
  const { services, endpointSlices } = b.objects();
  return [...services, ...endpointSlices].map((o) => JSON.stringify(o)).join("\n---\n");
}

const gateway = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: vipr }
spec: { controllerName: vipr.io/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: grpc, namespace: shop }
spec:
  gatewayClassName: vipr
  listeners: [{ name: http, port: 80, protocol: HTTP, hostname: "*.example.com" }]
`;

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

async function save(name: string, text: string): Promise<void> {
  await writeFile(join(dir, `${name}.tmp`), text);
  await rename(join(dir, `${name}.tmp`), join(dir, name));
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
  dir = await mkdtemp(join(tmpdir(), "vipr-grpcroute-"));
  v1 = await startGrpcEchoBackend("shop", "grpc-v1");
  v2 = await startGrpcEchoBackend("shop", "grpc-v2");
  plain = await startGrpcEchoBackend("shop", "grpc-http", 1, { name: "web", appProtocol: "http" });
  await writeFile(join(dir, "backends.yaml"), `${backendYaml(v1)}\n---\n${backendYaml(v2)}\n---\n${backendYaml(plain)}\n`);
  await writeFile(join(dir, "gateway.yaml"), gateway);
  await writeFile(join(dir, "routes.yaml"), routeYaml("grpc-v2"));
  vipr = startVipr(["serve", "--source", `file:${dir}`, "--listen", "127.0.0.1:0", "--admin", "off"]);
  const port = Number((await vipr.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, "stderr", 60_000))[1]);
  await vipr.waitFor(/vipr: table 1 from/, "stderr", 60_000);
  client = grpcEchoClient(port, "api.example.com");
}, 90_000);

afterAll(async () => {
  client?.close();
  await killAll();
  await Promise.all([v1?.close(), v2?.close(), plain?.close()]);
  await rm(dir, { recursive: true, force: true });
});

test("GRPCRoutes from files route gRPC calls by service and method; an unmatched call is UNIMPLEMENTED; a route that does not attach is logged with its reason", async () => {
  expect(await eventually(`/${GRPC_ECHO}/Echo`, "grpc-v2")).toBe("grpc-v2");
  expect(await who(`/${GRPC_OTHER}/Ping`)).toBe("grpc-v1");
  expect(await who(`/${GRPC_ECHO}/EchoTwo`)).toBe("UNIMPLEMENTED");
  await vipr.waitFor(/GRPCRoute shop\/lost on Gateway shop\/grpc: Accepted False NoMatchingParent: Gateway shop\/grpc has no listener with sectionName "https"/);
}, 60_000);

test("an edited GRPCRoute applies; a refused edit is reported by file, document and field and the last good version keeps routing", async () => {
  await save("routes.yaml", routeYaml("grpc-v1"));
  expect(await eventually(`/${GRPC_ECHO}/Echo`, "grpc-v1")).toBe("grpc-v1");
  const from = vipr.stderr().length;
  await save("routes.yaml", routeYaml("grpc-v2", "not a/service"));
  await vipr.waitFor(new RegExp(`[\\s\\S]{${from}}[\\s\\S]*keeping this document's last good version`));
  expect(vipr.stderr().slice(from)).toContain(`vipr: ${join(dir, "routes.yaml")}: document 1: spec.rules[0].matches[0].method.service: "not a/service" must match`);
  expect(await who(`/${GRPC_ECHO}/Echo`)).toBe("grpc-v1");
}, 60_000);

test("a GRPCRoute to a Service port whose appProtocol is http is logged ResolvedRefs False UnsupportedProtocol; its calls answer UNAVAILABLE", async () => {
  await save(
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
