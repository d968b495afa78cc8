// Pods for a ReplicationController or Deployment run on this machine, for local use with no
// cluster: the workload names its pods' addresses in an annotation, and its replica count says
// how many of them exist, as the controller would keep that many pods running:
//
//   metadata:
//     annotations:
//       vipr.io/local-addresses: "127.0.0.2, 127.0.0.3, 127.0.0.4"
//   spec:
//     replicas: 2            # pods on 127.0.0.2 and 127.0.0.3
//
// Each pod gets the template's labels and containers, a Running phase, a Ready condition, and a
// name like the controller's (`rcsise-` and five characters), stable per workload and index so
// that a pod keeps its name, and its Maglev slots, across reloads. Every address of 127.0.0.0/8
// reaches this machine on Linux, so each local pod can listen on the container port itself
// (the seed's 9876), and the Service's targetPort works unchanged.
import type { KubePod } from "../../router/table/kubernetes-objects.ts";
import { namespaceOf, type NamedObject } from "../../router/table/object-identity.ts";
import type { ManifestObject, ManifestProblem } from "./manifest-documents.ts";

export const LOCAL_ADDRESSES_ANNOTATION = "vipr.io/local-addresses";

const ipv4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
// The suffix alphabet of generated names (k8s.io/apimachinery/pkg/util/rand: no vowels, no
// digits that look like letters).
const alphabet = "bcdfghjklmnpqrstvwxz2456789";

/** A stable five-character suffix for pod `index` of `workload` (FNV-1a of both). */
export function podSuffix(workload: string, index: number): string {
  let hash = 0x811c9dc5;
  for (const char of `${workload}/${index}`) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  let suffix = "";
  for (let i = 0; i < 5; i++) {
    suffix += alphabet[hash % alphabet.length];
    hash = Math.floor(hash / alphabet.length) ^ Math.imul(hash, 31);
    hash >>>= 0;
  }
  return suffix;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Pods of one workload, or problems naming the field that stops it. */
export function localPodsOf(workload: ManifestObject): { pods: KubePod[]; problems: ManifestProblem[] } {
  const { object, file, index, kind } = workload;
  const problems: ManifestProblem[] = [];
  const problem = (field: string, message: string): { pods: KubePod[]; problems: ManifestProblem[] } => {
    problems.push({ file, index, field, message });
    return { pods: [], problems };
  };
  const metadata = record(object["metadata"]) ?? {};
  const name = String(metadata["name"]);
  const namespace = namespaceOf(object as NamedObject);
  const annotation = record(metadata["annotations"])?.[LOCAL_ADDRESSES_ANNOTATION];
  if (annotation === undefined) {
    return problem(`metadata.annotations["${LOCAL_ADDRESSES_ANNOTATION}"]`, `a ${kind} in a file needs its pods' local addresses here, e.g. "127.0.0.2, 127.0.0.3"; no pods made`);
  }
  const addresses = String(annotation).split(",").map((a) => a.trim()).filter((a) => a !== "");
  for (const address of addresses) {
    if (!ipv4.test(address)) return problem(`metadata.annotations["${LOCAL_ADDRESSES_ANNOTATION}"]`, `${JSON.stringify(address)} is not an IPv4 address; no pods made`);
  }
  const spec = record(object["spec"]) ?? {};
  const replicas = spec["replicas"] ?? 1;
  if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
    return problem("spec.replicas", `${JSON.stringify(replicas)} is not a whole number of replicas; no pods made`);
  }
  if (replicas > addresses.length) {
    problems.push({ file, index, field: "spec.replicas", message: `${replicas} replicas but only ${addresses.length} local addresses; ${addresses.length} pods made` });
  }
  const template = record(spec["template"]);
  const templateMeta = record(template?.["metadata"]) ?? {};
  const labels = record(templateMeta["labels"]);
  if (labels === undefined) return problem("spec.template.metadata.labels", `a ${kind} needs pod labels for a Service to select; no pods made`);
  const podSpec = record(template?.["spec"]) ?? {};
  const pods: KubePod[] = [];
  for (let i = 0; i < Math.min(replicas, addresses.length); i++) {
    pods.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `${name}-${podSuffix(name, i)}`,
        namespace,
        labels: { ...(labels as Record<string, string>) },
        ownerReferences: [{ apiVersion: String(object["apiVersion"]), kind, name, controller: true }],
      } as KubePod["metadata"],
      spec: { containers: (podSpec["containers"] ?? []) as never, nodeName: "localhost" },
      status: { phase: "Running", podIP: addresses[i]!, conditions: [{ type: "Ready", status: "True" }] },
    });
  }
  return { pods, problems };
}
