// Server-side apply on the fake API server with the real kubectl (`kubectl apply --server-side`:
// PATCH application/apply-patch+yaml with fieldManager=kubectl): it creates, then changes, the
// tutorial's objects, and records the manager's fields in metadata.managedFields; a write whose
// body is protobuf (kubectl's generator commands) is answered 415.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { FakeKubeApi, serveFakeKubeApi, type ServedFakeKubeApi } from "../../adapters/kubernetes/fake-api/index.ts";
import { Kubectl, kubectlBinary, kubectlClientVersion } from "./kubectl-process.ts";

const clientVersion = await kubectlClientVersion();
const title = clientVersion === undefined
  ? `kubectl apply --server-side (skipped: no ${JSON.stringify(kubectlBinary)} on PATH; .ci/run installs Debian's kubernetes-client, or set KUBECTL)`
  : `kubectl apply --server-side against the fake API server (${clientVersion})`;
if (clientVersion === undefined) console.warn(title);

const service = (port: number): string => `apiVersion: v1
kind: Service
metadata:
  name: simpleservice
  labels:
    tier: web
spec:
  ports:
    - port: ${port}
      targetPort: 9876
  selector:
    app: sise
`;

describe("server-side apply in process", () => {
  test("fieldManager is required; the name must match the URL; an unknown object is created", async () => {
    const fake = new FakeKubeApi();
    const patch = (query: string, body: string): Promise<Response> =>
      fake.fetch(new Request(`https://kube.fake.test/api/v1/namespaces/default/services/simpleservice${query}`, { method: "PATCH", body, headers: { "content-type": "application/apply-patch+yaml" } }));
    const missing = await patch("", service(80));
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { message: string }).message).toBe("PATCH /api/v1/namespaces/default/services/simpleservice: fieldManager is required for apply requests");
    const renamed = await patch("?fieldManager=ci", service(80).replace("name: simpleservice", "name: other"));
    expect(renamed.status).toBe(400);
    const created = await patch("?fieldManager=ci", service(80));
    expect(created.status).toBe(201);
    const object = (await created.json()) as { metadata: { namespace: string; managedFields: unknown[] }; spec: { clusterIP: string } };
    expect(object.metadata.namespace).toBe("default");
    expect(object.spec.clusterIP).toMatch(/^10\.96\./);
    expect(object.metadata.managedFields).toEqual([
      { manager: "ci", operation: "Apply", apiVersion: "v1", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:ports": {}, "f:selector": { "f:app": {} } }, "f:metadata": { "f:labels": { "f:tier": {} } } } },
    ]);
    // Applied again without the label and with another port: the label it owned is removed, the list replaced.
    const changed = await patch("?fieldManager=ci", service(8080).replace("  labels:\n    tier: web\n", ""));
    expect(changed.status).toBe(200);
    const after = (await changed.json()) as { metadata: { labels?: unknown; managedFields: { fieldsV1: unknown }[] }; spec: { ports: unknown[] } };
    expect(after.metadata.labels).toBeUndefined();
    expect(after.spec.ports).toEqual([{ port: 8080, protocol: "TCP", targetPort: 9876 }]);
    expect(after.metadata.managedFields.map((m) => m.fieldsV1)).toEqual([{ "f:spec": { "f:ports": {}, "f:selector": { "f:app": {} } } }]);
    // Invalid applied configurations get the same 422 as any write.
    const invalid = await patch("?fieldManager=ci", service(70000));
    expect(invalid.status).toBe(422);
  });

  test("a body in protobuf is 415 UnsupportedMediaType", async () => {
    const fake = new FakeKubeApi();
    const response = await fake.fetch(new Request("https://kube.fake.test/api/v1/namespaces", { method: "POST", body: new Uint8Array([0x6b, 0x38, 0x73, 0x00]), headers: { "content-type": "application/vnd.kubernetes.protobuf" } }));
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ kind: "Status", reason: "UnsupportedMediaType", code: 415 });
  });
});

describe.skipIf(clientVersion === undefined)(title, () => {
  let fake: FakeKubeApi;
  let served: ServedFakeKubeApi;
  let kubectl: Kubectl;

  beforeEach(async () => {
    fake = new FakeKubeApi({ controllers: true });
    served = await serveFakeKubeApi(fake, { closeGraceMs: 100 });
    kubectl = new Kubectl(served.kubeconfig());
  });

  afterEach(async () => {
    await kubectl.close();
    await served.close();
  });

  test("creates, changes, and records kubectl's fields", async () => {
    expect(await kubectl.ok("apply", "--server-side", "-f", "examples/simpleservice.yaml")).toBe("replicationcontroller/rcsise serverside-applied\nservice/simpleservice serverside-applied\n");
    expect((await kubectl.ok("get", "pods", "-l", "app=sise", "-o", "name")).split("\n").filter((l) => l !== "")).toHaveLength(1);
    const path = kubectl.file("svc.yaml", service(8080));
    expect(await kubectl.ok("apply", "--server-side", "-f", path)).toBe("service/simpleservice serverside-applied\n");
    const stored = JSON.parse(await kubectl.ok("get", "svc", "simpleservice", "--show-managed-fields", "-o", "json"));
    expect(stored.spec.ports).toEqual([{ port: 8080, protocol: "TCP", targetPort: 9876 }]);
    expect(stored.metadata.labels).toEqual({ tier: "web" });
    expect(stored.metadata.managedFields).toHaveLength(1);
    expect(stored.metadata.managedFields[0]).toMatchObject({ manager: "kubectl", operation: "Apply", fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:labels": { "f:tier": {} } } } });
  });

  // kubectl 1.32's generator commands send protobuf; older ones (Debian's 1.20) may send JSON.
  const minor = Number(/v1\.(\d+)/.exec(clientVersion ?? "")?.[1] ?? 0);
  test.skipIf(minor < 32)("kubectl create namespace sends protobuf and gets 415", async () => {
    const result = await kubectl.run("create", "namespace", "shop");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Error from server (UnsupportedMediaType): the body of the request was in an unknown format");
  });
});
