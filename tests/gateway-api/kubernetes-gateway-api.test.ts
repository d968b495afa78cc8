// vipr as a Gateway API implementation against the fake API server: the Gateway API source lists
// and watches GatewayClasses, Gateways, HTTPRoutes, ReferenceGrants and Namespaces with the
// list/watch loop, routes what attaches, and writes status back through the status subresource
// (Accepted, ResolvedRefs, Programmed, with the spec's reasons and observedGeneration), keeping the
// route status entries of another controller. Objects are written with @kubernetes/client-node,
// as a user's tooling would.
import type { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startGatewayHarness, type GatewayHarness } from "./gateway-harness.ts";
import { G, mergePatch, NS, startKubeGateways, type KubeGateways } from "./kube-gateways.ts";

let kube: KubeGateways;
let api: CustomObjectsApi;
let gw: GatewayHarness;
const logged: string[] = [];

type Obj = Record<string, any>;

function route(name: string, backend: string, sectionName?: string): Obj {
  return {
    apiVersion: `${G}/v1`,
    kind: "HTTPRoute",
    metadata: { name, namespace: NS },
    spec: {
      parentRefs: [{ name: "vipr-gateway", ...(sectionName === undefined ? {} : { sectionName }) }, { name: "their-gateway" }],
      hostnames: ["kube.example.com"],
      rules: [{ matches: [{ path: { type: "PathPrefix", value: `/${name}` } }], backendRefs: [{ name: backend, port: 8080 }] }],
    },
  };
}

const get = async (plural: string, name: string, namespace = NS): Promise<Obj> =>
  namespace === "" ? await api.getClusterCustomObject({ group: G, version: "v1", plural, name }) : await api.getNamespacedCustomObject({ group: G, version: "v1", namespace, plural, name });

/** "type=status/reason@observedGeneration" of each condition. */
const conditions = (list: Obj[] | undefined): string[] => (list ?? []).map((c) => `${c.type}=${c.status}/${c.reason}@${c.observedGeneration}`);

async function service(host: string, path: string): Promise<string | number> {
  const answer = await gw.request(host, path);
  return answer.echo?.service ?? answer.status;
}

beforeAll(async () => {
  gw = await startGatewayHarness();
  kube = await startKubeGateways();
  api = kube.api;
  await api.createNamespacedCustomObject({ group: G, version: "v1", namespace: NS, plural: "httproutes", body: route("one", "infra-backend-v1") });
  await api.createNamespacedCustomObject({ group: G, version: "v1", namespace: NS, plural: "httproutes", body: route("lost", "infra-backend-v1", "nope") });
  // Another controller has already reported on its own Gateway.
  await kube.writeTheirStatus("httproutes", "one");
  kube.startSource(gw.router, logged);
}, 60_000);

afterAll(async () => {
  await kube?.close();
  await gw?.close();
});

test("an HTTPRoute from the API server routes; its status, its Gateway's and its GatewayClass's are written with reasons and observedGeneration", async () => {
  await expect.poll(() => service("kube.example.com", "/one/x"), { timeout: 20_000, interval: 100 }).toBe("infra-backend-v1");
  await expect
    .poll(async () => {
      const parents = ((await get("httproutes", "one")).status?.parents ?? []) as Obj[];
      return parents.map((p) => `${p.controllerName} ${p.parentRef.name}: ${conditions(p.conditions).join(" ")}`);
    }, { timeout: 20_000, interval: 100 })
    .toEqual([
      "example.com/other their-gateway: Accepted=True/Accepted@1",
      "vipr.io/gateway-controller vipr-gateway: Accepted=True/Accepted@1 ResolvedRefs=True/ResolvedRefs@1",
    ]);
  const gateway = await get("gateways", "vipr-gateway");
  expect(conditions(gateway.status.conditions)).toEqual(["Accepted=True/Accepted@1", "Programmed=True/Programmed@1"]);
  expect(gateway.status.listeners.map((l: Obj) => `${l.name} ${l.attachedRoutes} ${conditions(l.conditions).join(" ")}`)).toEqual([
    "http 1 Accepted=True/Accepted@1 ResolvedRefs=True/ResolvedRefs@1 Programmed=True/Programmed@1 Conflicted=False/NoConflicts@1",
  ]);
  expect(gateway.status.conditions[0].lastTransitionTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  expect(conditions((await get("gatewayclasses", "vipr", "")).status.conditions)).toEqual(["Accepted=True/Accepted@1"]);
  // Not vipr's: no status written by vipr.
  expect((await get("gatewayclasses", "theirs", "")).status?.conditions ?? []).toEqual([]);
  expect((await get("gateways", "their-gateway")).status?.listeners ?? []).toEqual([]);
  // A route whose sectionName names no listener: NoMatchingParent, and logged.
  const lost = ((await get("httproutes", "lost")).status?.parents ?? []) as Obj[];
  expect(lost.map((p) => conditions(p.conditions).join(" "))).toEqual(["Accepted=False/NoMatchingParent@1 ResolvedRefs=True/ResolvedRefs@1"]);
  expect(logged).toContain(`gateway api: HTTPRoute ${NS}/lost on Gateway ${NS}/vipr-gateway: Accepted False NoMatchingParent: Gateway ${NS}/vipr-gateway has no listener with sectionName "nope"`);
}, 60_000);

test("a spec change applies through the watch and bumps observedGeneration; a backend that does not exist is reported and answered 500", async () => {
  await api.patchNamespacedCustomObject(
    { group: G, version: "v1", namespace: NS, plural: "httproutes", name: "one", body: { spec: { rules: [{ matches: [{ path: { type: "PathPrefix", value: "/one" } }], backendRefs: [{ name: "infra-backend-v2", port: 8080 }] }] } } },
    mergePatch,
  );
  await expect.poll(() => service("kube.example.com", "/one"), { timeout: 20_000, interval: 100 }).toBe("infra-backend-v2");
  await expect
    .poll(async () => ((await get("httproutes", "one")).status.parents as Obj[]).map((p) => conditions(p.conditions).join(" ")), { timeout: 20_000, interval: 100 })
    .toEqual(["Accepted=True/Accepted@1", "Accepted=True/Accepted@2 ResolvedRefs=True/ResolvedRefs@2"]);
  await api.patchNamespacedCustomObject(
    { group: G, version: "v1", namespace: NS, plural: "httproutes", name: "one", body: { spec: { rules: [{ backendRefs: [{ name: "no-such-service", port: 8080 }] }] } } },
    mergePatch,
  );
  await expect.poll(() => service("kube.example.com", "/one"), { timeout: 20_000, interval: 100 }).toBe(500);
  await expect
    .poll(async () => ((await get("httproutes", "one")).status.parents as Obj[])[1]?.conditions.map((c: Obj) => `${c.type}=${c.status}/${c.reason}@${c.observedGeneration}`), { timeout: 20_000, interval: 100 })
    .toEqual(["Accepted=True/Accepted@3", "ResolvedRefs=False/BackendNotFound@3"]);
}, 60_000);

test("a route that stops naming vipr's Gateway loses the status entry vipr wrote, and stops routing", async () => {
  await api.patchNamespacedCustomObject(
    { group: G, version: "v1", namespace: NS, plural: "httproutes", name: "one", body: { spec: { parentRefs: [{ name: "their-gateway" }] } } },
    mergePatch,
  );
  await expect
    .poll(async () => (((await get("httproutes", "one")).status?.parents ?? []) as Obj[]).map((p) => p.controllerName), { timeout: 20_000, interval: 100 })
    .toEqual(["example.com/other"]);
  expect(await service("kube.example.com", "/one")).toBe(404);
}, 60_000);
