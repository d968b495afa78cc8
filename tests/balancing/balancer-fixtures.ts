// Services for the balancing tests, built the way the router gets them: plain Service, EndpointSlice
// and Pod objects through buildRoutingTable, then eligibleEndpoints for the service's one port.
import { expect } from "vitest";
import { createReferenceCore, createWasmCore, type CoreEngine } from "../../wasm/core-engine.ts";
import { ServiceBalancer, type ServiceBalancerOptions } from "../../router/balancing/service-balancer.ts";
import { DEFAULT_POLICY_CONFIG, type PolicyConfig } from "../../router/balancing/policy-config.ts";
import type { Pick, PickFailure } from "../../router/balancing/pick.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import { eligibleEndpoints } from "../../router/table/eligible-endpoints.ts";
import type { KubeEndpoint, KubePod } from "../../router/table/kubernetes-objects.ts";
import type { ServiceEntry } from "../../router/table/routing-table.ts";

export interface PodSpec {
  /** Default: 10.0.<i / 250>.<i % 250 + 1> by position in the record. */
  ip?: string;
  labels?: Record<string, string>;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface ServiceSpec {
  /** ClientIP affinity with this timeout (seconds); none when absent. */
  affinityTimeout?: number;
}

/** Service "default/web" (port http 80 -> 8080) with one endpoint per pod, named by the record's keys. */
export function webService(pods: Record<string, PodSpec>, spec: ServiceSpec = {}): ServiceEntry {
  const names = Object.keys(pods);
  const endpoints: KubeEndpoint[] = names.map((name, i) => {
    const pod = pods[name]!;
    const conditions: NonNullable<KubeEndpoint["conditions"]> = {};
    if (pod.ready !== undefined) conditions.ready = pod.ready;
    if (pod.serving !== undefined) conditions.serving = pod.serving;
    if (pod.terminating !== undefined) conditions.terminating = pod.terminating;
    return { addresses: [pod.ip ?? `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`], conditions, targetRef: { kind: "Pod", namespace: "default", name } };
  });
  const podObjects: KubePod[] = names
    .filter((name) => pods[name]!.labels !== undefined)
    .map((name) => ({ metadata: { name, namespace: "default", labels: pods[name]!.labels! } }));
  const affinity =
    spec.affinityTimeout === undefined ? {} : { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: spec.affinityTimeout } } };
  const table = buildRoutingTable({
    services: [{ metadata: { name: "web", namespace: "default" }, spec: { ports: [{ name: "http", port: 80, targetPort: "http" }], ...affinity } }],
    endpointSlices: [
      {
        metadata: { name: "web-1", namespace: "default", labels: { "kubernetes.io/service-name": "web" } },
        addressType: "IPv4",
        ports: [{ name: "http", port: 8080 }],
        endpoints,
      },
    ],
    pods: podObjects,
  });
  expect(table.diagnostics).toEqual([]);
  return table.services.get("default/web")!;
}

/** `count` ready pods named pod-00, pod-01, ... */
export function pods(count: number, spec: PodSpec = {}): Record<string, PodSpec> {
  const out: Record<string, PodSpec> = {};
  for (let i = 0; i < count; i++) out[`pod-${String(i).padStart(2, "0")}`] = { ...spec };
  return out;
}

export type BalancerExtras = Partial<Omit<ServiceBalancerOptions, "service" | "servicePort" | "eligible" | "config">>;

/** A balancer over the service's eligible endpoints for its one port. */
export function balancer(service: ServiceEntry, config: Partial<PolicyConfig>, core: CoreEngine, extras: BalancerExtras = {}): ServiceBalancer {
  const servicePort = service.ports[0]!;
  return new ServiceBalancer({
    service,
    servicePort,
    eligible: eligibleEndpoints(service, servicePort),
    config: { ...DEFAULT_POLICY_CONFIG, ...config },
    core,
    ...extras,
  });
}

/** The pick, or a test failure naming why there was none. */
export function picked(result: Pick | PickFailure): Pick {
  if (!result.ok) throw new Error(`expected a pick, got ${result.reason}: ${result.message}`);
  return result;
}

/** Mulberry32: a small seeded PRNG, so random choices repeat from run to run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The engines the balancer runs on: the plain-TS reference and one WASM core (shared per file). */
export function engines(): [reference: [string, CoreEngine], wasm: [string, CoreEngine]] {
  return [
    ["reference", createReferenceCore()],
    ["wasm", createWasmCore("release")],
  ];
}

/** How many picks went to each endpoint identity. */
export function tally(identities: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of identities) counts[id] = (counts[id] ?? 0) + 1;
  return counts;
}
