import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { buildRoutingTable, type RoutingTableInput } from "../../router/table/build-routing-table.ts";
import type { RoutingTable } from "../../router/table/routing-table.ts";
import { RoutingTableBuilder } from "../../router/table/routing-table-builder.ts";
import { replaceTableInput } from "../../router/table/table-input-check.ts";
import { TableInputStore } from "../../router/table/table-input-store.ts";
import type { KubeEndpointSlice, KubePod, KubeService } from "../../router/table/kubernetes-objects.ts";
import { matchesServiceSelector } from "../../router/table/service-selector.ts";

// The seed's objects (seed/services-tutorial.md): Service simpleservice, port 80 -> targetPort 9876,
// selector app=sise, and the ReplicationController's two pods, as the API would return them.
function seedService(rv = "100"): KubeService {
  return {
    kind: "Service",
    apiVersion: "v1",
    metadata: { name: "simpleservice", namespace: "default", uid: "svc-uid", resourceVersion: rv },
    spec: { ports: [{ port: 80, targetPort: 9876, protocol: "TCP" }], selector: { app: "sise" }, clusterIP: "10.96.0.42", type: "ClusterIP" },
  };
}

function seedPod(name: string, ip: string, rv = "200", labels: Record<string, string> = { app: "sise" }): KubePod {
  return {
    kind: "Pod",
    apiVersion: "v1",
    metadata: { name, namespace: "default", uid: `${name}-uid`, resourceVersion: rv, labels },
    spec: { nodeName: "minikube", containers: [{ name: "sise", ports: [{ containerPort: 9876, protocol: "TCP" }] }] },
    status: { phase: "Running", podIP: ip, conditions: [{ type: "Ready", status: "True" }] },
  };
}

const seedPods = (): KubePod[] => [seedPod("rcsise-nlfzs", "172.17.0.3"), seedPod("rcsise-6nq3k", "172.17.0.4")];

/** The slice the EndpointSlice controller writes for the seed. */
function seedSlice(rv = "300"): KubeEndpointSlice {
  return {
    kind: "EndpointSlice",
    apiVersion: "discovery.k8s.io/v1",
    metadata: {
      name: "simpleservice-x7k2p",
      namespace: "default",
      resourceVersion: rv,
      labels: { "kubernetes.io/service-name": "simpleservice" },
    },
    addressType: "IPv4",
    ports: [{ name: "", port: 9876, protocol: "TCP" }],
    endpoints: [
      {
        addresses: ["172.17.0.3"],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: "minikube",
        targetRef: { kind: "Pod", namespace: "default", name: "rcsise-nlfzs", uid: "rcsise-nlfzs-uid" },
      },
      {
        addresses: ["172.17.0.4"],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: "minikube",
        targetRef: { kind: "Pod", namespace: "default", name: "rcsise-6nq3k", uid: "rcsise-6nq3k-uid" },
      },
    ],
  };
}

function slice(name: string, service: string, endpoints: KubeEndpointSlice["endpoints"], extra: Partial<KubeEndpointSlice> = {}): KubeEndpointSlice {
  return {
    metadata: { name, namespace: "default", labels: { "kubernetes.io/service-name": service } },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080 }],
    endpoints,
    ...extra,
  };
}

function service(name: string, spec: KubeService["spec"] = {}, rv?: string): KubeService {
  return {
    metadata: { name, namespace: "default", ...(rv === undefined ? {} : { resourceVersion: rv }) },
    spec: { ports: [{ name: "http", port: 80, targetPort: "http" }], ...spec },
  };
}

const fixtureDir = new URL("../fixtures/kubernetes-api-testdata/", import.meta.url);
const fixture = <T>(file: string): T => JSON.parse(readFileSync(new URL(file, fixtureDir), "utf8")) as T;
const messages = (table: { diagnostics: readonly { message: string }[] }) => table.diagnostics.map((d) => d.message);

