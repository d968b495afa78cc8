// A Service's endpoints from its EndpointSlices, merged the way kube-proxy merges them
// (pkg/proxy/endpointslicecache.go): every slice labelled kubernetes.io/service-name=<service>,
// ports paired with service ports by name, an endpoint's first address only, conditions defaulted
// (ready nil = true, serving nil = true, terminating nil = false), one endpoint per address.

import type { KubeEndpoint, KubeEndpointSlice, KubePod } from "./kubernetes-objects.ts";
import type { AddressType, EndpointPortEntry, EndpointTargetRef, TableDiagnostic } from "./routing-table.ts";
import { frozenNames, type EndpointDraft } from "./endpoint-draft.ts";
import { parseEndpointAddress } from "./ip-address.ts";
import { copyStringMap, readPortBasics } from "./read-service-spec.ts";
import { readWeightAnnotation } from "./endpoint-weight.ts";
import { diagnostic, show, type DiagnosticSubject } from "./table-diagnostic.ts";
import { namespaceOf } from "./object-identity.ts";

export interface SliceEndpoints {
  readonly drafts: EndpointDraft[];
  /** "namespace/name" of every Pod a targetRef named: the entry must be rebuilt if one changes. */
  readonly podKeys: string[];
}

function readSlicePorts(slice: KubeEndpointSlice, subject: DiagnosticSubject, out: TableDiagnostic[]): EndpointPortEntry[] {
  const ports: EndpointPortEntry[] = [];
  const raw = slice.ports;
  if (raw == null) return ports;
  if (!Array.isArray(raw)) {
    out.push(diagnostic(subject, "ports", `${show(raw)} is not a list; no ports`));
    return ports;
  }
  const seen = new Map<string, number>();
  raw.forEach((p: NonNullable<KubeEndpointSlice["ports"]>[number], i: number) => {
    const field = `ports[${i}]`;
    // The controller always writes a name ("" for an unnamed service port); slices written by
    // hand omit it for that case, so a missing name reads as "". A nil port means "all ports" in
    // the API; kube-proxy does not support it either.
    const basics = readPortBasics(p, field, subject, out);
    if (basics === undefined) return;
    const { name, port } = basics;
    const previous = seen.get(name);
    if (previous !== undefined) {
      out.push(diagnostic(subject, `${field}.name`, `${show(name)} repeats ports[${previous}].name; port skipped`));
      return;
    }
    seen.set(name, i);
    ports.push(
      Object.freeze(
        typeof p.appProtocol === "string"
          ? { name, port, protocol: "TCP" as const, appProtocol: p.appProtocol }
          : { name, port, protocol: "TCP" as const },
      ),
    );
  });
  return ports;
}

function hintNames(list: unknown): readonly string[] {
  if (!Array.isArray(list)) return frozenNames([]);
  const names: string[] = [];
  for (const hint of list) {
    const name: unknown = hint?.name;
    if (typeof name === "string" && name !== "") names.push(name);
  }
  return frozenNames(names);
}

function readTargetRef(ref: KubeEndpoint["targetRef"], sliceNamespace: string): EndpointTargetRef | undefined {
  if (ref == null || typeof ref.name !== "string" || ref.name === "") return undefined;
  const target: { -readonly [K in keyof EndpointTargetRef]: EndpointTargetRef[K] } = {
    kind: typeof ref.kind === "string" ? ref.kind : "",
    namespace: typeof ref.namespace === "string" && ref.namespace !== "" ? ref.namespace : sliceNamespace,
    name: ref.name,
  };
  if (typeof ref.uid === "string" && ref.uid !== "") target.uid = ref.uid;
  return Object.freeze(target);
}

