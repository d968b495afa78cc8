// The routing table: an immutable snapshot of services and their endpoints, built by a
// RoutingTableBuilder (routing-table-builder.ts; buildRoutingTable for a one-off) and published
// by one reference swap. Requests read a
// snapshot and never see it change; a rebuild makes a new one that shares unchanged service entries.
// Every object in it is frozen and holds only plain data; `services` is an immutable map
// (hash-trie-map.ts) so that a rebuild of one service shares the rest of the map instead of copying
// 10000 keys. /debug/table (admin/table-view.ts) serialises it by key.

/** Where endpoints come from: EndpointSlices (a cluster), or Pods matched by the Service's selector
 * (the file source's local demos, where no EndpointSlice controller runs). */
export type EndpointsFrom = "EndpointSlices" | "Pods";

export type ServiceType = "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";
export type TrafficPolicy = "Cluster" | "Local";
export type AddressType = "IPv4" | "IPv6";
/** Only TCP ports are kept: an HTTP router cannot carry UDP or SCTP. */
export type PortProtocol = "TCP";

export interface ServicePortEntry {
  /** "" for the single unnamed port a one-port Service may have. */
  readonly name: string;
  readonly port: number;
  /** A number, or the name of a container port (resolved by the EndpointSlice controller). */
  readonly targetPort: number | string;
  readonly protocol: PortProtocol;
  readonly appProtocol?: string;
}

export type SessionAffinity =
  | { readonly type: "None" }
  /** timeoutSeconds defaults to 10800 (3 hours), as in the Service API. */
  | { readonly type: "ClientIP"; readonly timeoutSeconds: number };

export interface EndpointPortEntry {
  /** Matches the ServicePortEntry of the same name: "" for an unnamed service port. */
  readonly name: string;
  readonly port: number;
  readonly protocol: PortProtocol;
  readonly appProtocol?: string;
}

export interface EndpointTargetRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface EndpointEntry {
  /** The first address of the Kubernetes endpoint, in canonical form (IPv6 compressed, lowercase). */
  readonly address: string;
  readonly addressType: AddressType;
  /** Stable across restarts at a new IP: the targetRef name, else the hostname, else the address.
   * When two endpoints of one service share it (a dual-stack pod), both get "identity@address". */
  readonly identity: string;
  readonly ports: readonly EndpointPortEntry[];
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName?: string;
  readonly zone?: string;
  readonly hostname?: string;
  readonly hints: { readonly forZones: readonly string[]; readonly forNodes: readonly string[] };
  readonly targetRef?: EndpointTargetRef;
  /** The Pod's labels, when the Pod is known (always in Pods mode). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly weight: number;
  /** The EndpointSlice it came from (first one, by name, when several list the address). */
  readonly sliceName?: string;
}

export interface ServiceEntry {
  /** "namespace/name", the key in RoutingTable.services. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly type: ServiceType;
  /** spec.clusterIP "None": no virtual IP; clients reach the endpoints directly. */
  readonly headless: boolean;
  readonly clusterIP?: string;
  /** Only for type ExternalName. */
  readonly externalName?: string;
  readonly ports: readonly ServicePortEntry[];
  /** The Service's equality selector; absent when it has none (endpoints are managed by hand). */
  readonly selector?: Readonly<Record<string, string>>;
  readonly sessionAffinity: SessionAffinity;
  readonly internalTrafficPolicy: TrafficPolicy;
  readonly externalTrafficPolicy: TrafficPolicy;
  readonly trafficDistribution?: string;
  readonly publishNotReadyAddresses: boolean;
  readonly annotations: Readonly<Record<string, string>>;
  readonly endpointsFrom: EndpointsFrom;
  /** Sorted by identity, then address, so every replica sees the same order. */
  readonly endpoints: readonly EndpointEntry[];
  /** What was skipped or defaulted while building this entry (also in RoutingTable.diagnostics). */
  readonly diagnostics: readonly TableDiagnostic[];
}

/** An odd value in an input object that was skipped or replaced by its default. Never thrown. */
export interface TableDiagnostic {
  readonly kind: "Service" | "EndpointSlice" | "Pod";
  /** "" when the object has no namespace. */
  readonly namespace: string;
  /** "" when the object has no name. */
  readonly name: string;
  /** JSON path inside the object, e.g. "endpoints[0].addresses[0]". */
  readonly field: string;
  /** What was wrong and what was done about it. */
  readonly problem: string;
  /** One line: `EndpointSlice ns/name: endpoints[0].addresses[0]: "x" is not an IPv4 address; endpoint skipped`. */
  readonly message: string;
}

export interface RoutingTable {
  /** Counts builds: previous.generation + 1, starting at 1. */
  readonly generation: number;
  readonly endpointsFrom: EndpointsFrom;
  /** By "namespace/name"; iterates in key order. Immutable (a HashTrieMap). */
  readonly services: ReadonlyMap<string, ServiceEntry>;
  /** Endpoints over all services (the sum of each entry's endpoints.length), kept up to date by
   * the builder so a consumer need not walk the table to count them. */
  readonly endpointCount: number;
  /** Keys of the services built anew for this snapshot (added or changed), sorted. */
  readonly rebuilt: readonly string[];
  /** Keys of the services in the previous snapshot and not in this one, sorted. */
  readonly removed: readonly string[];
  /** Every diagnostic: objects not tied to a service first, then each service's, by key. */
  readonly diagnostics: readonly TableDiagnostic[];
  /** This snapshot, as named by the snapshot built from it (builtFrom). */
  readonly id?: symbol;
  /** The id of the snapshot this one was built from: its `rebuilt` and `removed` are the
   * differences from that one (see isBuiltFrom). */
  readonly builtFrom?: symbol;
}

/** True when `table` was built with `previous` as its previous snapshot, so its `rebuilt` and
 * `removed` list every difference between the two. */
export function isBuiltFrom(table: RoutingTable, previous: RoutingTable): boolean {
  return table.builtFrom !== undefined && table.builtFrom === previous.id;
}

/** The key of a service in RoutingTable.services. */
export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The endpoint port that carries a service port: same name and protocol, as kube-proxy pairs them
 * (pkg/proxy/endpointslicecache.go: ServicePortName is the port's name). */
export function endpointPortFor(
  endpoint: EndpointEntry,
  servicePort: ServicePortEntry,
): EndpointPortEntry | undefined {
  const ports = endpoint.ports;
  for (let i = 0, n = ports.length; i < n; i++) {
    const p = ports[i]!;
    if (p.name === servicePort.name && p.protocol === servicePort.protocol) return p;
  }
  return undefined;
}
