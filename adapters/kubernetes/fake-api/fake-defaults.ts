// The defaults the API server writes into an object on create and update, for the fields vipr and
// the tutorial's commands read (pkg/apis/core/v1/defaults.go, pkg/apis/apps/v1/defaults.go, and
// the Service REST's ClusterIP allocation): a Service gets type ClusterIP, sessionAffinity None,
// each port protocol TCP and targetPort = port, and a clusterIP from the service range
// (10.96.0.0/12, as kubeadm's default); workloads get replicas 1 and, for an RC, the selector
// and labels of its template; every object a fresh uid and creationTimestamp (in the store), and
// workloads a metadata.generation that counts changes of their spec.

import type { ServedResource } from "./fake-resources.ts";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined);

/** Hands out service ClusterIPs: 10.96.0.10, 10.96.0.11, ... (10.96.0.1 is the kubernetes Service's). */
export class ClusterIPAllocator {
  #next = 10;
  allocate(): string {
    const n = this.#next++;
    return `10.96.${(n >> 8) & 0xff}.${n & 0xff}`;
  }
}

function defaultPodSpec(spec: Obj | undefined): void {
  if (spec === undefined) return;
  spec["restartPolicy"] ??= "Always";
  spec["dnsPolicy"] ??= "ClusterFirst";
  spec["schedulerName"] ??= "default-scheduler";
  spec["terminationGracePeriodSeconds"] ??= 30;
  for (const c of Array.isArray(spec["containers"]) ? spec["containers"] : []) {
    const container = obj(c);
    if (container === undefined) continue;
    const image = String(container["image"] ?? "");
    container["imagePullPolicy"] ??= image.endsWith(":latest") || !image.includes(":") ? "Always" : "IfNotPresent";
    for (const p of Array.isArray(container["ports"]) ? container["ports"] : []) {
      const port = obj(p);
      if (port !== undefined) port["protocol"] ??= "TCP";
    }
  }
}

function defaultService(spec: Obj, old: Obj | undefined, ips: ClusterIPAllocator): void {
  spec["type"] ??= "ClusterIP";
  spec["sessionAffinity"] ??= "None";
  for (const p of Array.isArray(spec["ports"]) ? spec["ports"] : []) {
    const port = obj(p);
    if (port === undefined) continue;
    port["protocol"] ??= "TCP";
    // core/v1 SetDefaults_Service: an unset (or zero) targetPort is the port.
    if (port["targetPort"] === undefined || port["targetPort"] === 0 || port["targetPort"] === "") port["targetPort"] = port["port"];
  }
  if (spec["type"] === "ExternalName") return;
  // An update that leaves clusterIP empty keeps the allocated one (the REST keeps allocations).
  const oldIP = old?.["clusterIP"];
  if (spec["clusterIP"] === undefined || spec["clusterIP"] === "") spec["clusterIP"] = typeof oldIP === "string" ? oldIP : ips.allocate();
  spec["clusterIPs"] ??= [spec["clusterIP"]];
  if (spec["clusterIP"] !== "None") {
    spec["ipFamilies"] ??= ["IPv4"];
    spec["ipFamilyPolicy"] ??= "SingleStack";
  }
  spec["internalTrafficPolicy"] ??= "Cluster";
}

/** Fills the defaults into `object` (a fresh copy the caller owns). `old` is the stored object on an update. */
export function applyDefaults(resource: ServedResource, object: Obj, old: Obj | undefined, ips: ClusterIPAllocator): void {
  const metadata = (object["metadata"] = obj(object["metadata"]) ?? {});
  const spec = obj(object["spec"]);
  if (resource.group === "gateway.networking.k8s.io") {
    // A CRD with a status subresource: metadata.generation counts spec changes, as for workloads.
    const oldGeneration = obj(old?.["metadata"])?.["generation"];
    const changed = old === undefined || JSON.stringify(old["spec"]) !== JSON.stringify(spec);
    metadata["generation"] = typeof oldGeneration === "number" ? oldGeneration + (changed ? 1 : 0) : 1;
    return;
  }
  switch (resource.kind) {
    case "Namespace": {
      metadata["labels"] = { ...obj(metadata["labels"]), "kubernetes.io/metadata.name": metadata["name"] };
      object["spec"] = { finalizers: ["kubernetes"], ...spec };
      object["status"] = { phase: "Active" };
      return;
    }
    case "Service":
      object["spec"] ??= {};
      defaultService(obj(object["spec"])!, obj(old?.["spec"]), ips);
      object["status"] ??= { loadBalancer: {} };
      return;
    case "Pod":
      defaultPodSpec(spec);
      object["status"] ??= { phase: "Pending" };
      return;
    case "EndpointSlice":
      for (const p of Array.isArray(object["ports"]) ? object["ports"] : []) {
        const port = obj(p);
        if (port !== undefined) port["protocol"] ??= "TCP";
      }
      return;
    default: {
      if (spec === undefined) return;
      spec["replicas"] ??= 1;
      const template = obj(spec["template"]);
      const templateLabels = obj(obj(template?.["metadata"])?.["labels"]);
      // core/v1 SetDefaults_ReplicationController: selector and labels from the template's labels.
      if (resource.kind === "ReplicationController" && templateLabels !== undefined) {
        spec["selector"] ??= { ...templateLabels };
        metadata["labels"] ??= { ...templateLabels };
      }
      if (resource.kind === "Deployment") {
        spec["strategy"] ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } };
        spec["revisionHistoryLimit"] ??= 10;
        spec["progressDeadlineSeconds"] ??= 600;
      }
      defaultPodSpec(obj(template?.["spec"]));
      // metadata.generation: 1 on create, +1 when the spec changes (status writes do not count).
      const oldGeneration = obj(old?.["metadata"])?.["generation"];
      const changed = old === undefined || JSON.stringify(old["spec"]) !== JSON.stringify(spec);
      metadata["generation"] = typeof oldGeneration === "number" ? oldGeneration + (changed ? 1 : 0) : 1;
      object["status"] ??= obj(old?.["status"]) ?? { replicas: 0 };
    }
  }
}
