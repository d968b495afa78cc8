// A Service's endpoints from Pods matched by its selector, with no EndpointSlice in between: what
// the file source uses for local demos, where no EndpointSlice controller runs. The rules are the
// controller's (k8s.io/endpointslice utils.go podToEndpoint, pkg/api/v1/pod ShouldPodBeInEndpoints):
// - a pod in a terminal phase (Succeeded, Failed) or without status.podIP has no endpoint;
// - serving = the pod's Ready condition is True; terminating = metadata.deletionTimestamp is set;
//   ready = publishNotReadyAddresses || (serving && !terminating);
// - a service port's targetPort is a number, or the name of a container port (podutil.FindPort);
//   a pod without that named port has no endpoint port for it.

import type { KubePod } from "./kubernetes-objects.ts";
import type { EndpointPortEntry, ServicePortEntry, TableDiagnostic } from "./routing-table.ts";
import { frozenNames, type EndpointDraft } from "./endpoint-draft.ts";
import { parseEndpointAddress } from "./ip-address.ts";
import { copyStringMap, isPortNumber } from "./read-service-spec.ts";
import { matchesServiceSelector } from "./service-selector.ts";
import { readWeightAnnotation } from "./endpoint-weight.ts";
import { diagnostic, show, type DiagnosticSubject } from "./table-diagnostic.ts";

export interface PodSelectingService {
  readonly namespace: string;
  readonly name: string;
  readonly ports: readonly ServicePortEntry[];
  readonly selector?: Readonly<Record<string, string>>;
  readonly publishNotReadyAddresses: boolean;
}

function isPodReady(pod: KubePod): boolean {
  const conditions = pod.status?.conditions;
  if (!Array.isArray(conditions)) return false;
  return conditions.some((c) => c?.type === "Ready" && c.status === "True");
}

/** podutil.FindPort: the containerPort named `name` with the same protocol, in any container. */
function findContainerPort(pod: KubePod, name: string): number | undefined {
  const containers = pod.spec?.containers;
  if (!Array.isArray(containers)) return undefined;
  for (const container of containers) {
    const ports = container?.ports;
    if (!Array.isArray(ports)) continue;
    for (const p of ports) {
      if (p?.name === name && (p.protocol ?? "TCP") === "TCP" && isPortNumber(p.containerPort)) return p.containerPort;
    }
  }
  return undefined;
}

/** `pods` are the service's namespace's pods, each with a name (the builder checked), sorted by
 * name: when two pods share an IP (host-network pods on one node), the first one keeps it. */
export function endpointsFromPods(
  service: PodSelectingService,
  pods: Iterable<KubePod>,
  out: TableDiagnostic[],
): EndpointDraft[] {
  const drafts: EndpointDraft[] = [];
  const owners = new Map<string, string>();
  const forService = `for Service ${service.namespace}/${service.name}`;
  for (const pod of pods) {
    if (!matchesServiceSelector(service.selector, pod.metadata?.labels)) continue;
    const name = pod.metadata?.name ?? "";
    const subject: DiagnosticSubject = { kind: "Pod", namespace: service.namespace, name };
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") continue;
    const podIP = pod.status?.podIP;
    if (podIP == null || podIP === "") continue; // not scheduled or not started yet: normal
    const parsed = parseEndpointAddress(podIP, "any");
    if (!parsed.ok) {
      out.push(diagnostic(subject, "status.podIP", `${parsed.problem}; pod skipped ${forService}`));
      continue;
    }
    const owner = owners.get(parsed.address);
    if (owner !== undefined) {
      out.push(diagnostic(subject, "status.podIP", `${show(podIP)} is also Pod ${owner}'s address; pod skipped ${forService}`));
      continue;
    }
    owners.set(parsed.address, name);

    const ports: EndpointPortEntry[] = [];
    service.ports.forEach((sp, i) => {
      const port = typeof sp.targetPort === "number" ? sp.targetPort : findContainerPort(pod, sp.targetPort);
      if (port === undefined) {
        out.push(
          diagnostic(
            subject,
            "spec.containers[*].ports",
            `no TCP container port named ${show(sp.targetPort)} (targetPort of spec.ports[${i}] ${forService}); no endpoint port ${show(sp.name)}`,
          ),
        );
        return;
      }
      ports.push(Object.freeze({ name: sp.name, port, protocol: "TCP" as const }));
    });

    const serving = isPodReady(pod);
    const terminating = pod.metadata?.deletionTimestamp != null;
    const uid = pod.metadata?.uid;
    const draft: EndpointDraft = {
      address: parsed.address,
      addressType: parsed.type,
      baseIdentity: name,
      ports,
      ready: service.publishNotReadyAddresses || (serving && !terminating),
      serving,
      terminating,
      forZones: frozenNames([]),
      forNodes: frozenNames([]),
      targetRef: Object.freeze(
        typeof uid === "string" && uid !== ""
          ? { kind: "Pod", namespace: service.namespace, name, uid }
          : { kind: "Pod", namespace: service.namespace, name },
      ),
      labels:
        copyStringMap(pod.metadata?.labels, subject, "metadata.labels", out) ??
        Object.freeze(Object.create(null) as Record<string, string>),
    };
    const nodeName = pod.spec?.nodeName;
    if (typeof nodeName === "string" && nodeName !== "") draft.nodeName = nodeName;
    const hostname = pod.spec?.hostname;
    if (typeof hostname === "string" && hostname !== "") draft.hostname = hostname;
    const weight = readWeightAnnotation(pod.metadata?.annotations, subject, out);
    if (weight !== undefined) draft.weight = weight;
    drafts.push(draft);
  }
  return drafts;
}
