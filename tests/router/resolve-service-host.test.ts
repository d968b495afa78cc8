import { describe, expect, test } from "vitest";
import { resolveServiceHost, type ResolveServiceHostOptions } from "../../router/resolve-service-host.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";
import type { KubeService, KubeServicePort } from "../../router/table/kubernetes-objects.ts";

function service(namespace: string, name: string, ports: KubeServicePort[], spec: KubeService["spec"] = {}): KubeService {
  return { metadata: { name, namespace }, spec: { ports, ...spec } };
}

const table = buildRoutingTable({
  services: [
    // The seed's service: one unnamed port.
    service("default", "simpleservice", [{ port: 80, targetPort: 9876 }]),
    service("shop", "web", [{ name: "metrics", port: 9090 }, { name: "http", port: 8080 }]),
    service("shop", "api", [{ name: "grpc", port: 9000 }, { name: "web", port: 80 }]),
    service("shop", "admin", [{ name: "a", port: 8443 }, { name: "b", port: 9443 }]),
    service("shop", "dns", [{ name: "dns", port: 53, protocol: "UDP" }]),
    service("ext", "partner", [], { type: "ExternalName", externalName: "api.partner.example" }),
    service("9lives", "cat", [{ port: 80 }]),
  ],
});
const own: ResolveServiceHostOptions = { namespace: "default" };

interface Ok {
  host: string;
  options?: ResolveServiceHostOptions;
  service: string;
  port: number;
  parsed: Record<string, unknown>;
}

const resolved: Ok[] = [
  { host: "simpleservice", service: "default/simpleservice", port: 80, parsed: { form: "svc", name: "simpleservice", namespace: "default" } },
  { host: "simpleservice.default", service: "default/simpleservice", port: 80, parsed: { form: "svc.ns" } },
  { host: "simpleservice.default.svc", service: "default/simpleservice", port: 80, parsed: { form: "svc.ns.svc" } },
  { host: "simpleservice.default.svc.cluster.local", service: "default/simpleservice", port: 80, parsed: { form: "svc.ns.svc.domain" } },
  { host: "simpleservice.default.svc.cluster.local.", service: "default/simpleservice", port: 80, parsed: { form: "svc.ns.svc.domain" } },
  { host: "SimpleService.DEFAULT.Svc.Cluster.Local:80", service: "default/simpleservice", port: 80, parsed: { name: "simpleservice", port: 80 } },
  { host: "simpleservice:", service: "default/simpleservice", port: 80, parsed: { name: "simpleservice" } },
  // Short names resolve in the router's own namespace.
  { host: "web", options: { namespace: "shop" }, service: "shop/web", port: 8080, parsed: { form: "svc", namespace: "shop" } },
  // Default port: the one named http...
  { host: "web.shop", service: "shop/web", port: 8080, parsed: { namespace: "shop" } },
  // ...else port 80...
  { host: "api.shop", service: "shop/api", port: 80, parsed: {} },
  // ...and the port in the name picks the service port by number.
  { host: "web.shop:9090", service: "shop/web", port: 9090, parsed: { port: 9090 } },
  { host: "api.shop.svc:9000", service: "shop/api", port: 9000, parsed: { port: 9000 } },
  { host: "web.shop.svc.k8s.example", options: { namespace: "default", clusterDomain: "K8s.Example." }, service: "shop/web", port: 8080, parsed: { form: "svc.ns.svc.domain" } },
  // A namespace may start with a digit (DNS-1123 label).
  { host: "cat.9lives", service: "9lives/cat", port: 80, parsed: {} },
  // ExternalName is a CNAME: the port passes through.
  { host: "partner.ext", service: "ext/partner", port: 80, parsed: {} },
  { host: "partner.ext:8443", service: "ext/partner", port: 8443, parsed: { port: 8443 } },
];

interface Failure {
  host: string;
  options?: ResolveServiceHostOptions;
  error: "malformed-host" | "unknown-service" | "unknown-port";
  /** Exactly how far the host was understood. */
  parsed: Record<string, unknown>;
  message: string;
}

