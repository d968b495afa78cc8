// The file source logs each object it skips once and counts it in vipr_objects_skipped_total:
// documents refused for a field the table builder would not take (the every-field fixtures), and
// objects the builder skips (an EndpointSlice that names no Service); again only when the object
// changes and is still skipped.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterEach, describe, expect, test } from "vitest";
import { startFileSource, type FileSource } from "../../adapters/file/file-source.ts";

const runtime = "Deno" in globalThis ? "deno" : "node";
const fixtureDir = new URL("../fixtures/kubernetes-api-testdata/", import.meta.url);
const fixture = (file: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(file, fixtureDir), "utf8")) as Record<string, unknown>;
/** A slice whose fields are all usable, but with no kubernetes.io/service-name label. */
const orphan = (zone: string) => ({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { name: "orphan", namespace: "shop" },
  addressType: "IPv4",
  ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  endpoints: [{ addresses: ["10.0.0.9"], zone }],
});

let dir: string | undefined;
let source: FileSource | undefined;
afterEach(() => {
  source?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  source = undefined;
  dir = undefined;
});

describe(`skipped objects from the file source on ${runtime}`, () => {
  test("refused documents and skipped slices: logged once, counted, again when changed", async () => {
    dir = mkdtempSync(join(tmpdir(), "vipr-skipped-"));
    const all = join(dir, "all.json");
    const slices = join(dir, "slices.json");
    const items = [fixture("core.v1.Service.json"), fixture("discovery.k8s.io.v1.EndpointSlice.json"), fixture("core.v1.Pod.json")];
    writeFileSync(all, JSON.stringify({ apiVersion: "v1", kind: "List", items }));
    writeFileSync(slices, JSON.stringify(orphan("a")));
    const logs: string[] = [];
    const registry = new Registry();
    source = await startFileSource({ path: dir, watch: false, onTable: () => {}, log: (line) => logs.push(line), registry });
    const where = `(${all}, document 1)`;
    const orphanLine = 'skipped EndpointSlice shop/orphan: metadata.labels["kubernetes.io/service-name"]: missing; slice skipped (it names no Service)';
    expect(logs).toEqual([
      `skipped Service namespaceValue/nameValue: spec.type: "typeValue" is not ClusterIP, NodePort, LoadBalancer or ExternalName; the document is not applied ${where}`,
      `skipped Service namespaceValue/nameValue: spec.ports[0].protocol: "protocolValue" is not TCP, UDP or SCTP; the document is not applied ${where}`,
      `skipped Service namespaceValue/nameValue: spec.sessionAffinity: "sessionAffinityValue" is not None or ClientIP; the document is not applied ${where}`,
      `skipped Service namespaceValue/nameValue: spec.internalTrafficPolicy: "internalTrafficPolicyValue" is not Cluster or Local; the document is not applied ${where}`,
      `skipped Service namespaceValue/nameValue: spec.externalTrafficPolicy: "externalTrafficPolicyValue" is not Cluster or Local; the document is not applied ${where}`,
      `skipped EndpointSlice namespaceValue/nameValue: addressType: "addressTypeValue" is not IPv4, IPv6 or FQDN; the document is not applied ${where}`,
      `skipped Pod namespaceValue/nameValue: status.podIP: "podIPValue" is not an IPv4 or IPv6 address; the document is not applied ${where}`,
      orphanLine,
    ]);
    const counted = async (): Promise<string[]> =>
      (await registry.getSingleMetricAsString("vipr_objects_skipped_total")).split("\n").filter((line) => line.startsWith("vipr_objects_skipped_total{"));
    expect(await counted()).toEqual([
      'vipr_objects_skipped_total{kind="Service",reason="spec.type"} 1',
      'vipr_objects_skipped_total{kind="Service",reason="spec.ports[].protocol"} 1',
      'vipr_objects_skipped_total{kind="Service",reason="spec.sessionAffinity"} 1',
      'vipr_objects_skipped_total{kind="Service",reason="spec.internalTrafficPolicy"} 1',
      'vipr_objects_skipped_total{kind="Service",reason="spec.externalTrafficPolicy"} 1',
      'vipr_objects_skipped_total{kind="EndpointSlice",reason="addressType"} 1',
      'vipr_objects_skipped_total{kind="Pod",reason="status.podIP"} 1',
      'vipr_objects_skipped_total{kind="EndpointSlice",reason="metadata.labels[\\"kubernetes.io/service-name\\"]"} 1',
    ]);

    // The same files read again: nothing new.
    await source.reload();
    expect(logs).toHaveLength(8);

    // The orphan slice edited and still naming no Service: its line again, the refusals not.
    writeFileSync(slices, JSON.stringify(orphan("b")));
    await source.reload();
    expect(logs.slice(8)).toEqual([orphanLine]);
    expect(await counted()).toContain('vipr_objects_skipped_total{kind="EndpointSlice",reason="metadata.labels[\\"kubernetes.io/service-name\\"]"} 2');
  });
});
