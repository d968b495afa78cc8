// One case per kube-proxy rule (pkg/proxy/topology.go CategorizeEndpoints and topologyModeFromHints;
// pkg/proxy/endpointslicecache.go for condition defaults), each citing the rule it checks.
import { describe, expect, test } from "vitest";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { eligibleEndpoints, type EligibilityOptions } from "../../router/table/eligible-endpoints.ts";
import type { KubeEndpoint, KubeServiceSpec } from "../../router/table/kubernetes-objects.ts";

interface EndpointSpec {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  node?: string;
  zone?: string;
  zones?: string[];
  nodes?: string[];
  /** Leave out the "http" port (a slice listing only "metrics"). */
  noHttp?: boolean;
}

let nextIp = 1;
function endpoint(name: string, spec: EndpointSpec): KubeEndpoint {
  const conditions: KubeEndpoint["conditions"] = {};
  if (spec.ready !== undefined) conditions.ready = spec.ready;
  if (spec.serving !== undefined) conditions.serving = spec.serving;
  if (spec.terminating !== undefined) conditions.terminating = spec.terminating;
  const hints: NonNullable<KubeEndpoint["hints"]> = {};
  if (spec.zones) hints.forZones = spec.zones.map((z) => ({ name: z }));
  if (spec.nodes) hints.forNodes = spec.nodes.map((n) => ({ name: n }));
  return {
    addresses: [`10.0.0.${nextIp++}`],
    conditions,
    hints,
    targetRef: { kind: "Pod", name },
    ...(spec.node === undefined ? {} : { nodeName: spec.node }),
    ...(spec.zone === undefined ? {} : { zone: spec.zone }),
  };
}

/** The eligible endpoints' names and the reason, for a service "web" (port http 80 -> slice port
 * http 8080) with these endpoints, seen by a router on node-1 in zone-a unless told otherwise. */
function eligible(spec: KubeServiceSpec, endpoints: Record<string, EndpointSpec>, options: EligibilityOptions = { nodeName: "node-1", zone: "zone-a" }) {
  const withHttp = Object.entries(endpoints).filter(([, e]) => !e.noHttp);
  const withoutHttp = Object.entries(endpoints).filter(([, e]) => e.noHttp);
  const labels = { "kubernetes.io/service-name": "web" };
  const table = buildRoutingTable({
    services: [{ metadata: { name: "web", namespace: "default" }, spec: { ports: [{ name: "http", port: 80, targetPort: "http" }], ...spec } }],
    endpointSlices: [
      { metadata: { name: "web-1", namespace: "default", labels }, addressType: "IPv4", ports: [{ name: "http", port: 8080 }], endpoints: withHttp.map(([n, e]) => endpoint(n, e)) },
      { metadata: { name: "web-2", namespace: "default", labels }, addressType: "IPv4", ports: [{ name: "metrics", port: 9090 }], endpoints: withoutHttp.map(([n, e]) => endpoint(n, e)) },
    ],
  });
  expect(table.diagnostics).toEqual([]);
  const service = table.services.get("default/web")!;
  const result = eligibleEndpoints(service, service.ports[0]!, options);
  for (const e of result.endpoints) expect(e.port).toBe(8080);
  return { result, names: result.endpoints.map((e) => e.endpoint.identity) };
}

interface Case {
  rule: string;
  spec?: KubeServiceSpec;
  endpoints: Record<string, EndpointSpec>;
  options?: EligibilityOptions;
  names: string[];
  reason: string;
  extra?: Record<string, unknown>;
}

const notReady = { ready: false, serving: false, terminating: false };
const servingTerminating = { ready: false, serving: true, terminating: true };

