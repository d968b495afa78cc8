// Reads a core/v1 Service's spec into the routing table's terms, applying the API's defaults
// (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/) and reporting
// values the API would have refused instead of throwing on them.

import type { KubeService } from "./kubernetes-objects.ts";
import type {
  ServiceEntry,
  ServicePortEntry,
  ServiceType,
  SessionAffinity,
  TableDiagnostic,
  TrafficPolicy,
} from "./routing-table.ts";
import { diagnostic, show, type DiagnosticSubject } from "./table-diagnostic.ts";

/** The Service's fields, as a ServiceEntry holds them (endpoints are added by the builder). */
export type ServiceSpecFields = Pick<
  ServiceEntry,
  | "type"
  | "headless"
  | "clusterIP"
  | "externalName"
  | "ports"
  | "selector"
  | "sessionAffinity"
  | "internalTrafficPolicy"
  | "externalTrafficPolicy"
  | "trafficDistribution"
  | "publishNotReadyAddresses"
  | "annotations"
>;

/** spec.sessionAffinityConfig.clientIP.timeoutSeconds: default 10800, valid 1..86400. */
export const defaultClientIpTimeoutSeconds = 10800;
const maxClientIpTimeoutSeconds = 86400;

const serviceTypes: readonly string[] = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
const knownProtocols: readonly string[] = ["TCP", "UDP", "SCTP"];
// RFC 1123 subdomain, as validation.IsDNS1123Subdomain checks spec.externalName.
const dnsSubdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isPortNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/**
 * The checks a Service port and an EndpointSlice port share: an object, TCP (UDP and SCTP are
 * dropped quietly: an HTTP router cannot carry them; an unknown protocol gets a diagnostic), a
 * string name (missing reads as ""), a port number. Undefined, with a diagnostic when due, if
 * the port is skipped.
 */
export function readPortBasics(
  p: { readonly protocol?: unknown; readonly name?: unknown; readonly port?: unknown } | null | undefined,
  field: string,
  subject: DiagnosticSubject,
  out: TableDiagnostic[],
): { readonly name: string; readonly port: number } | undefined {
  if (p == null || typeof p !== "object") {
    out.push(diagnostic(subject, field, `${show(p)} is not a port object; port skipped`));
    return undefined;
  }
  const protocol = p.protocol ?? "TCP";
  if (protocol !== "TCP") {
    if (typeof protocol !== "string" || !knownProtocols.includes(protocol)) {
      out.push(diagnostic(subject, `${field}.protocol`, `${show(protocol)} is not TCP, UDP or SCTP; port skipped`));
    }
    return undefined;
  }
  const name = p.name ?? "";
  if (typeof name !== "string") {
    out.push(diagnostic(subject, `${field}.name`, `${show(name)} is not a string; port skipped`));
    return undefined;
  }
  if (!isPortNumber(p.port)) {
    out.push(diagnostic(subject, `${field}.port`, `${show(p.port)} is not a port number (1..65535); port skipped`));
    return undefined;
  }
  return { name, port: p.port };
}

/** A frozen null-prototype copy of a string map, keeping only string values. */
export function copyStringMap(
  map: unknown,
  subject: DiagnosticSubject,
  field: string,
  out: TableDiagnostic[],
): Readonly<Record<string, string>> | undefined {
  if (map == null) return undefined;
  if (typeof map !== "object" || Array.isArray(map)) {
    out.push(diagnostic(subject, field, `${show(map)} is not a map of strings; ignored`));
    return undefined;
  }
  const copy: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(map)) {
    if (typeof value === "string") copy[key] = value;
    else out.push(diagnostic(subject, `${field}[${show(key)}]`, `${show(value)} is not a string; ignored`));
  }
  return Object.freeze(copy);
}

function readPolicy(value: unknown, subject: DiagnosticSubject, field: string, out: TableDiagnostic[]): TrafficPolicy {
  if (value == null || value === "Cluster") return "Cluster";
  if (value === "Local") return "Local";
  out.push(diagnostic(subject, field, `${show(value)} is not Cluster or Local; treated as Cluster`));
  return "Cluster";
}

function readSessionAffinity(service: KubeService, subject: DiagnosticSubject, out: TableDiagnostic[]): SessionAffinity {
  const spec = service.spec;
  const value = spec?.sessionAffinity;
  if (value == null || value === "None") return { type: "None" };
  if (value !== "ClientIP") {
    out.push(diagnostic(subject, "spec.sessionAffinity", `${show(value)} is not None or ClientIP; treated as None`));
    return { type: "None" };
  }
  const timeout = spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (timeout == null) return { type: "ClientIP", timeoutSeconds: defaultClientIpTimeoutSeconds };
  if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1 || timeout > maxClientIpTimeoutSeconds) {
    out.push(
      diagnostic(
        subject,
        "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
        `${show(timeout)} is not an integer in 1..${maxClientIpTimeoutSeconds}; using ${defaultClientIpTimeoutSeconds}`,
      ),
    );
    return { type: "ClientIP", timeoutSeconds: defaultClientIpTimeoutSeconds };
  }
  return { type: "ClientIP", timeoutSeconds: timeout };
}

