// Which endpoints of a service port may receive a request from this router, exactly as kube-proxy
// picks them (pkg/proxy/topology.go CategorizeEndpoints, topologyModeFromHints,
// availableForTopology). The result is a pure function of (entry, port, locality), so a caller may
// cache it per service entry: entries are replaced, never edited, when anything changes.

import type {
  EndpointEntry,
  ServiceEntry,
  ServicePortEntry,
  TrafficPolicy,
} from "./routing-table.ts";
import { endpointPortFor } from "./routing-table.ts";

export interface EligibilityOptions {
  /** The node the router runs on (spec.nodeName through the downward API); none off-cluster. */
  readonly nodeName?: string;
  /** That node's topology.kubernetes.io/zone label. */
  readonly zone?: string;
  /** "external" for gateway traffic from outside the cluster: then externalTrafficPolicy applies
   * (to NodePort and LoadBalancer services, as in kube-proxy's ExternalPolicyLocal). Default internal. */
  readonly trafficOrigin?: "internal" | "external";
}

export interface EligibleEndpoint {
  readonly endpoint: EndpointEntry;
  /** The endpoint port that carries the service port (the slice port of the same name). */
  readonly port: number;
}

export type TopologyMode = "PreferSameNode" | "PreferSameZone" | "none";

export interface EligibleEndpoints {
  /** Headless and ExternalName services are flagged: the caller treats them differently. */
  readonly serviceKind: "proxied" | "headless" | "ExternalName";
  /** In the service entry's order (by identity). Empty for ExternalName. */
  readonly endpoints: readonly EligibleEndpoint[];
  readonly policy: TrafficPolicy;
  /** The topology filter applied (Cluster policy, from hints). */
  readonly topology: TopologyMode;
  /** True when no endpoint was ready and serving-and-terminating ones were taken instead. */
  readonly servingTerminatingFallback: boolean;
  /** Where an ExternalName service forwards (the caller's allow-list decides if it may). */
  readonly externalName?: string;
  /** For /debug/explain, e.g. "ready endpoints filtered by zone hints for zone-a". */
  readonly reason: string;
}

type Candidate = EligibleEndpoint;

function result(
  fields: Partial<EligibleEndpoints> & Pick<EligibleEndpoints, "reason" | "policy">,
): EligibleEndpoints {
  return Object.freeze({
    serviceKind: "proxied",
    endpoints: Object.freeze([]),
    topology: "none",
    servingTerminatingFallback: false,
    ...fields,
  });
}

/** kube-proxy's topologyModeFromHints, over the ready candidates. Hints are only trusted when every
 * ready endpoint has one (a partly hinted set means the controller is mid-update or gave up), and
 * only used when one names this node or zone; the node's hints win over the zone's. */
function topologyFromHints(
  ready: readonly Candidate[],
  nodeName: string,
  zone: string,
): { mode: TopologyMode; note: string } {
  if (ready.length === 0) return { mode: "none", note: "" };
  let allNode = true, forNode = false, anyNode = false;
  let allZone = true, forZone = false, anyZone = false;
  for (const { endpoint } of ready) {
    const { forNodes, forZones } = endpoint.hints;
    if (forNodes.length === 0) allNode = false;
    else {
      anyNode = true;
      if (nodeName !== "" && forNodes.includes(nodeName)) forNode = true;
    }
    if (forZones.length === 0) allZone = false;
    else {
      anyZone = true;
      if (zone !== "" && forZones.includes(zone)) forZone = true;
    }
  }
  if (allNode && forNode) return { mode: "PreferSameNode", note: "" };
  if (allZone && forZone) return { mode: "PreferSameZone", note: "" };
  // Why the hints there are were not used, as kube-proxy logs it.
  const notes: string[] = [];
  if (anyNode) notes.push(hintNote("node", allNode, nodeName));
  if (anyZone) notes.push(hintNote("zone", allZone, zone));
  return { mode: "none", note: notes.join("; ") };
}

function hintNote(scope: "node" | "zone", all: boolean, mine: string): string {
  if (!all) return `${scope} hints ignored: not every ready endpoint has one`;
  if (mine === "") return `${scope} hints ignored: the router's ${scope} is unknown`;
  return `${scope} hints ignored: none is for ${scope} ${mine}`;
}

/**
 * The eligible endpoints of `service`'s port `servicePort`, for a router on `options.nodeName` in
 * `options.zone`:
 * - Only endpoints that carry the port (a slice port of the same name) are candidates.
 * - publishNotReadyAddresses: every candidate counts as ready (the EndpointSlice controller marks
 *   them so: ready = publishNotReadyAddresses || (serving && !terminating)).
 * - Cluster policy: ready endpoints, filtered by node hints (PreferSameNode) or zone hints
 *   (PreferSameZone) when every ready endpoint has such a hint and one names this node or zone;
 *   if none is ready, the serving-and-terminating ones, without topology.
 * - Local policy: ready endpoints on this node, else serving-and-terminating ones on this node,
 *   else none; hints ignored. Without a node name nothing is local (kube-proxy's isLocal).
 * - Headless: the ready endpoints, as cluster DNS lists them (kube-proxy does not proxy headless
 *   services, so neither topology nor traffic policy applies). ExternalName: no endpoints.
 */