const expected = "expected svc, svc.ns, svc.ns.svc or svc.ns.svc.cluster.local, with an optional :port";
const failures: Failure[] = [
  { host: "", error: "malformed-host", parsed: {}, message: `host "" is not a service name: it is empty; ${expected}` },
  { host: "[::1]:8080", error: "malformed-host", parsed: {}, message: `host "[::1]:8080" is not a service name: it is an IPv6 literal; ${expected}` },
  { host: "fe80::1", error: "malformed-host", parsed: {}, message: `host "fe80::1" is not a service name: it is an IPv6 literal; ${expected}` },
  { host: "10.96.0.1:80", error: "malformed-host", parsed: { port: 80 }, message: `host "10.96.0.1:80" is not a service name: it is an IPv4 literal; ${expected}` },
  { host: "web:http", error: "malformed-host", parsed: {}, message: `host "web:http" is not a service name: port "http" is not a number in 1..65535; ${expected}` },
  { host: "web:70000", error: "malformed-host", parsed: {}, message: `host "web:70000" is not a service name: port "70000" is not a number in 1..65535; ${expected}` },
  { host: "web:0", error: "malformed-host", parsed: {}, message: `host "web:0" is not a service name: port "0" is not a number in 1..65535; ${expected}` },
  {
    host: "web.shop.pod",
    error: "malformed-host",
    parsed: { name: "web", namespace: "shop" },
    message: `host "web.shop.pod" is not a service name: its third label is "pod", not "svc"; ${expected}`,
  },
  {
    host: "web.shop.svc.example.com:8080",
    error: "malformed-host",
    parsed: { name: "web", namespace: "shop", port: 8080 },
    message: `host "web.shop.svc.example.com:8080" is not a service name: it ends in "example.com", not the cluster domain "cluster.local"; ${expected}`,
  },
  {
    host: "www.example.com",
    error: "malformed-host",
    parsed: { name: "www", namespace: "example" },
    message: `host "www.example.com" is not a service name: its third label is "com", not "svc"; ${expected}`,
  },
  {
    host: "my_svc",
    error: "malformed-host",
    parsed: { form: "svc", name: "my_svc", namespace: "default" },
    message: `host "my_svc" is not a service name: "my_svc" is not a service name (a DNS-1035 label: a-z, 0-9 and "-", starting with a letter); ${expected}`,
  },
  {
    host: "web..svc",
    error: "malformed-host",
    parsed: { form: "svc.ns.svc", name: "web", namespace: "" },
    message: `host "web..svc" is not a service name: "" is not a namespace (a DNS-1123 label: a-z, 0-9 and "-"); ${expected}`,
  },
  {
    host: "nope",
    error: "unknown-service",
    parsed: { form: "svc", name: "nope", namespace: "default" },
    message: `host "nope": no service "nope" in namespace "default"`,
  },
  {
    host: "web",
    error: "unknown-service",
    parsed: { form: "svc", name: "web", namespace: "default" },
    message: `host "web": no service "web" in namespace "default"`,
  },
  {
    host: "web.shop:81",
    error: "unknown-port",
    parsed: { form: "svc.ns", name: "web", namespace: "shop", port: 81 },
    message: `host "web.shop:81": service shop/web has no port 81 (its ports: 9090 (metrics), 8080 (http))`,
  },
  {
    host: "admin.shop",
    error: "unknown-port",
    parsed: { form: "svc.ns", name: "admin", namespace: "shop" },
    message: `host "admin.shop": service shop/admin has several ports, none named "http" or numbered 80; put the port in the host (its ports: 8443 (a), 9443 (b))`,
  },
  {
    host: "dns.shop",
    error: "unknown-port",
    parsed: { form: "svc.ns", name: "dns", namespace: "shop" },
    message: `host "dns.shop": service shop/dns has no TCP port`,
  },
];

describe("resolveServiceHost", () => {
  test.each(resolved)("$host -> $service port $port", (c) => {
    const result = resolveServiceHost(c.host, table, c.options ?? own);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(result.service.key).toBe(c.service);
    expect(result.port.port).toBe(c.port);
    expect(result.parsed).toMatchObject(c.parsed);
  });

  test.each(failures)("$host -> $error", (c) => {
    const result = resolveServiceHost(c.host, table, c.options ?? own);
    expect(result).toEqual({ ok: false, error: c.error, host: c.host, parsed: c.parsed, message: c.message });
  });

  test("the error object is plain JSON, ready to be a 404 body", () => {
    const result = resolveServiceHost("web.shop:81", table, own);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  test("the seed's simpleservice resolves to its port 80 -> targetPort 9876", () => {
    const result = resolveServiceHost("simpleservice", table, own);
    expect(result.ok && result.port).toEqual({ name: "", port: 80, targetPort: 9876, protocol: "TCP" });
  });
});
