// Conflicted listeners of one Gateway (pure): gateway-api apis/v1/gateway_types.go, "Distinct
// Listeners": a traffic flow must be assignable to exactly one listener, so listeners that share a
// port must differ in protocol-specific fields, and "ALL indistinct Listeners must not be accepted"
// (no winner is picked). vipr's reading:
// - ProtocolConflict: listeners on one port whose protocols cannot share a socket: cleartext HTTP,
//   TLS-carrying (HTTPS and TLS, told apart by SNI), and TCP; UDP is another transport and shares
//   a port number with any of them.
// - HostnameConflict: listeners on one port with the same protocol and the same hostname (both
//   without one counts as the same), for HTTP, HTTPS and TLS; for TCP and UDP the port alone.
// The CRD refuses the second case within one Gateway on API servers with its CEL rules (Gateway
// API v1.1 and later); older CRDs and files do not, so vipr checks it.
import type { Listener } from "./gateway-api-objects.ts";

export interface ListenerConflict {
  readonly reason: "HostnameConflict" | "ProtocolConflict";
  readonly message: string;
}

/** What can share a port: listeners of different families on one port conflict. */
function familyOf(protocol: string): string {
  if (protocol === "HTTP") return "cleartext HTTP";
  if (protocol === "HTTPS" || protocol === "TLS") return "TLS";
  return protocol;
}

/** The conflicted listeners of a Gateway, by listener name. */
export function listenerConflicts(listeners: readonly Listener[]): Map<string, ListenerConflict> {
  const out = new Map<string, ListenerConflict>();
  const byPort = new Map<number, Listener[]>();
  for (const l of listeners) byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);
  for (const [port, group] of byPort) {
    const tcp = group.filter((l) => l.protocol !== "UDP");
    const families = new Set(tcp.map((l) => familyOf(l.protocol)));
    if (families.size > 1) {
      const message = `port ${port} is used by listeners of protocols that cannot share it: ${tcp.map((l) => `${l.name} (${l.protocol})`).join(", ")}`;
      for (const l of tcp) out.set(l.name, { reason: "ProtocolConflict", message });
    }
    const seen = new Map<string, Listener[]>();
    for (const l of group) {
      if (out.has(l.name)) continue;
      const byHostname = l.protocol === "HTTP" || l.protocol === "HTTPS" || l.protocol === "TLS";
      const key = `${l.protocol} ${byHostname ? (l.hostname ?? "") : ""}`;
      seen.set(key, [...(seen.get(key) ?? []), l]);
    }
    for (const same of seen.values()) {
      if (same.length < 2) continue;
      const host = same[0]!.hostname;
      const message = `listeners ${same.map((l) => l.name).join(", ")} on port ${port} (${same[0]!.protocol}) have the same hostname ${host === undefined ? "(none: any host)" : host}`;
      for (const l of same) out.set(l.name, { reason: "HostnameConflict", message });
    }
  }
  return out;
}
