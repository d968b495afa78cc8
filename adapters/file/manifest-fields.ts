// The field checks a manifest document must pass before the file source takes it: the same ones
// the table builder makes (router/table: readServiceSpec for a Service, endpointsFromSlices for an
// EndpointSlice, parseEndpointAddress for a Pod's IP) and the workload expansion
// (local-workloads.ts), whose reports are what `vipr check` prints, run on the one object alone. A Service the API server would refuse (`port: "eighty"`)
// is refused here as a whole, as kube-apiserver's validation refuses the whole object rather than
// storing the fields it likes: the table keeps routing by the document's last good version
// (manifest-set.ts), instead of dropping the port and answering 404 unknown_port.
import type { KubeEndpointSlice, KubeService } from "../../router/table/kubernetes-objects.ts";
import { endpointsFromSlices } from "../../router/table/endpoints-from-slices.ts";
import { parseEndpointAddress } from "../../router/table/ip-address.ts";
import { namespaceOf, type NamedObject } from "../../router/table/object-identity.ts";
import { readServiceSpec } from "../../router/table/read-service-spec.ts";
import type { TableDiagnostic } from "../../router/table/routing-table.ts";
import { gatewayApiFieldProblems, isGatewayApiManifest } from "./gateway-api-manifests.ts";
import { localPodsOf } from "./local-workloads.ts";
import type { ManifestObject, ManifestProblem } from "./manifest-documents.ts";

const noPods = { get: () => undefined };

/** The problems that make `manifest` unusable, by file, document and field ([] when it is fine). */
export function fieldProblems(manifest: ManifestObject): ManifestProblem[] {
  const metadata = (manifest.object["metadata"] ?? {}) as { name?: string; namespace?: string };
  const refused = { kind: manifest.kind, namespace: namespaceOf(manifest.object as NamedObject), name: metadata.name ?? "" };
  return problemsOf(manifest).map((problem) => ({ ...problem, object: refused }));
}

function problemsOf(manifest: ManifestObject): ManifestProblem[] {
  const { object, file, index, kind } = manifest;
  const out: TableDiagnostic[] = [];
  const metadata = (object["metadata"] ?? {}) as { name?: string; namespace?: string };
  const subject = { kind: "Service" as const, namespace: namespaceOf(object as NamedObject), name: metadata.name ?? "" };
  if (isGatewayApiManifest(kind)) return gatewayApiFieldProblems(manifest);
  if (kind === "Service") readServiceSpec(object as KubeService, subject, out);
  else if (kind === "EndpointSlice") endpointsFromSlices([object as KubeEndpointSlice], noPods, out);
  else if (kind === "ReplicationController" || kind === "Deployment") {
    // A workload that makes no pods at all (no local addresses, no pod labels) would empty its
    // services; one that makes fewer than asked for is only reported, when the snapshot is made.
    const made = localPodsOf(manifest);
    if (made.pods.length === 0 && made.problems.length > 0) return made.problems;
  } else if (kind === "Pod") {
    // Only the address: a Pod's other checks (a container port a Service's targetPort names, an
    // address two Pods share) depend on other objects and stay table diagnostics.
    const podIP = (object["status"] as { podIP?: unknown } | undefined)?.podIP;
    const parsed = podIP == null || podIP === "" ? undefined : parseEndpointAddress(podIP, "any");
    if (parsed !== undefined && !parsed.ok) return [{ file, index, field: at(manifest, "status.podIP"), message: refused(parsed.problem) }];
  }
  return out.map((d) => ({ file, index, field: at(manifest, d.field), message: refused(d.problem) }));
}

/** A builder diagnostic says what was wrong and what the builder did ("...; port skipped"); here
 * the whole document is refused instead, and the message says so. */
function refused(problem: string): string {
  const action = problem.lastIndexOf("; ");
  return `${action === -1 ? problem : problem.slice(0, action)}; the document is not applied`;
}

function at(manifest: ManifestObject, field: string): string {
  return manifest.path === undefined ? field : `${manifest.path}.${field}`;
}