/** spec.ports: TCP ports only (an HTTP router carries nothing else; UDP and SCTP ports are valid
 * and left out without a diagnostic). Names and port numbers must be unique, as the API requires. */
function readPorts(service: KubeService, subject: DiagnosticSubject, out: TableDiagnostic[]): ServicePortEntry[] {
  const ports: ServicePortEntry[] = [];
  const raw = service.spec?.ports;
  if (raw == null) return ports;
  if (!Array.isArray(raw)) {
    out.push(diagnostic(subject, "spec.ports", `${show(raw)} is not a list; no ports`));
    return ports;
  }
  const seenNames = new Map<string, number>();
  const seenNumbers = new Map<number, number>();
  raw.forEach((p: ServicePortEntryInput, i: number) => {
    const field = `spec.ports[${i}]`;
    const basics = readPortBasics(p, field, subject, out);
    if (basics === undefined) return;
    const { name, port } = basics;
    const targetPort = p.targetPort ?? p.port;
    if (!(isPortNumber(targetPort) || (typeof targetPort === "string" && targetPort !== ""))) {
      out.push(
        diagnostic(subject, `${field}.targetPort`, `${show(targetPort)} is neither a port number (1..65535) nor a port name; port skipped`),
      );
      return;
    }
    const sameName = seenNames.get(name);
    if (sameName !== undefined) {
      out.push(diagnostic(subject, `${field}.name`, `${show(name)} repeats spec.ports[${sameName}].name; port skipped`));
      return;
    }
    const sameNumber = seenNumbers.get(port);
    if (sameNumber !== undefined) {
      out.push(diagnostic(subject, `${field}.port`, `${port}/TCP repeats spec.ports[${sameNumber}].port; port skipped`));
      return;
    }
    seenNames.set(name, i);
    seenNumbers.set(port, i);
    const entry: ServicePortEntry =
      typeof p.appProtocol === "string"
        ? { name, port, targetPort, protocol: "TCP", appProtocol: p.appProtocol }
        : { name, port, targetPort, protocol: "TCP" };
    ports.push(Object.freeze(entry));
  });
  return ports;
}

type ServicePortEntryInput = NonNullable<NonNullable<KubeService["spec"]>["ports"]>[number];

export function readServiceSpec(service: KubeService, subject: DiagnosticSubject, out: TableDiagnostic[]): ServiceSpecFields {
  const spec = service.spec ?? {};
  let type: ServiceType = "ClusterIP";
  if (spec.type != null) {
    if (serviceTypes.includes(spec.type)) type = spec.type as ServiceType;
    else {
      out.push(
        diagnostic(subject, "spec.type", `${show(spec.type)} is not ClusterIP, NodePort, LoadBalancer or ExternalName; treated as ClusterIP`),
      );
    }
  }

  const clusterIP = typeof spec.clusterIP === "string" && spec.clusterIP !== "" ? spec.clusterIP : undefined;
  let externalName: string | undefined;
  if (type === "ExternalName") {
    const raw = spec.externalName;
    const lower = typeof raw === "string" ? raw.toLowerCase().replace(/\.$/, "") : undefined;
    if (lower !== undefined && dnsSubdomain.test(lower)) externalName = lower;
    else {
      const problem = raw == null ? "missing" : `${show(raw)} is not a DNS name`;
      out.push(diagnostic(subject, "spec.externalName", `${problem}; the ExternalName service has nowhere to forward`));
    }
  }

  const selector = copyStringMap(spec.selector, subject, "spec.selector", out);
  const annotations = copyStringMap(service.metadata?.annotations, subject, "metadata.annotations", out);
  const fields: {
    -readonly [K in keyof ServiceSpecFields]: ServiceSpecFields[K];
  } = {
    type,
    headless: type !== "ExternalName" && clusterIP === "None",
    ports: Object.freeze(readPorts(service, subject, out)),
    sessionAffinity: Object.freeze(readSessionAffinity(service, subject, out)),
    internalTrafficPolicy: readPolicy(spec.internalTrafficPolicy, subject, "spec.internalTrafficPolicy", out),
    externalTrafficPolicy: readPolicy(spec.externalTrafficPolicy, subject, "spec.externalTrafficPolicy", out),
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
    annotations: annotations ?? Object.freeze(Object.create(null) as Record<string, string>),
  };
  if (clusterIP !== undefined) fields.clusterIP = clusterIP;
  if (externalName !== undefined) fields.externalName = externalName;
  if (selector !== undefined && Object.keys(selector).length > 0) fields.selector = selector;
  if (typeof spec.trafficDistribution === "string") fields.trafficDistribution = spec.trafficDistribution;
  return fields;
}
