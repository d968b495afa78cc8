// GRPCRoutes from the Kubernetes API: the Gateway API source lists and watches grpcroutes on the
// fake API server, vipr routes real grpc-js calls by them, and status is written back through the
// grpcroutes status subresource (Accepted, ResolvedRefs with reasons and observedGeneration),
// keeping another controller's entries; the listener's attachedRoutes counts GRPCRoutes. Objects
// are written with @kubernetes/client-node, as a user's tooling would.
import * as grpc from "@grpc/grpc-js";
import type { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { GRPC_ECHO } from "../support/grpc-echo-backend.ts";
import { startGrpcGatewayHarness, type GrpcGatewayHarness } from "./grpc-gateway-harness.ts";
import { G, mergePatch, NS, startKubeGateways, type KubeGateways } from "./kube-gateways.ts";

const HOST = "grpc.kube.example";
let kube: KubeGateways;
let api: CustomObjectsApi;
let gw: GrpcGatewayHarness;
const logged: string[] = [];

type Obj = Record<string, any>;

const route = (name: string, method: string, backend: string, sectionName?: string): Obj => ({
  apiVersion: `${G}/v1`,
  kind: "GRPCRoute",
  metadata: { name, namespace: NS },
  spec: {
    parentRefs: [{ name: "vipr-gateway", ...(sectionName === undefined ? {} : { sectionName }) }, { name: "their-gateway" }],
    hostnames: [HOST],
    rules: [{ matches: [{ method: { service: GRPC_ECHO, method } }], backendRefs: [{ name: backend, port: 8080 }] }],
  },
});

const get = async (plural: string, name: string): Promise<Obj> => await api.getNamespacedCustomObject({ group: G, version: "v1", namespace: NS, plural, name });
const conditions = (list: Obj[] | undefined): string[] => (list ?? []).map((c) => `${c.type}=${c.status}/${c.reason}@${c.observedGeneration}`);
const parentsOf = async (name: string): Promise<string[]> => (((await get("grpcroutes", name)).status?.parents ?? []) as Obj[]).map((p) => `${p.controllerName} ${p.parentRef.name}: ${conditions(p.conditions).join(" ")}`);

/** The backend that answered a call of GrpcEcho's `method`, or the status code's name. */
async function who(method: string): Promise<string> {
  const result = await gw.call(HOST, `/${GRPC_ECHO}/${method}`);
  return result.echo?.service ?? grpc.status[result.code];
}

beforeAll(async () => {
  gw = await startGrpcGatewayHarness();
  kube = await startKubeGateways({ closeGraceMs: 100 });
  api = kube.api;
  await api.createNamespacedCustomObject({ group: G, version: "v1", namespace: NS, plural: "grpcroutes", body: route("echo", "Echo", "grpc-infra-backend-v1") });
  await api.createNamespacedCustomObject({ group: G, version: "v1", namespace: NS, plural: "grpcroutes", body: route("lost", "EchoTwo", "grpc-infra-backend-v2", "nope") });
  // Another controller has already reported on its own Gateway.
  await kube.writeTheirStatus("grpcroutes", "echo");
  kube.startSource(gw.router, logged);
}, 60_000);

afterAll(async () => {
  await kube?.close();
  await gw?.close();
});

test("a GRPCRoute from the API server routes gRPC calls; its status is written through the status subresource beside another controller's; the listener counts it", async () => {
  await expect.poll(() => who("Echo"), { timeout: 20_000, interval: 100 }).toBe("grpc-infra-backend-v1");
  await expect.poll(() => parentsOf("echo"), { timeout: 20_000, interval: 100 }).toEqual([
    "example.com/other their-gateway: Accepted=True/Accepted@1",
    "vipr.io/gateway-controller vipr-gateway: Accepted=True/Accepted@1 ResolvedRefs=True/ResolvedRefs@1",
  ]);
  await expect.poll(async () => ((await get("gateways", "vipr-gateway")).status?.listeners ?? []).map((l: Obj) => `${l.name} ${l.attachedRoutes} ${l.supportedKinds.map((k: Obj) => k.kind).join(",")}`), { timeout: 20_000, interval: 100 }).toEqual(["http 1 HTTPRoute,GRPCRoute"]);
  // sectionName names no listener: NoMatchingParent, logged, and its method is not routed.
  expect(await parentsOf("lost")).toEqual(["vipr.io/gateway-controller vipr-gateway: Accepted=False/NoMatchingParent@1 ResolvedRefs=True/ResolvedRefs@1"]);
  expect(logged).toContain(`gateway api: GRPCRoute ${NS}/lost on Gateway ${NS}/vipr-gateway: Accepted False NoMatchingParent: Gateway ${NS}/vipr-gateway has no listener with sectionName "nope"`);
  expect(await who("EchoTwo")).toBe("UNIMPLEMENTED");
}, 60_000);

test("a spec change applies through the watch and bumps observedGeneration; a backend that does not exist is reported BackendNotFound and answered UNAVAILABLE", async () => {
  await api.patchNamespacedCustomObject({ group: G, version: "v1", namespace: NS, plural: "grpcroutes", name: "echo", body: { spec: { rules: [{ backendRefs: [{ name: "grpc-infra-backend-v2", port: 8080 }] }] } } }, mergePatch);
  await expect.poll(() => who("EchoThree"), { timeout: 20_000, interval: 100 }).toBe("grpc-infra-backend-v2");
  await expect.poll(() => parentsOf("echo"), { timeout: 20_000, interval: 100 }).toEqual([
    "example.com/other their-gateway: Accepted=True/Accepted@1",
    "vipr.io/gateway-controller vipr-gateway: Accepted=True/Accepted@2 ResolvedRefs=True/ResolvedRefs@2",
  ]);
  await api.patchNamespacedCustomObject({ group: G, version: "v1", namespace: NS, plural: "grpcroutes", name: "echo", body: { spec: { rules: [{ backendRefs: [{ name: "no-such-service", port: 8080 }] }] } } }, mergePatch);
  await expect.poll(() => who("Echo"), { timeout: 20_000, interval: 100 }).toBe("UNAVAILABLE");
  await expect.poll(async () => (await parentsOf("echo"))[1], { timeout: 20_000, interval: 100 }).toBe("vipr.io/gateway-controller vipr-gateway: Accepted=True/Accepted@3 ResolvedRefs=False/BackendNotFound@3");
}, 60_000);

test("a GRPCRoute that stops naming vipr's Gateway loses the status entry vipr wrote, and stops routing", async () => {
  await api.patchNamespacedCustomObject({ group: G, version: "v1", namespace: NS, plural: "grpcroutes", name: "echo", body: { spec: { parentRefs: [{ name: "their-gateway" }] } } }, mergePatch);
  await expect.poll(async () => (((await get("grpcroutes", "echo")).status?.parents ?? []) as Obj[]).map((p) => p.controllerName), { timeout: 20_000, interval: 100 }).toEqual(["example.com/other"]);
  expect(await who("Echo")).toBe("UNIMPLEMENTED");
}, 60_000);
