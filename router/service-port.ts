// The one rule for which service port a request reaches, whether it was addressed by service name
// (resolve-service-host.ts: the port in the host, if any) or by a gateway route rule (route-rules.ts:
// the rule's port, by number or name, if any). Kept in one place so that "svc" and a route to "svc"
// without a port always land on the same port.
import type { ServiceEntry, ServicePortEntry } from "./table/routing-table.ts";

/**
 * The service port `wanted` names (a number, or a port name from a route rule); without one the
 * only port, else the one named "http", else port 80. An ExternalName service is a DNS alias (a
 * CNAME), so any port passes through to the external name: the declared one if there is one, else
 * as given (default 80). A string result says why no port matched, for a 404 message; `howToName`
 * is its advice when a service has several ports and none is the default.
 *
 * @example
 * servicePortFor(web, undefined, "put the port in the host") // web has ports 8080 ("admin") and 80 ("http"): the "http" port
 * servicePortFor(web, "admin", "")   // the 8080 port
 */
export function servicePortFor(service: ServiceEntry, wanted: number | string | undefined, howToName: string): ServicePortEntry | string {
  const ports = service.ports;
  if (wanted !== undefined) {
    const match = ports.find((p) => p.port === wanted || (typeof wanted === "string" && wanted !== "" && p.name === wanted));
    if (match !== undefined) return match;
    if (service.type === "ExternalName" && typeof wanted === "number") return Object.freeze({ name: "", port: wanted, targetPort: wanted, protocol: "TCP" });
    return `service ${service.key} has no port ${wanted}${describePorts(ports)}`;
  }
  if (ports.length === 1) return ports[0]!;
  const http = ports.find((p) => p.name === "http") ?? ports.find((p) => p.port === 80);
  if (http !== undefined) return http;
  if (service.type === "ExternalName") return Object.freeze({ name: "", port: 80, targetPort: 80, protocol: "TCP" });
  if (ports.length === 0) return `service ${service.key} has no TCP port`;
  return `service ${service.key} has several ports, none named "http" or numbered 80; ${howToName}${describePorts(ports)}`;
}

function describePorts(ports: readonly ServicePortEntry[]): string {
  if (ports.length === 0) return " (it has no TCP port)";
  const list = ports.map((p) => (p.name === "" ? `${p.port}` : `${p.port} (${p.name})`)).join(", ");
  return ` (its ports: ${list})`;
}

/**
 * The protocol vipr speaks to a service port's pods: "h2c" (HTTP/2 with prior knowledge, RFC 9113
 * section 3.3) when the port says HTTP/2 or gRPC, else undefined (HTTP/1.1). The one rule every
 * caller reads (the forward stage, the access log, /debug/explain):
 * - appProtocol "kubernetes.io/h2c": the Gateway API's convention (GEP-1911);
 * - appProtocol "grpc" (GEP-1911 lists it for GRPCRoute backends; gRPC is HTTP/2 only, gRPC's
 *   PROTOCOL-HTTP2.md), case-insensitively;
 * - a port name "grpc" or starting "grpc-" without appProtocol: Istio's protocol selection by port
 *   name (istio.io, "Explicit protocol selection"), except "grpc-web", which Istio reads as gRPC-Web,
 *   an HTTP/1.1-compatible protocol.
 */
export function upstreamProtocolOf(port: Pick<ServicePortEntry, "name" | "appProtocol"> | undefined): "h2c" | undefined {
  if (port === undefined) return undefined;
  const app = port.appProtocol?.toLowerCase();
  if (app !== undefined && app !== "") return app === "kubernetes.io/h2c" || app === "grpc" ? "h2c" : undefined;
  const name = port.name.toLowerCase();
  return name === "grpc" || (name.startsWith("grpc-") && !name.startsWith("grpc-web")) ? "h2c" : undefined;
}
