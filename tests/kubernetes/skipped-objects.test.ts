// The Kubernetes source logs each object whose values the table builder skips or adjusts once,
// naming the object, the field and why, and counts it in vipr_objects_skipped_total; again only
// when the object changes and is still odd. The objects are the every-field fixtures, stored in
// the fake API server as they are (as etcd would hand back whatever was written before a
// validation existed), and read through the real list/watch path.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import { fakeService } from "../../adapters/kubernetes/fake-api/index.ts";
import type { KubeEndpointSlice, KubeService } from "../../router/table/kubernetes-objects.ts";
import { eventually, startHarness, type Harness } from "./support/sync-harness.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
const fixtureDir = new URL("../fixtures/kubernetes-api-testdata/", import.meta.url);
const fixture = <T>(file: string): T => JSON.parse(readFileSync(new URL(file, fixtureDir), "utf8")) as T;
const svc = fixture<KubeService>("core.v1.Service.json");
const eps = fixture<KubeEndpointSlice>("discovery.k8s.io.v1.EndpointSlice.json");
const slice = (labels: Record<string, string>): KubeEndpointSlice => ({
  ...eps,
  metadata: { ...eps.metadata, labels: { ...labels, "kubernetes.io/service-name": "nameValue" } },
  addressType: "IPv4",
});

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const skippedLines = (logs: readonly string[]): string[] => logs.filter((line) => /^kubernetes: (skipped|adjusted) /.test(line));

describe(`skipped objects from the Kubernetes source on ${runtime}`, () => {
  test("logged once per object version and counted by kind and field", async () => {
    harness = await startHarness({ seed: (fake) => void fake.apply(svc, slice({})) });
    const { fake, source, logs, registry } = harness;
    await eventually(() => source.isReady(), 5000, "ready");
    const sliceLines = [
      'kubernetes: skipped EndpointSlice namespaceValue/nameValue: ports[0].protocol: "protocolValue" is not TCP, UDP or SCTP; port skipped',
      'kubernetes: skipped EndpointSlice namespaceValue/nameValue: endpoints[0].addresses[0]: "addressesValue" is not an IPv4 address; endpoint skipped',
    ];
    expect(skippedLines(logs)).toEqual([
      'kubernetes: adjusted Service namespaceValue/nameValue: spec.type: "typeValue" is not ClusterIP, NodePort, LoadBalancer or ExternalName; treated as ClusterIP',
      'kubernetes: skipped Service namespaceValue/nameValue: spec.ports[0].protocol: "protocolValue" is not TCP, UDP or SCTP; port skipped',
      'kubernetes: adjusted Service namespaceValue/nameValue: spec.sessionAffinity: "sessionAffinityValue" is not None or ClientIP; treated as None',
      'kubernetes: adjusted Service namespaceValue/nameValue: spec.internalTrafficPolicy: "internalTrafficPolicyValue" is not Cluster or Local; treated as Cluster',
      'kubernetes: adjusted Service namespaceValue/nameValue: spec.externalTrafficPolicy: "externalTrafficPolicyValue" is not Cluster or Local; treated as Cluster',
      ...sliceLines,
    ]);
    const counted = async (): Promise<string[]> =>
      (await registry.getSingleMetricAsString("vipr_objects_skipped_total")).split("\n").filter((line) => line.startsWith("vipr_objects_skipped_total{"));
    expect(await counted()).toEqual([
      'vipr_objects_skipped_total{kind="Service",reason="spec.type"} 1',
      'vipr_objects_skipped_total{kind="Service",reason="spec.ports[].protocol"} 1',
      'vipr_objects_skipped_total{kind="Service",reason="spec.sessionAffinity"} 1',
      'vipr_objects_skipped_total{kind="Service",reason="spec.internalTrafficPolicy"} 1',
      'vipr_objects_skipped_total{kind="Service",reason="spec.externalTrafficPolicy"} 1',
      'vipr_objects_skipped_total{kind="EndpointSlice",reason="ports[].protocol"} 1',
      'vipr_objects_skipped_total{kind="EndpointSlice",reason="endpoints[].addresses[]"} 1',
    ]);

    // Another service's change rebuilds the table and says nothing about these.
    fake.apply(fakeService("web"));
    await eventually(() => source.table!.services.has("default/web"), 5000, "web in the table");
    expect(skippedLines(logs)).toHaveLength(7);

    // The slice changes (a new resourceVersion) and is still odd: its two lines again.
    fake.apply(slice({ revision: "2" }));
    await eventually(() => skippedLines(logs).length === 9, 5000, "the changed slice logged");
    expect(skippedLines(logs).slice(7)).toEqual(sliceLines);
    expect(await counted()).toContain('vipr_objects_skipped_total{kind="EndpointSlice",reason="endpoints[].addresses[]"} 2');
    expect(await counted()).toContain('vipr_objects_skipped_total{kind="Service",reason="spec.type"} 1');
  });
});
