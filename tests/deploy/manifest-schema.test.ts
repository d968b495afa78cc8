// Every document under deploy/ is a valid Kubernetes object (schema and field names, offline), and
// the validation really rejects broken manifests, so these checks cannot pass vacuously.
import { describe, expect, test } from "vitest";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import { flavourManifests, loadManifests, parseManifestText, type KubeObject } from "./deploy-manifests.ts";
import { schemaErrors, unknownFields } from "./kubernetes-schema.ts";

const all = loadManifests();
const clusterScoped = new Set(["ClusterRole", "ClusterRoleBinding", "Namespace"]);

describe("deploy/ manifests", () => {
  test("each flavour holds the objects it documents", () => {
    const kinds = (flavour: "gateway" | "sidecar") => flavourManifests(flavour, all).map((d) => d.object.kind).sort();
    expect(kinds("gateway")).toEqual(["ClusterRole", "ClusterRoleBinding", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service", "ServiceAccount"]);
    expect(kinds("sidecar")).toEqual(["Deployment", "Deployment", "Role", "RoleBinding", "Service", "ServiceAccount"]);
    expect(all.length).toBe(flavourManifests("gateway", all).length + flavourManifests("sidecar", all).length);
  });

  test.each(all.map((d) => [`${d.file}#${d.index} ${d.object.kind}/${d.object.metadata?.name ?? "?"}`, d.object] as const))(
    "%s is valid against the Kubernetes schema and has no unknown fields",
    (_, object) => {
      expect(schemaErrors(object)).toEqual([]);
      expect(unknownFields(object)).toEqual([]);
    },
  );

  test("namespaced objects name their namespace (the gateway's is vipr-system); cluster-scoped ones do not", () => {
    for (const { file, object } of all) {
      const namespace = object.metadata?.namespace;
      if (clusterScoped.has(object.kind)) expect(namespace, `${file} ${object.kind}`).toBeUndefined();
      else expect(namespace, `${file} ${object.kind}`).toBe(file.startsWith("deploy/gateway/") ? "vipr-system" : "default");
    }
  });

  test("names are unique per kind and namespace", () => {
    const keys = all.map((d) => `${d.object.kind} ${d.object.metadata?.namespace ?? ""}/${d.object.metadata?.name ?? ""}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("the validation rejects broken manifests", () => {
  const deployment = (): IDeployment => structuredClone(all.find((d) => d.file === "deploy/gateway/deployment.yaml")!.object) as unknown as IDeployment;
  const asObject = (value: unknown): KubeObject => value as KubeObject;

  test('replicas: "two" fails the schema with the field named', () => {
    const broken = parseManifestText(
      ["apiVersion: apps/v1", "kind: Deployment", "metadata: {name: web}", "spec:", '  replicas: "two"',
        "  selector: {matchLabels: {app: web}}", "  template:", "    metadata: {labels: {app: web}}",
        "    spec: {containers: [{name: web, image: web}]}"].join("\n"),
      "broken.yaml",
    );
    expect(schemaErrors(broken[0]!.object)).toEqual(["spec.replicas: must be integer"]);
  });

  test("wrong types deep in the pod template are reported with their path", () => {
    const broken = deployment();
    (broken.spec!.template.spec!.containers[0]!.securityContext as Record<string, unknown>).runAsNonRoot = "yes";
    (broken.spec!.template.spec!.containers[0]!.ports![0] as unknown as Record<string, unknown>).containerPort = "8080";
    expect(schemaErrors(asObject(broken))).toEqual([
      "spec.template.spec.containers[0].ports[0].containerPort: must be integer",
      "spec.template.spec.containers[0].securityContext.runAsNonRoot: must be boolean",
    ]);
  });

  test("a missing required field fails", () => {
    const broken = deployment();
    delete (broken.spec as Partial<NonNullable<IDeployment["spec"]>>).selector;
    expect(schemaErrors(asObject(broken))).toEqual(["spec: must have required property selector"]);
  });

  test("a misspelt field passes the schema but is reported as unknown", () => {
    const broken = deployment();
    const container = broken.spec!.template.spec!.containers[0] as unknown as Record<string, unknown>;
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    (broken.metadata!.labels as Record<string, string>)["free-form"] = "labels are a map: any key is fine";
    expect(schemaErrors(asObject(broken))).toEqual([]);
    expect(unknownFields(asObject(broken))).toEqual(["spec.template.spec.containers[0].readinesProbe"]);
  });

  test("an unknown kind or apiVersion is not waved through", () => {
    expect(schemaErrors(asObject({ apiVersion: "apps/v1", kind: "Deploymnet" }))).toEqual([
      "no schema for apps/v1 Deploymnet: add the kind to tests/deploy/kubernetes-schema.ts",
    ]);
    expect(schemaErrors(asObject({ apiVersion: "extensions/v1beta1", kind: "Deployment" }))[0]).toMatch(/^no schema for/);
  });

  test("YAML syntax errors and documents that are not objects name the file and document", () => {
    expect(() => parseManifestText("kind: Service\napiVersion: v1\n---\nmetadata: [unclosed\n", "bad.yaml")).toThrow(/^bad\.yaml: document 1: /);
    expect(() => parseManifestText("just: a map\n", "plain.yaml")).toThrow("plain.yaml: document 0: expected a Kubernetes object with apiVersion and kind");
  });
});