export function eligibleEndpoints(
  service: ServiceEntry,
  servicePort: ServicePortEntry,
  options: EligibilityOptions = {},
): EligibleEndpoints {
  const nodeName = options.nodeName ?? "";
  const zone = options.zone ?? "";
  const external =
    options.trafficOrigin === "external" && (service.type === "NodePort" || service.type === "LoadBalancer");
  const policy: TrafficPolicy = external ? service.externalTrafficPolicy : service.internalTrafficPolicy;

  if (service.type === "ExternalName") {
    const reason =
      service.externalName === undefined
        ? "ExternalName service without a valid spec.externalName: nowhere to forward"
        : `ExternalName service: forward to ${service.externalName}`;
    return service.externalName === undefined
      ? result({ serviceKind: "ExternalName", policy, reason })
      : result({ serviceKind: "ExternalName", policy, reason, externalName: service.externalName });
  }

  const candidates: Candidate[] = [];
  for (const endpoint of service.endpoints) {
    const port = endpointPortFor(endpoint, servicePort);
    if (port !== undefined) candidates.push(Object.freeze({ endpoint, port: port.port }));
  }
  const portLabel = servicePort.name === "" ? `port ${servicePort.port}` : `port ${JSON.stringify(servicePort.name)}`;
  if (candidates.length === 0) {
    const reason =
      service.endpoints.length === 0 ? "the service has no endpoints" : `no endpoint has a ${portLabel}`;
    return result({ serviceKind: service.headless ? "headless" : "proxied", policy, reason });
  }

  const everyReady = service.publishNotReadyAddresses;
  const prefix = everyReady ? "publishNotReadyAddresses: every endpoint counts as ready; " : "";
  const isReady = (c: Candidate): boolean => everyReady || c.endpoint.ready;
  const isServingTerminating = (c: Candidate): boolean => c.endpoint.serving && c.endpoint.terminating;
  const ready = candidates.filter(isReady);

  if (service.headless) {
    const reason = ready.length > 0 ? "headless service: ready endpoints, as cluster DNS lists them" : "headless service: no ready endpoints";
    return result({ serviceKind: "headless", policy, endpoints: Object.freeze(ready), reason: prefix + reason });
  }

  if (policy === "Local") {
    if (nodeName === "") {
      return result({ policy, reason: `${prefix}Local traffic policy: the router has no node name, so no endpoint is local` });
    }
    const local = candidates.filter((c) => c.endpoint.nodeName === nodeName);
    const localReady = local.filter(isReady);
    if (localReady.length > 0) {
      return result({ policy, endpoints: Object.freeze(localReady), reason: `${prefix}Local traffic policy: ready endpoints on node ${nodeName}` });
    }
    const localServingTerminating = local.filter(isServingTerminating);
    if (localServingTerminating.length > 0) {
      return result({
        policy,
        endpoints: Object.freeze(localServingTerminating),
        servingTerminatingFallback: true,
        reason: `${prefix}Local traffic policy: no ready endpoint on node ${nodeName}; serving and terminating endpoints on it`,
      });
    }
    return result({ policy, reason: `${prefix}Local traffic policy: no ready or serving-terminating endpoint on node ${nodeName}` });
  }

  const { mode, note } = topologyFromHints(ready, nodeName, zone);
  if (ready.length > 0) {
    if (mode === "PreferSameNode") {
      const endpoints = ready.filter((c) => c.endpoint.hints.forNodes.includes(nodeName));
      return result({ policy, topology: mode, endpoints: Object.freeze(endpoints), reason: `${prefix}ready endpoints filtered by node hints for ${nodeName}` });
    }
    if (mode === "PreferSameZone") {
      const endpoints = ready.filter((c) => c.endpoint.hints.forZones.includes(zone));
      return result({ policy, topology: mode, endpoints: Object.freeze(endpoints), reason: `${prefix}ready endpoints filtered by zone hints for ${zone}` });
    }
    const reason = note === "" ? `${prefix}ready endpoints` : `${prefix}ready endpoints (${note})`;
    return result({ policy, endpoints: Object.freeze(ready), reason });
  }
  // No ready endpoint anywhere: kube-proxy falls back to serving-and-terminating endpoints, so
  // connections drain to pods that still serve instead of failing (KEP-1669).
  const servingTerminating = candidates.filter(isServingTerminating);
  if (servingTerminating.length > 0) {
    return result({
      policy,
      endpoints: Object.freeze(servingTerminating),
      servingTerminatingFallback: true,
      reason: "no ready endpoints; serving and terminating endpoints",
    });
  }
  return result({ policy, reason: "no ready or serving-terminating endpoints" });
}
