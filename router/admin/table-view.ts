// What /debug/table shows: the routing table as an operator reads it. The shape is stable and
// independent of the snapshot's internals: services as an array sorted by key, every field present
// in every object (null when absent, never left out), so `jq '.services[].endpoints[] | select(.conditions.ready | not)'`
// works on any table. Service annotations are left out: kubectl's last-applied-configuration alone
// can be kilobytes per service.

import type { EndpointHealthView } from "../balancing/outlier-detection.ts";
import type {
  AddressType,
  EndpointEntry,
  EndpointsFrom,
  RoutingTable,
  ServiceEntry,
  ServiceType,
  TableDiagnostic,
  TrafficPolicy,
} from "../table/routing-table.ts";

export interface TableView {
  readonly generation: number;
  readonly endpointsFrom: EndpointsFrom;
  readonly serviceCount: number;
  readonly endpointCount: number;
  /** Sorted by key ("namespace/name"). */
  readonly services: readonly ServiceView[];
  /** Services built anew by the build that made this table, and those it removed. */
  readonly rebuilt: readonly string[];
  readonly removed: readonly string[];
  /** Everything skipped or defaulted while building, as in RoutingTable.diagnostics. */
  readonly diagnostics: readonly TableDiagnostic[];
}

export interface ServiceView {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: string | null;
  readonly type: ServiceType;
  readonly headless: boolean;
  readonly clusterIP: string | null;
  readonly externalName: string | null;
  readonly ports: readonly {
    readonly name: string;
    readonly port: number;
    readonly targetPort: number | string;
    readonly protocol: string;
    readonly appProtocol: string | null;
  }[];
  readonly selector: Readonly<Record<string, string>> | null;
  /** timeoutSeconds is null for type None. */
  readonly sessionAffinity: { readonly type: "None" | "ClientIP"; readonly timeoutSeconds: number | null };
  readonly internalTrafficPolicy: TrafficPolicy;
  readonly externalTrafficPolicy: TrafficPolicy;
  readonly trafficDistribution: string | null;
  readonly publishNotReadyAddresses: boolean;
  readonly endpointsFrom: EndpointsFrom;
  /** Every endpoint the table holds, eligible or not: the conditions say which are. */
  readonly endpoints: readonly EndpointView[];
  /** The messages of this service's diagnostics. */
  readonly diagnostics: readonly string[];
}

export interface EndpointView {
  readonly identity: string;
  readonly address: string;
  readonly addressType: AddressType;
  readonly ports: readonly { readonly name: string; readonly port: number; readonly protocol: string; readonly appProtocol: string | null }[];
  readonly conditions: { readonly ready: boolean; readonly serving: boolean; readonly terminating: boolean };
  readonly nodeName: string | null;
  readonly zone: string | null;
  readonly hostname: string | null;
  readonly hints: { readonly forZones: readonly string[]; readonly forNodes: readonly string[] };
  readonly targetRef: { readonly kind: string; readonly namespace: string; readonly name: string } | null;
  readonly labels: Readonly<Record<string, string>> | null;
  readonly weight: number;
  /** The EndpointSlice it came from; null in Pods mode. */
  readonly slice: string | null;
  /** Passive health (outlier-detection.ts): failures in a row, times ejected, and whether it is
   * ejected now and until when (ISO 8601; null when not ejected). */
  readonly passiveHealth: {
    readonly ejected: boolean;
    readonly ejectedUntil: string | null;
    readonly consecutiveFailures: number;
    readonly ejections: number;
  };
}

/** Passive health by service key, as ServiceRouter.endpointHealth() gives it. */
export type EndpointHealthByService = ReadonlyMap<string, readonly EndpointHealthView[]>;

/** The view of a table, or of the one service `onlyService` ("namespace/name") names. */
export function describeTable(table: RoutingTable, onlyService?: string, health?: EndpointHealthByService): TableView {
  const services: ServiceView[] = [];
  if (onlyService === undefined) for (const entry of table.services.values()) services.push(describeService(entry, health?.get(entry.key)));
  else {
    const entry = table.services.get(onlyService);
    if (entry !== undefined) services.push(describeService(entry, health?.get(entry.key)));
  }
  return {
    generation: table.generation,
    endpointsFrom: table.endpointsFrom,
    serviceCount: table.services.size,
    endpointCount: table.endpointCount,
    services,
    rebuilt: table.rebuilt,
    removed: table.removed,
    diagnostics: onlyService === undefined ? table.diagnostics : services.length === 0 ? [] : table.services.get(onlyService)!.diagnostics,
  };
}

function describeService(s: ServiceEntry, health: readonly EndpointHealthView[] | undefined): ServiceView {
  const byEndpoint = new Map<string, EndpointHealthView>();
  if (health !== undefined) for (const h of health) byEndpoint.set(`${h.identity}\u0000${h.address}`, h);
  return {
    key: s.key,
    namespace: s.namespace,
    name: s.name,
    resourceVersion: s.resourceVersion ?? null,
    type: s.type,
    headless: s.headless,
    clusterIP: s.clusterIP ?? null,
    externalName: s.externalName ?? null,
    ports: s.ports.map((p) => ({
      name: p.name,
      port: p.port,
      targetPort: p.targetPort,
      protocol: p.protocol,
      appProtocol: p.appProtocol ?? null,
    })),
    selector: s.selector ?? null,
    sessionAffinity:
      s.sessionAffinity.type === "ClientIP"
        ? { type: "ClientIP", timeoutSeconds: s.sessionAffinity.timeoutSeconds }
        : { type: "None", timeoutSeconds: null },
    internalTrafficPolicy: s.internalTrafficPolicy,
    externalTrafficPolicy: s.externalTrafficPolicy,
    trafficDistribution: s.trafficDistribution ?? null,
    publishNotReadyAddresses: s.publishNotReadyAddresses,
    endpointsFrom: s.endpointsFrom,
    endpoints: s.endpoints.map((e) => describeEndpoint(e, byEndpoint.get(`${e.identity}\u0000${e.address}`))),
    diagnostics: s.diagnostics.map((d) => d.message),
  };
}

function describeEndpoint(e: EndpointEntry, health: EndpointHealthView | undefined): EndpointView {
  return {
    identity: e.identity,
    address: e.address,
    addressType: e.addressType,
    ports: e.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, appProtocol: p.appProtocol ?? null })),
    conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
    nodeName: e.nodeName ?? null,
    zone: e.zone ?? null,
    hostname: e.hostname ?? null,
    hints: { forZones: e.hints.forZones, forNodes: e.hints.forNodes },
    targetRef: e.targetRef === undefined ? null : { kind: e.targetRef.kind, namespace: e.targetRef.namespace, name: e.targetRef.name },
    labels: e.labels ?? null,
    weight: e.weight,
    slice: e.sliceName ?? null,
    passiveHealth: {
      ejected: health?.ejectedUntil != null,
      ejectedUntil: health?.ejectedUntil == null ? null : new Date(health.ejectedUntil).toISOString(),
      consecutiveFailures: health?.consecutiveFailures ?? 0,
      ejections: health?.ejections ?? 0,
    },
  };
}