describe("the seed's simpleservice", () => {
  test("from EndpointSlices: one port 80 -> 9876, two pod endpoints with their labels", () => {
    const table = buildRoutingTable({ services: [seedService()], endpointSlices: [seedSlice()], pods: seedPods() });
    expect(table.diagnostics).toEqual([]);
    const entry = table.services.get("default/simpleservice")!;
    expect(entry).toMatchObject({
      key: "default/simpleservice",
      type: "ClusterIP",
      headless: false,
      clusterIP: "10.96.0.42",
      ports: [{ name: "", port: 80, targetPort: 9876, protocol: "TCP" }],
      selector: { app: "sise" },
      sessionAffinity: { type: "None" },
      internalTrafficPolicy: "Cluster",
      externalTrafficPolicy: "Cluster",
      publishNotReadyAddresses: false,
      endpointsFrom: "EndpointSlices",
    });
    expect(entry.endpoints.map((e) => [e.identity, e.address, e.ports, e.ready, e.labels])).toEqual([
      ["rcsise-6nq3k", "172.17.0.4", [{ name: "", port: 9876, protocol: "TCP" }], true, { app: "sise" }],
      ["rcsise-nlfzs", "172.17.0.3", [{ name: "", port: 9876, protocol: "TCP" }], true, { app: "sise" }],
    ]);
    expect(entry.endpoints[0]).toMatchObject({
      addressType: "IPv4",
      serving: true,
      terminating: false,
      nodeName: "minikube",
      weight: 1,
      sliceName: "simpleservice-x7k2p",
      targetRef: { kind: "Pod", namespace: "default", name: "rcsise-6nq3k", uid: "rcsise-6nq3k-uid" },
      hints: { forZones: [], forNodes: [] },
    });
  });

  test("from Pods by the selector: the same endpoints, without a slice", () => {
    const fromPods = buildRoutingTable({ services: [seedService()], pods: [...seedPods(), seedPod("other", "172.17.0.9", "1", { app: "other" })], endpointsFrom: "Pods" });
    const fromSlices = buildRoutingTable({ services: [seedService()], endpointSlices: [seedSlice()], pods: seedPods() });
    expect(fromPods.diagnostics).toEqual([]);
    const routing = (t: typeof fromPods) =>
      t.services.get("default/simpleservice")!.endpoints.map((e) => ({ ...e, sliceName: undefined }));
    expect(routing(fromPods)).toEqual(routing(fromSlices));
    expect(fromPods.services.get("default/simpleservice")!.endpointsFrom).toBe("Pods");
  });

  test("Pods mode: readiness from the Ready condition, terminating from deletionTimestamp, named targetPort", () => {
    const notReady = seedPod("a", "10.0.0.1");
    notReady.status = { ...notReady.status, conditions: [{ type: "Ready", status: "False" }] };
    const deleting = seedPod("b", "10.0.0.2");
    deleting.metadata = { ...deleting.metadata, deletionTimestamp: "2024-01-01T00:00:00Z" };
    const done = seedPod("c", "10.0.0.3");
    done.status = { ...done.status, phase: "Succeeded" };
    const pending = seedPod("d", "");
    const named = seedPod("e", "10.0.0.5");
    named.spec = { containers: [{ name: "web", ports: [{ name: "web", containerPort: 8080 }] }] };
    const svc = seedService();
    svc.spec = { ...svc.spec, ports: [{ name: "web", port: 80, targetPort: "web" }] };
    const table = buildRoutingTable({ services: [svc], pods: [notReady, deleting, done, pending, named], endpointsFrom: "Pods" });
    const eps = table.services.get("default/simpleservice")!.endpoints;
    expect(eps.map((e) => [e.identity, e.ready, e.serving, e.terminating, e.ports.map((p) => `${p.name}:${p.port}`)])).toEqual([
      ["a", false, false, false, []],
      ["b", false, true, true, []],
      ["e", true, true, false, ["web:8080"]],
    ]);
    expect(messages(table)).toEqual([
      'Pod default/a: spec.containers[*].ports: no TCP container port named "web" (targetPort of spec.ports[0] for Service default/simpleservice); no endpoint port "web"',
      'Pod default/b: spec.containers[*].ports: no TCP container port named "web" (targetPort of spec.ports[0] for Service default/simpleservice); no endpoint port "web"',
    ]);
  });

  test("Pods mode: publishNotReadyAddresses makes every pod ready, as the EndpointSlice controller does", () => {
    const notReady = seedPod("a", "10.0.0.1");
    notReady.status = { ...notReady.status, conditions: [] };
    const svc = seedService();
    svc.spec = { ...svc.spec, publishNotReadyAddresses: true };
    const table = buildRoutingTable({ services: [svc], pods: [notReady], endpointsFrom: "Pods" });
    expect(table.services.get("default/simpleservice")!.endpoints[0]).toMatchObject({ ready: true, serving: false });
  });
});