const cases: Case[] = [
  {
    rule: "CategorizeEndpoints, Cluster policy: only ready endpoints (ep.IsReady())",
    endpoints: { a: {}, b: notReady, c: { ready: true } },
    names: ["a", "c"],
    reason: "ready endpoints",
  },
  {
    rule: "endpointslicecache.go: ready nil = true, serving nil = true, terminating nil = false",
    endpoints: { a: {}, b: { ready: false }, c: { terminating: true } },
    names: ["a", "c"],
    reason: "ready endpoints",
  },
  {
    rule: "topologyModeFromHints: every ready endpoint has zone hints and one is for this zone -> PreferSameZone",
    endpoints: { a: { zones: ["zone-a"] }, b: { zones: ["zone-b"] }, c: { zones: ["zone-a", "zone-b"] } },
    names: ["a", "c"],
    reason: "ready endpoints filtered by zone hints for zone-a",
    extra: { topology: "PreferSameZone" },
  },
  {
    rule: "topologyModeFromHints: one ready endpoint without a zone hint -> no topology (allEndpointsHaveZoneHints false)",
    endpoints: { a: { zones: ["zone-a"] }, b: {} },
    names: ["a", "b"],
    reason: "ready endpoints (zone hints ignored: not every ready endpoint has one)",
    extra: { topology: "none" },
  },
  {
    rule: "topologyModeFromHints: hints are read from ready endpoints only; a not-ready one without hints does not matter",
    endpoints: { a: { zones: ["zone-a"] }, b: { zones: ["zone-b"] }, c: { ...notReady } },
    names: ["a"],
    reason: "ready endpoints filtered by zone hints for zone-a",
  },
  {
    rule: "topologyModeFromHints: all hinted but none for this zone -> no topology",
    endpoints: { a: { zones: ["zone-b"] }, b: { zones: ["zone-c"] } },
    names: ["a", "b"],
    reason: "ready endpoints (zone hints ignored: none is for zone zone-a)",
  },
  {
    rule: "topologyModeFromHints: the node has no zone label -> no topology",
    endpoints: { a: { zones: ["zone-a"] }, b: { zones: ["zone-b"] } },
    options: { nodeName: "node-1" },
    names: ["a", "b"],
    reason: "ready endpoints (zone hints ignored: the router's zone is unknown)",
  },
  {
    rule: "topologyModeFromHints (PreferSameTrafficDistribution): every ready endpoint has node hints and one is for this node -> PreferSameNode, before zones",
    endpoints: { a: { nodes: ["node-1"], zones: ["zone-a"] }, b: { nodes: ["node-2"], zones: ["zone-a"] } },
    names: ["a"],
    reason: "ready endpoints filtered by node hints for node-1",
    extra: { topology: "PreferSameNode" },
  },
  {
    rule: "topologyModeFromHints: node hints none for this node -> fall through to zone hints",
    endpoints: { a: { nodes: ["node-2"], zones: ["zone-a"] }, b: { nodes: ["node-3"], zones: ["zone-b"] } },
    names: ["a"],
    reason: "ready endpoints filtered by zone hints for zone-a",
  },
  {
    rule: "topologyModeFromHints: node hints ignored when not every ready endpoint has one",
    endpoints: { a: { nodes: ["node-1"] }, b: {} },
    names: ["a", "b"],
    reason: "ready endpoints (node hints ignored: not every ready endpoint has one)",
  },
  {
    rule: "CategorizeEndpoints: no ready endpoint -> serving-and-terminating ones, without topology",
    endpoints: { a: { ...servingTerminating, zones: ["zone-b"] }, b: notReady, c: { ready: false, serving: false, terminating: true } },
    names: ["a"],
    reason: "no ready endpoints; serving and terminating endpoints",
    extra: { servingTerminatingFallback: true, topology: "none" },
  },
  {
    rule: "CategorizeEndpoints: a ready endpoint anywhere -> no fallback, terminating ones stay out",
    endpoints: { a: {}, b: servingTerminating },
    names: ["a"],
    reason: "ready endpoints",
    extra: { servingTerminatingFallback: false },
  },
  {
    rule: "CategorizeEndpoints: neither ready nor serving-terminating -> none (the caller answers 503)",
    endpoints: { a: notReady, b: { ready: false, serving: false, terminating: true } },
    names: [],
    reason: "no ready or serving-terminating endpoints",
  },
  {
    rule: "Local policy: ready endpoints on this node only; hints ignored",
    spec: { internalTrafficPolicy: "Local" },
    endpoints: { a: { node: "node-1", zones: ["zone-b"] }, b: { node: "node-2", zones: ["zone-a"] }, c: { node: "node-1", ...notReady } },
    names: ["a"],
    reason: "Local traffic policy: ready endpoints on node node-1",
    extra: { policy: "Local", topology: "none" },
  },
  {
    rule: "Local policy: no local ready endpoint -> local serving-and-terminating ones",
    spec: { internalTrafficPolicy: "Local" },
    endpoints: { a: { node: "node-1", ...servingTerminating }, b: { node: "node-2" } },
    names: ["a"],
    reason: "Local traffic policy: no ready endpoint on node node-1; serving and terminating endpoints on it",
    extra: { servingTerminatingFallback: true },
  },
  {
    rule: "Local policy: no local endpoint -> none, even with ready endpoints elsewhere (no fallback to Cluster)",
    spec: { internalTrafficPolicy: "Local" },
    endpoints: { a: { node: "node-2" }, b: { node: "node-3" } },
    names: [],
    reason: "Local traffic policy: no ready or serving-terminating endpoint on node node-1",
  },
  {
    rule: "Local policy: isLocal needs the proxy's hostname; without a node name nothing is local",
    spec: { internalTrafficPolicy: "Local" },
    endpoints: { a: { node: "node-1" } },
    options: { zone: "zone-a" },
    names: [],
    reason: "Local traffic policy: the router has no node name, so no endpoint is local",
  },
  {
    rule: "publishNotReadyAddresses: every address counts as ready (EndpointSlice controller: ready = publishNotReadyAddresses || ...)",
    spec: { publishNotReadyAddresses: true },
    endpoints: { a: {}, b: notReady, c: { ready: false, serving: false, terminating: true } },
    names: ["a", "b", "c"],
    reason: "publishNotReadyAddresses: every endpoint counts as ready; ready endpoints",
  },
  {
    rule: "externalTrafficPolicy Local applies to external traffic of a LoadBalancer service (ExternalPolicyLocal)",
    spec: { type: "LoadBalancer", externalTrafficPolicy: "Local" },
    endpoints: { a: { node: "node-1" }, b: { node: "node-2" } },
    options: { nodeName: "node-1", trafficOrigin: "external" },
    names: ["a"],
    reason: "Local traffic policy: ready endpoints on node node-1",
  },
  {
    rule: "externalTrafficPolicy does not apply to internal traffic (internalTrafficPolicy decides)",
    spec: { type: "LoadBalancer", externalTrafficPolicy: "Local" },
    endpoints: { a: { node: "node-1" }, b: { node: "node-2" } },
    names: ["a", "b"],
    reason: "ready endpoints",
    extra: { policy: "Cluster" },
  },
  {
    rule: "endpointslicecache.go: endpoints pair with a service port by port name; one without the port is not a candidate",
    endpoints: { a: {}, b: { noHttp: true } },
    names: ["a"],
    reason: "ready endpoints",
  },
  {
    rule: "headless (clusterIP None): not proxied by kube-proxy; ready endpoints as DNS lists them, flagged",
    spec: { clusterIP: "None", internalTrafficPolicy: "Local" },
    endpoints: { a: { zones: ["zone-b"] }, b: servingTerminating, c: { node: "node-2" } },
    names: ["a", "c"],
    reason: "headless service: ready endpoints, as cluster DNS lists them",
    extra: { serviceKind: "headless" },
  },
  {
    rule: "ExternalName: a DNS alias, no endpoints, flagged with the name",
    spec: { type: "ExternalName", externalName: "api.example.com" },
    endpoints: { a: {} },
    names: [],
    reason: "ExternalName service: forward to api.example.com",
    extra: { serviceKind: "ExternalName", externalName: "api.example.com" },
  },
];

describe("eligible endpoints, as kube-proxy picks them", () => {
  test.each(cases)("$rule", (c) => {
    const { result, names } = eligible(c.spec ?? {}, c.endpoints, c.options);
    expect(names).toEqual(c.names);
    expect(result.reason).toBe(c.reason);
    if (c.extra) expect(result).toMatchObject(c.extra);
  });

  test("no endpoints at all, or none with the port", () => {
    expect(eligible({}, {}).result.reason).toBe("the service has no endpoints");
    expect(eligible({}, { a: { noHttp: true } }).result.reason).toBe('no endpoint has a port "http"');
  });

  test("the result is frozen", () => {
    const { result } = eligible({}, { a: {} });
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.endpoints)).toBe(true);
  });
});
