// The EndpointSlice controller (pkg/controller/endpointslice, staging endpointslice/reconciler),
// reduced to what vipr reads: for each Service with a selector, the pods of its namespace that
// match it and have an IP become endpoints (ready from the pod's Ready condition, or always with
// publishNotReadyAddresses; targetRef to the pod; nodeName), grouped by the ports they resolve to
// (a named targetPort is looked up in each pod's container ports), at most 100 per slice. Slices
// carry the labels kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by:
// endpointslice-controller.k8s.io, the Service as controller owner, and generated names
// (`<service>-` and five characters). A Service that selects no pod keeps one empty placeholder
// slice. Slices of a deleted Service are deleted with it. Slices managed by anyone else (such as
// FakeKubeApi.setEndpoints) are left alone.

import type { FakeObjectState, StoredObject } from "./fake-object-state.ts";
import { servedResource } from "./fake-resources.ts";
import { generatedName } from "./fake-workload-objects.ts";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

export const endpointSliceControllerName = "endpointslice-controller.k8s.io";
const managedBy = "endpointslice.kubernetes.io/managed-by";
const serviceNameLabel = "kubernetes.io/service-name";
/** --max-endpoints-per-slice, default 100. */
const maxEndpointsPerSlice = 100;

const services = servedResource("Service")!;
const pods = servedResource("Pod")!;
const slices = servedResource("EndpointSlice")!;

interface SlicePort {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
}

function podReady(pod: Obj): boolean {
  return list(obj(pod["status"])?.["conditions"]).some((c) => obj(c)?.["type"] === "Ready" && obj(c)?.["status"] === "True");
}

/** The slice ports of one pod, or undefined when a named targetPort is not among its container ports. */
function portsFor(service: Obj, pod: Obj): SlicePort[] | undefined {
  const result: SlicePort[] = [];
  for (const p of list(obj(service["spec"])?.["ports"])) {
    const port = obj(p) ?? {};
    const target = port["targetPort"] ?? port["port"];
    let number: number | undefined = typeof target === "number" ? target : undefined;
    if (typeof target === "string") {
      const containers = list(obj(pod["spec"])?.["containers"]);
      const found = containers.flatMap((c) => list(obj(c)?.["ports"])).map(obj).find((cp) => cp?.["name"] === target);
      number = typeof found?.["containerPort"] === "number" ? found["containerPort"] : undefined;
    }
    if (number === undefined) continue;
    result.push({ name: typeof port["name"] === "string" ? port["name"] : "", port: number, protocol: typeof port["protocol"] === "string" ? port["protocol"] : "TCP" });
  }
  return result;
}

function selects(selector: Readonly<Record<string, string>>, pod: StoredObject): boolean {
  return Object.entries(selector).every(([k, v]) => pod.labels?.[k] === v);
}

export class FakeEndpointSliceController {
  readonly #state: FakeObjectState;

  constructor(state: FakeObjectState) {
    this.#state = state;
  }

  reconcile(): void {
    const live = new Set<string>();
    for (const service of this.#state.list(services)) {
      const selector = obj(obj(service.object["spec"])?.["selector"]);
      // The controller leaves Services without a selector (their slices are written by hand).
      if (selector === undefined || Object.keys(selector).length === 0 || obj(service.object["spec"])?.["type"] === "ExternalName") continue;
      live.add(service.key);
      this.#reconcileService(service, selector as Record<string, string>);
    }
    for (const slice of this.#state.list(slices)) {
      if (slice.labels?.[managedBy] !== endpointSliceControllerName) continue;
      if (!live.has(`${slice.namespace}/${slice.labels?.[serviceNameLabel]}`)) this.#state.remove(slices, slice.namespace, slice.name);
    }
  }

  #reconcileService(service: StoredObject, selector: Readonly<Record<string, string>>): void {
    const spec = obj(service.object["spec"]) ?? {};
    const publishNotReady = spec["publishNotReadyAddresses"] === true;
    const groups = new Map<string, { ports: SlicePort[]; endpoints: Obj[] }>();
    for (const pod of this.#state.list(pods, service.namespace)) {
      const object = pod.object as Obj;
      const ip = obj(object["status"])?.["podIP"];
      if (!selects(selector, pod) || typeof ip !== "string" || ip === "") continue;
      const ports = portsFor(service.object as Obj, object);
      if (ports === undefined) continue;
      const key = JSON.stringify(ports);
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = { ports, endpoints: [] }));
      const ready = publishNotReady || podReady(object);
      const terminating = obj(object["metadata"])?.["deletionTimestamp"] !== undefined;
      const nodeName = obj(object["spec"])?.["nodeName"];
      group.endpoints.push({
        addresses: [ip],
        conditions: { ready: ready && !terminating, serving: ready, terminating },
        targetRef: { kind: "Pod", namespace: pod.namespace, name: pod.name, uid: obj(object["metadata"])?.["uid"] },
        ...(typeof nodeName === "string" ? { nodeName } : {}),
      });
    }
    const wanted: { ports: SlicePort[]; endpoints: Obj[] }[] = [];
    for (const group of groups.values()) {
      for (let i = 0; i < group.endpoints.length; i += maxEndpointsPerSlice) wanted.push({ ports: group.ports, endpoints: group.endpoints.slice(i, i + maxEndpointsPerSlice) });
    }
    // The placeholder: a Service that selects nothing still has one slice, with no ports.
    if (wanted.length === 0) wanted.push({ ports: [], endpoints: [] });

    const existing = this.#state.list(slices, service.namespace).filter((s) => s.labels?.[managedBy] === endpointSliceControllerName && s.labels?.[serviceNameLabel] === service.name);
    const serviceMeta = obj(service.object["metadata"]) ?? {};
    wanted.forEach((want, i) => {
      const old = existing[i];
      const body = { addressType: "IPv4", endpoints: want.endpoints, ports: want.ports };
      if (old !== undefined && JSON.stringify({ addressType: old.object["addressType"], endpoints: old.object["endpoints"], ports: old.object["ports"] }) === JSON.stringify(body)) return;
      this.#state.put(slices, {
        kind: "EndpointSlice",
        metadata: {
          name: old?.name ?? generatedName(`${service.name}-`),
          generateName: `${service.name}-`,
          namespace: service.namespace,
          labels: { ...obj(serviceMeta["labels"]), [serviceNameLabel]: service.name, [managedBy]: endpointSliceControllerName },
          ownerReferences: [{ apiVersion: "v1", kind: "Service", name: service.name, uid: serviceMeta["uid"], controller: true, blockOwnerDeletion: true }],
        },
        ...body,
      });
    });
    for (const extra of existing.slice(wanted.length)) this.#state.remove(slices, extra.namespace, extra.name);
  }
}