describe("EndpointSlices merged per service", () => {
  test("every slice labelled for the service, de-duplicated by address and port, first slice (by name) wins", () => {
    const a = slice("web-a", "web", [
      { addresses: ["10.0.0.1"], conditions: { ready: true }, targetRef: { kind: "Pod", name: "web-1" } },
      { addresses: ["10.0.0.2"], conditions: { ready: false }, targetRef: { kind: "Pod", name: "web-2" } },
      { addresses: ["10.0.0.4"], conditions: { ready: false }, targetRef: { kind: "Pod", name: "web-4" } },
    ]);
    const b = slice(
      "web-b",
      "web",
      [
        { addresses: ["10.0.0.2"], conditions: { ready: true }, targetRef: { kind: "Pod", name: "web-2" } },
        { addresses: ["10.0.0.3"], hostname: "web-3" },
      ],
      { ports: [{ name: "http", port: 9999 }, { name: "metrics", port: 9090 }] },
    );
    const c = slice("web-c", "web", [{ addresses: ["10.0.0.4"], conditions: { ready: true }, targetRef: { kind: "Pod", name: "web-4" } }], {
      ports: [{ name: "metrics", port: 9090 }],
    });
    const other = slice("api-a", "api", [{ addresses: ["10.0.0.9"] }]);
    const table = buildRoutingTable({ services: [service("web"), service("api")], endpointSlices: [b, c, other, a] });
    const web = table.services.get("default/web")!;
    expect(web.endpoints.map((e) => [e.identity, e.address, e.ready, e.sliceName, e.ports.map((p) => `${p.name}:${p.port}`)])).toEqual([
      ["web-1", "10.0.0.1", true, "web-a", ["http:8080"]],
      // kube-proxy keys endpoints by IP:port within a service port: web-b's 10.0.0.2 has http on
      // 9999, not web-a's 8080, so it is a second endpoint at the same address.
      ["web-2@10.0.0.2:8080", "10.0.0.2", false, "web-a", ["http:8080"]],
      ["web-2@10.0.0.2:9090,9999", "10.0.0.2", true, "web-b", ["http:9999", "metrics:9090"]],
      ["web-3", "10.0.0.3", true, "web-b", ["http:9999", "metrics:9090"]],
      // In web-a (first by name) not ready; web-c's duplicate agrees on every port and only adds the
      // port web-a lacks.
      ["web-4", "10.0.0.4", false, "web-a", ["http:8080", "metrics:9090"]],
    ]);
    expect(table.services.get("default/api")!.endpoints.map((e) => e.address)).toEqual(["10.0.0.9"]);
  });

  test("condition defaults: ready nil = true, serving nil = true, terminating nil = false", () => {
    const s = slice("web-a", "web", [
      { addresses: ["10.0.0.1"] },
      { addresses: ["10.0.0.2"], conditions: {} },
      { addresses: ["10.0.0.3"], conditions: { ready: false } },
      { addresses: ["10.0.0.4"], conditions: { ready: false, serving: true, terminating: true } },
      { addresses: ["10.0.0.5"], conditions: { ready: null, serving: null, terminating: null } },
    ]);
    const table = buildRoutingTable({ services: [service("web")], endpointSlices: [s] });
    expect(table.services.get("default/web")!.endpoints.map((e) => [e.address, e.ready, e.serving, e.terminating])).toEqual([
      ["10.0.0.1", true, true, false],
      ["10.0.0.2", true, true, false],
      ["10.0.0.3", false, true, false],
      ["10.0.0.4", false, true, true],
      ["10.0.0.5", true, true, false],
    ]);
  });

  test("IPv6 addresses are canonical, and a dual-stack pod's two endpoints get distinct identities", () => {
    const v4 = slice("web-v4", "web", [{ addresses: ["10.0.0.1"], targetRef: { kind: "Pod", name: "web-1" }, zone: "a", hints: { forZones: [{ name: "a" }] } }]);
    const v6 = slice(
      "web-v6",
      "web",
      [{ addresses: ["2001:DB8:0:0::1"], targetRef: { kind: "Pod", name: "web-1" } }, { addresses: ["fe80::1"] }, { addresses: ["10.0.0.2"] }],
      { addressType: "IPv6" },
    );
    const table = buildRoutingTable({ services: [service("web")], endpointSlices: [v6, v4] });
    expect(messages(table)).toEqual([
      'EndpointSlice default/web-v6: endpoints[1].addresses[0]: "fe80::1" is link-local (fe80::/10), which an endpoint may not use; endpoint skipped',
      'EndpointSlice default/web-v6: endpoints[2].addresses[0]: "10.0.0.2" is not an IPv6 address; endpoint skipped',
    ]);
    expect(table.services.get("default/web")!.endpoints.map((e) => [e.identity, e.address, e.addressType, e.zone, e.hints.forZones])).toEqual([
      ["web-1@10.0.0.1", "10.0.0.1", "IPv4", "a", ["a"]],
      ["web-1@2001:db8::1", "2001:db8::1", "IPv6", undefined, []],
    ]);
  });

  test("input order does not matter: shuffled lists build the same table", () => {
    const a = slice("web-a", "web", [{ addresses: ["10.0.0.1"] }, { addresses: ["10.0.0.2"], targetRef: { kind: "Pod", name: "z" } }]);
    const b = slice("web-b", "web", [{ addresses: ["10.0.0.2"], conditions: { ready: false } }, { addresses: ["10.0.0.3"] }]);
    const services = [service("web"), seedService()];
    const forward = buildRoutingTable({ services, endpointSlices: [a, b, seedSlice()], pods: seedPods() });
    const backward = buildRoutingTable({ services: [...services].reverse(), endpointSlices: [seedSlice(), b, a], pods: seedPods().reverse() });
    expect(backward).toEqual(forward);
    expect([...backward.services.keys()]).toEqual([...forward.services.keys()]);
  });

  test("the snapshot and everything in it is frozen", () => {
    const table = buildRoutingTable({ services: [seedService()], endpointSlices: [seedSlice()], pods: seedPods() });
    const entry = table.services.get("default/simpleservice")!;
    for (const value of [table, table.services, table.diagnostics, entry, entry.ports, entry.ports[0], entry.endpoints, entry.endpoints[0], entry.endpoints[0]!.ports, entry.endpoints[0]!.labels, entry.selector, entry.annotations]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
  });

  test("service fields: ClientIP affinity defaults its timeout to 10800; headless; ExternalName; Local", () => {
    const table = buildRoutingTable({
      services: [
        service("sticky", { sessionAffinity: "ClientIP" }),
        service("sticky-5m", { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 300 } } }),
        service("db", { clusterIP: "None" }),
        service("ext", { type: "ExternalName", externalName: "API.Example.com." }),
        service("local", { internalTrafficPolicy: "Local", externalTrafficPolicy: "Local", type: "LoadBalancer", trafficDistribution: "PreferClose" }),
      ],
    });
    const s = table.services;
    expect(s.get("default/sticky")!.sessionAffinity).toEqual({ type: "ClientIP", timeoutSeconds: 10800 });
    expect(s.get("default/sticky-5m")!.sessionAffinity).toEqual({ type: "ClientIP", timeoutSeconds: 300 });
    expect(s.get("default/db")!.headless).toBe(true);
    expect(s.get("default/ext")).toMatchObject({ type: "ExternalName", externalName: "api.example.com", headless: false });
    expect(s.get("default/local")).toMatchObject({ internalTrafficPolicy: "Local", externalTrafficPolicy: "Local", type: "LoadBalancer", trafficDistribution: "PreferClose" });
    expect(table.diagnostics).toEqual([]);
  });

  test("a Service's selector matches when every pair is among the pod's labels", () => {
    expect(matchesServiceSelector({ app: "sise" }, { app: "sise", tier: "web" })).toBe(true);
    expect(matchesServiceSelector({ app: "sise", tier: "db" }, { app: "sise", tier: "web" })).toBe(false);
    expect(matchesServiceSelector({ app: "sise" }, undefined)).toBe(false);
    expect(matchesServiceSelector({}, { app: "sise" })).toBe(false); // an empty selector selects nothing
    expect(matchesServiceSelector(undefined, { app: "sise" })).toBe(false);
  });
});

