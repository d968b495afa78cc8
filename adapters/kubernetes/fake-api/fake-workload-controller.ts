// A kwok-style ReplicationController, ReplicaSet and Deployment controller: each workload keeps
// spec.replicas pods, already Running and Ready, and its status counts them.
// - The pods are the file source's local pods (adapters/file/local-workloads.ts): names like the
//   controller's (`rcsise-` and five characters, stable per workload and index, so scaling 1 to 2
//   keeps the first pod), the template's labels and containers, and, when the workload carries
//   the `vipr.io/local-addresses` annotation, the addresses named there, so a pod can be a real
//   local process. Without it, each pod gets an address from the pod network 10.244.0.0/16.
// - A Deployment owns a ReplicaSet `<name>-<pod-template-hash>` holding its replicas (the
//   template's labels plus pod-template-hash), and older ReplicaSets are scaled to 0, as a
//   rollout ends.
// - Garbage collection: pods and ReplicaSets whose controller (ownerReferences, controller:
//   true) is gone are deleted, as the garbage collector does after a background deletion.

import { LOCAL_ADDRESSES_ANNOTATION, localPodsOf } from "../../file/local-workloads.ts";
import type { ManifestKind } from "../../file/manifest-documents.ts";
import { applyDefaults, ClusterIPAllocator } from "./fake-defaults.ts";
import type { FakeObjectState, StoredObject } from "./fake-object-state.ts";
import { apiVersionOf } from "./fake-paths.ts";
import { servedResource, type ServedResource } from "./fake-resources.ts";
import { workloadSelector } from "./fake-workload-objects.ts";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined);

const pods = servedResource("Pod")!;
const replicaSets = servedResource("ReplicaSet")!;
const deployments = servedResource("Deployment")!;
const replicationControllers = servedResource("ReplicationController")!;

interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller: true;
  readonly blockOwnerDeletion: true;
}

function ownerOf(stored: StoredObject): OwnerReference {
  return { apiVersion: apiVersionOf(stored.resource), kind: stored.resource.kind, name: stored.name, uid: String(obj(stored.object["metadata"])?.["uid"]), controller: true, blockOwnerDeletion: true };
}

function controllerUid(stored: StoredObject): string | undefined {
  const refs = obj(stored.object["metadata"])?.["ownerReferences"];
  const ref = Array.isArray(refs) ? refs.map(obj).find((r) => r?.["controller"] === true) : undefined;
  return typeof ref?.["uid"] === "string" ? ref["uid"] : undefined;
}

/** FNV-1a of the template, in the controller's alphabet: a stand-in for pod-template-hash. */
function templateHash(template: unknown): string {
  let hash = 0x811c9dc5;
  for (const char of JSON.stringify(template ?? {})) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  let out = "";
  // One FNV round per character, so all ten characters vary (dividing one 32-bit hash down would
  // leave the last ones constant).
  for (let i = 0; i < 10; i++) {
    hash = Math.imul(hash ^ (i + 1), 0x01000193) >>> 0;
    out += alphabet[hash % alphabet.length];
  }
  return out;
}

export class FakeWorkloadController {
  readonly #state: FakeObjectState;
  /** Pod addresses by "namespace/name", so a pod keeps its address while it exists. */
  readonly #podIPs = new Map<string, string>();
  #nextPodIP = 2;
  readonly #defaults = new ClusterIPAllocator();

  readonly #now: () => number;

  constructor(state: FakeObjectState, now: () => number) {
    this.#state = state;
    this.#now = now;
  }

