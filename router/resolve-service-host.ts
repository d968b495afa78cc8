// Host (or :authority) -> service and service port, by the names cluster DNS gives a service
// (https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/): "svc", "svc.ns",
// "svc.ns.svc" and "svc.ns.svc.<cluster-domain>", with an optional ":port", case-insensitive.
// Short forms resolve in the router's own namespace, as a pod's resolv.conf search path
// ("<ns>.svc.<domain> svc.<domain> <domain>") makes them resolve. Never throws: a host that is not a
// service name, or names no service or port in the table, gives an error object that says how it
// was parsed and why it failed (the 404 body).

import type { RoutingTable, ServiceEntry, ServicePortEntry } from "./table/routing-table.ts";
import { serviceKey } from "./table/routing-table.ts";
import { servicePortFor } from "./service-port.ts";

export interface ResolveServiceHostOptions {
  /** The router's own namespace: where "svc" (one label) resolves. */
  readonly namespace: string;
  /** Default "cluster.local". */
  readonly clusterDomain?: string;
}

export type HostForm = "svc" | "svc.ns" | "svc.ns.svc" | "svc.ns.svc.domain";

/** How far the host was understood. */
export interface ParsedServiceHost {
  readonly form?: HostForm;
  readonly name?: string;
  readonly namespace?: string;
  /** The port in the host, when it has one. */
  readonly port?: number;
}

export interface ServiceHostMatch {
  readonly ok: true;
  readonly service: ServiceEntry;
  readonly port: ServicePortEntry;
  readonly parsed: ParsedServiceHost;
}

export interface ServiceHostError {
  readonly ok: false;
  readonly error: "malformed-host" | "unknown-service" | "unknown-port";
  readonly host: string;
  readonly parsed: ParsedServiceHost;
  /** One sentence: what was wrong and what was expected. */
  readonly message: string;
}

export type ServiceHostResolution = ServiceHostMatch | ServiceHostError;

const defaultClusterDomain = "cluster.local";
// A Service name is a DNS-1035 label; a namespace a DNS-1123 label (it may start with a digit).
const dns1035Label = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const ipv4Literal = /^[0-9]+(\.[0-9]+){3}$/;
const portDigits = /^[0-9]{1,5}$/;

const expectedForms = (domain: string): string =>
  `expected svc, svc.ns, svc.ns.svc or svc.ns.svc.${domain}, with an optional :port`;

/**
 * Resolves a Host header value against the table.
 *
 * @example
 * resolveServiceHost("simpleservice", table, { namespace: "default" })
 * // { ok: true, service: <default/simpleservice>, port: { name: "", port: 80, targetPort: 9876, ... } }
 * resolveServiceHost("web.shop.svc.cluster.local:8080", table, { namespace: "default" })
 */
export function resolveServiceHost(
  host: string,
  table: RoutingTable,
  options: ResolveServiceHostOptions,
): ServiceHostResolution {
  const domain = (options.clusterDomain ?? defaultClusterDomain).toLowerCase().replace(/^\.+|\.+$/g, "");
  const fail = (error: ServiceHostError["error"], parsed: ParsedServiceHost, why: string): ServiceHostError =>
    Object.freeze({ ok: false, error, host, parsed: Object.freeze(parsed), message: why });
  const malformed = (parsed: ParsedServiceHost, why: string): ServiceHostError =>
    fail("malformed-host", parsed, `host ${JSON.stringify(host)} is not a service name: ${why}; ${expectedForms(domain)}`);

  if (typeof host !== "string" || host === "") return malformed({}, "it is empty");
  let rest = host.toLowerCase();
  if (rest.startsWith("[")) return malformed({}, "it is an IPv6 literal");

  let port: number | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon !== -1) {
    if (rest.indexOf(":") !== colon) return malformed({}, "it is an IPv6 literal");
    const digits = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    // "svc:" has an empty port, which URLs read as the scheme's default.
    if (digits !== "") {
      const value = portDigits.test(digits) ? Number(digits) : NaN;
      if (!(value >= 1 && value <= 65535)) return malformed({}, `port ${JSON.stringify(digits)} is not a number in 1..65535`);
      port = value;
    }
  }
  const withPort = (parsed: { -readonly [K in keyof ParsedServiceHost]: ParsedServiceHost[K] }): ParsedServiceHost => {
    if (port !== undefined) parsed.port = port;
    return parsed;
  };

  if (rest.endsWith(".")) rest = rest.slice(0, -1); // an absolute name, "svc.ns.svc.cluster.local."
  if (ipv4Literal.test(rest)) return malformed(withPort({}), "it is an IPv4 literal");

  const labels = rest.split(".");
  const name = labels[0] ?? "";
  let namespace = options.namespace;
  let form: HostForm = "svc";
  if (labels.length >= 2) {
    namespace = labels[1]!;
    form = "svc.ns";
  }
  if (labels.length >= 3) {
    if (labels[2] !== "svc") {
      return malformed(withPort({ name, namespace }), `its third label is ${JSON.stringify(labels[2])}, not "svc"`);
    }
    form = "svc.ns.svc";
  }
  if (labels.length >= 4) {
    const suffix = labels.slice(3).join(".");
    if (suffix !== domain) {
      return malformed(withPort({ name, namespace }), `it ends in ${JSON.stringify(suffix)}, not the cluster domain ${JSON.stringify(domain)}`);
    }
    form = "svc.ns.svc.domain";
  }
  const parsed = withPort({ form, name, namespace });
  if (!dns1035Label.test(name)) {
    return malformed(parsed, `${JSON.stringify(name)} is not a service name (a DNS-1035 label: a-z, 0-9 and "-", starting with a letter)`);
  }
  if (!dns1123Label.test(namespace)) {
    return malformed(parsed, `${JSON.stringify(namespace)} is not a namespace (a DNS-1123 label: a-z, 0-9 and "-")`);
  }

  const service = table.services.get(serviceKey(namespace, name));
  if (service === undefined) {
    return fail("unknown-service", parsed, `host ${JSON.stringify(host)}: no service ${JSON.stringify(name)} in namespace ${JSON.stringify(namespace)}`);
  }
  const picked = servicePortFor(service, port, "put the port in the host");
  if (typeof picked === "string") return fail("unknown-port", parsed, `host ${JSON.stringify(host)}: ${picked}`);
  return Object.freeze({ ok: true, service, port: picked, parsed: Object.freeze(parsed) });
}