/** Successive snapshots of one store and builder, each from a whole new input, as the file
 * source makes them (each from the one before). */
function tableSeries(): (input: RoutingTableInput) => RoutingTable {
  const store = new TableInputStore();
  const builder = new RoutingTableBuilder(store);
  return (input) => {
    const { endpointsFrom, diagnostics } = replaceTableInput(store, input);
    return builder.update(store.takeChanges(), { endpointsFrom, inputDiagnostics: diagnostics });
  };
}

describe("incremental rebuild", () => {
  const inputs = () => ({
    services: [seedService("100"), service("web", {}, "101")],
    endpointSlices: [seedSlice("300"), slice("web-a", "web", [{ addresses: ["10.0.0.1"], targetRef: { kind: "Pod", name: "web-1" } }])],
    pods: seedPods(),
  });

  test("unchanged services keep their entry (same object); changed ones are rebuilt and listed", () => {
    const input = inputs();
    const build = tableSeries();
    const first = build(input);
    expect(first.generation).toBe(1);
    expect(first.rebuilt).toEqual(["default/simpleservice", "default/web"]);

    const same = build(input);
    expect(same.generation).toBe(2);
    expect(same.rebuilt).toEqual([]);
    expect(same.services.get("default/web")).toBe(first.services.get("default/web"));

    // A re-list hands back new objects with the same resourceVersions: still unchanged.
    const relist = inputs();
    const relisted = build(relist);
    expect(relisted.rebuilt).toEqual(["default/web"]); // web's slice has no resourceVersion: identity only
    expect(relisted.services.get("default/simpleservice")).toBe(first.services.get("default/simpleservice"));

    // One slice changes: only its service is rebuilt.
    const changed = { ...relist, endpointSlices: [seedSlice("301"), relist.endpointSlices[1]!] };
    const next = build(changed);
    expect(next.rebuilt).toEqual(["default/simpleservice"]);
    expect(next.services.get("default/web")).toBe(relisted.services.get("default/web"));
    expect(next.services.get("default/simpleservice")).not.toBe(relisted.services.get("default/simpleservice"));
  });

  test("a targeted Pod's change (labels) rebuilds its service; a removed service is listed", () => {
    const input = inputs();
    const build = tableSeries();
    build(input); // the first snapshot, which the next is built from
    const pods = [seedPod("rcsise-nlfzs", "172.17.0.3", "201", { app: "sise", version: "v2" }), input.pods[1]!];
    const next = build({ ...input, pods });
    expect(next.rebuilt).toEqual(["default/simpleservice"]);
    expect(next.services.get("default/simpleservice")!.endpoints[1]!.labels).toEqual({ app: "sise", version: "v2" });

    const gone = build({ ...input, services: [input.services[1]!] });
    expect(gone.removed).toEqual(["default/simpleservice"]);
    expect(gone.rebuilt).toEqual([]);
  });

  test("Pods mode: a pod change rebuilds the services of its namespace only; a mode change rebuilds all", () => {
    const otherNs = service("web", {}, "5");
    otherNs.metadata = { ...otherNs.metadata, namespace: "shop" };
    const input = { services: [seedService(), otherNs], pods: seedPods(), endpointsFrom: "Pods" as const };
    const build = tableSeries();
    const first = build(input);
    const next = build({ ...input, pods: [...seedPods(), seedPod("rcsise-new", "172.17.0.5", "7")] });
    expect(next.rebuilt).toEqual(["default/simpleservice"]);
    expect(next.services.get("shop/web")).toBe(first.services.get("shop/web"));
    expect(next.services.get("default/simpleservice")!.endpoints).toHaveLength(3);

    const slices = build({ ...input, endpointsFrom: "EndpointSlices" });
    expect(slices.rebuilt).toEqual(["default/simpleservice", "shop/web"]);
  });
});