  reconcile(): void {
    this.#collectGarbage();
    for (const deployment of this.#state.list(deployments)) this.#reconcileDeployment(deployment);
    for (const resource of [replicationControllers, replicaSets]) {
      for (const workload of this.#state.list(resource)) this.#reconcileReplicas(workload);
    }
  }

  #collectGarbage(): void {
    const alive = new Set<string>();
    for (const resource of [replicationControllers, replicaSets, deployments]) {
      for (const workload of this.#state.list(resource)) alive.add(String(obj(workload.object["metadata"])?.["uid"]));
    }
    for (const resource of [replicaSets, pods]) {
      for (const dependent of this.#state.list(resource)) {
        const owner = controllerUid(dependent);
        if (owner !== undefined && !alive.has(owner) && (resource === replicaSets || this.#ownedByWorkload(dependent))) {
          this.#state.remove(resource, dependent.namespace, dependent.name);
        }
      }
    }
  }

  #ownedByWorkload(pod: StoredObject): boolean {
    const refs = obj(pod.object["metadata"])?.["ownerReferences"];
    return Array.isArray(refs) && refs.some((r) => ["ReplicationController", "ReplicaSet"].includes(String(obj(r)?.["kind"])));
  }

  #reconcileDeployment(deployment: StoredObject): void {
    const object = deployment.object as Obj;
    const spec = obj(object["spec"]) ?? {};
    const template = structuredClone(obj(spec["template"]) ?? {});
    const hash = templateHash(template);
    const templateMeta = (template["metadata"] = { ...obj(template["metadata"]) });
    templateMeta["labels"] = { ...obj(templateMeta["labels"]), "pod-template-hash": hash };
    const name = `${deployment.name}-${hash}`;
    const metadata = obj(object["metadata"]) ?? {};
    const annotation = obj(metadata["annotations"])?.[LOCAL_ADDRESSES_ANNOTATION];
    const wanted: Obj = {
      kind: "ReplicaSet",
      metadata: {
        name,
        namespace: deployment.namespace,
        labels: templateMeta["labels"],
        ...(annotation === undefined ? {} : { annotations: { [LOCAL_ADDRESSES_ANNOTATION]: annotation } }),
        ownerReferences: [ownerOf(deployment)],
      },
      spec: { replicas: spec["replicas"] ?? 1, selector: { matchLabels: { ...workloadSelector(object), "pod-template-hash": hash } }, template },
    };
    let ready = 0;
    let total = 0;
    for (const rs of this.#state.list(replicaSets, deployment.namespace)) {
      if (controllerUid(rs) !== ownerOf(deployment).uid) continue;
      if (rs.name !== name && obj(rs.object["spec"])?.["replicas"] !== 0) {
        this.#write(replicaSets, { ...(rs.object as Obj), spec: { ...obj(rs.object["spec"]), replicas: 0 } }, rs);
      }
      const status = obj(rs.object["status"]) ?? {};
      total += Number(status["replicas"] ?? 0);
      ready += Number(status["readyReplicas"] ?? 0);
    }
    const current = this.#state.get(replicaSets, deployment.namespace, name);
    const next = current === undefined ? wanted : { ...(current.object as Obj), spec: wanted["spec"] };
    if (current === undefined || JSON.stringify(obj(current.object["spec"])?.["replicas"]) !== JSON.stringify(spec["replicas"] ?? 1)) this.#write(replicaSets, next, current);
    this.#writeStatus(deployment, { observedGeneration: metadata["generation"], replicas: total, updatedReplicas: total, readyReplicas: ready, availableReplicas: ready });
  }

  #reconcileReplicas(workload: StoredObject): void {
    const object = workload.object as Obj;
    const metadata = obj(object["metadata"]) ?? {};
    const replicas = Number(obj(object["spec"])?.["replicas"] ?? 1);
    const uid = ownerOf(workload).uid;
    // The file source's pods: with the annotation its addresses, else addresses from the pod network.
    const annotations = { ...obj(metadata["annotations"]) };
    if (annotations[LOCAL_ADDRESSES_ANNOTATION] === undefined) {
      annotations[LOCAL_ADDRESSES_ANNOTATION] = Array.from({ length: replicas }, (_, i) => this.#podIP(workload, i)).join(",");
    }
    // localPodsOf names the kind only in its messages; the owner reference is rewritten below.
    const kind = workload.resource.kind as ManifestKind;
    const { pods: desired } = localPodsOf({ kind, object: { ...object, metadata: { ...metadata, annotations } }, file: `${workload.resource.resource}/${workload.name}`, index: 0 });
    const desiredNames = new Set(desired.map((p) => String(p.metadata?.name)));
    const owned = this.#state.list(pods, workload.namespace).filter((p) => controllerUid(p) === uid);
    for (const pod of owned) if (!desiredNames.has(pod.name)) this.#state.remove(pods, pod.namespace, pod.name);
    for (const pod of desired) {
      const name = String(pod.metadata?.name);
      if (owned.some((p) => p.name === name)) continue;
      const object = structuredClone(pod) as unknown as Obj;
      obj(object["metadata"])!["ownerReferences"] = [ownerOf(workload)];
      const status = obj(object["status"])!;
      status["hostIP"] = "127.0.0.1";
      status["podIPs"] = [{ ip: status["podIP"] }];
      status["startTime"] = new Date(this.#now()).toISOString().replace(/\.\d+Z$/, "Z");
      this.#write(pods, object, undefined);
    }
    const count = desired.length;
    this.#writeStatus(workload, { replicas: count, fullyLabeledReplicas: count, readyReplicas: count, availableReplicas: count, observedGeneration: metadata["generation"] });
  }

  #podIP(workload: StoredObject, index: number): string {
    const key = `${workload.namespace}/${workload.name}/${index}`;
    let ip = this.#podIPs.get(key);
    if (ip === undefined) {
      const n = this.#nextPodIP++;
      this.#podIPs.set(key, (ip = `10.244.${(n >> 8) & 0xff}.${n & 0xff}`));
    }
    return ip;
  }

  #write(resource: ServedResource, object: Obj, old: StoredObject | undefined): void {
    const copy = structuredClone(object);
    applyDefaults(resource, copy, old?.object as Obj | undefined, this.#defaults);
    this.#state.put(resource, copy);
  }

  /** Writes status only when it changed, so the controller's own writes settle. */
  #writeStatus(workload: StoredObject, status: Obj): void {
    const current = obj(workload.object["status"]) ?? {};
    const next = { ...current, ...Object.fromEntries(Object.entries(status).filter(([, v]) => v !== undefined)) };
    if (JSON.stringify(next) === JSON.stringify(current)) return;
    this.#state.put(workload.resource, { ...(workload.object as Obj), status: next });
  }
}
