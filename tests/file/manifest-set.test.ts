// The file source's state: last good documents, removed files, scale(), and the local pods of
// ReplicationControllers and Deployments (the vipr.io/local-addresses annotation).
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { localPodsOf, podSuffix } from "../../adapters/file/local-workloads.ts";
import { formatProblem, type ManifestObject } from "../../adapters/file/manifest-documents.ts";
import { ManifestSet } from "../../adapters/file/manifest-set.ts";
import { buildRoutingTable } from "../../router/table/build-routing-table.ts";

const seedPath = "examples/simpleservice.yaml";
const seedText = readFileSync(new URL("../../examples/simpleservice.yaml", import.meta.url), "utf8");

const service = (name: string, port = 80): string => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports:\n    - port: ${port}\n`;
const servicePorts = (set: ManifestSet): Record<string, number | undefined> =>
  Object.fromEntries([...set.snapshot().input.services].map((s) => [s.metadata?.name, s.spec?.ports?.[0]?.port]));

/** Names of the pods in the set's snapshot (the local pods of workloads included). */
const podNames = (input: ReturnType<ManifestSet["snapshot"]>["input"]): (string | null | undefined)[] => [...(input.pods ?? [])].map((p) => p.metadata?.name);

/** Endpoints of a service in the table built from the set, as "address:port". */
function endpointsOf(set: ManifestSet, key: string): string[] {
  const table = buildRoutingTable(set.snapshot().input);
  return (table.services.get(key)?.endpoints ?? []).map((e) => `${e.address}:${e.ports[0]?.port}`).sort();
}

function workload(overrides: { annotations?: Record<string, string>; replicas?: unknown; labels?: Record<string, string> | null; kind?: "ReplicationController" | "Deployment" } = {}): ManifestObject {
  const kind = overrides.kind ?? "ReplicationController";
  const template: Record<string, unknown> = { spec: { containers: [{ name: "sise", ports: [{ containerPort: 9876 }] }] } };
  if (overrides.labels !== null) template["metadata"] = { labels: overrides.labels ?? { app: "sise" } };
  return {
    kind,
    file: "rc.yaml",
    index: 2,
    object: {
      apiVersion: kind === "Deployment" ? "apps/v1" : "v1",
      kind,
      metadata: { name: "rcsise", ...(overrides.annotations === undefined ? {} : { annotations: overrides.annotations }) },
      spec: { ...(overrides.replicas === undefined ? {} : { replicas: overrides.replicas }), template },
    },
  };
}

describe("ManifestSet: last good documents", () => {
  test("a broken edit of one document keeps its last good version, reported, while the file's other documents apply", () => {
    const set = new ManifestSet();
    expect(set.update("app.yaml", [service("a", 80), service("b", 81), service("c", 82)].join("---\n"))).toEqual([]);
    // Document 1 breaks (no name), documents 0 and 2 change.
    const problems = set.update("app.yaml", [service("a", 8080), "apiVersion: v1\nkind: Service\nmetadata: {}\n", service("c", 8082)].join("---\n"));
    expect(problems.map(formatProblem)).toEqual([
      "app.yaml: document 2: metadata.name: a Service needs a name",
      "app.yaml: document 2: keeping this document's last good version until it is fixed",
    ]);
    expect(servicePorts(set)).toEqual({ a: 8080, b: 81, c: 8082 });
    expect(set.snapshot().problems.map(formatProblem)).toEqual(problems.map(formatProblem));
    // A YAML syntax error in that document keeps the same last good version.
    set.update("app.yaml", [service("a", 8080), "kind: Service\nmetadata: {name: [\n", service("c", 8082)].join("---\n"));
    expect(servicePorts(set)).toEqual({ a: 8080, b: 81, c: 8082 });
    // Fixed: the new version applies and the problems are gone.
    expect(set.update("app.yaml", [service("a", 8080), service("b", 8081), service("c", 8082)].join("---\n"))).toEqual([]);
    expect(servicePorts(set)).toEqual({ a: 8080, b: 8081, c: 8082 });
    expect(set.snapshot().problems).toEqual([]);
  });

  test("a document broken from the start has no last good version: reported, nothing kept", () => {
    const set = new ManifestSet();
    const problems = set.update("app.yaml", `${service("a")}---\nkind: Service\n`);
    expect(problems.map(formatProblem)).toEqual(["app.yaml: document 2: apiVersion: null is not an apiVersion of Service; expected v1"]);
    expect(servicePorts(set)).toEqual({ a: 80 });
  });

  test("valid YAML with a field the API would refuse (port: \"eighty\") keeps the last good version, naming file, document and field (issue 17)", () => {
    const set = new ManifestSet();
    set.update("app.yaml", [service("a", 80), service("b", 81)].join("---\n"));
    const problems = set.update("app.yaml", [service("a", 80), service("b", '"eighty"' as unknown as number)].join("---\n"));
    expect(problems.map(formatProblem)).toEqual([
      'app.yaml: document 2: spec.ports[0].port: "eighty" is not a port number (1..65535); the document is not applied',
      "app.yaml: document 2: keeping this document's last good version until it is fixed",
    ]);
    expect(servicePorts(set)).toEqual({ a: 80, b: 81 });
    // An EndpointSlice and a Pod are checked the same way (the builder's checks, on the object alone).
    const slice = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: s\n  labels: {kubernetes.io/service-name: a}\naddressType: IPv4\nendpoints:\n  - addresses: [169.254.169.254]\n";
    const pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nstatus:\n  podIP: 10.0.0.300\n";
    const list = JSON.stringify({ apiVersion: "v1", kind: "List", items: [{ apiVersion: "v1", kind: "Service", metadata: { name: "l" }, spec: { ports: [{ port: 80 }], sessionAffinity: "Sometimes" } }] });
    expect(set.update("more.yaml", [slice, pod, list].join("---\n")).map(formatProblem)).toEqual([
      'more.yaml: document 1: endpoints[0].addresses[0]: "169.254.169.254" is link-local (169.254.0.0/16), which an endpoint may not use; the document is not applied',
      'more.yaml: document 2: status.podIP: "10.0.0.300" is not an IPv4 or IPv6 address; the document is not applied',
      'more.yaml: document 3: items[0].spec.sessionAffinity: "Sometimes" is not None or ClientIP; the document is not applied',
    ]);
    expect(set.snapshot().input.endpointSlices).toEqual([]);
  });

  test("an unchanged object keeps its identity across reloads, even when it moves in its file, so nothing is rebuilt", () => {
    const set = new ManifestSet();
    set.update("app.yaml", [service("a", 80), service("b", 81)].join("---\n"));
    const first = buildRoutingTable(set.snapshot().input);
    set.update("app.yaml", [service("b", 81), service("a", 80)].join("---\n"));
    expect(buildRoutingTable(set.snapshot().input, first).rebuilt).toEqual([]);
    set.update("app.yaml", [service("b", 82), service("a", 80)].join("---\n"));
    const third = buildRoutingTable(set.snapshot().input, first);
    expect(third.rebuilt).toEqual(["default/b"]);
  });

  test("a workload's local pods are the same objects while it is unchanged (Pods mode compares pods by identity)", () => {
    const set = new ManifestSet();
    const rc = readFileSync(new URL("../../examples/simpleservice.yaml", import.meta.url), "utf8");
    set.update(seedPath, rc);
    const before = [...(set.snapshot().input.pods ?? [])];
    set.update(seedPath, rc);
    expect([...(set.snapshot().input.pods ?? [])]).toEqual(before);
    for (const [i, pod] of [...(set.snapshot().input.pods ?? [])].entries()) expect(pod).toBe(before[i]);
    set.scale("ReplicationController", "rcsise", 2);
    expect(set.snapshot().input.pods).toHaveLength(2);
  });

  test("removing a file drops its objects, other files stay", () => {
    const set = new ManifestSet();
    set.update("one.yaml", service("one"));
    set.update("two.yaml", service("two"));
    expect(set.files()).toEqual(["one.yaml", "two.yaml"]);
    set.remove("one.yaml");
    expect(set.files()).toEqual(["two.yaml"]);
    expect(servicePorts(set)).toEqual({ two: 80 });
  });
});

describe("ManifestSet: the seed file", () => {
  test("gives service simpleservice with one endpoint 127.0.0.2:9876, and two after scale to 2", () => {
    const set = new ManifestSet();
    expect(set.update(seedPath, seedText)).toEqual([]);
    const before = set.snapshot();
    expect(before.problems).toEqual([]);
    expect(before.summary).toEqual({ services: 1, endpointSlices: 0, pods: 1, workloads: 1 });
    expect(before.input.endpointsFrom).toBe("Pods");
    expect(endpointsOf(set, "default/simpleservice")).toEqual(["127.0.0.2:9876"]);

    expect(set.scale("ReplicationController", "rcsise", 2)).toBe(true);
    expect(set.snapshot().summary.pods).toBe(2);
    expect(endpointsOf(set, "default/simpleservice")).toEqual(["127.0.0.2:9876", "127.0.0.3:9876"]);
    // The first pod keeps its name (and so its Maglev slots) when a second one comes.
    const names = podNames(set.snapshot().input);
    expect(names).toEqual([`rcsise-${podSuffix("rcsise", 0)}`, `rcsise-${podSuffix("rcsise", 1)}`]);
    expect(podNames(before.input)).toEqual([names[0]]);

    expect(set.scale("ReplicationController", "rcsise", 0)).toBe(true);
    expect(endpointsOf(set, "default/simpleservice")).toEqual([]);
  });

  test("scale() changes the number of local pods without mutating its inputs", () => {
    const set = new ManifestSet();
    set.update(seedPath, seedText);
    const snapshotBefore = set.snapshot();
    const inputBefore = JSON.stringify(snapshotBefore.input);
    set.scale("ReplicationController", "rcsise", 3);
    expect(set.snapshot().input.pods).toHaveLength(3);
    // The earlier snapshot is unchanged: scale() works on a copy of the workload.
    expect(JSON.stringify(snapshotBefore.input)).toBe(inputBefore);
    expect(snapshotBefore.input.pods).toHaveLength(1);
    // Scaling back gives the file's own count again, so the stored object still says 1 replica.
    set.scale("ReplicationController", "rcsise", 1);
    expect(JSON.stringify(set.snapshot().input)).toBe(inputBefore);
    set.scale("ReplicationController", "rcsise", 3);
    // A reload of the file keeps the scaled count, as a controller keeps its scaled replicas.
    set.update(seedPath, seedText);
    expect(set.snapshot().input.pods).toHaveLength(3);
  });

  test("scale() of a workload that is not there answers false and changes nothing", () => {
    const set = new ManifestSet();
    set.update(seedPath, seedText);
    expect(set.scale("ReplicationController", "nope", 2)).toBe(false);
    expect(set.scale("Deployment", "rcsise", 2)).toBe(false);
    expect(set.scale("ReplicationController", "rcsise", 2, "other")).toBe(false);
    expect(set.snapshot().input.pods).toHaveLength(1);
  });
});

describe("localPodsOf", () => {
  const annotation = "vipr.io/local-addresses";

  test("makes running, ready pods with the template's labels on the annotated addresses", () => {
    const made = localPodsOf(workload({ annotations: { [annotation]: "127.0.0.2, 127.0.0.3" }, replicas: 2, kind: "Deployment" }));
    expect(made.problems).toEqual([]);
    expect(made.pods.map((p) => [p.metadata?.name, p.status?.podIP, p.metadata?.labels])).toEqual([
      [`rcsise-${podSuffix("rcsise", 0)}`, "127.0.0.2", { app: "sise" }],
      [`rcsise-${podSuffix("rcsise", 1)}`, "127.0.0.3", { app: "sise" }],
    ]);
    expect(made.pods[0]!.status).toMatchObject({ phase: "Running", conditions: [{ type: "Ready", status: "True" }] });
    expect(made.pods[0]!.metadata).toMatchObject({ namespace: "default", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "rcsise", controller: true }] });
    expect(podSuffix("rcsise", 0)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  test("never mutates the workload (a frozen one works) and gives each pod its own labels", () => {
    const deepFreeze = <T>(value: T): T => {
      if (typeof value === "object" && value !== null) {
        for (const inner of Object.values(value)) deepFreeze(inner);
        Object.freeze(value);
      }
      return value;
    };
    const frozen = deepFreeze(workload({ annotations: { [annotation]: "127.0.0.2, 127.0.0.3" }, replicas: 2 }));
    const made = localPodsOf(frozen);
    expect(made.pods).toHaveLength(2);
    (made.pods[0]!.metadata!.labels as Record<string, string>)["app"] = "changed";
    expect(made.pods[1]!.metadata!.labels).toEqual({ app: "sise" });
  });

  test("replicas defaults to 1, as the API server defaults it", () => {
    expect(localPodsOf(workload({ annotations: { [annotation]: "127.0.0.2,127.0.0.3" } })).pods).toHaveLength(1);
  });

  test.each([
    [
      "a missing annotation",
      workload({ replicas: 1 }),
      0,
      'rc.yaml: document 3: metadata.annotations["vipr.io/local-addresses"]: a ReplicationController in a file needs its pods\' local addresses here, e.g. "127.0.0.2, 127.0.0.3"; no pods made',
    ],
    [
      "a bad address",
      workload({ annotations: { [annotation]: "127.0.0.2, 127.0.0.300" } }),
      0,
      'rc.yaml: document 3: metadata.annotations["vipr.io/local-addresses"]: "127.0.0.300" is not an IPv4 address; no pods made',
    ],
    [
      "a host name for an address",
      workload({ annotations: { [annotation]: "localhost" } }),
      0,
      'rc.yaml: document 3: metadata.annotations["vipr.io/local-addresses"]: "localhost" is not an IPv4 address; no pods made',
    ],
    [
      "more replicas than addresses",
      workload({ annotations: { [annotation]: "127.0.0.2, 127.0.0.3" }, replicas: 3 }),
      2,
      "rc.yaml: document 3: spec.replicas: 3 replicas but only 2 local addresses; 2 pods made",
    ],
    ["replicas not a whole number", workload({ annotations: { [annotation]: "127.0.0.2" }, replicas: "two" }), 0, 'rc.yaml: document 3: spec.replicas: "two" is not a whole number of replicas; no pods made'],
    [
      "missing template labels",
      workload({ annotations: { [annotation]: "127.0.0.2" }, labels: null }),
      0,
      "rc.yaml: document 3: spec.template.metadata.labels: a ReplicationController needs pod labels for a Service to select; no pods made",
    ],
  ])("%s is reported with its field", (_name, object, pods, expected) => {
    const made = localPodsOf(object);
    expect(made.pods).toHaveLength(pods);
    expect(made.problems.map(formatProblem)).toEqual([expected]);
  });

  test("a workload that would make no pods is refused: reported in the snapshot, and an edit to it keeps the last good version", () => {
    const broken = seedText.replace('    vipr.io/local-addresses: "127.0.0.2, 127.0.0.3, 127.0.0.4"\n', "");
    const set = new ManifestSet();
    set.update(seedPath, broken);
    const { problems, summary } = set.snapshot();
    expect(summary).toEqual({ services: 1, endpointSlices: 0, pods: 0, workloads: 0 });
    expect(problems.map(formatProblem)).toEqual([
      `${seedPath}: document 1: metadata.annotations["vipr.io/local-addresses"]: a ReplicationController in a file needs its pods' local addresses here, e.g. "127.0.0.2, 127.0.0.3"; no pods made`,
    ]);
    const good = new ManifestSet();
    good.update(seedPath, seedText);
    const pods = podNames(good.snapshot().input);
    good.update(seedPath, broken);
    expect(podNames(good.snapshot().input)).toEqual(pods);
    expect(good.snapshot().problems.map(formatProblem)).toContain(`${seedPath}: document 1: keeping this document's last good version until it is fixed`);
  });
});