describe("odd objects: skipped with a precise diagnostic, never thrown", () => {
  test("the every-field fixtures build without a crash and every odd value is reported", () => {
    const svc = fixture<KubeService>("core.v1.Service.json");
    const eps = fixture<KubeEndpointSlice>("discovery.k8s.io.v1.EndpointSlice.json");
    const pod = fixture<KubePod>("core.v1.Pod.json");
    const table = buildRoutingTable({ services: [svc], endpointSlices: [eps], pods: [pod] });
    expect(messages(table)).toEqual([
      'EndpointSlice namespaceValue/nameValue: metadata.labels["kubernetes.io/service-name"]: missing; slice skipped (it names no Service)',
      'Service namespaceValue/nameValue: spec.type: "typeValue" is not ClusterIP, NodePort, LoadBalancer or ExternalName; treated as ClusterIP',
      'Service namespaceValue/nameValue: spec.ports[0].protocol: "protocolValue" is not TCP, UDP or SCTP; port skipped',
      'Service namespaceValue/nameValue: spec.sessionAffinity: "sessionAffinityValue" is not None or ClientIP; treated as None',
      'Service namespaceValue/nameValue: spec.internalTrafficPolicy: "internalTrafficPolicyValue" is not Cluster or Local; treated as Cluster',
      'Service namespaceValue/nameValue: spec.externalTrafficPolicy: "externalTrafficPolicyValue" is not Cluster or Local; treated as Cluster',
    ]);
    expect(table.diagnostics[0]).toMatchObject({ kind: "EndpointSlice", namespace: "namespaceValue", name: "nameValue", field: 'metadata.labels["kubernetes.io/service-name"]' });
    const entry = table.services.get("namespaceValue/nameValue")!;
    expect(entry).toMatchObject({ type: "ClusterIP", ports: [], endpoints: [], publishNotReadyAddresses: true, annotations: { annotationsKey: "annotationsValue" } });

    // Labelled for the service, the slice fails on its addressType; with IPv4, on its port and address.
    const labelled = { ...eps, metadata: { ...eps.metadata, labels: { "kubernetes.io/service-name": "nameValue" } } };
    expect(messages(buildRoutingTable({ services: [svc], endpointSlices: [labelled] })).slice(5)).toEqual([
      'EndpointSlice namespaceValue/nameValue: addressType: "addressTypeValue" is not IPv4, IPv6 or FQDN; slice skipped',
    ]);
    expect(messages(buildRoutingTable({ services: [svc], endpointSlices: [{ ...labelled, addressType: "IPv4" }] })).slice(5)).toEqual([
      'EndpointSlice namespaceValue/nameValue: ports[0].protocol: "protocolValue" is not TCP, UDP or SCTP; port skipped',
      'EndpointSlice namespaceValue/nameValue: endpoints[0].addresses[0]: "addressesValue" is not an IPv4 address; endpoint skipped',
    ]);

    // In Pods mode, a service selecting the fixture pod reports its podIP.
    const selecting = { ...svc, spec: { ...svc.spec, selector: { labelsKey: "labelsValue" } } };
    expect(messages(buildRoutingTable({ services: [selecting], pods: [pod], endpointsFrom: "Pods" })).slice(5)).toEqual([
      'Pod namespaceValue/nameValue: status.podIP: "podIPValue" is not an IPv4 or IPv6 address; pod skipped for Service namespaceValue/nameValue',
    ]);
  });

  test("exact messages for odd slices, ports and names", () => {
    const table = buildRoutingTable({
      services: [
        service("web", { ports: [{ name: "http", port: 80 }, { name: "http", port: 81 }, { name: "b", port: 80 }, { name: "dns", port: 53, protocol: "UDP" }, { name: "c", port: 0 }] }),
        { metadata: { namespace: "default" }, spec: {} },
        service("web"),
        service("ext", { type: "ExternalName" }),
        service("sticky", { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }),
      ],
      endpointSlices: [
        slice("web-fqdn", "web", [{ addresses: ["db.example.com"] }], { addressType: "FQDN" }),
        { metadata: { name: "stray", namespace: "default" }, addressType: "IPv4" },
        slice("web-a", "web", [
          { addresses: ["2001:db8::1"] },
          { addresses: ["169.254.169.254"] },
          { addresses: ["10.0.0.01"] },
          { addresses: [] },
          {},
          { addresses: ["10.0.0.1", "10.0.0.2"] },
        ], { ports: [{ name: "http", port: 8080 }, { name: "http", port: 8081 }, { name: "x" }, { name: "udp", port: 53, protocol: "UDP" }] }),
      ],
    });
    expect(messages(table)).toEqual([
      "Service default/<no name>: metadata.name: missing; Service skipped",
      "Service default/web: metadata.name: the Service is listed twice; the second copy skipped",
      'EndpointSlice default/stray: metadata.labels["kubernetes.io/service-name"]: missing; slice skipped (it names no Service)',
      "Service default/ext: spec.externalName: missing; the ExternalName service has nowhere to forward",
      "Service default/sticky: spec.sessionAffinityConfig.clientIP.timeoutSeconds: 0 is not an integer in 1..86400; using 10800",
      'Service default/web: spec.ports[1].name: "http" repeats spec.ports[0].name; port skipped',
      "Service default/web: spec.ports[2].port: 80/TCP repeats spec.ports[0].port; port skipped",
      "Service default/web: spec.ports[4].port: 0 is not a port number (1..65535); port skipped",
      'EndpointSlice default/web-a: ports[1].name: "http" repeats ports[0].name; port skipped',
      "EndpointSlice default/web-a: ports[2].port: undefined is not a port number (1..65535); port skipped",
      'EndpointSlice default/web-a: endpoints[0].addresses[0]: "2001:db8::1" is not an IPv4 address; endpoint skipped',
      'EndpointSlice default/web-a: endpoints[1].addresses[0]: "169.254.169.254" is link-local (169.254.0.0/16), which an endpoint may not use; endpoint skipped',
      'EndpointSlice default/web-a: endpoints[2].addresses[0]: "10.0.0.01" is not an IPv4 address; endpoint skipped',
      "EndpointSlice default/web-a: endpoints[3].addresses: [] holds no address; endpoint skipped",
      "EndpointSlice default/web-a: endpoints[4].addresses: missing; endpoint skipped",
      'EndpointSlice default/web-fqdn: addressType: "FQDN" is not routable (only IPv4 and IPv6 are); slice skipped',
    ]);
    const web = table.services.get("default/web")!;
    expect(web.ports.map((p) => p.name)).toEqual(["http"]);
    expect(web.endpoints.map((e) => [e.address, e.ports.map((p) => p.port)])).toEqual([["10.0.0.1", [8080]]]);
  });

  test("garbage in the input lists does not throw", () => {
    const garbage = [null, 42, "x", { metadata: null }, { metadata: { name: 7 } }, { metadata: { name: "a" }, spec: { ports: "no" } }];
    expect(() =>
      buildRoutingTable({
        services: garbage as unknown as KubeService[],
        endpointSlices: garbage as unknown as KubeEndpointSlice[],
        pods: garbage as unknown as KubePod[],
      }),
    ).not.toThrow();
    const pods = buildRoutingTable({ services: [seedService()], pods: garbage as unknown as KubePod[], endpointsFrom: "Pods" });
    expect(pods.services.get("default/simpleservice")!.endpoints).toEqual([]);
  });
});
