// SkippedObjects: which diagnostics of a snapshot are news, with the every-field fixtures (values
// no Service, EndpointSlice or Pod should have): each object's once, again only when the object
// changed and is still odd, again after it was fixed and broke anew.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { KubeEndpointSlice, KubeService } from "../../router/table/kubernetes-objects.ts";
import { RoutingTableBuilder } from "../../router/table/routing-table-builder.ts";
import { SkippedObjects } from "../../router/table/skipped-objects.ts";
import { TableInputStore } from "../../router/table/table-input-store.ts";

const fixtureDir = new URL("../fixtures/kubernetes-api-testdata/", import.meta.url);
const fixture = <T>(file: string): T => JSON.parse(readFileSync(new URL(file, fixtureDir), "utf8")) as T;
const svc = fixture<KubeService>("core.v1.Service.json");
const eps = fixture<KubeEndpointSlice>("discovery.k8s.io.v1.EndpointSlice.json");
/** The fixture slice, labelled for the fixture service and IPv4, so its port and address are read. */
const slice = (resourceVersion: string, address = "addressesValue", protocol = "protocolValue"): KubeEndpointSlice => ({
  ...eps,
  metadata: { ...eps.metadata, resourceVersion, labels: { "kubernetes.io/service-name": "nameValue" } },
  addressType: "IPv4",
  ports: [{ ...eps.ports![0]!, protocol }],
  endpoints: [{ ...eps.endpoints![0]!, addresses: [address] }],
});

const serviceLines = [
  'adjusted Service namespaceValue/nameValue: spec.type: "typeValue" is not ClusterIP, NodePort, LoadBalancer or ExternalName; treated as ClusterIP',
  'skipped Service namespaceValue/nameValue: spec.ports[0].protocol: "protocolValue" is not TCP, UDP or SCTP; port skipped',
  'adjusted Service namespaceValue/nameValue: spec.sessionAffinity: "sessionAffinityValue" is not None or ClientIP; treated as None',
  'adjusted Service namespaceValue/nameValue: spec.internalTrafficPolicy: "internalTrafficPolicyValue" is not Cluster or Local; treated as Cluster',
  'adjusted Service namespaceValue/nameValue: spec.externalTrafficPolicy: "externalTrafficPolicyValue" is not Cluster or Local; treated as Cluster',
];
const sliceLines = [
  'skipped EndpointSlice namespaceValue/nameValue: ports[0].protocol: "protocolValue" is not TCP, UDP or SCTP; port skipped',
  'skipped EndpointSlice namespaceValue/nameValue: endpoints[0].addresses[0]: "addressesValue" is not an IPv4 address; endpoint skipped',
];

describe("skipped objects", () => {
  test("each odd object once; again when it changed and is still odd, or broke again after a fix", () => {
    const store = new TableInputStore();
    const builder = new RoutingTableBuilder(store);
    const skipped = new SkippedObjects();
    const news = (): string[] => skipped.news(builder.update(store.takeChanges()), store).map((n) => n.line);

    store.set("Service", svc);
    store.set("EndpointSlice", slice("1"));
    const first = skipped.news(builder.update(store.takeChanges()), store);
    expect(first.map((n) => n.line)).toEqual([...serviceLines, ...sliceLines]);
    expect(first.map((n) => `${n.kind} ${n.reason}`)).toEqual([
      "Service spec.type",
      "Service spec.ports[].protocol",
      "Service spec.sessionAffinity",
      "Service spec.internalTrafficPolicy",
      "Service spec.externalTrafficPolicy",
      "EndpointSlice ports[].protocol",
      "EndpointSlice endpoints[].addresses[]",
    ]);

    // Rebuilds for other objects say nothing of these; another odd object is news.
    expect(news()).toEqual([]);
    store.set("Service", { metadata: { namespace: "default", name: "sticky", resourceVersion: "1" }, spec: { sessionAffinity: "Sticky", ports: [{ port: 80 }] } });
    expect(news()).toEqual(['adjusted Service default/sticky: spec.sessionAffinity: "Sticky" is not None or ClientIP; treated as None']);

    // The slice changes and is still odd: its lines again, not the service's.
    store.set("EndpointSlice", slice("2"));
    expect(news()).toEqual(sliceLines);
    // Fixed, then broken again: news again.
    store.set("EndpointSlice", slice("3", "10.0.0.7", "TCP"));
    expect(news()).toEqual([]);
    store.set("EndpointSlice", slice("4"));
    expect(news()).toEqual(sliceLines);
  });

  test("an EndpointSlice that names no Service is reported once as skipped", () => {
    const store = new TableInputStore();
    const builder = new RoutingTableBuilder(store);
    const skipped = new SkippedObjects();
    store.set("EndpointSlice", eps);
    const first = skipped.news(builder.update(store.takeChanges()), store);
    expect(first.map((n) => [n.line, n.reason])).toEqual([
      [
        'skipped EndpointSlice namespaceValue/nameValue: metadata.labels["kubernetes.io/service-name"]: missing; slice skipped (it names no Service)',
        'metadata.labels["kubernetes.io/service-name"]',
      ],
    ]);
    store.set("Service", { metadata: { namespace: "default", name: "web", resourceVersion: "1" }, spec: { ports: [{ port: 80 }] } });
    expect(skipped.news(builder.update(store.takeChanges()), store)).toEqual([]);
  });
});