/** Merges `slices` (sorted by name, so that the first slice listing an address wins). */
export function endpointsFromSlices(
  slices: readonly KubeEndpointSlice[],
  pods: Pick<ReadonlyMap<string, KubePod>, "get">,
  out: TableDiagnostic[],
): SliceEndpoints {
  const byAddress = new Map<string, EndpointDraft[]>();
  const podKeys: string[] = [];
  for (const slice of slices) {
    const namespace = namespaceOf(slice);
    const subject: DiagnosticSubject = { kind: "EndpointSlice", namespace, name: slice.metadata?.name ?? "" };
    const addressType = slice.addressType;
    if (addressType !== "IPv4" && addressType !== "IPv6") {
      const problem =
        addressType === "FQDN"
          ? `"FQDN" is not routable (only IPv4 and IPv6 are); slice skipped`
          : `${show(addressType)} is not IPv4, IPv6 or FQDN; slice skipped`;
      out.push(diagnostic(subject, "addressType", problem));
      continue;
    }
    const ports = readSlicePorts(slice, subject, out);
    const sliceWeight = readWeightAnnotation(slice.metadata?.annotations, subject, out);
    const endpoints = slice.endpoints ?? [];
    if (!Array.isArray(endpoints)) {
      out.push(diagnostic(subject, "endpoints", `${show(endpoints)} is not a list; no endpoints`));
      continue;
    }
    endpoints.forEach((ep: KubeEndpoint, i: number) => {
      const draft = readEndpoint(ep, `endpoints[${i}]`, addressType, ports, sliceWeight, subject, pods, podKeys, out);
      if (draft === undefined) return;
      const sameAddress = byAddress.get(draft.address);
      if (sameAddress === undefined) {
        byAddress.set(draft.address, [draft]);
        return;
      }
      // The same address in two slices (an endpoint moving between slices): keep the first one's
      // conditions and add the ports it lacks. kube-proxy keys an endpoint by "IP:port" within each
      // service port (pkg/proxy/endpointslicecache.go, endpointInfo by String()), so the same
      // address with another number for a port name is another endpoint (hostNetwork pods, or
      // processes on one loopback address in local demos), kept beside the first.
      const existing = sameAddress.find((e) => draft.ports.every((port) => e.ports.every((p) => p.name !== port.name || p.port === port.port)));
      if (existing === undefined) {
        sameAddress.push(draft);
        return;
      }
      for (const port of draft.ports) {
        if (!existing.ports.some((p) => p.name === port.name)) existing.ports.push(port);
      }
    });
  }
  return { drafts: [...byAddress.values()].flat(), podKeys };
}

function readEndpoint(
  ep: KubeEndpoint,
  field: string,
  addressType: AddressType,
  ports: readonly EndpointPortEntry[],
  sliceWeight: number | undefined,
  subject: DiagnosticSubject,
  pods: Pick<ReadonlyMap<string, KubePod>, "get">,
  podKeys: string[],
  out: TableDiagnostic[],
): EndpointDraft | undefined {
  if (ep == null || typeof ep !== "object") {
    out.push(diagnostic(subject, field, `${show(ep)} is not an endpoint object; endpoint skipped`));
    return undefined;
  }
  const addresses = ep.addresses;
  if (!Array.isArray(addresses) || addresses.length === 0) {
    const problem = addresses == null ? "missing" : `${show(addresses)} holds no address`;
    out.push(diagnostic(subject, `${field}.addresses`, `${problem}; endpoint skipped`));
    return undefined;
  }
  // The API docs: addresses are fungible and consumers may use only the first (kube-proxy does).
  const parsed = parseEndpointAddress(addresses[0], addressType);
  if (!parsed.ok) {
    out.push(diagnostic(subject, `${field}.addresses[0]`, `${parsed.problem}; endpoint skipped`));
    return undefined;
  }
  const conditions = ep.conditions;
  const targetRef = readTargetRef(ep.targetRef, subject.namespace);
  const hostname = typeof ep.hostname === "string" && ep.hostname !== "" ? ep.hostname : undefined;
  const draft: EndpointDraft = {
    address: parsed.address,
    addressType,
    baseIdentity: targetRef?.name ?? hostname ?? parsed.address,
    ports: [...ports],
    ready: conditions?.ready == null ? true : conditions.ready === true,
    serving: conditions?.serving == null ? true : conditions.serving === true,
    terminating: conditions?.terminating === true,
    forZones: hintNames(ep.hints?.forZones),
    forNodes: hintNames(ep.hints?.forNodes),
    sliceName: subject.name,
  };
  if (typeof ep.nodeName === "string" && ep.nodeName !== "") draft.nodeName = ep.nodeName;
  if (typeof ep.zone === "string" && ep.zone !== "") draft.zone = ep.zone;
  if (hostname !== undefined) draft.hostname = hostname;
  if (sliceWeight !== undefined) draft.weight = sliceWeight;
  if (targetRef !== undefined) {
    draft.targetRef = targetRef;
    if (targetRef.kind === "Pod" || targetRef.kind === "") {
      const key = `${targetRef.namespace}/${targetRef.name}`;
      podKeys.push(key);
      const pod = pods.get(key);
      const podUid = pod?.metadata?.uid;
      // A pod recreated under the same name is another pod: its labels are not this endpoint's.
      const samePod = pod !== undefined && (targetRef.uid === undefined || podUid == null || podUid === targetRef.uid);
      if (samePod) {
        const podSubject: DiagnosticSubject = { kind: "Pod", namespace: targetRef.namespace, name: targetRef.name };
        const labels = copyStringMap(pod.metadata?.labels, podSubject, "metadata.labels", out);
        draft.labels = labels ?? Object.freeze(Object.create(null) as Record<string, string>);
        // The Pod's own weight is the more specific one (endpoint-weight.ts).
        const podWeight = readWeightAnnotation(pod.metadata?.annotations, podSubject, out);
        if (podWeight !== undefined) draft.weight = podWeight;
      }
    }
  }
  return draft;
}
