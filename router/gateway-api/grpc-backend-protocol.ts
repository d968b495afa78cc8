// The protocol to a GRPCRoute's backend (pure). gRPC is HTTP/2 only (grpc doc/PROTOCOL-HTTP2.md),
// and GRPCBackendRef says "Implementations MAY infer the protocol from the Route type referring
// to the backend Service" where the port's appProtocol is not given, but "SHOULD honor the
// appProtocol field if it is set", and a backend that cannot be reached with the route's protocol
// "is considered invalid". So: a port vipr already reaches with h2c stays as it is; a port without
// appProtocol is reached with h2c; a port whose appProtocol names another protocol is refused.
import { servicePortFor, upstreamProtocolOf } from "../service-port.ts";
import type { ServiceEntry, ServicePortEntry } from "../table/routing-table.ts";

// One h2c copy per port entry of a snapshot (entries are never edited), not one per call.
const asH2c = new WeakMap<ServicePortEntry, ServicePortEntry>();

/** The port entry to forward a GRPCRoute's call with, or why the backend cannot take it. */
export function grpcBackendPort(port: ServicePortEntry): ServicePortEntry | string {
  if (upstreamProtocolOf(port) === "h2c") return port;
  if (port.appProtocol !== undefined && port.appProtocol !== "") {
    return `port ${port.port} has appProtocol ${JSON.stringify(port.appProtocol)}; a GRPCRoute's backend must speak HTTP/2 (appProtocol kubernetes.io/h2c or grpc, or none)`;
  }
  let h2c = asH2c.get(port);
  if (h2c === undefined) asH2c.set(port, (h2c = { ...port, appProtocol: "kubernetes.io/h2c" }));
  return h2c;
}

/** Why a GRPCRoute backendRef's Service port cannot take gRPC (its appProtocol names another
 * protocol), for ResolvedRefs False UnsupportedProtocol in status; undefined when it can, or when
 * the port is not there (the call answers UNAVAILABLE naming it). */
export function grpcBackendProtocolProblem(service: ServiceEntry, port: number | string | undefined): string | undefined {
  const entry = servicePortFor(service, port, "give the backendRef a port");
  if (typeof entry === "string") return undefined;
  const resolved = grpcBackendPort(entry);
  return typeof resolved === "string" ? `backendRef ${service.key}: ${resolved}` : undefined;
}
